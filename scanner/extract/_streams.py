"""Bounded reads of a member or file into memory, for readers that need random access.

ZIP, 7z, OLE2, PDF and SQLite readers need to seek; a decompressed stream or an
archive member cannot. `random_access` hands back the stream itself when it can seek
from its start, else its bytes in memory, never more than the limit.
"""

from __future__ import annotations

import io
from typing import IO

from ftiscan.scanner.errors import LimitExceeded

__all__ = ["random_access", "read_bounded"]

_CHUNK = 1024 * 1024


def read_bounded(fh: IO[bytes], limit: int) -> bytes:
    """All of ``fh``, or `LimitExceeded` ("bytes") when it holds more than ``limit`` bytes.

    >>> read_bounded(io.BytesIO(b"abc"), 3)
    b'abc'
    """
    parts: list[bytes] = []
    size = 0
    read = getattr(fh, "read1", fh.read)
    while True:
        data = read(min(_CHUNK, limit + 1 - size))
        if not data:
            return b"".join(parts)
        parts.append(data)
        size += len(data)
        if size > limit:
            raise LimitExceeded("bytes", f"larger than {limit} bytes")


def random_access(fh: IO[bytes], limit: int) -> IO[bytes]:
    """``fh`` if it can seek and stands at its start, else its bytes in memory."""
    try:
        if fh.seekable() and fh.tell() == 0:
            return fh
    except (OSError, ValueError):
        pass
    return io.BytesIO(read_bounded(fh, limit))
