"""A hang guard for fuzz examples: an example that runs too long fails as `Hang`.

This is no speed assertion: the bound (`HANG_SECONDS`) is far above what any example
takes on a loaded machine, and only turns an endless loop in a parser into a failure
that Hypothesis can shrink and report instead of a test run that never ends.
`Hang` derives from BaseException, so the engine's ``except Exception`` does not
swallow it. POSIX only (SIGALRM); elsewhere the guard does nothing.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["HANG_SECONDS", "Hang", "no_hang"]

HANG_SECONDS = 60.0


class Hang(BaseException):
    """An example ran longer than `HANG_SECONDS`."""


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Hang(f"example still running after {HANG_SECONDS:.0f} s")


@contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise `Hang` in the body once it has run ``seconds`` (main thread, POSIX)."""
    if not hasattr(signal, "setitimer"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
