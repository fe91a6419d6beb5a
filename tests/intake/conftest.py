"""Shared intake fixtures: synthetic signed reports, a throwaway PostgreSQL cluster, an
`Intake` on either backend.

For the other intake tests (HTTP app, CLI, fleet page, bench):

* ``pg_server`` (session): the admin URL of a PostgreSQL cluster started for this run
  with ``initdb`` + ``pg_ctl`` on a free loopback port in a temporary folder (as root,
  the server runs as the ``postgres`` user, or ``nobody``); skipped with a reason only
  when no PostgreSQL binaries exist (``.ci/run`` installs them, so CI never skips);
* ``pg_url``: a new, empty database on that cluster for one test (``postgresql://``);
* ``db_url``: parametrised over ``sqlite`` and ``postgresql``: a fresh database of
  each kind (a SQLite file path, or a ``pg_url``);
* ``intake``: `Intake.open(db_url, ...)`, closed after the test;
* `SyntheticAgent`: an agent key that signs a chain of valid reports
  (``agent.report(...)``), and `enroll_agent` to enrol one with a fresh token.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.intake.service import Intake
from ftiscan.reports.report import build_report

PACK_DIGEST = "sha256:" + "1" * 64
NEW_PACK_DIGEST = "sha256:" + "2" * 64
EDM_DIGEST = "sha256:" + "3" * 64


def hex64() -> str:
    """A random fingerprint-shaped value (a keyed HMAC in real reports)."""
    return secrets.token_hex(32)


def finding(
    path: str,
    severity: str = "critical",
    records: int = 3,
    fingerprints: list[str] | None = None,
) -> dict[str, Any]:
    """A schema-valid finding; no plaintext, only masked shapes and fingerprints."""
    return {
        "path": path,
        "rule": "us.taxpayer.record",
        "title": "Taxpayer records (TIN, name and address)",
        "severity": severity,
        "records": records,
        "hits": records,
        "locations": [{"line": 1}],
        "fingerprints": sorted(fingerprints if fingerprints is not None else [hex64()]),
        "masked": ["***-**-****"],
        "signatures": ["us.ssn"],
    }


def _coverage() -> dict[str, Any]:
    return {
        "files_seen": 1,
        "files_scanned": 1,
        "files_skipped": 0,
        "files_partial": 0,
        "bytes_seen": 10,
        "bytes_scanned": 10,
        "skipped": {},
        "partial": {},
        "members_unread": {},
        "kinds": {},
        "not_read": [],
        "not_read_unlisted": 0,
    }


class SyntheticAgent:
    """An agent key and its chain: each `report` signs the next valid report."""

    def __init__(self, host_id: str = "laptop-1.example.gov") -> None:
        self.key = Ed25519PrivateKey.generate()
        self.key_id = dsse.key_id(self.key.public_key())
        self.host_id = host_id
        self.sequence = 0
        self.previous: str | None = None
        self.envelopes: dict[int, bytes] = {}

    @property
    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def payload(
        self,
        *,
        findings: list[dict[str, Any]] | None = None,
        mode: str | None = "sweep",
        started: float | None = None,
        pack_digest: str = PACK_DIGEST,
        edm_digest: str | None = None,
        roots: list[str] | None = None,
        gone: list[dict[str, Any]] | None = None,
        cleared: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An unsigned report payload (no chain yet)."""
        start = time.time() if started is None else started
        options: dict[str, Any] = {} if mode is None else {"mode": mode}
        return build_report(
            roots=[Path(r) for r in (roots or ["/home/user"])],
            findings=list(findings or []),
            coverage=_coverage(),
            started=start,
            ended=start + 1,
            tool_version="0.0.0-test",
            packs={
                "digest": pack_digest,
                "packs": [
                    {"name": "us-taxpayer", "version": 1, "digest": pack_digest, "signatures": 1}
                ],
            },
            selftest={
                "passed": True,
                "examples": 0,
                "canaries": 0,
                "layouts": [],
                "failures": [],
                "pack_digest": pack_digest,
            },
            options=options,
            edm_digest=edm_digest,
            host={
                "hostname": self.host_id.split(".")[0],
                "fqdn": self.host_id,
                "os": "Linux",
                "os_release": "6.1",
                "machine": "x86_64",
                "user": "user",
            },
            gone=gone,
            cleared=cleared,
        )

    def sign(self, payload: dict[str, Any], sequence: int, previous: str | None) -> bytes:
        """Sign ``payload`` as report ``sequence`` after ``previous`` (no chain update)."""
        payload = dict(payload)
        payload["chain"] = {"key_id": self.key_id, "sequence": sequence, "previous": previous}
        return dsse.sign(canonical_bytes(payload), self.key)

    def report(self, **kwargs: Any) -> bytes:
        """The next report of this agent's chain (see `payload` for the arguments)."""
        envelope = self.sign(self.payload(**kwargs), self.sequence + 1, self.previous)
        self.sequence += 1
        self.previous = dsse.digest(envelope)
        self.envelopes[self.sequence] = envelope
        return envelope


def enroll_agent(intake: Intake, agent: SyntheticAgent | None = None) -> SyntheticAgent:
    """Enrol ``agent`` (a new one by default) with a fresh token."""
    agent = agent or SyntheticAgent()
    tokens, _ = intake.issue_tokens(1, 3600)
    intake.enroll(tokens[0], agent.public_pem, agent.host_id, {"fqdn": agent.host_id})
    return agent


# --- PostgreSQL -----------------------------------------------------------------------
def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """As root, the unprivileged user that runs the server (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    pytest.skip("running as root and neither a postgres nor a nobody user exists")
    return None  # pragma: no cover


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; its admin URL."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl); .ci/run installs postgresql")
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="ftiscan-pg-"))
    data, log = base / "data", base / "server.log"
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    run_as: dict[str, Any] = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid}
    env = {**os.environ, "HOME": str(base), "LC_ALL": "C"}
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    subprocess.run(
        [*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"],
        check=True,
        capture_output=True,
        env=env,
        cwd=base,
        **run_as,
    )
    port = _free_port()
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    started = subprocess.run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"],
        capture_output=True,
        text=True,
        env=env,
        cwd=base,
        check=False,
        **run_as,
    )
    if started.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{tail}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            env=env,
            cwd=base,
            check=False,
            **run_as,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A new, empty database on the session's cluster (``postgresql://...``)."""
    import psycopg

    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a random hex name, no user input
    return pg_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh intake database of each backend: a SQLite path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "intake.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def intake_key(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "intake.key"


@pytest.fixture
def intake(db_url: str, intake_key: Path) -> Iterator[Intake]:
    """An `Intake` on a fresh database of each backend."""
    service = Intake.open(db_url, intake_key)
    try:
        yield service
    finally:
        service.close()
