"""A per-file wall-clock deadline that also stops a read stuck inside one item.

The engine checks ``limits.max_seconds`` between the items an extractor yields; a
reader that spends minutes inside one item (a pathological page, a huge XML part, a
table whose one row never ends) would not see it. `deadline` arms a one-shot SIGALRM
timer whose handler raises `Expired` in whatever runs then: Python code stops at once,
C code when it returns to the interpreter. `Expired` is a `BaseException`, like
`KeyboardInterrupt`, so that no reader's ``except Exception`` (which turns a library's
error into ``corrupt``) mistakes it for damage: the engine alone catches it, and the file
is "read in part" with reason ``limit:time``.

POSIX and the main thread only (where the CLI and the scan workers run); elsewhere
(Windows, a thread of the daemon) and under a timer the caller armed, it does nothing
and the checks between items remain.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Expired", "deadline"]


class Expired(BaseException):  # named for what happened, like TimeoutError
    """The deadline passed while a file was being read."""


_armed = False  # whether `_expire` raises (a deadline block is running)


def _expire(signum: int, frame: FrameType | None) -> None:
    global _armed
    if _armed:  # a signal already on its way when the block ended is dropped
        _armed = False
        raise Expired


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise `Expired` in the code running ``seconds`` from now, unless the block ended.

    The handler is installed once per process (where SIGALRM has none of its own) and
    stays; each block costs two ``setitimer`` calls (tests/scanner/test_deadline.py)."""
    global _armed
    setitimer = getattr(signal, "setitimer", None)
    if (
        setitimer is None
        or seconds <= 0
        or _armed  # a block inside a block: the outer deadline stands
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    handler = signal.getsignal(signal.SIGALRM)
    if handler is not _expire:
        if handler not in (signal.SIG_DFL, None) or signal.getitimer(signal.ITIMER_REAL)[0]:
            yield  # SIGALRM is someone else's (a test's guard, an embedding program)
            return
        signal.signal(signal.SIGALRM, _expire)
    _armed = True
    setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _armed = False
        setitimer(signal.ITIMER_REAL, 0)
