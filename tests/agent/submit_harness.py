"""The real thing on loopback for the submission tests: the intake tests' CA
(`tests.intake._served.make_tls`: root, intermediate, server certificate), the spawned
``ftiscan intake serve`` (TLS), and an agent that is the spawned CLI with private key and
state folders.

Reports are made by real ``ftiscan scan`` runs over a synthetic folder that holds no
identifier; nothing here prints report contents.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from tests.agent.conftest import FTISCAN, private_env
from tests.intake._served import Tls, make_tls

__all__ = ["Agent", "Intake", "Tls", "free_port", "make_tls"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Intake:
    """``ftiscan intake serve`` on a fixed loopback port (so that it can be stopped and
    started again at the URL the agent pinned), with TLS from ``tls``."""

    def __init__(self, folder: Path, tls: Tls, *extra: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.tls, self.extra = folder, tls, extra
        self.db, self.key = folder / "intake.db", folder / "intake.key"
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``ftiscan intake ARGS --db DB --key KEY`` (the store, not over HTTP)."""
        return subprocess.run(
            [str(FTISCAN), "intake", *args, "--db", str(self.db), "--key", str(self.key)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 60.0) -> Intake:
        port_file = self.folder / "port"
        port_file.unlink(missing_ok=True)
        args = [
            str(FTISCAN), "intake", "serve", "--db", str(self.db), "--key", str(self.key),
            "--host", "127.0.0.1", "--port", str(self.port), "--port-file", str(port_file),
            "--tls-cert", str(self.tls.chain), "--tls-key", str(self.tls.key), *self.extra,
        ]  # fmt: skip
        with (self.folder / "serve.stderr").open("ab") as err:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "serve.stderr").read_text(errors="replace")
                raise RuntimeError(f"intake did not start ({self.proc.poll()}): {log}")
            time.sleep(0.05)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
            self.proc = None

    def token(self) -> str:
        done = self.cli("token", "create", "--count", "1", "--ttl", "1h")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def key_id(self) -> str:
        done = self.cli("key")
        assert done.returncode == 0, done.stderr
        line = next(x for x in done.stdout.splitlines() if x.startswith("intake key id:"))
        return line.split(":", 1)[1].strip()

    def export(self, folder: Path) -> dict[str, dict[int, bytes]]:
        """Every stored envelope and receipt, by kind and sequence (one agent)."""
        done = self.cli("export", "-o", str(folder))
        assert done.returncode == 0, done.stderr
        out: dict[str, dict[int, bytes]] = {"reports": {}, "receipts": {}}
        for kind in out:
            for path in sorted((folder / kind).glob("*/*.json")):
                sequence = int(path.name[:12])
                assert sequence not in out[kind], "one file per sequence"
                out[kind][sequence] = path.read_bytes()
        return out


class Agent:
    """The spawned CLI with its own key and state folders under ``base``."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.env = private_env(base)
        self.keys, self.state = base / "keys", base / "state"
        self.data = base / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "notes.txt").write_text("meeting notes, nothing else\n", encoding="utf-8")

    def run(
        self, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FTISCAN), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.env, **(extra_env or {})},
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(FTISCAN), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )

    def copies(self, count: int) -> None:
        """``count`` more reports: the payload of the last real scan under new ids,
        signed by the agent's own key through its journal (quicker than as many scans)."""
        from ftiscan.agent.journal import Journal
        from ftiscan.agent.keys import agent_key
        from ftiscan.reports import dsse

        journal = Journal(self.state, agent_key(self.keys))
        last = journal.path_of(journal.head()[0]).read_bytes()
        payload = json.loads(dsse.verify(last, {journal.key_id: journal.key.public_key()}).payload)
        for _ in range(count):
            journal.append({**payload, "id": str(uuid.uuid4())})

    def scan(self, count: int = 1) -> None:
        for _ in range(count):
            done = self.run("scan", str(self.data), "-q", "--format", "json", "-j", "1")
            assert done.returncode == 0, done.stderr

    def enroll(self, intake: Intake, *extra: str) -> subprocess.CompletedProcess[str]:
        token = intake.token()
        return self.run("enroll", intake.url, "--token", token, "--ca", str(intake.tls.ca), *extra)

    @property
    def key_id(self) -> str:
        return str(self.pinned()["agent"])

    def pinned(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.keys / "intake.json").read_text())
        return data

    def chain(self) -> dict[int, bytes]:
        folder = next((self.state / "chain").iterdir())
        return _numbered(folder, ".dsse.json")

    def receipts(self) -> dict[int, bytes]:
        folders = list((self.state / "receipts").glob("*"))
        if not folders:
            return {}
        return _numbered(folders[0], ".receipt.dsse.json")


def _numbered(folder: Path, suffix: str) -> dict[int, bytes]:
    """sequence -> bytes of the ``<12 digits><suffix>`` files in ``folder``."""
    return {
        int(p.name[:12]): p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.name[:12].isdigit() and p.name[12:] == suffix
    }
