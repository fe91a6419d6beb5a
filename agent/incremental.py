"""Incremental scans: the engine's `Known` backed by the agent's state database.

A file is not read again when the state holds its outcome for the same scan context
and (in this order) its path has the same identity (device, inode, size, mtime,
ctime), or it is the same file renamed or moved within its file system (the old
path gone), or its content has a SHA-256 the state knows (a copy, a move across file
systems: hashed only once the state knows some files). Each file read is stored with
its SHA-256 (the workers hash it after the scan, from the page cache) as soon as its
outcome is back, so that a killed agent reads nothing again after a restart; files
found unchanged or moved are marked in transactions of `BATCH`.

The *scan context* is what an outcome depends on besides the file: the signature
packs, the EDM index, the approved locations, the limits and the tool version. When
it changes, nothing is reused (the state is rebuilt by the next scan).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftiscan.agent.state import Gone, State
from ftiscan.reports.report import iso
from ftiscan.scanner.engine import file_digest
from ftiscan.scanner.model import FileOutcome
from ftiscan.scanner.walk import FileEntry

__all__ = ["BATCH", "StateKnown", "gone_entries"]

BATCH = 500
_CONTEXT = "scan_context"


class StateKnown:
    """`ftiscan.scanner.engine.Known` over a `State`, for one scan of ``roots``."""

    def __init__(self, state: State, context: dict[str, Any], roots: Sequence[Path]) -> None:
        self.state = state
        self.roots = tuple(roots)
        self.started = time.time()
        key = json.dumps(context, sort_keys=True, separators=(",", ":"))
        self.context = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        self.reuse = state.get(_CONTEXT) == self.context
        self._digests = self.reuse and state.counts()["tracked"] > 0
        self._stored: list[tuple[FileEntry, FileOutcome, str | None]] = []
        self._seen: list[tuple[FileEntry, FileOutcome, str | None]] = []
        self._pending_digest: dict[Path, str] = {}
        self.reused = 0
        # Files that held findings and were read again without any (the report's
        # ``coverage.cleared``): a copy edited clean is news for counsel too.
        self.cleared: list[dict[str, Any]] = []

    def lookup(self, entry: FileEntry) -> FileOutcome | None:
        if not self.reuse:
            return None
        outcome = self.state.unchanged(entry)
        if outcome is not None:
            self._seen.append((entry, outcome, None))
        else:
            outcome = self.state.moved(entry)
            if outcome is None and self._digests:
                digest = file_digest(entry)
                if digest is not None:
                    outcome = self.state.by_digest(digest, entry.size, entry.path)
                    if outcome is None:
                        self._pending_digest[entry.path] = digest
            if outcome is not None:
                self._stored.append((entry, outcome, self._pending_digest.pop(entry.path, None)))
        if outcome is not None:
            self.reused += 1
            self._flush(BATCH)
        return outcome

    def store(self, entry: FileEntry, outcome: FileOutcome) -> None:
        if not outcome.findings:
            before = self.state.findings_of(entry.path)
            if before:  # it held findings and was read again without any: edited clean
                self.cleared.append({"path": str(entry.path), "findings": before})
        digest = self._pending_digest.pop(entry.path, None) or outcome.digest
        # Committed at once: after a kill -9 no file read is read again for its content.
        self.state.record([(entry, outcome, digest)])

    def flush(self) -> None:
        """Store everything read or seen so far (a stop between two files keeps it)."""
        self._flush(0)

    def _flush(self, at_least: int) -> None:
        if len(self._seen) >= at_least or (at_least == 0 and self._seen):
            self.state.seen([entry.path for entry, _, _ in self._seen])
            self._seen.clear()
        if len(self._stored) >= at_least or (at_least == 0 and self._stored):
            self.state.record(self._stored)
            self._stored.clear()

    def finish(self) -> list[Gone]:
        """Store what is left, mark what the walk no longer found as gone (only after a
        scan whose context matched: otherwise every file was stored again), keep the
        context; return the gone files that held findings."""
        self.flush()
        gone = self.state.finish_sweep(self.roots, self.started)
        self.state.set(_CONTEXT, self.context)
        return gone


def gone_entries(gone: list[Gone]) -> list[dict[str, Any]]:
    """The report's ``gone`` list."""
    return [
        {
            "path": g.path,
            "findings": g.findings,
            "scanned": iso(g.scanned_at),
            "gone": iso(g.gone_at),
        }
        for g in sorted(gone, key=lambda g: g.path)
    ]
