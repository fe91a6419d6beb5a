"""The per-file deadline also stops a reader stuck inside one item."""

from __future__ import annotations

import dataclasses
import io
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from ftiscan.scanner import engine
from ftiscan.scanner.deadline import Expired, deadline
from ftiscan.scanner.engine import Context, scan_parts
from ftiscan.scanner.model import Limits, Location, Segment
from tests.synthetic.people import People, dashed

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX timers")


def _stuck(record: str, catch_all: bool) -> Any:
    """An extractor that yields one record, then never yields again (a reader lost in
    one huge item); ``catch_all``: it turns every ``Exception`` into "corrupt", as the
    readers wrapping libraries do."""

    def extract(fh: IO[bytes], where: Location, limits: Limits) -> tuple[str, Iterator[Segment]]:
        def items() -> Iterator[Segment]:
            yield Segment(record, where.at_line(1))
            try:
                time.sleep(60)
            except Exception as exc:  # pragma: no cover - must not catch Expired
                raise engine.ExtractError("corrupt", type(exc).__name__) from exc
            if catch_all:  # pragma: no cover - only reached without a deadline
                raise engine.ExtractError("corrupt", "late")

        return "text", items()

    return extract


@pytest.mark.parametrize("catch_all", [False, True])
def test_deadline_stops_a_reader_stuck_in_one_item(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, catch_all: bool
) -> None:
    """A reader that stalls inside an item ends at max_seconds as "limit:time" (never
    "corrupt", even where a reader catches every Exception), its findings kept."""
    taxpayer = People(seed=11).taxpayer(itin=False)
    record = f"SSN {dashed(taxpayer.ssn)} {taxpayer.full_name}, {taxpayer.full_address()}\n"
    monkeypatch.setattr(engine.extractors, "extract", _stuck(record, catch_all))
    quick = Context(dataclasses.replace(ctx.options, limits=Limits(max_seconds=1)), ctx.packs)
    began = time.monotonic()
    result = scan_parts(quick, io.BytesIO(b"x"), Path("/d/stuck.txt"))
    assert time.monotonic() - began < 30, "the stuck reader was not stopped"
    assert result.reason == "limit:time"
    assert [f["rule"] for f in result.findings] == ["fti.taxpayer-record"]
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0  # disarmed


def test_deadline_ends_with_its_block() -> None:
    """A block that ends in time is not interrupted later; a nested block keeps the
    outer deadline."""
    with deadline(0.2), deadline(100):
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.2
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    time.sleep(0.3)  # no Expired arrives


def test_deadline_leaves_a_foreign_sigalrm_alone() -> None:
    """Where SIGALRM belongs to someone else (a test guard, an embedding program), the
    deadline does nothing: their handler and timer stand."""
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        with deadline(0.05):
            assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
            time.sleep(0.1)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        time.sleep(0.2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == [signal.SIGALRM]
    with pytest.raises(Expired), deadline(0.05):
        time.sleep(1)
