"""The submitter as the daemon drives it: `Submitter.step` and `Submitter.run` in
process, against the spawned intake over TLS."""

from __future__ import annotations

import math
import random
import threading
from pathlib import Path

import pytest

from ftiscan.reports.outbox import Outbox
from ftiscan.reports.submit import Backoff, Event, Submitter, load_pinned
from tests.agent.submit_harness import Agent, Intake, make_tls

pytestmark = pytest.mark.slow


def test_step_and_run_empty_the_outbox_and_say_when_to_come_back(tmp_path: Path) -> None:
    """Down: step sends nothing and asks to come back within the backoff; up: step
    delivers in order and returns inf; run() delivers what is new and stops on the event."""
    served = Intake(tmp_path / "intake", make_tls(tmp_path / "tls")).start()
    try:
        agent = Agent(tmp_path / "agent")
        assert agent.enroll(served).returncode == 0
        agent.scan()
        agent.copies(2)
        pinned = load_pinned(agent.keys)
        assert pinned is not None
        outbox = Outbox(agent.state, pinned.agent)
        events: list[Event] = []
        submitter = Submitter(
            outbox, pinned, backoff=Backoff(base=1.0, cap=8.0), on_event=events.append,
            rng=random.Random(7),
        )  # fmt: skip
        served.stop()
        wait = submitter.step(now=1000.0)
        assert 0.0 <= wait <= 1.0
        assert [(e.sequence, e.kind, e.code) for e in events] == [(1, "retry", "unreachable")]
        assert submitter.step(now=1000.0) == pytest.approx(wait)  # not due: nothing sent
        assert len(events) == 1
        assert outbox.delivery(1).attempts == 1
        assert outbox.depth() == 3
        served.start()
        assert submitter.step(now=1000.0 + wait) == math.inf
        assert [(e.sequence, e.kind) for e in events[1:]] == [
            (1, "delivered"),
            (2, "delivered"),
            (3, "delivered"),
        ]
        assert outbox.depth() == 0
        assert outbox.deliveries() == {}
        agent.copies(1)
        stop = threading.Event()
        thread = threading.Thread(target=submitter.run, args=(stop,), kwargs={"idle": 0.05})
        thread.start()
        try:
            for _ in range(600):
                if outbox.depth() == 0:
                    break
                stop.wait(0.05)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not thread.is_alive()
        assert outbox.depth() == 0
        assert events[-1].sequence == 4
    finally:
        served.stop()
