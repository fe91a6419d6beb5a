"""The agent's own chain of signed reports, on disk, crash-safe.

Every envelope the agent signs is first stored here, as
``STATE/chain/<key id>/<sequence, 12 digits>.dsse.json``, before it is copied to
``--report FILE`` or submitted. The chain head is the highest sequence in that folder:
there is no second record that a crash could leave behind or ahead of the files.

A new report is written to a temporary file, fsynced, then *hard-linked* to its
sequence name, which fails if that name exists; then the folder is fsynced. So:

* a crash before the link leaves only a temporary file (removed on the next start):
  the sequence was never used, nobody has seen it, and the next report takes it;
* a crash after the link leaves a complete envelope that is the new head: the next
  report links to it, even if ``--report FILE`` was never written;
* two processes signing at once cannot both take a sequence (the loser re-reads the
  head and signs again with the next one): no fork, no reused number;
* a folder that cannot take the report (no space left, read-only, no permission) is
  `JournalError`, with no temporary file left behind; `Journal.check` finds out
  before a scan whether the folder takes a file at all, so that a read-only state
  folder is said before the scan, not after it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.store import crash_point, fsync_dir, write_new
from ftiscan.scanner.errors import FtiscanError

__all__ = ["Journal", "JournalError", "Signed"]

_NAME = re.compile(r"^(\d{12})\.dsse\.json$")
_TMP = re.compile(r"^\.(\d+)\.[0-9a-f]+\.tmp$")
MAX_ATTEMPTS = 100


class JournalError(FtiscanError):
    """The chain folder cannot take a report (no space left, read-only, no permission)."""


def _cannot(folder: Path, exc: OSError) -> JournalError:
    return JournalError(f"{folder}: cannot store the signed report: {exc.strerror}")


@dataclass(frozen=True, slots=True)
class Signed:
    sequence: int
    envelope: bytes
    path: Path


class Journal:
    """The signed reports of one agent key under ``state_dir``."""

    def __init__(self, state_dir: Path, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.key_id = dsse.key_id(key.public_key())
        self.folder = state_dir / "chain" / self.key_id
        try:
            for folder in (state_dir, state_dir / "chain", self.folder):  # all 0700 if new
                folder.mkdir(exist_ok=True, mode=0o700, parents=folder == state_dir)
            self._remove_stale_temporaries()
        except OSError as exc:
            raise _cannot(self.folder, exc) from None

    def check(self) -> None:
        """Raise `JournalError` unless the chain folder takes a new file (it is not
        read-only, and this user may write there). Full disks show only when the
        report is written."""
        tmp = self.folder / f".{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            tmp.unlink()
        except OSError as exc:
            raise _cannot(self.folder, exc) from None

    def _remove_stale_temporaries(self) -> None:
        for path in self.folder.iterdir():
            match = _TMP.match(path.name)
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def sequences(self) -> list[int]:
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := _NAME.match(p.name)))

    def path_of(self, sequence: int) -> Path:
        return self.folder / f"{sequence:012d}.dsse.json"

    def head(self) -> tuple[int, str | None]:
        """(last sequence, digest of its envelope); (0, None) for a new chain."""
        numbers = self.sequences()
        if not numbers:
            return 0, None
        last = numbers[-1]
        return last, dsse.digest(self.path_of(last).read_bytes())

    def report_ids(self, after: int) -> set[str]:
        """The ``id`` of each report signed after sequence ``after`` (a damaged file,
        which the agent never writes, counts as no report)."""
        ids: set[str] = set()
        for sequence in self.sequences():
            if sequence <= after:
                continue
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                envelope = json.loads(self.path_of(sequence).read_bytes())
                ids.add(str(json.loads(base64.b64decode(envelope["payload"]))["id"]))
        return ids

    def append(self, payload: dict[str, Any]) -> Signed:
        """Sign ``payload`` (its ``chain`` is set here) as the next report; durable on return."""
        for _ in range(MAX_ATTEMPTS):
            sequence, previous = self.head()
            payload["chain"] = {
                "key_id": self.key_id,
                "sequence": sequence + 1,
                "previous": previous,
            }
            envelope = dsse.sign(canonical_bytes(payload), self.key)
            target = self.path_of(sequence + 1)
            if self._link(envelope, target):
                return Signed(sequence + 1, envelope, target)
        raise RuntimeError(f"{self.folder}: could not take a sequence number")  # pragma: no cover

    def _link(self, envelope: bytes, target: Path) -> bool:
        tmp = self.folder / f".{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            write_new(tmp, envelope, 0o600)
            crash_point("journal-written")
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            crash_point("journal-linked")
            fsync_dir(self.folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()  # written in part: a full disk leaves nothing behind
            raise _cannot(self.folder, exc) from None
        return True


def _alive(pid: int) -> bool:
    return pid == os.getpid() or psutil.pid_exists(pid)
