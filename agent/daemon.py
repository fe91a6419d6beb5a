"""The watch daemon (`ftiscan agent run`): sweep, watch, scan what changed, sign, heartbeat.

One process, one scanning thread (the main one), scanning in-process (``jobs=1``)
inside the governor's budget; a budget of N >= 2 whole cores (``cpu_percent: 200``)
lets sweeps use N worker processes. The watchdog observer's threads only enqueue paths.

* Start: the pid file and the status file go in the state folder, the priority is
  lowered, the self-test runs, then an **initial sweep** of the roots through the state
  (`StateKnown`: unchanged, renamed and copied files are not read again) signed as a
  report in the agent's chain (`Journal`), the same report shape as ``ftiscan scan``.
* **Watch**: a path is scanned once no event came for it for ``schedule.settle``
  seconds; the paths due are scanned as one batch through the state, deleted ones
  included (the state marks them gone). A batch with findings or gone files is one
  signed report (``scan.options.mode = "batch"``).
* **Heartbeat** every ``schedule.heartbeat`` seconds, findings or not
  (``mode = "heartbeat"``): its coverage counts what was scanned or reused since the
  last signed report. A **full sweep** every ``schedule.full_sweep`` seconds.
* When the roots cannot be watched (inotify out of watches), the daemon sweeps every
  ``min(full_sweep, heartbeat)`` instead, and every report says so in
  ``scan.options.watch``.
* Between files and batches it calls `Governor.step`; while `Governor.paused` gives a
  reason it takes no new work (heartbeats go on).
* **Submission**: when the agent is enrolled (``ftiscan enroll``), a thread empties
  the outbox into the pinned intake (`ftiscan.reports.submit.Submitter`: retries with
  backoff, a report leaves the outbox only with a verified receipt); without an
  enrolment, reports wait in the outbox for ``ftiscan submit`` or ``ftiscan bundle``.
* SIGTERM / SIGINT stop it within seconds (the observer is joined, the state flushed);
  SIGHUP reloads the config (a malformed one is logged with file and line, and the
  running config stays).

Log lines (standard error) carry counts, paths and rule ids, never a matched value.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

import psutil

from ftiscan.agent import keys, platform
from ftiscan.agent.config import AgentConfig, load_config
from ftiscan.agent.governor import MEMORY, Governor
from ftiscan.agent.incremental import StateKnown, reconcile_news, sign_with_news
from ftiscan.agent.journal import Journal, Signed
from ftiscan.agent.paths import default_key_dir, default_state_dir
from ftiscan.agent.state import News, State
from ftiscan.agent.watch import Debouncer, Enqueue, folders_under, start_observer, unwatched
from ftiscan.reports.outbox import Outbox
from ftiscan.reports.report import build_report, iso
from ftiscan.reports.submit import Event, SubmitError, Submitter, load_pinned
from ftiscan.scanner import selftest
from ftiscan.scanner.engine import (
    Context,
    Coverage,
    ScanOptions,
    ScanResult,
    default_jobs,
    roots_of,
    run_scan,
)
from ftiscan.scanner.errors import FtiscanError
from ftiscan.scanner.model import FileOutcome
from ftiscan.scanner.packs import PackSet, load_packs
from ftiscan.scanner.walk import Skipped, WalkOptions

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

    from ftiscan.scanner.edm.index import EdmIndex

__all__ = ["PID_FILE", "STATUS_FILE", "Daemon", "DaemonError", "log", "read_status"]

PID_FILE = "agent.pid"
STATUS_FILE = "agent.status.json"
MAX_BATCH = 1000  # paths per batch report
SUBMIT_POLL = 1.0  # seconds: how soon a new report in the outbox is sent


class DaemonError(FtiscanError):
    """The daemon cannot start (another one runs on this state folder, self-test failed)."""

    exit_code = 2


class _OverMemory(Exception):
    """Raised between two files of a sweep with worker processes that is over the
    memory cap: pausing would not free the workers' memory, so the sweep gives way."""


class _Stopped(Exception):
    """Raised between two files when a stop was asked for."""


def log(message: str, stream: TextIO | None = None) -> None:
    """One line on standard error: counts, paths, rule ids; never a matched value."""
    out = stream or sys.stderr
    out.write(f"ftiscan agent: {message}\n")
    out.flush()


def read_status(state_dir: Path) -> dict[str, Any]:
    """What `agent status` shows: the daemon's status file, whether it runs, the state's
    counts and the chain heads (read from the chain folder, no key needed)."""
    status: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        status = json.loads((state_dir / STATUS_FILE).read_text(encoding="utf-8"))
    pid = _pid_in(state_dir / PID_FILE)
    running = pid is not None and _alive(pid)
    out: dict[str, Any] = {
        "state_dir": str(state_dir),
        "running": running,
        "pid": pid if running else None,
        "started": status.get("started"),
        "last_sweep": status.get("last_sweep"),
        "last_heartbeat": status.get("last_heartbeat"),
        "last_report": status.get("last_report"),
        "queue": status.get("queue", 0) if running else 0,
        "watch": status.get("watch"),
        "paused": status.get("paused") if running else None,
    }
    files: dict[str, int] | None = None
    if (state_dir / "state.sqlite3").exists():
        with contextlib.suppress(FtiscanError), State.in_folder(state_dir) as state:
            files = state.counts()
    out["files"] = files
    heads = []
    chain = state_dir / "chain"
    if chain.is_dir():
        for folder in sorted(p for p in chain.iterdir() if p.is_dir()):
            numbers = sorted(
                int(p.name.split(".")[0])
                for p in folder.iterdir()
                if p.name.endswith(".dsse.json") and p.name.split(".")[0].isdigit()
            )
            if numbers:
                depth = Outbox(state_dir, folder.name).depth()
                heads.append({"key_id": folder.name, "sequence": numbers[-1], "outbox": depth})
    out["chain"] = heads
    out["outbox"] = sum(h["outbox"] for h in heads)
    out["submission"] = status.get("submission") if running else None
    return out


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class Daemon:
    """One agent: config, keys, state and chain; `run` until stopped."""

    def __init__(
        self,
        config_path: Path,
        key_dir: Path | None = None,
        state_dir: Path | None = None,
        stream: TextIO | None = None,
        verbose: bool = False,
    ) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self.config: AgentConfig = load_config(config_path)  # ConfigError: the caller's
        self.key_dir = key_dir
        self.state_dir = (state_dir or self.config.state_dir or default_state_dir()).absolute()
        self.stream = stream
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.queue = Debouncer(self.config.schedule.settle)
        self.observer: BaseObserver | None = None
        self.watch = "off"
        self._since = Coverage()  # scanned or reused since the last signed report
        self._since_start = time.time()
        self.sweep_now = False
        self._scan_jobs = 1
        self.paused: str | None = None  # why the governor holds the agent, while it does
        self.submission: str | None = None  # the submitter's last word, for status
        self._submit_stop = threading.Event()
        self._submitter: threading.Thread | None = None
        self.last_sweep: float | None = None
        self.last_heartbeat: float | None = None
        self.last_report: float | None = None
        self.started = time.time()
        self._status_written = ""

    # -- setup -----------------------------------------------------------------------

    def _log(self, message: str) -> None:
        log(message, self.stream)

    def _configure(self, config: AgentConfig) -> None:
        """Build what scanning needs from ``config`` (packs, keys, index, options)."""
        from ftiscan.agent import cli  # import here: cli imports this module's CLI

        packs: PackSet = load_packs(config.signatures)
        fleet = keys.fleet_key(self.key_dir)
        key = fleet if fleet is not None else keys.fingerprint_key(self.key_dir)
        index: EdmIndex | None = cli._load_edm(config.edm, fleet, self.key_dir)
        policy = config.policy
        own = str(self.state_dir)
        options = ScanOptions(
            roots=roots_of(config.roots),
            pack_sources=packs.sources,
            key=key,
            walk=WalkOptions(
                excludes=(*policy.excludes, own, own + os.sep + "*"),
                max_file_bytes=policy.limits.max_file_bytes,
            ),
            limits=policy.limits,
            jobs=1,  # batches: in-process; sweeps: `sweep_jobs`
            approved=policy.approved,
            edm=index,
            digests=True,
        )
        check = selftest.run(Context(options, packs))
        if not check.passed:
            raise DaemonError("self-test failed, not scanning: " + "; ".join(check.failures))
        self.config, self.packs, self.index, self.options = config, packs, index, options
        # A budget of more than one core lets sweeps use worker processes (the
        # governor counts their CPU time too); a batch of a few files stays in-process.
        self.sweep_jobs = max(1, min(default_jobs(), int(config.budget.cpu_percent // 100)))
        self.selftest = check.as_dict()
        self.context = cli.scan_context(options, packs.describe(), index)
        self.excludes = policy.excludes
        self.governor = Governor(config.budget, sleep=self.stop.wait)
        self.queue.settle = config.schedule.settle

    def _claim(self) -> None:
        """Take the pid file; refuse when another live daemon holds it."""
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        pid_file = self.state_dir / PID_FILE
        other = _pid_in(pid_file)
        if other is not None and other != os.getpid() and _alive(other):
            raise DaemonError(
                f"{pid_file}: an agent runs already on this state folder (pid {other})"
            )
        _write_json(
            self.state_dir / STATUS_FILE, {"pid": os.getpid(), "started": iso(self.started)}
        )
        tmp = pid_file.with_name(f".{PID_FILE}.{os.getpid()}.tmp")
        tmp.write_text(f"{os.getpid()}\n", encoding="ascii")
        os.replace(tmp, pid_file)

    def _release(self) -> None:
        pid_file = self.state_dir / PID_FILE
        if _pid_in(pid_file) == os.getpid():
            with contextlib.suppress(OSError):
                pid_file.unlink()

    def _start_watch(self) -> None:
        self._stop_watch()
        handler = Enqueue(self.queue, ignore=[self.state_dir])
        self.observer, why_not = start_observer(self.options.roots, handler)
        if self.observer is None:
            every = min(self.config.schedule.full_sweep, self.config.schedule.heartbeat)
            self.watch = f"off: {why_not}; periodic sweeps every {int(every)}s"
            self._log(f"cannot watch the roots ({why_not}): sweeping every {int(every)}s")
        else:
            self.watch = type(self.observer).__name__

    def _check_watch(self) -> None:
        """A watch thread that died (inotify out of watches for a new folder, a root
        removed) leaves changes unseen: fall back to periodic sweeps and say so."""
        observer = self.observer
        if observer is None:
            return
        if observer.is_alive() and all(e.is_alive() for e in observer.emitters):
            return
        self._stop_watch()
        every = min(self.config.schedule.full_sweep, self.config.schedule.heartbeat)
        self.watch = f"off: watch:lost (a watch thread ended); periodic sweeps every {int(every)}s"
        self._log(f"lost the watch on the roots: sweeping every {int(every)}s")

    def _check_watched(self, roots: Iterable[Path]) -> None:
        """Fall back to periodic sweeps when a folder under ``roots`` has no watch
        (watchdog gives up on one silently when the watches run out)."""
        observer = self.observer
        if observer is None:
            return
        missing = unwatched(observer, folders_under(roots))
        if not missing:
            return
        self._stop_watch()
        every = min(self.config.schedule.full_sweep, self.config.schedule.heartbeat)
        self.watch = (
            f"off: watch:exhausted ({len(missing)} folder(s) could not be watched); "
            f"periodic sweeps every {int(every)}s"
        )
        self._log(
            f"{len(missing)} folder(s) could not be watched (first: {missing[0]}): "
            f"sweeping every {int(every)}s"
        )

    def _stop_watch(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(4)
            self.observer = None

    # -- signals -----------------------------------------------------------------------

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop.set()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self.reload.set()

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        hup = getattr(signal, "SIGHUP", None)
        if hup is not None:
            signal.signal(hup, self._on_hup)

    def _reload(self) -> None:
        try:
            config = load_config(self.config_path)
            old_roots, old_context = self.options.roots, self.context
            self._configure(config)
        except FtiscanError as exc:  # ConfigError: file:line:column: reason
            self._log(f"config not reloaded, the running one stays: {exc}")
            return
        except OSError as exc:
            self._log(f"config not reloaded, the running one stays: {exc.filename}: {exc.strerror}")
            return
        self._log(f"config reloaded from {self.config_path}")
        if self.options.roots != old_roots or self.observer is None:
            self._start_watch()
        if self.context != old_context or self.options.roots != old_roots:
            # new packs, index, limits or roots: what was found may change; sweep now
            self._log("scan context changed: sweeping again")
            self.sweep_now = True

    # -- scanning ----------------------------------------------------------------------

    def _between(self, result: FileOutcome | Skipped | None, path: Path | None) -> None:
        """Called by the engine after each file: stop, budget, pause."""
        if self.stop.is_set():
            raise _Stopped
        self.governor.step()
        if self._scan_jobs > 1 and self.governor.paused() == MEMORY:
            raise _OverMemory
        self._wait_while_paused()
        if self.stop.is_set():
            raise _Stopped

    def _wait_while_paused(self) -> None:
        """Take no new work while the governor says so; heartbeats go on (saying why),
        and SIGHUP is obeyed (a new budget may lift the pause)."""
        reason = self.governor.paused()
        if reason is not None:
            self._log(f"paused: {reason}")
        while reason is not None and not self.stop.is_set():
            self.paused = reason
            self._write_status(paused=reason)
            self.stop.wait(1.0)
            if self.reload.is_set():
                self.reload.clear()
                self._reload()
            if self._heartbeat_due():
                self.heartbeat()
            reason = self.governor.paused()
        if self.paused is not None:
            self._log(f"resumed after pause: {self.paused}")
            self.paused = None

    def _excluded(self, path: Path) -> bool:
        text = str(path)
        if not self.excludes:
            return False
        candidates = [text, *(str(p) for p in path.parents)]
        return any(fnmatch.fnmatchcase(c, pat) for c in candidates for pat in self.excludes)

    def _read(self, path: Path) -> None:
        self._log(f"read {path}")

    def _scan(
        self, roots: tuple[Path, ...], gone_roots: tuple[Path, ...], jobs: int = 1
    ) -> ScanResult:
        """Scan ``roots`` through the state; files under ``gone_roots`` not found are
        gone (news in the state, for the next signed report)."""
        state = State.in_folder(self.state_dir)
        try:
            known = StateKnown(
                state,
                self.context,
                gone_roots,
                self.options.key,
                on_read=self._read if self.verbose else None,
            )
            self._scan_jobs = jobs
            try:
                if roots:
                    options = dataclasses.replace(self.options, roots=roots, jobs=jobs)
                    result = run_scan(
                        options, progress=self._between, packs=self.packs, known=known
                    )
                else:
                    now = time.time()
                    result = ScanResult([], Coverage(), now, now)
            except (_Stopped, _OverMemory):
                known.flush()  # keep what was read before the stop; no "gone" from a part
                raise
            known.finish()
            return result
        finally:
            state.close()

    def _untold(self) -> int:
        with State.in_folder(self.state_dir) as state:
            return state.untold()

    def _add_since(self, coverage: Coverage) -> None:
        since = self._since
        since.files_seen += coverage.files_seen
        since.files_scanned += coverage.files_scanned
        since.files_reused += coverage.files_reused
        since.bytes_seen += coverage.bytes_seen
        since.bytes_scanned += coverage.bytes_scanned
        since.skipped.update(coverage.skipped)

    def _sign(
        self,
        mode: str,
        roots: tuple[Path, ...],
        findings: list[dict[str, Any]],
        coverage: Coverage,
        started: float,
        ended: float,
    ) -> Signed:
        """Sign a report of ``mode`` in the agent's chain, with all untold news."""
        from ftiscan.agent import cli

        policy = self.config.policy

        def build(news: News, report_id: str) -> dict[str, Any]:
            return build_report(
                roots=roots,
                findings=findings,
                coverage=coverage.as_dict(),
                started=started,
                ended=ended,
                tool_version=cli.tool_version(),
                packs=self.packs.describe(),
                selftest=self.selftest,
                options={
                    "mode": mode,
                    "watch": self.watch,
                    "excludes": list(policy.excludes),
                    "max_file_size": policy.limits.max_file_bytes,
                    "approved": list(policy.approved),
                    "config_digest": self.config.digest,
                    "paused": self.paused,
                },
                policy_digest=policy.digest,
                edm_digest=None if self.index is None else self.index.digest,
                gone=news.gone,
                cleared=news.cleared,
                report_id=report_id,
            )

        with State.in_folder(self.state_dir) as state:
            signed, report = sign_with_news(state, self.journal, build)
        self._since, self._since_start = Coverage(), ended
        self.last_report = ended
        told = report["coverage"]
        self._log(
            f"report {signed.sequence} ({mode}): {len(findings)} finding(s), "
            f"{len(told['gone'])} gone, {len(told['cleared'])} cleared, "
            f"{coverage.files_scanned} file(s) scanned, {coverage.files_reused} reused"
        )
        return signed

    def _sign_result(self, mode: str, roots: tuple[Path, ...], result: ScanResult) -> Signed:
        return self._sign(
            mode, roots, result.findings, result.coverage, result.started, result.ended
        )

    def sweep(self) -> Signed:
        """Walk every root through the state; sign the result."""
        self.queue.clear()  # the sweep covers what was queued
        roots = self.options.roots
        self.sweep_now = False
        if self.sweep_jobs > 1:
            self._log(f"sweep with {self.sweep_jobs} worker processes")
        try:
            result = self._scan(roots, roots, self.sweep_jobs)
        except _OverMemory:
            # The workers hold memory that a pause cannot free: go on in-process
            # (what was read is in the state and is not read again).
            self._log(
                f"over budget.memory_mb with {self.sweep_jobs} worker processes: "
                "sweeping in-process from now on"
            )
            self.sweep_jobs = 1
            result = self._scan(roots, roots, 1)
        self._check_watched(roots)  # before signing: the report says how it watches
        self.last_sweep = result.ended
        return self._sign_result("sweep", roots, result)

    def batch(self, paths: list[Path]) -> Signed | None:
        """Scan changed ``paths``; sign a report when it found something or something went."""
        wanted = [p for p in paths if not self._excluded(p)]
        if not wanted:
            return None
        present = tuple(p for p in roots_of(wanted) if os.path.lexists(p))
        result = self._scan(present, roots_of(wanted))
        self._check_watched(p for p in present if p.is_dir())  # new folders: watched?
        self._add_since(result.coverage)
        untold = self._untold()
        self._log(
            f"batch: {len(wanted)} path(s), {result.coverage.files_scanned} scanned, "
            f"{result.coverage.files_reused} reused, {len(result.findings)} finding(s), "
            f"{untold} news"
        )
        if not result.findings and not untold:
            return None
        return self._sign_result("batch", roots_of(wanted), result)

    def heartbeat(self) -> Signed:
        """A report that says the agent is alive: coverage since the last signed report."""
        now = time.time()
        self.last_heartbeat = now
        self._heartbeat_at = time.monotonic()
        return self._sign("heartbeat", self.options.roots, [], self._since, self._since_start, now)

    def _heartbeat_due(self) -> bool:
        return time.monotonic() - self._heartbeat_at >= self.config.schedule.heartbeat

    # -- submission --------------------------------------------------------------------

    def _on_submit(self, event: Event) -> None:
        self.submission = event.message()
        if event.kind != "delivered" and event.kind != "duplicate":
            self._log(f"submit: {event.message()}")

    def _start_submitter(self) -> None:
        """Send the outbox to the intake the agent enrolled with, in a thread."""
        try:
            pinned = load_pinned(self.key_dir or default_key_dir())
        except SubmitError as exc:
            self._log(f"not submitting: {exc}")
            return
        if pinned is None:
            where = f" ({self.config.intake.url})" if self.config.intake else ""
            self._log(f"not enrolled with an intake{where}: reports stay in the outbox")
            return
        if self.config.intake is not None and self.config.intake.url != pinned.url:
            self._log(
                f"intake.url {self.config.intake.url} is not the enrolled {pinned.url}: "
                "submitting to the enrolled one"
            )
        try:
            ca = self.config.intake.ca if self.config.intake is not None else None
            submitter = Submitter(
                Outbox(self.state_dir, self.journal.key_id),
                pinned,
                client=pinned.client(ca),
                on_event=self._on_submit,
            )
        except (SubmitError, OSError) as exc:
            self._log(f"not submitting: {exc}")
            return
        self._log(f"submitting to {pinned.url}")
        self._submitter = threading.Thread(
            target=submitter.run,
            args=(self._submit_stop,),
            kwargs={"idle": SUBMIT_POLL},
            name="ftiscan-submit",
            daemon=True,  # a request in flight must not hold the stop; the outbox keeps it
        )
        self._submitter.start()

    def _stop_submitter(self) -> None:
        self._submit_stop.set()
        if self._submitter is not None:
            self._submitter.join(3.0)
            self._submitter = None

    # -- status ------------------------------------------------------------------------

    def _write_status(self, paused: str | None = None) -> None:
        sequence, _ = self.journal.head()
        data = {
            "pid": os.getpid(),
            "started": iso(self.started),
            "config": str(self.config_path),
            "last_sweep": None if self.last_sweep is None else iso(self.last_sweep),
            "last_heartbeat": None if self.last_heartbeat is None else iso(self.last_heartbeat),
            "last_report": None if self.last_report is None else iso(self.last_report),
            "queue": len(self.queue),
            "watch": self.watch,
            "paused": paused,
            "chain": {"key_id": self.journal.key_id, "sequence": sequence},
            "submission": self.submission,
        }
        text = json.dumps(data, sort_keys=True)
        if text != self._status_written:
            _write_json(self.state_dir / STATUS_FILE, data)
            self._status_written = text

    # -- main loop ---------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; return the exit code (0 on a clean stop)."""
        self._install_signals()
        self._claim()
        try:
            done = platform.lower_priority()
            self._log("priority: " + ", ".join(done))
            self.journal = Journal(self.state_dir, keys.agent_key(self.key_dir))
            with State.in_folder(self.state_dir) as state:
                settled = reconcile_news(state, self.journal)
            if settled:
                self._log(f"settled the news of {settled} report(s) a stopped agent was signing")
            self._configure(self.config)
            self._heartbeat_at = time.monotonic()
            self._start_watch()  # before the sweep: nothing written during it is missed
            self._start_submitter()
            with contextlib.suppress(_Stopped):  # a stop between two files
                self._loop()
            self._sign_stop()
        finally:
            self._stop_submitter()
            self._stop_watch()
            self._release()
            with contextlib.suppress(Exception):
                self._write_status()
        self._log("stopped")
        return 0

    def _sign_stop(self) -> None:
        """A last report on a clean stop: what was covered since the last one, and that
        the agent stopped on purpose (silence after it is not a dead agent)."""
        try:
            self._sign("stop", self.options.roots, [], self._since, self._since_start, time.time())
        except (FtiscanError, OSError) as exc:
            self._log(f"could not sign the stop report: {exc}")

    def _loop(self) -> None:
        schedule = self.config.schedule
        self._log(
            f"watching {len(self.options.roots)} root(s) ({self.watch}); "
            f"state {self.state_dir}, chain {self.journal.key_id[:16]}"
        )
        self.sweep()
        swept_at = time.monotonic()
        while not self.stop.is_set():
            if self.reload.is_set():
                self.reload.clear()
                self._reload()
                schedule = self.config.schedule
            self._check_watch()
            every = schedule.full_sweep
            if self.observer is None:
                every = min(every, schedule.heartbeat)
            if self.sweep_now or time.monotonic() - swept_at >= every:
                self._wait_while_paused()
                self.sweep()
                swept_at = time.monotonic()
            due = self.queue.due()
            while due and not self.stop.is_set():
                self._wait_while_paused()
                self.batch(due[:MAX_BATCH])
                due = due[MAX_BATCH:]
                self.governor.step()
            if self._heartbeat_due():
                self.heartbeat()
            self._write_status()
            self.stop.wait(max(0.05, min(schedule.settle / 3, 0.5)))
