"""The daemon delivers its reports to counsel's intake by itself, through an outage.

Real parts on loopback: `ftiscan intake serve` over TLS with a test CA, `ftiscan
enroll`, `ftiscan agent run`. What fleet IT and counsel rely on: every signed report
reaches the intake exactly once with a verified receipt, reports made while the intake
is down wait in the outbox (status says how many) and go once it is back.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.conftest import FTISCAN
from tests.agent.daemon_harness import WAIT, Agent
from tests.agent.submit_harness import Intake, make_tls

pytestmark = pytest.mark.slow


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Agent, Intake]]:
    (tmp_path / "agent").mkdir()
    agent = Agent(tmp_path / "agent")
    intake = Intake(tmp_path / "intake", make_tls(tmp_path / "tls")).start()
    yield agent, intake
    if agent.proc is not None and agent.proc.poll() is None:
        agent.proc.kill()
        agent.proc.wait(timeout=30)
    intake.stop()


def _until(check: object, what: str, agent: Agent) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT}s: {what}: {agent.log()}")


def test_daemon_submits_every_report_once_through_an_outage(
    setup: tuple[Agent, Intake], tmp_path: Path
) -> None:
    agent, intake = setup
    enrolled = subprocess.run(
        [str(FTISCAN), "enroll", intake.url, "--token", intake.token(), "--ca", str(intake.tls.ca)],
        env=agent.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert enrolled.returncode == 0, enrolled.stderr
    agent.write_records("first.csv", 2)
    agent.start()

    def outbox() -> int:
        return int(agent.status()["outbox"])

    _until(lambda: agent.head() >= 1 and outbox() == 0, "initial sweep delivered", agent)
    assert "submitting to " + intake.url in agent.log()

    intake.stop()
    head = agent.head()
    agent.write_records("while-down.csv", 3)
    _until(lambda: agent.head() > head and outbox() >= 1, "report waits in the outbox", agent)
    waiting = agent.status()
    assert waiting["outbox"] >= 1
    assert "next try in" in (waiting["submission"] or "")

    intake.start()
    _until(lambda: outbox() == 0, "outbox emptied after the outage", agent)
    assert agent.stop()[0] == 0  # the stop report is signed and waits for the next run

    stored = intake.export(tmp_path / "export")
    chain = {int(p.name[:12]): p.read_bytes() for p in agent.chain()}
    receipts = sorted((agent.state / "receipts").glob("*/*.receipt.dsse.json"))
    delivered = [int(p.name[:12]) for p in receipts]
    assert delivered == list(range(1, len(delivered) + 1))  # in order, none twice
    assert sorted(stored["reports"]) == delivered  # the intake holds each once, byte for byte
    assert all(stored["reports"][n] == chain[n] for n in delivered)
    waiting_now = sorted(set(chain) - set(delivered))  # the stop report at least
    assert waiting_now
    assert waiting_now[0] == len(delivered) + 1
    assert agent.status()["outbox"] == len(waiting_now)
