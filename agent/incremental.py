"""Incremental scans: the engine's `Known` backed by the agent's state database.

A file is not read again when the state holds its outcome for the same scan context
and (in this order) its path has the same identity (device, inode, size, mtime,
ctime), or it is the same file renamed or moved within its file system (the old
path gone), or its content has a keyed digest the state knows (a copy, a move across file
systems: hashed only once the state knows some files). Each file read is stored with
its keyed digest (the workers hash it after the scan, from the page cache) as soon as its
outcome is back, so that a killed agent reads nothing again after a restart; files
found unchanged or moved are marked in transactions of `BATCH`.

The *scan context* is what an outcome depends on besides the file: the signature
packs, the EDM index, the approved locations, the limits and the tool version. Each
outcome is stored with its context and reused only under the same one
(`State.use_context`): when the context changes nothing is reused, and a scan killed
before its end (the first one too) keeps what it read.

What a report must tell besides its findings (files with findings that went, or were
edited clean) is *news* in the state, written with the change itself; `sign_with_news`
puts all untold news in the next signed report and `reconcile_news` (at start-up) finds
out whether a report killed while being signed was signed: a kill at any moment
neither loses nor repeats news.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from ftiscan.agent.journal import Journal, Signed
from ftiscan.agent.state import Folder, News, State
from ftiscan.reports.store import crash_point
from ftiscan.scanner.engine import file_digest
from ftiscan.scanner.model import FileOutcome
from ftiscan.scanner.walk import FileEntry

__all__ = ["BATCH", "StateKnown", "reconcile_news", "sign_with_news"]

BATCH = 500
_CONTEXT = "scan_context"


class StateKnown:
    """`ftiscan.scanner.engine.Known` over a `State`, for one scan of ``roots``."""

    def __init__(
        self,
        state: State,
        context: dict[str, Any],
        roots: Sequence[Path],
        key: bytes,
        on_read: Callable[[Path], None] | None = None,
    ) -> None:
        self.state = state
        self.key = key  # the fingerprint key: content digests are keyed with it
        self.on_read = on_read  # told of each file read, once its outcome is stored
        self.roots = tuple(roots)
        self.started = time.time()
        described = json.dumps(context, sort_keys=True, separators=(",", ":"))
        self.context = "sha256:" + hashlib.sha256(described.encode()).hexdigest()
        state.use_context(self.context)  # outcomes of another context are never reused
        self.reuse = True
        self._digests = state.counts()["tracked"] > 0
        self._stored: list[tuple[FileEntry, FileOutcome, str | None]] = []
        self._seen: list[tuple[FileEntry, FileOutcome, str | None]] = []
        self._pending_digest: dict[Path, str] = {}
        self.reused = 0
        # The folder whose files are being looked up, read once (`State.folder`): the
        # walk yields a folder's files one after another.
        self._folder: tuple[str, Folder] | None = None

    def lookup(self, entry: FileEntry) -> FileOutcome | None:
        if not self.reuse:
            return None
        outcome = self.state.unchanged_in(self._folder_of(entry), entry)
        if outcome is not None:
            self._seen.append((entry, outcome, None))
        else:
            outcome = self.state.moved(entry)
            if outcome is None and self._digests:
                digest = file_digest(entry, self.key)
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

    def _folder_of(self, entry: FileEntry) -> Folder:
        """The stored files of ``entry``'s folder, read when the walk enters it. Read
        at that moment, as if each file had been looked up then: a file another process
        stores meanwhile is looked up as it was (an outcome of this context either way)."""
        name = os.path.dirname(str(entry.path))
        if self._folder is None or self._folder[0] != name:
            self._folder = (name, self.state.folder(name))
        return self._folder[1]

    def store(self, entry: FileEntry, outcome: FileOutcome) -> None:
        digest = self._pending_digest.pop(entry.path, None) or outcome.digest
        # Committed at once: after a kill -9 no file read is read again for its content.
        self.state.record([(entry, outcome, digest)])
        if self.on_read is not None:
            self.on_read(entry.path)

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

    def finish(self) -> None:
        """Store what is left, mark what the walk no longer found as gone (news when it
        held findings), keep the context."""
        self.flush()
        self.state.finish_sweep(self.roots, self.started)
        self.state.set(_CONTEXT, self.context)


def _process_name(pid: int) -> str:
    """``pid@start time``: names one process, also after the pid is reused."""
    try:
        return f"{pid}@{psutil.Process(pid).create_time():.3f}"
    except psutil.Error:
        return f"{pid}@gone"


def sign_with_news(
    state: State, journal: Journal, build: Callable[[News, str], dict[str, Any]]
) -> tuple[Signed, dict[str, Any]]:
    """Sign ``build(news, report_id)`` as the journal's next report, with all untold
    news; the news is told once the report is durable. Returns it, signed and not."""
    report_id = str(uuid.uuid4())
    news = state.claim_news(report_id, journal.head()[0], _process_name(os.getpid()))
    report = build(news, report_id)
    signed = journal.append(report)
    crash_point("news-signed")
    state.reported(report_id)
    return signed, report


def reconcile_news(state: State, journal: Journal) -> int:
    """Settle the news of reports that a killed process took but may not have signed:
    told when the chain holds the report, untold (for the next report) when not.
    Claims of a live process are left alone. Returns how many claims were settled."""
    settled = 0
    me = _process_name(os.getpid())
    for report_id, (after, owner) in state.claims().items():
        pid = owner.split("@", 1)[0]
        if owner != me and pid.isdigit() and _process_name(int(pid)) == owner:
            continue  # that process lives: it is signing now
        if report_id in journal.report_ids(after):
            state.reported(report_id)
        else:
            state.unclaim(report_id)
        settled += 1
    return settled
