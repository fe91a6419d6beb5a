"""One byte budget per scanned file, shared by every container nested in it.

Each container checks its own limits (``limits.max_decompressed_bytes`` out of one
archive or stream), but a 42.zip-style file nests archives so that every level stays
within its own limit while the whole expands without end. The engine opens a budget
per file (`per_file`); compressed streams and archive members `charge` the bytes they
decompress, and once the whole file has produced more than the budget the innermost
reader raises `LimitExceeded` ("bytes") and the file is reported read in part. Without
an open budget (a reader used on its own) `charge` does nothing.

The budget lives in a context variable: generators run in the context of whoever
advances them, which is the engine's loop for every nested reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ftiscan.scanner.errors import LimitExceeded

__all__ = ["charge", "per_file"]


@dataclass
class _Budget:
    limit: int
    out: int = 0


_CURRENT: ContextVar[_Budget | None] = ContextVar("ftiscan_file_budget", default=None)


@contextmanager
def per_file(limit: int) -> Iterator[None]:
    """Open the budget of one file: at most ``limit`` bytes out of all its containers."""
    token = _CURRENT.set(_Budget(limit))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def charge(size: int) -> None:
    """Count ``size`` decompressed bytes against the open budget, if any.

    >>> with per_file(10):
    ...     charge(6)
    ...     charge(6)
    Traceback (most recent call last):
    ftiscan.scanner.errors.LimitExceeded: limit:bytes: more than 10 bytes out of nested containers
    """
    budget = _CURRENT.get()
    if budget is None:
        return
    budget.out += size
    if budget.out > budget.limit:
        raise LimitExceeded("bytes", f"more than {budget.limit} bytes out of nested containers")
