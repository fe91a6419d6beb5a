"""gzip, bzip2 and xz streams: decompressed on the fly, never to disk.

The decompressed stream is identified by its content and handed to the registry again
(`ftiscan.scanner.extract.extract`) one level deeper. Limits, checked as bytes come out:

- more than ``limits.max_decompressed_bytes`` out: `LimitExceeded` ("bytes");
- once more than 1 MiB is out, out / compressed-bytes-read-so-far above
  ``limits.max_ratio``: `LimitExceeded` ("ratio");
- a compressed stream inside ``limits.max_depth`` others: `LimitExceeded` ("depth")
  (raised by the registry).

A truncated or corrupt stream raises `ExtractError` ("corrupt", "truncated gzip stream"
or "corrupt gzip stream") once everything before the damage has been yielded. The inner
`Location` keeps the path; its ``member`` is the name stored in the gzip header, else the
outer name (``member`` or file name) without ``.gz``/``.bz2``/``.xz`` (``.tgz`` becomes
``.tar``), in the folder of the outer member. Byte ranges inside count decompressed bytes.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _budget, _decode
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["KINDS", "extract", "extract_bzip2", "extract_gzip", "extract_xz", "member_name"]

KINDS = ("gzip", "bzip2", "xz")

_RATIO_AFTER = 1024 * 1024
_READ = 4096  # compressed bytes per read: 1 MiB out of one read is a ratio of 256
_SMALL_READS = 256 * 1024  # compressed bytes read in small reads, then larger ones
_READ_LATER = 64 * 1024
_SUFFIXES = {
    "gzip": ((".gz", ""), (".gzip", ""), (".tgz", ".tar"), (".z", "")),
    "bzip2": ((".bz2", ""), (".bz", ""), (".tbz2", ".tar"), (".tbz", ".tar")),
    "xz": ((".xz", ""), (".txz", ".tar"), (".lzma", "")),
}
_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


class _Counting(io.RawIOBase):
    """Counts the compressed bytes the decompressor has read."""

    def __init__(self, fh: IO[bytes]) -> None:
        super().__init__()
        self._read = getattr(fh, "read1", fh.read)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        # Small reads keep ``count`` close to what the decompressor really consumed,
        # so the ratio is not diluted by read-ahead.
        data = self._read(min(len(view), _READ if self.count < _SMALL_READS else _READ_LATER))
        view[: len(data)] = data
        self.count += len(data)
        return len(data)


class _Guarded(io.RawIOBase):
    """The decompressed bytes, with the limits checked and errors turned into ours."""

    def __init__(self, inner: IO[bytes], source: _Counting, kind: str, limits: Limits) -> None:
        super().__init__()
        self._inner, self._source, self._kind, self._limits = inner, source, kind, limits
        # One decompressor read at a time: data before a damaged part is passed on.
        self._read = getattr(inner, "read1", inner.read)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._read(len(view))
        except EOFError as exc:
            raise ExtractError("corrupt", f"truncated {self._kind} stream") from exc
        except _ERRORS as exc:
            raise ExtractError("corrupt", f"corrupt {self._kind} stream") from exc
        size = len(data)
        view[:size] = data
        self.count += size
        _budget.charge(size)
        limits = self._limits
        if self.count > limits.max_decompressed_bytes:
            raise LimitExceeded("bytes", f"more than {limits.max_decompressed_bytes} bytes out")
        if self.count > _RATIO_AFTER and self.count > limits.max_ratio * max(1, self._source.count):
            raise LimitExceeded("ratio", f"more than {limits.max_ratio}:1")
        return size


def _gzip_name(head: bytes) -> str | None:
    """The original file name stored in a gzip header (FNAME), if any."""
    if len(head) < 10 or not head[3] & 0x08:
        return None
    pos = 10
    if head[3] & 0x04:  # FEXTRA
        if len(head) < 12:
            return None
        pos += 2 + int.from_bytes(head[10:12], "little")
    end = head.find(b"\x00", pos)
    if end <= pos:
        return None
    return head[pos:end].decode("latin-1")


def member_name(kind: str, where: Location, stored: str | None = None) -> str:
    """The ``member`` of the stream inside ``where`` (see the module docstring).

    >>> from pathlib import Path
    >>> member_name("gzip", Location(Path("/tmp/people.csv.gz")))
    'people.csv'
    """
    outer = where.member or where.path.name
    folder = posixpath.dirname(outer) if where.member else ""
    if stored:
        name = posixpath.basename(stored.replace("\\", "/"))
        if name:
            return posixpath.join(folder, name)
    lower = outer.lower()
    for suffix, replacement in _SUFFIXES.get(kind, ()):
        if lower.endswith(suffix) and len(outer) > len(suffix):
            return outer[: -len(suffix)] + replacement
    return outer


def _open(kind: str, raw: _Counting) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value] # binary stream
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    return lzma.LZMAFile(raw, mode="rb")  # type: ignore[arg-type] # reads like IO[bytes]


def extract(
    kind: str, fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield what the extractor of the decompressed content yields."""
    from ftiscan.scanner.extract import extract as dispatch

    if kind not in KINDS:
        raise ValueError(f"expected one of {KINDS}, got {kind!r}")
    head, stream = _decode.sniff(fh, 4096)
    stored = _gzip_name(head) if kind == "gzip" else None
    source = _Counting(stream)
    guarded = _Guarded(_open(kind, source), source, kind, limits)
    # Read past the point where the ratio is checked before identifying the content,
    # so that a bomb is reported as one even when its content is unsupported.
    _, inner = _decode.sniff(
        io.BufferedReader(guarded, buffer_size=1024 * 1024),
        _RATIO_AFTER + 1,
    )
    inner_where = replace(
        where, member=member_name(kind, where, stored), byte_start=None, byte_end=None
    )
    _, items = dispatch(inner, inner_where, limits, depth + 1)
    yield from items


def extract_gzip(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield what the extractor of the decompressed gzip content yields."""
    return extract("gzip", fh, where, limits, depth)


def extract_bzip2(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield what the extractor of the decompressed bzip2 content yields."""
    return extract("bzip2", fh, where, limits, depth)


def extract_xz(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield what the extractor of the decompressed xz content yields."""
    return extract("xz", fh, where, limits, depth)
