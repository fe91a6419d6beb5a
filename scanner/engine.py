"""The scan engine: walk -> identify -> extract -> detect -> records -> findings.

The CLI and the daemon call `run_scan`; nothing here knows about click, watchdog,
HTTP or SQLite. Files are scanned in worker processes (`pool_context`: forked from a
single-threaded scan on Linux, which hands them its compiled context, else spawned,
compiling the packs from their source bytes) with a bounded number of files in flight, so
memory stays flat however large the tree is. A file that cannot be read, or whose
reading stops early, is counted in coverage with its reason; findings made before
the stop are kept.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import hmac
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from ftiscan.scanner import extract as extractors
from ftiscan.scanner.deadline import Expired, deadline
from ftiscan.scanner.detect import Detector
from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract import _budget
from ftiscan.scanner.model import FileOutcome, Limits, Location, Rows, Segment, Unread
from ftiscan.scanner.packs import PackSet, pack_set_from_sources
from ftiscan.scanner.records import FileScan
from ftiscan.scanner.walk import FileEntry, Skipped, WalkOptions, open_readonly, walk

if TYPE_CHECKING:
    from ftiscan.scanner.edm.index import EdmIndex
    from ftiscan.scanner.edm.match import EdmMatcher

MAX_LISTED_SKIPS = 10_000
EXIT_ORPHANED = 70  # a worker whose scan died (EX_SOFTWARE): nothing to report to


@dataclass(frozen=True)
class ScanOptions:
    """Everything one scan needs; picklable so workers can rebuild their context."""

    roots: tuple[Path, ...]
    pack_sources: tuple[tuple[str, bytes], ...]
    key: bytes
    walk: WalkOptions = field(default_factory=WalkOptions)
    limits: Limits = field(default_factory=Limits)
    jobs: int = 0  # 0: every core the process may use
    approved: tuple[str, ...] = ()  # glob patterns or folders whose findings are info
    edm: EdmIndex | None = None  # a loaded exact-data-match index (pickled to workers)
    digests: bool = False  # also hash each file read (`FileOutcome.digest`)

    def described(self) -> dict[str, Any]:
        """What a report's ``scan.options`` records of a scan made with these options."""
        return {
            "excludes": list(self.walk.excludes),
            "max_file_size": self.walk.max_file_bytes,
            "one_file_system": self.walk.one_file_system,
            "follow_symlinks": self.walk.follow_symlinks,
            "approved": list(self.approved),
        }


@dataclass
class Coverage:
    """What was seen and what was not read, by reason (counts and a bounded list).

    ``skipped``: files not read at all; ``partial``: files whose reading stopped early
    (by the reason it stopped), or that changed (``changed``) or went (``vanished``)
    while they were read; ``members_unread``: parts of files (archive members,
    attachments, pages) not read, by reason. ``files_partial`` counts the files with
    either of the latter two.
    """

    files_seen: int = 0
    files_scanned: int = 0
    bytes_seen: int = 0
    bytes_scanned: int = 0
    files_partial: int = 0
    files_reused: int = 0  # of files_scanned: outcomes kept from an earlier scan
    skipped: Counter[str] = field(default_factory=Counter)
    partial: Counter[str] = field(default_factory=Counter)
    members_unread: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    listed: list[dict[str, Any]] = field(default_factory=list)
    unlisted: int = 0

    def _list(self, entry: dict[str, Any]) -> None:
        if len(self.listed) < MAX_LISTED_SKIPS:
            self.listed.append(entry)
        else:
            self.unlisted += 1

    def note(self, path: Path, reason: str, partial: bool) -> None:
        (self.partial if partial else self.skipped)[reason] += 1
        entry: dict[str, Any] = {"path": str(path), "reason": reason}
        if partial:
            entry["partial"] = True
        self._list(entry)

    def note_member(self, path: Path, member: str, reason: str) -> None:
        self.members_unread[reason] += 1
        entry: dict[str, Any] = {"path": str(path), "reason": reason, "partial": True}
        if member:
            entry["member"] = member
        self._list(entry)

    def add(self, outcome: FileOutcome) -> None:
        """Count one scanned file (not skipped): its kind, stop reason and unread parts."""
        self.files_scanned += 1
        self.bytes_scanned += outcome.size
        self.kinds[outcome.kind] += 1
        if outcome.partial is not None:
            self.note(outcome.path, outcome.partial, partial=True)
        for member, reason in outcome.unread:
            self.note_member(outcome.path, member, reason)
        if outcome.partial is not None or outcome.unread:
            self.files_partial += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "files_scanned": self.files_scanned,
            "files_skipped": sum(self.skipped.values()),
            "files_partial": self.files_partial,
            "files_reused": self.files_reused,
            "bytes_seen": self.bytes_seen,
            "bytes_scanned": self.bytes_scanned,
            "skipped": dict(sorted(self.skipped.items())),
            "partial": dict(sorted(self.partial.items())),
            "members_unread": dict(sorted(self.members_unread.items())),
            "kinds": dict(sorted(self.kinds.items())),
            "not_read": sorted(self.listed, key=lambda e: (e["path"], e.get("member", ""))),
            "not_read_unlisted": self.unlisted,
        }


@dataclass
class ScanResult:
    findings: list[dict[str, Any]]
    coverage: Coverage
    started: float
    ended: float


class Context:
    """What a worker needs to scan one file; built once per process."""

    def __init__(self, options: ScanOptions, packs: PackSet | None = None) -> None:
        self.options = options
        self.packs = packs or pack_set_from_sources(options.pack_sources)
        self.detector = Detector(self.packs)
        self.approved = tuple(os.path.abspath(p) for p in options.approved)
        self.edm: EdmMatcher | None = None
        if options.edm is not None:
            from ftiscan.scanner.edm.match import EdmMatcher  # usaddress: only with an index

            self.edm = EdmMatcher(options.edm)

    def is_approved(self, path: Path) -> bool:
        text = str(path)
        for pattern in self.approved:
            if fnmatch(text, pattern) or text == pattern or text.startswith(pattern + os.sep):
                return True
        return False


class Parts:
    """Routes the items of one file to a `FileScan` per part: the file itself and each
    member of a container (``where.member``), so that records are counted and reported
    per member; `Unread` parts are kept with their reasons."""

    def __init__(self, ctx: Context, assume_provenance: bool) -> None:
        self._ctx, self._assume = ctx, assume_provenance
        self._scans: dict[str | None, FileScan] = {}
        self.unread: list[tuple[str, str]] = []

    def feed(self, item: Segment | Rows | Unread) -> None:
        if isinstance(item, Unread):
            self.unread.append((item.where.member or "", item.reason))
            return
        member = item.where.member
        scan = self._scans.get(member)
        if scan is None:
            ctx = self._ctx
            scan = FileScan(ctx.detector, ctx.options.key, self._assume, ctx.edm)
            self._scans[member] = scan
        scan.feed(item)

    @property
    def needs_second_pass(self) -> bool:
        return any(scan.needs_second_pass for scan in self._scans.values())

    def findings(self, path: Path) -> list[dict[str, Any]]:
        approved = self._ctx.is_approved(path)
        out: list[dict[str, Any]] = []
        for member in sorted(self._scans, key=lambda m: m or ""):
            out.extend(self._scans[member].findings(str(path), member, approved))
        return out


@dataclass
class StreamResult:
    """What scanning one stream gave: kind, findings, the reason it stopped early
    (None: read to the end), the parts not read, and whether a second pass is due
    (provenance seen after name + address rows went by unanalysed)."""

    kind: str
    findings: list[dict[str, Any]]
    reason: str | None
    unread: list[tuple[str, str]]
    again: bool


def scan_parts(
    ctx: Context, fh: IO[bytes], path: Path, *, assume_provenance: bool = False
) -> StreamResult:
    """Scan one open stream, every part of it; never raises for its content."""
    parts = Parts(ctx, assume_provenance)
    limits = ctx.options.limits
    due = time.monotonic() + limits.max_seconds
    reason = None
    kind = "unknown"
    try:
        with _budget.per_file(2 * limits.max_decompressed_bytes), deadline(limits.max_seconds):
            kind, items = extractors.extract(fh, Location(path), limits)
            for item in items:
                parts.feed(item)
                if time.monotonic() > due:
                    reason = "limit:time"
                    break
    except Expired:  # stuck inside one item past the limit (`deadline`)
        reason = "limit:time"
    except ExtractError as exc:
        reason = exc.reason
    except (OSError, EOFError) as exc:
        reason = "unreadable" if not isinstance(exc, EOFError) else "corrupt"
    except (ValueError, RecursionError, MemoryError, LookupError, TypeError, KeyError) as exc:
        # Hostile or broken input must not stop the scan; the type names the failure
        # and the message (which might quote content) is dropped on purpose.
        reason = f"error:{type(exc).__name__}"
    return StreamResult(kind, parts.findings(path), reason, parts.unread, parts.needs_second_pass)


def scan_stream(
    ctx: Context, fh: IO[bytes], path: Path, *, assume_provenance: bool = False
) -> tuple[str, list[dict[str, Any]], str | None, bool]:
    """Scan one open stream: (kind, findings, reason it stopped early, second pass?)."""
    result = scan_parts(ctx, fh, path, assume_provenance=assume_provenance)
    return result.kind, result.findings, result.reason, result.again


def file_digest(entry: FileEntry, key: bytes) -> str | None:
    """Keyed digest (HMAC-SHA-256, hex) of the file's content, read as the scan reads
    it; None if it cannot be read or is no longer the file the walk saw.

    Keyed (by a key derived from the fingerprint key) because a plain SHA-256 of a
    small file, one holding only an SSN say, can be brute-forced from the state
    database of a stolen laptop; the key stays in the key folder."""
    mac = hmac.new(hashlib.sha256(b"ftiscan content digest\0" + key).digest(), None, "sha256")
    try:
        with open_readonly(entry) as fh:
            while chunk := fh.read(1024 * 1024):
                mac.update(chunk)
    except (ExtractError, OSError):
        return None
    return mac.hexdigest()


def changed_since_walk(entry: FileEntry) -> str | None:
    """``vanished`` when ``entry``'s path is gone, ``changed`` when it holds another
    file (replaced) or other content than the walk saw (size or mtime differ: written,
    grown, truncated), None when it is as the walk saw it. Asked after a file was read:
    what was read is then not what is on disk, or not one state of it."""
    try:
        st = os.stat(entry.path)  # through a link the walk followed, as open_readonly
    except (FileNotFoundError, NotADirectoryError):
        return "vanished"
    except OSError:
        return None  # no answer; the read itself went through
    if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != (
        entry.dev,
        entry.ino,
        entry.size,
        entry.mtime_ns,
    ):
        return "changed"
    return None


def scan_entry(ctx: Context, entry: FileEntry) -> FileOutcome:
    """Scan one file from the walk; never raises for anything found on disk.

    A file that changed or went while it was read (`changed_since_walk`, asked once
    it was read and hashed) is read in part with reason ``changed`` or ``vanished``:
    its findings are kept (that data was on disk), it has no content digest (the one
    read may not match), and an incremental scan reads it again (its stored identity
    is the walk's, which the file no longer has). A second pass that cannot open the
    file again keeps the first pass's findings: each pass replaces the other, so no
    record counts twice."""
    outcome = FileOutcome(path=entry.path, size=entry.size, kind="unknown")
    again: str | None = None  # why a due second pass could not be made
    try:
        with open_readonly(entry) as fh:
            result = scan_parts(ctx, fh, entry.path)
        if result.again:
            try:
                with open_readonly(entry) as fh:
                    result = scan_parts(ctx, fh, entry.path, assume_provenance=True)
            except ExtractError as exc:
                again = exc.reason
            except OSError:
                again = "unreadable"
    except ExtractError as exc:
        outcome.skipped = exc.reason
        return outcome
    except PermissionError:
        outcome.skipped = "permission"
        return outcome
    except FileNotFoundError:
        outcome.skipped = "vanished"
        return outcome
    except OSError:
        outcome.skipped = "unreadable"
        return outcome
    outcome.kind = result.kind
    outcome.findings = result.findings
    outcome.unread = result.unread
    if ctx.options.digests:
        outcome.digest = file_digest(entry, ctx.options.key)
    reason = result.reason
    if reason is not None and reason.startswith("unsupported") and not result.findings:
        outcome.skipped = f"unsupported:{result.kind}"
        outcome.unread = []
        return outcome
    moved_on = changed_since_walk(entry)
    if moved_on is not None:
        outcome.digest = None
    outcome.partial = moved_on or again or reason  # the change explains a cut-off read
    return outcome


# --- worker processes ------------------------------------------------------------------

_WORKER: Context | None = None


_INHERITED: Context | None = None  # the parent's context, as a forked worker finds it
_RESET_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")


def pool_context() -> multiprocessing.context.BaseContext:
    """How scan workers start: forked on Linux when the scanning process runs no other
    thread, else spawned.

    A forked worker starts at once with the parent's modules and compiled context
    (a spawned one imports ftiscan and compiles the packs again: about 0.2 s of CPU
    each, before the first file). Forking is safe only where no other thread can hold
    a lock at that moment (the daemon runs a watcher and a submitter) and where the
    system libraries allow it (not macOS, where spawn is the default for that reason;
    Windows has no fork)."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _init_worker(options: ScanOptions) -> None:
    global _WORKER
    inherited = _INHERITED
    if inherited is not None and inherited.options is options:
        _WORKER = inherited  # forked: the parent's context, already compiled
        _default_signals()
    else:
        # The parent compiled (and schema-checked) these very sources before starting
        # the pool (`run_scan` builds its `Context` first), so a worker skips the
        # schema check and does not import jsonschema.
        packs = pack_set_from_sources(options.pack_sources, check_schema=False)
        _WORKER = Context(options, packs)
    _lower_priority()
    _exit_with_parent()


def _default_signals() -> None:
    """A forked worker inherits the parent's signal handlers (a CLI that signs an
    interrupted report, say): it gets those a spawned worker has instead."""
    for name in _RESET_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None and callable(signal.getsignal(number)):
            default = signal.default_int_handler if name == "SIGINT" else signal.SIG_DFL
            signal.signal(number, default)


def _exit_with_parent() -> None:
    """End this worker as soon as the scan that started it is gone.

    A scan killed with ``kill -9`` (or a power-cut-like crash) cannot shut its pool
    down, and an idle worker waits on its task queue forever: orphans that held
    memory and open files until the next reboot. The spawn start method hands each
    worker a sentinel of its parent that becomes ready when the parent dies (on
    every OS); a daemon thread waits on it and ends the process at once."""
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - only ever called in a pool's worker
        return

    def watch() -> None:
        parent.join()
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="ftiscan-parent-watch", daemon=True).start()


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # no nice() on Windows
        os.nice(5)


def _started() -> None:
    """A task that only makes the pool start a worker."""


def _worker_scan(entries: list[FileEntry]) -> list[FileOutcome]:
    assert _WORKER is not None
    return [scan_entry(_WORKER, entry) for entry in entries]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


Progress = Callable[[FileOutcome | Skipped | None, Path | None], None]


LOOKAHEAD = 4096  # entries (a few hundred bytes each) held to schedule the largest first
# Small files go to a worker together: a task costs about a millisecond of hand-over
# (pickling, queues, threads), more than reading a file of a few kilobytes.
BATCH_FILES = 64
BATCH_BYTES = 1024 * 1024
# A TIN candidate in a table costs about as much as 2 KiB of text without one (a
# record: validation, name and address evidence, a keyed fingerprint), measured on
# the bench's 47,000-record export (26 us a record) against its logs (8 ns a byte).
RECORD_COST = 2048
COST_SAMPLE = 64 * 1024


def largest_first(
    entries: Iterator[FileEntry | Skipped | FileOutcome],
    window: int = LOOKAHEAD,
    cost: Callable[[FileEntry], int] | None = None,
) -> Iterator[FileEntry | Skipped | FileOutcome]:
    """The walk's entries with the largest files first (by ``cost``, default their
    size) within a bounded look-ahead, so that a long file does not start last and
    leave the other workers idle at the end. Skipped entries and known outcomes pass
    at once; memory stays bounded by ``window`` entries; findings are sorted at the
    end, so the order changes no result.

    >>> from pathlib import Path
    >>> sizes = [FileEntry(Path(str(n)), Path("."), n, 0, n, 0, 0) for n in (3, 9, 1, 7)]
    >>> [e.size for e in largest_first(iter(sizes), window=2)]
    [9, 7, 3, 1]
    """
    heap: list[tuple[int, int, FileEntry]] = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, FileEntry):
            yield entry  # skipped, or known already: nothing to schedule
            continue
        heapq.heappush(heap, (-(entry.size if cost is None else cost(entry)), n, entry))
        if len(heap) > window:
            yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]


def scan_cost(detector: Detector, entry: FileEntry) -> int:
    """What scanning ``entry`` will cost, in bytes of plain text: its size, plus
    `RECORD_COST` for each TIN candidate its first `COST_SAMPLE` bytes suggest (a
    47,000-record export of 3 MiB takes longer than 40 MiB of logs, and must not be
    the last file a worker starts). Files below `BATCH_BYTES` are not opened."""
    if entry.size < BATCH_BYTES:
        return entry.size
    try:
        with open_readonly(entry) as fh:
            head = fh.read(COST_SAMPLE)
    except (ExtractError, OSError):
        return entry.size
    if not head:
        return entry.size
    runs = detector.candidate_runs(head)[0]
    if runs and _leading_identifier(detector, head):
        # Order numbers in the first column: ruled out with their batches, at no cost
        # per number (`FileScan._nothing_in`); only the other candidates count.
        runs = [run for run in runs if run[0] and head[run[0] - 1] not in b"\r\n"]
    return entry.size + len(runs) * entry.size // len(head) * RECORD_COST


def _leading_identifier(detector: Detector, head: bytes) -> bool:
    """Whether ``head`` starts with a table header whose first column names an
    identifier (``order_id``, ``invoice no``)."""
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    delimiter = max(",\t|;", key=line.count)
    return detector.header_roles(tuple(line.split(delimiter))).get(0) == "identifier"


def _outcomes(
    options: ScanOptions, ctx: Context, entries: Iterator[FileEntry | Skipped | FileOutcome]
) -> Iterator[FileOutcome | Skipped]:
    """Outcomes of the entries (read by workers); skipped entries and outcomes known
    already pass through."""
    jobs = options.jobs or default_jobs()
    if jobs <= 1:
        for entry in entries:
            yield scan_entry(ctx, entry) if isinstance(entry, FileEntry) else entry
        return
    global _INHERITED
    mp = pool_context()
    _INHERITED = ctx if mp.get_start_method() == "fork" else None
    in_flight: set[Future[list[FileOutcome]]] = set()
    limit = jobs * 8
    with ProcessPoolExecutor(
        jobs, mp_context=mp, initializer=_init_worker, initargs=(ctx.options,)
    ) as pool:
        try:
            cost = functools.partial(scan_cost, ctx.detector)
            for batch in batched_small(largest_first(_starting(pool, jobs, entries), cost=cost)):
                if not isinstance(batch, list):
                    yield batch
                    continue
                in_flight.add(pool.submit(_worker_scan, batch))
                if len(in_flight) >= limit:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield from future.result()
            for future in in_flight:
                yield from future.result()
        except BaseException:  # the caller stopped (an error, a stop): read no more files
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            _INHERITED = None


def _starting(
    pool: ProcessPoolExecutor, jobs: int, entries: Iterator[FileEntry | Skipped | FileOutcome]
) -> Iterator[FileEntry | Skipped | FileOutcome]:
    """``entries``, starting the pool's workers at the first file to read: they start
    while the walk fills the look-ahead (`largest_first`), and not at all when every
    file is known already (an unchanged rescan)."""
    started = False
    for entry in entries:
        if not started and isinstance(entry, FileEntry):
            for _ in range(jobs):
                pool.submit(_started)
            started = True
        yield entry


def batched_small(
    entries: Iterator[FileEntry | Skipped | FileOutcome],
    files: int = BATCH_FILES,
    size: int = BATCH_BYTES,
) -> Iterator[list[FileEntry] | Skipped | FileOutcome]:
    """The files of ``entries`` as worker tasks: a large file alone, small ones together
    (up to ``files`` of them or ``size`` bytes), in the order they come; skipped
    entries and known outcomes pass at once.

    >>> from pathlib import Path
    >>> sizes = [FileEntry(Path(str(n)), Path("."), n, 0, n, 0, 0) for n in (9, 2, 1, 1, 1)]
    >>> [[e.size for e in batch] for batch in batched_small(iter(sizes), files=2, size=4)]
    [[9], [2, 1], [1, 1]]
    """
    held: list[FileEntry] = []
    held_bytes = 0
    for entry in entries:
        if not isinstance(entry, FileEntry):
            yield entry
            continue
        if entry.size >= size:
            yield [entry]
            continue
        held.append(entry)
        held_bytes += entry.size
        if len(held) >= files or held_bytes >= size:
            yield held
            held, held_bytes = [], 0
    if held:
        yield held


class WalkTotals:
    """Files and bytes found so far by the walk (read by the progress display)."""

    def __init__(self) -> None:
        self.files = 0
        self.bytes = 0
        self.done = False
        self.lock = threading.Lock()


class Known(Protocol):
    """What earlier scans learned (the agent's state): `lookup` gives the outcome of a
    file that need not be read again (unchanged, renamed, same content), `store`
    keeps the outcome of one that was read."""

    def lookup(self, entry: FileEntry) -> FileOutcome | None: ...

    def store(self, entry: FileEntry, outcome: FileOutcome) -> None: ...


def run_scan(
    options: ScanOptions,
    progress: Progress | None = None,
    totals: WalkTotals | None = None,
    packs: PackSet | None = None,
    known: Known | None = None,
    context: Context | None = None,
) -> ScanResult:
    """Scan every root; return findings (sorted by path) and coverage. With ``known``,
    files it knows are not read again (``coverage.files_reused``) and the outcome of
    every file read is handed to it. ``context``: one built for ``options`` already
    (the self-test's), not built again."""
    started = time.time()
    ctx = context if context is not None and context.options is options else Context(options, packs)
    coverage = Coverage()
    findings: list[dict[str, Any]] = []
    pending: dict[Path, FileEntry] = {}  # read by a worker, outcome not back yet

    def counted() -> Iterator[FileEntry | Skipped | FileOutcome]:
        for item in walk(list(options.roots), options.walk):
            if isinstance(item, FileEntry):
                if totals is not None:
                    with totals.lock:
                        totals.files += 1
                        totals.bytes += item.size
                if known is not None:
                    reused = known.lookup(item)
                    if reused is not None:
                        if reused.skipped is None:
                            coverage.files_reused += 1
                        yield reused
                        continue
                    pending[item.path] = item
            yield item
        if totals is not None:
            totals.done = True

    for result in _outcomes(options, ctx, counted()):
        if known is not None and isinstance(result, FileOutcome):
            entry = pending.pop(result.path, None)
            if entry is not None:
                known.store(entry, result)
        coverage.files_seen += 1
        if isinstance(result, Skipped):
            coverage.bytes_seen += result.size
            coverage.note(result.path, result.reason, partial=False)
        else:
            coverage.bytes_seen += result.size
            if result.skipped is not None:
                coverage.note(result.path, result.skipped, partial=False)
            else:
                coverage.add(result)
            findings.extend(result.findings)
        if progress is not None:
            progress(result, None)
    findings.sort(key=lambda f: (str(f["path"]), str(f.get("member", "")), str(f["rule"])))
    return ScanResult(findings, coverage, started, time.time())


def roots_of(paths: Sequence[Path]) -> tuple[Path, ...]:
    """Absolute roots, each once, in the order given."""
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(Path(os.path.abspath(path)), None)
    return tuple(seen)
