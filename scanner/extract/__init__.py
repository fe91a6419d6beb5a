"""Extractors: one module per format family, each yielding `Segment` and `Rows`.

`extract` reads the head of a stream (without losing it, also when the stream cannot
seek), identifies the content (`ftiscan.scanner.identify`) and returns the kind with the
iterator of the matching extractor from `EXTRACTORS`. Kinds that have no extractor yet
raise `ExtractError` ("unsupported", kind); an empty stream is kind ``"empty"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Protocol

from ftiscan.scanner import identify as _identify
from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import compressed, delimited, fixedwidth, jsondoc, text
from ftiscan.scanner.extract._decode import sniff
from ftiscan.scanner.model import Limits, Location, Rows, Segment

__all__ = ["EXTRACTORS", "UNSUPPORTED", "Extractor", "extract"]


class Extractor(Protocol):
    """An extractor: the stream, where it is, the limits; yields segments and rows."""

    def __call__(
        self, fh: IO[bytes], where: Location, limits: Limits, /
    ) -> Iterator[Segment | Rows]: ...


EXTRACTORS: dict[str, Extractor] = {
    "bzip2": compressed.extract_bzip2,
    "csv": delimited.extract,
    "fixed": fixedwidth.extract,
    "gzip": compressed.extract_gzip,
    "json": jsondoc.extract,
    "jsonl": jsondoc.extract_lines,
    "text": text.extract,
    "xz": compressed.extract_xz,
}
"""Kind -> extractor. Compressed kinds also take ``depth`` (passed by `extract`)."""

UNSUPPORTED = frozenset(
    {"zip", "pdf", "ole2", "sqlite", "png", "jpeg", "gif", "elf", "pe", "macho", "binary"}
)
"""Kinds `identify` knows that have no extractor yet."""


def extract(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> tuple[str, Iterator[Segment | Rows]]:
    """Identify the content of ``fh`` and return ``(kind, items)``.

    ``depth`` counts the compressed streams around ``fh``; a compressed stream at
    ``limits.max_depth`` raises `LimitExceeded` ("depth").
    """
    head, stream = sniff(fh)
    if not head:
        return "empty", iter(())
    kind = _identify.identify(head)
    if kind in compressed.KINDS:
        if depth >= limits.max_depth:
            raise LimitExceeded("depth", f"more than {limits.max_depth} nested streams")
        return kind, compressed.extract(kind, stream, where, limits, depth)
    extractor = EXTRACTORS.get(kind)
    if extractor is None:
        raise ExtractError("unsupported", kind)
    return kind, extractor(stream, where, limits)
