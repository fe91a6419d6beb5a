"""The intake's limits: token buckets per key and the streamed body limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports.intake.limits import (
    BodyTooLarge,
    Rate,
    Rates,
    parse_rate,
    read_limited,
    retry_after,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rates_allow_the_burst_then_say_how_long_to_wait() -> None:
    """A bucket gives ``burst`` at once, then one token per 1/rate seconds."""
    clock = Clock()
    rates = Rates(Rate(2.0, 3.0), clock=clock)
    assert [rates.take("a") for _ in range(3)] == [None, None, None]
    assert rates.take("a") == pytest.approx(0.5)
    assert rates.take("b") is None  # another key has its own bucket
    clock.now += 0.5
    assert rates.take("a") is None
    assert rates.take("a") == pytest.approx(0.5)
    clock.now += 100
    assert [rates.take("a") for _ in range(4)][:3] == [None, None, None]


def test_rates_forget_full_buckets_past_max_keys() -> None:
    """The table of buckets stays bounded: idle (full again) buckets are dropped."""
    clock = Clock()
    rates = Rates(Rate(1.0, 2.0), max_keys=10, clock=clock)
    for n in range(9):
        rates.take(f"k{n}")
    assert len(rates._buckets) == 9
    clock.now += 10  # every bucket is full again
    rates.take("new")
    assert len(rates._buckets) == 1
    for n in range(50):  # none is full: the fullest are dropped past max_keys
        rates.take(f"busy{n}")
    assert len(rates._buckets) <= 10


@pytest.mark.parametrize(
    ("text", "per_second", "burst"),
    [("10/s", 10.0, 10.0), ("600/min", 10.0, 10.0), ("36/h", 0.01, 10.0), ("50/s", 50.0, 50.0)],
)
def test_parse_rate_reads_units(text: str, per_second: float, burst: float) -> None:
    """Rates come as N/s, N/min or N/h; the burst is at least 10 and one second's worth."""
    rate = parse_rate(text)
    assert rate.per_second == pytest.approx(per_second)
    assert rate.burst == pytest.approx(burst)


@pytest.mark.parametrize("text", ["", "10", "ten/s", "10/fortnight", "0/s", "-1/s", "/s"])
def test_parse_rate_refuses_what_is_not_a_rate(text: str) -> None:
    """Anything but a positive N/unit is refused, naming the value."""
    with pytest.raises(ValueError, match="is not a rate like 10/s"):
        parse_rate(text)


@given(st.floats(min_value=1e-6, max_value=1e6))
def test_retry_after_is_whole_seconds_rounded_up(seconds: float) -> None:
    """Retry-After is a positive integer of at least the time to wait."""
    value = int(retry_after(seconds))
    assert value >= 1
    assert value >= seconds
    assert value - seconds < 1 or value == 1


async def _chunks(parts: list[bytes], seen: list[int]) -> AsyncIterator[bytes]:
    for part in parts:
        seen.append(len(part))
        yield part


@given(st.lists(st.binary(max_size=64), max_size=20), st.integers(0, 600))
def test_read_limited_reads_all_or_stops_at_the_first_chunk_past_the_limit(
    parts: list[bytes], limit: int
) -> None:
    """The body comes back whole when it fits; else reading stops at once."""
    seen: list[int] = []
    total = sum(map(len, parts))
    if total <= limit:
        assert asyncio.run(read_limited(_chunks(parts, seen), limit, None)) == b"".join(parts)
        return
    with pytest.raises(BodyTooLarge) as caught:
        asyncio.run(read_limited(_chunks(parts, seen), limit, None))
    assert sum(seen) == caught.value.seen
    assert caught.value.seen > limit
    assert caught.value.seen - seen[-1] <= limit  # nothing read after the limit was passed


def test_read_limited_refuses_a_declared_length_before_reading() -> None:
    """A Content-Length above the limit is refused without reading a byte."""
    seen: list[int] = []
    with pytest.raises(BodyTooLarge, match="larger than 10 bytes"):
        asyncio.run(read_limited(_chunks([b"x"], seen), 10, 11))
    assert seen == []


def test_rates_refund_gives_a_token_back_up_to_the_burst() -> None:
    """A refunded token can be taken again; refunds never raise a bucket past its burst."""
    clock = Clock()
    rates = Rates(Rate(1.0, 2.0), clock=clock)
    assert [rates.take("a"), rates.take("a")] == [None, None]
    assert rates.take("a") is not None
    rates.refund("a")
    assert rates.take("a") is None
    for _ in range(5):
        rates.refund("a")
    assert [rates.take("a") is None for _ in range(3)] == [True, True, False]
    rates.refund("unknown")  # a key never seen has a full bucket already
    assert "unknown" not in rates._buckets
