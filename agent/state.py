"""The agent's local state: one SQLite database in WAL mode, one writer.

What it keeps, per file path seen by a scan or a sweep:

* the identity the walk saw (device, inode, size, ``mtime_ns``, ``ctime_ns``), so that a
  rescan skips a file whose identity is unchanged (`State.unchanged`), and a file
  renamed or moved within its file system (same device, inode, size and mtime) is not
  read again (`State.moved`);
* a keyed digest of its content (HMAC-SHA-256 under a key derived from the fingerprint
  key: a plain hash of a file holding only an SSN could be brute-forced) when it was
  computed, so that a copy or a move across file systems with the same bytes is not
  scanned again either (`State.by_digest`);
* its last outcome: kind, findings, the reason it was skipped or read in part, the
  parts not read; and the scan context it was made under (`State.use_context`): it is
  reused only under the same one. Findings carry only rule, counts, locations, masked
  forms and keyed fingerprints: the database holds no plaintext of what was found;
* when it was scanned, when a sweep last saw it, and when a sweep over its root no
  longer found it (``gone_at``): counsel sees "found on T1, gone on T2"
  (`State.finish_sweep`).

And the **news** not yet in a signed report: a file with findings that went (``gone``),
or that was read again and held none (``cleared``). News is written in the same
transaction as the change it tells of, and leaves the table only once a signed report
carries it (`State.claim_news`, `State.reported`; a report killed between the two is
found in the chain by `ftiscan.agent.incremental.reconcile_news`): a kill at any moment
neither loses nor repeats it.

And a small key/value table (`State.get` / `State.set`) for the chain head and the
like. Writes are transactions in WAL mode with ``synchronous=NORMAL``: after ``kill -9``
of the agent the database holds every transaction that returned, and nothing half
written; a power loss may take back the last few (those files are read again), which
is what lets the agent commit the outcome of each file it reads (0.09 ms a commit
here, 0.3 ms with ``FULL``). The file is 0600 in
a 0700 folder: paths and fingerprints are for the agent's eyes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftiscan.reports.report import iso
from ftiscan.scanner.errors import FtiscanError
from ftiscan.scanner.model import FileOutcome
from ftiscan.scanner.walk import FileEntry

__all__ = ["SCHEMA_VERSION", "STATE_DB", "Folder", "Gone", "News", "State", "StateError"]

STATE_DB = "state.sqlite3"
SCHEMA_VERSION = 3  # 2: the news table; 3: each outcome's scan context (older: upgraded)

Folder = dict[str, tuple[tuple[int, ...], str]]
"""`State.folder`: path -> (identity, stored outcome) of the files of one folder."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    digest TEXT,
    outcome TEXT NOT NULL,
    findings INTEGER NOT NULL,
    scanned_at REAL NOT NULL,
    seen_at REAL NOT NULL,
    gone_at REAL,
    context TEXT
);
CREATE INDEX IF NOT EXISTS files_identity ON files (dev, ino, size, mtime_ns);
CREATE INDEX IF NOT EXISTS files_digest ON files (digest, size);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS news (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    findings INTEGER NOT NULL,
    scanned_at REAL NOT NULL,
    at REAL NOT NULL,
    report TEXT
);
CREATE INDEX IF NOT EXISTS news_report ON news (report);
"""
_NEWS_CLAIM = "news:"  # meta key prefix: a report that took news, not yet known signed
# SQLite's primary result codes (https://www.sqlite.org/rescode.html)
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 5, 6, 8, 10, 13


class StateError(FtiscanError):
    """The state database cannot be used (another schema, corrupt, not writable)."""


@dataclass(frozen=True, slots=True)
class News:
    """Not yet reported: files with findings that went, or were edited clean."""

    gone: list[dict[str, Any]]  # the report's coverage.gone entries
    cleared: list[dict[str, Any]]  # the report's coverage.cleared entries

    def __bool__(self) -> bool:
        return bool(self.gone or self.cleared)


@dataclass(frozen=True, slots=True)
class Gone:
    """A file that held findings and that a sweep over its root no longer found."""

    path: str
    findings: int
    scanned_at: float
    gone_at: float


def _outcome_json(outcome: FileOutcome) -> str:
    return json.dumps(
        {
            "kind": outcome.kind,
            "size": outcome.size,
            "findings": outcome.findings,
            "skipped": outcome.skipped,
            "partial": outcome.partial,
            "unread": [list(pair) for pair in outcome.unread],
        },  # the digest has its own column
        sort_keys=True,
        separators=(",", ":"),
    )


def _outcome_of(text: str, path: Path) -> FileOutcome:
    """The stored outcome, its findings moved to ``path`` (a rename keeps them)."""
    data: dict[str, Any] = json.loads(text)
    findings = [{**finding, "path": str(path)} for finding in data["findings"]]
    return FileOutcome(
        path=path,
        size=int(data["size"]),
        kind=str(data["kind"]),
        findings=findings,
        skipped=data["skipped"],
        partial=data["partial"],
        unread=[(str(member), str(reason)) for member, reason in data["unread"]],
    )


def _writable(path: Path) -> None:
    """Raise OSError (EROFS, EACCES) unless this process may write ``path``: said here,
    where SQLite would only say "unable to open database file".

    Asked with ``access``, never by opening the database: closing any descriptor of a
    file drops every POSIX lock this process holds on it, those of other connections
    to it (another thread's) too, and SQLite then takes itself for the last one and
    checkpoints and deletes the WAL under their feet (a malformed database)."""
    if os.access(path, os.W_OK):
        return
    statvfs = getattr(os, "statvfs", None)  # not on Windows
    readonly = statvfs is not None and bool(statvfs(path).f_flag & os.ST_RDONLY)
    code = errno.EROFS if readonly else errno.EACCES
    raise OSError(code, os.strerror(code), str(path))


def _under(path: str, roots: Iterable[Path]) -> bool:
    return any(
        path == str(root) or path.startswith(str(root).rstrip(os.sep) + os.sep) for root in roots
    )


class State:
    """The state database at ``path`` (made, 0600, on first use). Not thread-safe:
    one object per thread; one process writes at a time (others wait up to
    ``timeout`` seconds for its lock)."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self.context: str | None = None  # `use_context`
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            _writable(path)
            _writable(path.parent)  # SQLite makes the -wal and -shm files beside it
        except OSError as exc:
            raise StateError(
                f"{exc.filename or path}: cannot write the state database: {exc.strerror}"
            ) from None
        try:
            self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, 1, 2, SCHEMA_VERSION):
                raise StateError(
                    f"{path}: state database of schema {version}; this ftiscan uses "
                    f"{SCHEMA_VERSION} (move it away to start over)"
                )
            if version != SCHEMA_VERSION:  # new, or version 1 or 2: add what is missing
                with self._write():
                    for statement in filter(str.strip, _SCHEMA.split(";")):
                        self._db.execute(statement)
                    columns = {row[1] for row in self._db.execute("PRAGMA table_info(files)")}
                    if "context" not in columns:  # version 2 kept one context for all rows
                        self._db.execute("ALTER TABLE files ADD COLUMN context TEXT")
                        self._db.execute(
                            "UPDATE files SET context ="
                            " (SELECT value FROM meta WHERE key = 'scan_context')"
                        )
                    self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException as exc:
            with contextlib.suppress(AttributeError, sqlite3.Error):  # no half-open handle
                self._db.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from None
            raise

    @classmethod
    def in_folder(cls, folder: Path) -> State:
        return cls(folder / STATE_DB)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, exc: sqlite3.Error) -> StateError:
        """What went wrong with the database, said for the operator (`StateError`)."""
        primary = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            what = (
                f"locked by another process (waited {self.timeout:g} s for its write lock); "
                "try again when that process is done"
            )
        elif primary == _SQLITE_FULL:
            what = "No space left on device"
        elif primary == _SQLITE_READONLY:
            what = "not writable (a read-only file system or folder)"
        elif primary == _SQLITE_IOERR:
            what = "disk I/O error (is the disk full or failing?)"
        else:
            what = f"not a usable state database ({exc})"
        return StateError(f"{self.path}: {what}")

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One transaction, taken at once (no lock upgrade deadlock between writers).
        Any SQLite failure (locked past the timeout, disk full, read-only, I/O) rolls
        the transaction back and is raised as `StateError`: nothing half written, and
        the connection stays usable."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT leaves it open
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    # -- files ---------------------------------------------------------------------------

    def use_context(self, context: str) -> None:
        """Store outcomes as made under the scan context ``context`` (what an outcome
        depends on besides the file: `ftiscan.agent.incremental.StateKnown`), and find
        only those made under it.

        Each outcome carries its context, so that one is reused exactly when it was made
        under the same one: also the outcomes of a scan killed before its end (the
        first scan of a laptop, the first after a pack update), and never those another
        process stored meanwhile under another context."""
        self.context = context

    def _ctx(self) -> tuple[str | None, str | None]:
        """The parameters of ``(? IS NULL OR context = ?)``: rows of the current context,
        or every row while there is none."""
        return self.context, self.context

    def unchanged(self, entry: FileEntry) -> FileOutcome | None:
        """The last outcome of ``entry``'s path when its identity is the same."""
        return self.unchanged_in(self.folder(os.path.dirname(str(entry.path))), entry)

    @staticmethod
    def unchanged_in(folder: Folder, entry: FileEntry) -> FileOutcome | None:
        """`unchanged`, answered from ``folder``: the `folder` holding ``entry``, read a
        moment ago (a scan reads each folder once and asks about its files from it)."""
        known = folder.get(str(entry.path))
        identity = (entry.dev, entry.ino, entry.size, entry.mtime_ns, entry.ctime_ns)
        if known is None or known[0] != identity:
            return None
        return _outcome_of(known[1], entry.path)

    def folder(self, folder: str) -> Folder:
        """The stored files (of the current context, not gone) directly in ``folder``,
        by path: their identity (dev, ino, size, mtime_ns, ctime_ns) and outcome, in one
        query on the path index (one per file costs several times more)."""
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        above = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # every path under the prefix sorts below
        rows = self._db.execute(
            "SELECT path, dev, ino, size, mtime_ns, ctime_ns, outcome FROM files"
            " WHERE path >= ? AND path < ? AND instr(substr(path, ?), ?) = 0"
            " AND gone_at IS NULL AND (? IS NULL OR context = ?)",
            (prefix, above, len(prefix) + 1, os.sep, *self._ctx()),
        ).fetchall()
        return {row[0]: (tuple(row[1:6]), row[6]) for row in rows}

    def moved(self, entry: FileEntry) -> FileOutcome | None:
        """The outcome of the same file (device, inode, size, mtime) known under another
        path that no longer exists: a rename or a move within one file system."""
        rows = self._db.execute(
            "SELECT path, outcome FROM files WHERE dev = ? AND ino = ? AND size = ? "
            "AND mtime_ns = ? AND path != ? AND (? IS NULL OR context = ?)",
            (entry.dev, entry.ino, entry.size, entry.mtime_ns, str(entry.path), *self._ctx()),
        ).fetchall()
        for old, outcome in rows:
            if not os.path.lexists(old):
                return _outcome_of(outcome, entry.path)
        return None

    def by_digest(self, digest: str, size: int, path: Path) -> FileOutcome | None:
        """The outcome of a file with the same content, moved to ``path``."""
        row = self._db.execute(
            "SELECT outcome FROM files WHERE digest = ? AND size = ?"
            " AND (? IS NULL OR context = ?) LIMIT 1",
            (digest, size, *self._ctx()),
        ).fetchone()
        return None if row is None else _outcome_of(row[0], path)

    def findings_of(self, path: Path) -> int | None:
        """How many findings the last outcome stored for ``path`` held (None: unknown)."""
        row = self._db.execute("SELECT findings FROM files WHERE path = ?", (str(path),)).fetchone()
        return None if row is None else int(row[0])

    def record(
        self,
        items: Iterable[tuple[FileEntry, FileOutcome, str | None]],
        now: float | None = None,
    ) -> int:
        """Store (entry, outcome, content digest) triples in one transaction; a path
        that was gone and is back is no longer gone. A path whose stored outcome held
        findings and whose new one holds none is news (``cleared``), in the same
        transaction. Returns how many were stored."""
        when = time.time() if now is None else now
        items = list(items)
        clean = [str(entry.path) for entry, outcome, _ in items if not outcome.findings]
        rows = [
            (
                str(entry.path),
                entry.dev,
                entry.ino,
                entry.size,
                entry.mtime_ns,
                entry.ctime_ns,
                digest,
                _outcome_json(outcome),
                len(outcome.findings),
                when,
                when,
                self.context,
            )
            for entry, outcome, digest in items
        ]
        with self._write():
            for path in clean:
                self._db.execute(
                    "INSERT INTO news (kind, path, findings, scanned_at, at)"
                    " SELECT 'cleared', path, findings, scanned_at, ? FROM files"
                    " WHERE path = ? AND findings > 0 AND gone_at IS NULL",
                    (when, path),
                )
            self._db.executemany(
                "INSERT INTO files (path, dev, ino, size, mtime_ns, ctime_ns, digest, outcome,"
                " findings, scanned_at, seen_at, gone_at, context)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL,?) "
                "ON CONFLICT (path) DO UPDATE SET dev=excluded.dev, ino=excluded.ino,"
                " size=excluded.size, mtime_ns=excluded.mtime_ns, ctime_ns=excluded.ctime_ns,"
                " digest=excluded.digest, outcome=excluded.outcome, findings=excluded.findings,"
                " scanned_at=excluded.scanned_at, seen_at=excluded.seen_at, gone_at=NULL,"
                " context=excluded.context",
                rows,
            )
        return len(rows)

    def seen(self, paths: Iterable[Path], now: float | None = None) -> None:
        """Mark unchanged files as seen by the current sweep (one transaction)."""
        when = time.time() if now is None else now
        with self._write():
            self._db.executemany(
                "UPDATE files SET seen_at = ?, gone_at = NULL WHERE path = ?",
                [(when, str(path)) for path in paths],
            )

    def finish_sweep(
        self, roots: Iterable[Path], started: float, now: float | None = None
    ) -> list[Gone]:
        """Files under ``roots`` not seen since ``started`` are gone as of ``now``;
        return those of them that held findings (each reported gone once), which are
        news in the same transaction."""
        when = time.time() if now is None else now
        wanted = list(roots)
        gone: list[Gone] = []
        with self._write():
            rows = self._db.execute(
                "SELECT path, findings, scanned_at FROM files"
                " WHERE seen_at < ? AND gone_at IS NULL",
                (started,),
            ).fetchall()
            hits = [row for row in rows if _under(row[0], wanted)]
            self._db.executemany(
                "UPDATE files SET gone_at = ? WHERE path = ?", [(when, row[0]) for row in hits]
            )
            self._db.executemany(
                "INSERT INTO news (kind, path, findings, scanned_at, at)"
                " VALUES ('gone', ?, ?, ?, ?)",
                [(path, findings, scanned, when) for path, findings, scanned in hits if findings],
            )
        for path, findings, scanned_at in hits:
            if findings:
                gone.append(Gone(path, int(findings), float(scanned_at), when))
        return gone

    def counts(self) -> dict[str, int]:
        """Files tracked, those holding findings, those gone (for `agent status`)."""
        tracked, holding, gone = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(findings > 0 AND gone_at IS NULL), 0),"
            " COALESCE(SUM(gone_at IS NOT NULL), 0) FROM files"
        ).fetchone()
        return {"tracked": int(tracked), "with_findings": int(holding), "gone": int(gone)}

    # -- news --------------------------------------------------------------------------

    def claim_news(self, report_id: str, after: int, owner: str) -> News:
        """Take the news no report holds yet for the report ``report_id``, which will be
        signed after chain sequence ``after`` by the process ``owner`` names; call
        `reported` once it is signed."""
        claim = json.dumps({"after": after, "owner": owner}, sort_keys=True)
        with self._write():
            self._db.execute("UPDATE news SET report = ? WHERE report IS NULL", (report_id,))
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)", (_NEWS_CLAIM + report_id, claim)
            )
            rows = self._db.execute(
                "SELECT kind, path, findings, scanned_at, at FROM news WHERE report = ?"
                " ORDER BY path, id",
                (report_id,),
            ).fetchall()
        gone = [
            {"path": p, "findings": int(n), "scanned": iso(scanned), "gone": iso(at)}
            for kind, p, n, scanned, at in rows
            if kind == "gone"
        ]
        cleared = [
            {"path": p, "findings": int(n)} for kind, p, n, _, _ in rows if kind == "cleared"
        ]
        return News(gone, cleared)

    def untold(self) -> int:
        """How many news no report holds yet."""
        return int(self._db.execute("SELECT COUNT(*) FROM news WHERE report IS NULL").fetchone()[0])

    def reported(self, report_id: str) -> None:
        """The report ``report_id`` is signed: its news is told."""
        with self._write():
            self._db.execute("DELETE FROM news WHERE report = ?", (report_id,))
            self._db.execute("DELETE FROM meta WHERE key = ?", (_NEWS_CLAIM + report_id,))

    def unclaim(self, report_id: str) -> None:
        """The report ``report_id`` was never signed: its news goes to the next one."""
        with self._write():
            self._db.execute("UPDATE news SET report = NULL WHERE report = ?", (report_id,))
            self._db.execute("DELETE FROM meta WHERE key = ?", (_NEWS_CLAIM + report_id,))

    def claims(self) -> dict[str, tuple[int, str]]:
        """Reports that took news and are not known signed: id -> (after, owner)."""
        out: dict[str, tuple[int, str]] = {}
        for key, value in self._db.execute(
            "SELECT key, value FROM meta WHERE key LIKE ?", (_NEWS_CLAIM + "%",)
        ):
            data = json.loads(value)
            out[key[len(_NEWS_CLAIM) :]] = (int(data["after"]), str(data["owner"]))
        return out

    # -- key/value -----------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        with self._write():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def check(self) -> str:
        """SQLite's integrity check: ``"ok"`` or what is wrong."""
        return "; ".join(str(row[0]) for row in self._db.execute("PRAGMA integrity_check"))
