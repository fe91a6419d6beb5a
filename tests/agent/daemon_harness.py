"""The real `ftiscan agent run` on a temp tree, as the daemon tests drive it."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic.home import taxpayer_csv
from tests.synthetic.people import People
from tests.synthetic.report import load_report

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
        self.prefix: list[str] = []  # a command the agent runs under (unshare ...)

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

    def start(self, *extra: str) -> None:
        with self.stderr.open("ab") as err:
            self.proc = subprocess.Popen(
                [*self.prefix, str(FTISCAN), "agent", "run", "--config", str(self.config), *extra],
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

    def kill(self) -> None:
        """End the agent if it still runs (a test's clean-up)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@contextlib.contextmanager
def quick_agent(base: Path, *lines: str) -> Iterator[Agent]:
    """An agent on ``base`` with a quick schedule (heartbeat 1 s, settle 200 ms), no
    battery pause, and the config ``lines`` added; killed afterwards if still running."""
    agent = Agent(base)
    agent.write_config(
        f"roots: [{agent.tree}]\n"
        + "".join(f"{line}\n" for line in lines)
        + "schedule: {full_sweep: 1h, heartbeat: 1s, settle: 200ms}\n"
        "budget: {cpu_percent: 100, pause_on_battery: false}\n"
        f"state_dir: {agent.state}\n"
    )
    try:
        yield agent
    finally:
        agent.kill()
