"""The intake's limits: request body size and token-bucket rates.

Both protect the intake from one client using it up (a huge body, a flood of
requests), never from a crafted report: what a report says is checked by `Intake`.

* `read_limited` reads an ASGI request body chunk by chunk and stops as soon as it
  passes the limit, so a client cannot make the intake hold more than ``limit`` bytes
  (a declared ``Content-Length`` above the limit is refused before anything is read).
* `Rates` is one token bucket per key (an agent key id, a client address): ``rate``
  tokens a second, at most ``burst`` saved up. A refusal says how many seconds until
  the next token (``Retry-After``). Buckets that are full again are forgotten, so the
  memory held is bounded by the keys active in the last ``burst / rate`` seconds (and
  by ``max_keys``, past which the fullest bucket is dropped).

Rates are per intake process: behind a load balancer with N processes an agent may
send up to N times the rate (still bounded).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

__all__ = ["BodyTooLarge", "Rate", "Rates", "parse_rate", "read_limited", "retry_after"]

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*$")


class BodyTooLarge(Exception):
    """The request body passed the limit (``seen`` bytes read when it stopped)."""

    def __init__(self, limit: int, seen: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit, self.seen = limit, seen


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_second`` requests a second, at most ``burst`` at once."""

    per_second: float
    burst: float

    def __str__(self) -> str:
        return f"{self.per_second:g}/s (burst {self.burst:g})"


def parse_rate(text: str, burst: float | None = None) -> Rate:
    """A rate like ``10/s``, ``600/min`` or ``100/h``; burst defaults to one
    second's worth and at least 10 requests (an agent catching up after an outage
    sends its backlog one report after the other).

    >>> parse_rate("10/s")
    Rate(per_second=10.0, burst=10.0)
    >>> parse_rate("120/min")
    Rate(per_second=2.0, burst=10.0)
    >>> parse_rate("fast")
    Traceback (most recent call last):
    ValueError: 'fast' is not a rate like 10/s, 600/min or 100/h
    """
    match = _RATE.match(text.lower())
    if not match or match.group(2) not in _UNITS or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a rate like 10/s, 600/min or 100/h")
    per_second = float(match.group(1)) / _UNITS[match.group(2)]
    return Rate(per_second, burst if burst is not None else max(10.0, per_second))


class Rates:
    """One token bucket per key; thread-safe (the app checks from the event loop,
    tests and the bench from threads)."""

    def __init__(
        self,
        rate: Rate,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float | None:
        """Take one token for ``key``: None when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.rate.burst, now))
            tokens = min(self.rate.burst, tokens + (now - at) * self.rate.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._forget(now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate.per_second

    def refund(self, key: str) -> None:
        """Give back the token `take` took for ``key`` (the request turned out not to
        be that key's: its signature did not verify)."""
        with self._lock:
            if key in self._buckets:
                tokens, at = self._buckets[key]
                self._buckets[key] = (min(self.rate.burst, tokens + 1.0), at)

    def _forget(self, now: float) -> None:
        """Drop full buckets (they say nothing a new one would not) once the table
        is large; past ``max_keys`` drop the fullest ones."""
        if len(self._buckets) < self.max_keys:
            return
        full = [
            key
            for key, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * self.rate.per_second >= self.rate.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            ranked = sorted(self._buckets, key=lambda k: self._buckets[k][0], reverse=True)
            for key in ranked[: len(self._buckets) - self.max_keys // 2]:
                del self._buckets[key]


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` header value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))


async def read_limited(chunks: AsyncIterator[bytes], limit: int, declared: int | None) -> bytes:
    """The whole body from ``chunks``, or `BodyTooLarge` as soon as it passes ``limit``
    (or at once when the declared ``Content-Length`` does)."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit, 0)
    parts: list[bytes] = []
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge(limit, seen)
        parts.append(chunk)
    return b"".join(parts)
