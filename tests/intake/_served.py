"""A real intake for the HTTP tests: a test CA, the spawned ``ftiscan intake serve``,
a stdlib HTTPS client, and agents that sign real reports.

Everything is made at test time: the CA and certificates with ``cryptography``, the
reports by a real scan of synthetic files (`templates`), signed through the agent's
own `Journal`. Nothing here holds or prints a generated identifier.
"""

from __future__ import annotations

import copy
import datetime as dt
import http.client
import ipaddress
import json
import os
import secrets
import signal
import ssl
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from ftiscan.agent.journal import Journal
from ftiscan.agent.keys import public_pem
from ftiscan.reports.report import summary
from tests.agent.conftest import FTISCAN
from tests.synthetic.people import People
from tests.synthetic.report import scan_report

# --- a test CA: root -> intermediate -> server certificate for 127.0.0.1 -----------


@dataclass(frozen=True)
class Tls:
    ca: Path  # the root certificate clients trust
    chain: Path  # server certificate, then the intermediate
    key: Path
    other_ca: Path  # a root that signed nothing here
    root_subject: str
    server_subject: str

    def client(self, ca: Path | None = None) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(ca or self.ca))


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ftiscan tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    ca: bool,
    sans: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_tls(folder: Path) -> Tls:
    """A root CA, an intermediate and a server certificate for 127.0.0.1/localhost."""
    folder.mkdir(parents=True, exist_ok=True)
    root_key, mid_key, leaf_key, other_key = (
        ec.generate_private_key(ec.SECP256R1()) for _ in "abcd"
    )
    root_name, mid_name = _name("ftiscan test root"), _name("ftiscan test intermediate")
    root = _cert(root_name, root_key, root_name, root_key, ca=True)
    mid = _cert(mid_name, mid_key, root_name, root_key, ca=True)
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
    ]
    leaf = _cert(_name("intake.test"), leaf_key, mid_name, mid_key, ca=False, sans=sans)
    other_name = _name("ftiscan other root")
    other = _cert(other_name, other_key, other_name, other_key, ca=True)
    (folder / "ca.pem").write_bytes(_pem(root))
    (folder / "other-ca.pem").write_bytes(_pem(other))
    (folder / "chain.pem").write_bytes(_pem(leaf) + _pem(mid))
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (folder / "key.pem").write_bytes(key_pem)
    os.chmod(folder / "key.pem", 0o600)
    return Tls(
        folder / "ca.pem",
        folder / "chain.pem",
        folder / "key.pem",
        folder / "other-ca.pem",
        root_name.rfc4514_string(),
        leaf.subject.rfc4514_string(),
    )


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """One HTTPS (or loopback http) connection per request, like an agent's retry."""

    host: str
    port: int
    context: ssl.SSLContext | None
    timeout: float = 30.0

    def connection(self) -> http.client.HTTPConnection:
        if self.context is None:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return http.client.HTTPSConnection(
            self.host, self.port, timeout=self.timeout, context=self.context
        )

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        admin: str | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        if admin is not None:
            sent["Authorization"] = f"Bearer {admin}"
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def post_json(self, path: str, value: Any, admin: str | None = None) -> Answer:
        return self.call("POST", path, json.dumps(value).encode("utf-8"), admin=admin)


# --- the spawned intake ------------------------------------------------------------------


@dataclass
class Intake:
    """``ftiscan intake serve`` running on loopback, with its database and key."""

    folder: Path
    tls: Tls | None
    admin: str
    db: str
    extra: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def key(self) -> Path:
        return self.folder / "intake.key"

    @property
    def credential(self) -> Path:
        return self.folder / "admin.cred"

    @property
    def stderr(self) -> Path:
        return self.folder / "serve.stderr"

    def start(self, timeout: float = 60.0) -> Intake:
        port_file = self.folder / "port"
        port_file.unlink(missing_ok=True)
        if not self.credential.exists():
            self.credential.write_text(self.admin + "\n", encoding="ascii")
            os.chmod(self.credential, 0o600)
        args = [
            str(FTISCAN), "intake", "serve", "--db", self.db, "--key", str(self.key),
            "--host", "127.0.0.1", "--port", str(self.port), "--port-file", str(port_file),
            "--admin-credential-file", str(self.credential),
        ]  # fmt: skip
        if self.tls is not None:
            args += ["--tls-cert", str(self.tls.chain), "--tls-key", str(self.tls.key)]
        else:
            args.append("--insecure-loopback")
        args += list(self.extra)
        with self.stderr.open("ab") as err:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, **self.env},
            )
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None:
                raise RuntimeError(f"intake exited {self.proc.returncode}: {self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"intake did not start: {self.log()}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        return self

    def log(self) -> str:
        return (
            self.stderr.read_text(encoding="utf-8", errors="replace")
            if self.stderr.exists()
            else ""
        )

    def client(self, ca: Path | None = None) -> Client:
        context = None if self.tls is None else self.tls.client(ca)
        return Client("127.0.0.1", self.port, context)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.proc = None
        return code

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)

    def tokens(self, count: int = 1) -> list[str]:
        answer = self.client().post_json(
            "/v1/admin/tokens", {"count": count, "ttl": 3600}, self.admin
        )
        assert answer.status == 201, answer.body
        tokens: list[str] = answer.json()["tokens"]
        return tokens


def new_intake(folder: Path, tls: Tls | None, *extra: str, db: str | None = None) -> Intake:
    folder.mkdir(parents=True, exist_ok=True)
    return Intake(folder, tls, secrets.token_urlsafe(24), db or str(folder / "intake.db"), extra)


# --- agents and their reports ------------------------------------------------------------


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@cache
def templates() -> dict[str, dict[str, Any]]:
    """Report payloads by what they hold: ``critical`` (TIN + name + address rows),
    ``high`` (TIN + name rows) and ``clean``, from a real scan of synthetic files
    (one fixed fingerprint key, so that two hosts holding a file correlate)."""
    import tempfile

    key = b"\x61" * 32
    people = People(8)
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for kind in ("critical", "high", "clean"):
            (base / kind).mkdir()
        folks = people.taxpayers(4)
        _write_csv(
            base / "critical" / "customers.csv",
            ["ssn", "name", "street", "city", "state", "zip"],
            [[p.ssn, p.full_name, p.street, p.city, p.state, p.zip] for p in folks[:3]],
        )
        _write_csv(
            base / "high" / "names.csv", ["ssn", "name"], [[p.ssn, p.full_name] for p in folks[3:]]
        )
        (base / "clean" / "notes.txt").write_text("nothing to see\n", encoding="utf-8")
        for kind in ("critical", "high", "clean"):
            out[kind] = scan_report(base / kind, key)
    assert out["critical"]["summary"]["highest_severity"] == "critical", out["critical"]["summary"]
    assert out["high"]["summary"]["highest_severity"] == "high", out["high"]["summary"]
    assert out["clean"]["findings"] == []
    return out


def payload_of(kind: str, host_id: str, mode: str | None = None) -> dict[str, Any]:
    """A fresh report payload (new id) of the template ``kind`` for ``host_id``."""
    payload = copy.deepcopy(templates()[kind])
    payload["id"] = str(uuid.uuid4())
    payload["host"] = {**payload["host"], "hostname": host_id, "fqdn": host_id}
    if mode is not None:
        payload["scan"]["options"] = {**payload["scan"]["options"], "mode": mode}
        if mode == "heartbeat":
            payload["findings"] = []
            payload["summary"] = summary([])
    return payload


class Agent:
    """An agent key and its journal (the real chain code), in ``folder``."""

    def __init__(self, folder: Path, host_id: str) -> None:
        self.host_id = host_id
        self.key = Ed25519PrivateKey.generate()
        self.journal = Journal(folder / "state", self.key)
        self.key_id = self.journal.key_id

    def enrolment(self, token: str) -> dict[str, Any]:
        return {
            "token": token,
            "public_key": public_pem(self.key.public_key()).decode("ascii"),
            "host_id": self.host_id,
            "host": {"hostname": self.host_id},
        }

    def enroll(self, client: Client, token: str) -> Answer:
        return client.post_json("/v1/enroll", self.enrolment(token))

    def sign(self, kind: str = "clean", mode: str | None = None) -> bytes:
        return self.journal.append(payload_of(kind, self.host_id, mode)).envelope

    def submit(self, client: Client, envelope: bytes) -> Answer:
        return client.call("POST", "/v1/reports", envelope)
