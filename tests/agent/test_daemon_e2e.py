"""End to end: the real `ftiscan agent run` on a temp tree of synthetic taxpayer data.

The daemon is spawned as a user's service manager would start it; the tests read only
what counsel and fleet IT get: the signed reports in the state folder's chain, `agent
status`, the exit code and standard error. Timings are polled with generous limits;
the latencies seen are printed (seconds only, never a value from the data).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ftiscan.reports.dsse import digest
from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic.home import taxpayer_csv
from tests.synthetic.people import People, dashed
from tests.synthetic.report import load_report

pytestmark = pytest.mark.slow

WAIT = 20.0  # seconds: a generous limit, not a target


class Agent:
    """A tree, a config, and the daemon process on them."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.tree = base / "tree"
        self.tree.mkdir()
        self.state = base / "state"
        self.env = private_env(base)
        self.config = base / "agent.yaml"
        self.write_config()
        self.people = People(41)
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr = base / "stderr.log"
        self.secrets: set[str] = set()  # the TINs written, to check none is logged

    def write_config(self, text: str | None = None) -> None:
        self.config.write_text(
            text
            or (
                f"roots: [{self.tree}]\n"
                "schedule: {full_sweep: 1h, heartbeat: 2s, settle: 300ms}\n"
                "budget: {cpu_percent: 100, pause_on_battery: false}\n"
                f"state_dir: {self.state}\n"
            ),
            encoding="utf-8",
        )

    def start(self) -> None:
        with self.stderr.open("ab") as err:
            self.proc = subprocess.Popen(
                [str(FTISCAN), "agent", "run", "--config", str(self.config)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, float]:
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        return code, time.monotonic() - began

    def chain(self) -> list[Path]:
        return sorted(self.state.glob("chain/*/*.dsse.json"))

    def reports(self) -> list[dict[str, Any]]:
        return [load_report(path) for path in self.chain()]

    def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], after: int, what: str
    ) -> dict[str, Any]:
        """The first report past sequence ``after`` for which ``wanted`` holds."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            assert self.proc is not None
            assert self.proc.poll() is None, f"the agent exited: {self.log()}"
            for report in self.reports():
                if report["chain"]["sequence"] > after and wanted(report):
                    return report
            time.sleep(0.05)
        raise AssertionError(f"no {what} report within {WAIT}s: {self.log()}")

    def head(self) -> int:
        return max((r["chain"]["sequence"] for r in self.reports()), default=0)

    def write_records(self, name: str, count: int) -> Path:
        path = self.tree / name
        rows = self.people.taxpayers(count)
        self.secrets.update(t.ssn for t in rows)
        path.write_text(taxpayer_csv(rows), encoding="utf-8")
        return path

    def status(self) -> dict[str, Any]:
        done = subprocess.run(
            [str(FTISCAN), "agent", "status", "--state-dir", str(self.state), "--format", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode in (0, 1), done.stderr
        found: dict[str, Any] = json.loads(done.stdout)
        assert found["running"] is (done.returncode == 0)
        return found

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")[-2000:]

    def verify(self) -> None:
        done = subprocess.run(
            [str(FTISCAN), "verify", str(self.state / "chain")],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "intact" in done.stdout


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
