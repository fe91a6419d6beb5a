"""End to end: the real `ftiscan agent run` on a temp tree of synthetic taxpayer data.

The daemon is spawned as a user's service manager would start it; the tests read only
what counsel and fleet IT get: the signed reports in the state folder's chain, `agent
status`, the exit code and standard error. Timings are polled with generous limits;
the latencies seen are printed (seconds only, never a value from the data).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from watchdog.events import FileDeletedEvent, FileModifiedEvent, FileMovedEvent

from ftiscan.agent.watch import Debouncer, Enqueue
from ftiscan.reports.dsse import digest
from tests.agent.conftest import FTISCAN
from tests.agent.daemon_harness import WAIT, Agent
from tests.synthetic.home import taxpayer_csv
from tests.synthetic.people import dashed

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every thread a test started (observer, emitters, timers) has ended after it."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            return
        time.sleep(0.05)
    raise AssertionError(f"leaked threads: {[t.name for t in left]}")


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    running = Agent(tmp_path)
    yield running
    if running.proc is not None and running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait(timeout=30)


def _mode(mode: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: bool(r["scan"]["options"]["mode"] == mode)


def _paths(report: dict[str, Any]) -> set[str]:
    return {str(f["path"]) for f in report["findings"]}


def _gone(report: dict[str, Any]) -> set[str]:
    return {str(g["path"]) for g in report["coverage"].get("gone", [])}


def test_daemon_watches_signs_and_survives(agent: Agent) -> None:
    """Create, modify, rename and delete each give the signed report they should; idle
    gives heartbeats; SIGHUP with a broken config keeps the agent; SIGTERM stops it."""
    agent.write_records("old.csv", 3)
    agent.start()
    first = agent.wait_for(_mode("sweep"), 0, "initial sweep")
    assert first["chain"]["sequence"] == 1
    assert first["chain"]["previous"] is None
    assert _paths(first) == {str(agent.tree / "old.csv")}
    status = agent.status()
    assert status["running"]
    assert status["last_sweep"]
    assert status["files"]["tracked"] == 1
    assert len(status["chain"]) == 1
    assert 1 <= status["chain"][0]["sequence"] <= agent.head()  # a heartbeat may follow
    assert status["queue"] == 0

    latencies = []
    head = agent.head()
    closed = time.monotonic()
    new = agent.write_records("new.csv", 4)
    found = agent.wait_for(lambda r: str(new) in _paths(r), head, "created-file")
    latencies.append(time.monotonic() - closed)
    assert found["scan"]["options"]["mode"] == "batch"
    assert {f["severity"] for f in found["findings"]} <= {"high", "critical"}

    head = agent.head()
    closed = time.monotonic()
    more = agent.people.taxpayers(2)
    agent.secrets.update(t.ssn for t in more)
    with new.open("a", encoding="utf-8", newline="") as fh:  # more records appended
        fh.write(taxpayer_csv(more).split("\r\n", 1)[1])
    changed = agent.wait_for(lambda r: str(new) in _paths(r), head, "modified-file")
    latencies.append(time.monotonic() - closed)
    assert changed["coverage"]["files_scanned"] == 1
    assert changed["coverage"]["files_reused"] == 0
    records = sum(f["records"] for f in changed["findings"] if f["path"] == str(new))
    assert records >= sum(f["records"] for f in found["findings"] if f["path"] == str(new))

    head = agent.head()
    moved = agent.tree / "moved.csv"
    new.rename(moved)
    renamed = agent.wait_for(lambda r: str(moved) in _paths(r), head, "renamed-file")
    assert renamed["coverage"]["files_reused"] == 1  # not read again
    assert str(new) in _gone(renamed)

    head = agent.head()
    cleaned = agent.tree / "old.csv"
    held = len([f for f in first["findings"] if f["path"] == str(cleaned)])
    cleaned.write_text("name,city\nAcme Supply LLC,Reno\n", encoding="utf-8")  # edited clean
    cleared = agent.wait_for(
        lambda r: any(c["path"] == str(cleaned) for c in r["coverage"].get("cleared", [])),
        head,
        "edited-clean",
    )
    assert cleared["coverage"]["cleared"] == [{"path": str(cleaned), "findings": held}]
    assert not cleared["findings"]

    head = agent.head()
    moved.unlink()
    deleted = agent.wait_for(lambda r: str(moved) in _gone(r), head, "deleted-file")
    assert not deleted["findings"]

    head = agent.head()
    beat = agent.wait_for(_mode("heartbeat"), head, "heartbeat")
    assert beat["findings"] == []
    assert beat["scan"]["options"]["watch"] == "InotifyObserver"

    good = agent.config.read_text(encoding="utf-8")
    agent.write_config("roots: [\n")
    assert agent.proc is not None
    agent.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + WAIT
    while "config not reloaded" not in agent.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"{agent.config}:2:" in agent.log()
    agent.write_config(good)
    head = agent.head()
    agent.wait_for(_mode("heartbeat"), head, "heartbeat after SIGHUP")  # still alive

    code, seconds = agent.stop()
    assert code == 0
    assert seconds < 5
    assert not agent.status()["running"]
    agent.verify()
    print(f"close-to-signed-finding seconds: {', '.join(f'{s:.2f}' for s in latencies)}")
    print(f"SIGTERM to exit seconds: {seconds:.2f}")
    logged = agent.stderr.read_text(encoding="utf-8", errors="replace")
    assert not [t for t in agent.secrets if t in logged or dashed(t) in logged]


def test_daemon_kill9_restart_continues_chain_and_reads_nothing_again(agent: Agent) -> None:
    """After kill -9 a restarted agent continues the chain and reuses every file."""
    for n in range(3):
        agent.write_records(f"people-{n}.csv", 2)
    (agent.tree / "notes.txt").write_text("nothing to see\n", encoding="utf-8")
    agent.start()
    agent.wait_for(_mode("sweep"), 0, "initial sweep")
    late = agent.write_records("late.csv", 2)
    agent.wait_for(lambda r: str(late) in _paths(r), 0, "created-file")
    code, _ = agent.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL
    before = agent.reports()[-1]
    tracked = agent.status()["files"]["tracked"]
    assert tracked == 5

    agent.start()
    sweep = agent.wait_for(_mode("sweep"), before["chain"]["sequence"], "restart sweep")
    assert sweep["chain"]["sequence"] == before["chain"]["sequence"] + 1
    before_path = agent.chain()[before["chain"]["sequence"] - 1]
    assert sweep["chain"]["previous"] == digest(before_path.read_bytes())
    assert sweep["coverage"]["files_reused"] == tracked
    assert sweep["coverage"]["files_scanned"] == tracked
    assert agent.status()["running"]
    code, _ = agent.stop()
    assert code == 0
    agent.verify()
    assert not os.path.exists(agent.state / "agent.pid")


def test_debouncer_gives_a_path_once_no_event_came_for_settle_seconds() -> None:
    """A path written again and again is due once, ``settle`` after its last event."""
    now = [100.0]
    queue = Debouncer(0.5, clock=lambda: now[0])
    queue.add(Path("/r/a.csv"))
    now[0] += 0.25
    queue.add(Path("/r/a.csv"))
    now[0] += 0.25
    assert queue.due() == []
    assert len(queue) == 1
    now[0] += 0.25
    assert queue.due() == [Path("/r/a.csv")]
    assert queue.due() == []
    assert len(queue) == 0


def test_enqueue_puts_both_ends_of_a_move_and_ignores_the_state_folder() -> None:
    """Synthetic events: a move enqueues old and new path; the agent's own folder is ignored."""
    now = [0.0]
    queue = Debouncer(0.0, clock=lambda: now[0])
    handler = Enqueue(queue, ignore=[Path("/r/state")])
    handler.dispatch(FileMovedEvent("/r/a.csv", "/r/b.csv"))
    handler.dispatch(FileModifiedEvent("/r/state/state.sqlite3"))
    handler.dispatch(FileDeletedEvent("/r/c.csv"))
    assert queue.due() == [Path("/r/a.csv"), Path("/r/b.csv"), Path("/r/c.csv")]


def test_agent_run_refuses_a_malformed_config_with_file_and_line(tmp_path: Path) -> None:
    """A broken agent.yaml: exit 2, file and line on standard error, nothing signed."""
    agent = Agent(tmp_path)
    agent.write_config("roots: [\n")
    done = subprocess.run(
        [str(FTISCAN), "agent", "run", "--config", str(agent.config)],
        env=agent.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{agent.config}:2:" in done.stderr
    assert not agent.chain()


def test_daemon_over_its_memory_cap_pauses_heartbeats_and_resumes_on_sighup(
    agent: Agent,
) -> None:
    """A memory cap below what the agent needs holds it after the file it is on: it
    reads no more, heartbeats say why, status says paused; SIGHUP with a higher cap
    lets it finish the sweep with every file."""
    paths = {str(agent.write_records(f"people-{n}.csv", 2)) for n in range(3)}
    capped = (
        f"roots: [{agent.tree}]\n"
        "schedule: {full_sweep: 1h, heartbeat: 1s, settle: 300ms}\n"
        "budget: {cpu_percent: 100, pause_on_battery: false, memory_mb: MB}\n"
        f"state_dir: {agent.state}\n"
    )
    agent.write_config(capped.replace("MB", "1"))
    agent.start()
    beat = agent.wait_for(_mode("heartbeat"), 0, "heartbeat while paused")
    assert beat["scan"]["options"]["paused"] == "memory"
    assert beat["coverage"]["files_scanned"] == 0  # the paused sweep is not yet reported
    assert agent.status()["paused"] == "memory"
    assert not [r for r in agent.reports() if r["scan"]["options"]["mode"] == "sweep"]

    agent.write_config(capped.replace("MB", "1000"))
    assert agent.proc is not None
    agent.proc.send_signal(signal.SIGHUP)
    sweep = agent.wait_for(_mode("sweep"), 0, "sweep after the cap was lifted")
    assert _paths(sweep) == paths
    assert sweep["coverage"]["files_scanned"] == 3
    assert "resumed after pause: memory" in agent.log()
    assert agent.status()["paused"] is None
    assert agent.stop()[0] == 0
    agent.verify()


def test_daemon_with_a_budget_of_two_cores_sweeps_with_workers(agent: Agent) -> None:
    """``cpu_percent: 200`` on a machine with two cores: the sweep runs in two worker
    processes and finds exactly what the in-process sweep finds."""
    paths = {str(agent.write_records(f"people-{n}.csv", 2)) for n in range(4)}
    agent.write_config(
        f"roots: [{agent.tree}]\n"
        "schedule: {full_sweep: 1h, heartbeat: 1h, settle: 300ms}\n"
        "budget: {cpu_percent: 200, memory_mb: 1000, pause_on_battery: false}\n"
        f"state_dir: {agent.state}\n"
    )
    agent.start()
    sweep = agent.wait_for(_mode("sweep"), 0, "sweep")
    assert _paths(sweep) == paths
    assert sweep["coverage"]["files_scanned"] == 4
    assert agent.stop()[0] == 0
    expected = min(2, len(os.sched_getaffinity(0)))
    assert ("sweep with 2 worker processes" in agent.log()) is (expected == 2)
