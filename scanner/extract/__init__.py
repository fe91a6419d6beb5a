"""Extractors: one module per format family, each yielding `Segment` and `Rows`.

`extract` reads the head of a stream (without losing it, also when the stream cannot
seek), identifies the content (`ftiscan.scanner.identify`) and returns the kind with the
iterator of the matching extractor from `EXTRACTORS`. Kinds that have no extractor
raise `ExtractError` ("unsupported", kind); an empty stream is kind ``"empty"``.
Containers (`CONTAINERS`: compressed streams, archives, mail, documents with
attachments) also take ``depth``, the number of containers around the stream, and hand
their members back to `extract` one level deeper; they yield `Unread` for the parts
they could not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Protocol

from ftiscan.scanner import identify as _identify
from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import (
    archive,
    compressed,
    delimited,
    fixedwidth,
    jsondoc,
    mail,
    rtf,
    sqlitedb,
    text,
)
from ftiscan.scanner.extract._decode import sniff
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["CONTAINERS", "EXTRACTORS", "UNSUPPORTED", "Extractor", "extract"]

Items = Iterator[Segment | Rows | Unread]


class Extractor(Protocol):
    """An extractor: the stream, where it is, the limits; yields segments and rows."""

    def __call__(self, fh: IO[bytes], where: Location, limits: Limits, /) -> Items: ...


class Container(Protocol):
    """A container's extractor: also takes ``depth`` and yields `Unread` parts."""

    def __call__(self, fh: IO[bytes], where: Location, limits: Limits, depth: int, /) -> Items: ...


EXTRACTORS: dict[str, Extractor] = {
    "csv": delimited.extract,
    "fixed": fixedwidth.extract,
    "json": jsondoc.extract,
    "jsonl": jsondoc.extract_lines,
    "text": text.extract,
}
"""Kind -> extractor of a format that holds no other files."""


def _extract_ole(fh: IO[bytes], where: Location, limits: Limits, depth: int) -> Items:
    # olefile (and xlrd after it) is imported when an OLE2 file shows up, not by every
    # scanning process at start-up.
    from ftiscan.scanner.extract import ole

    return ole.extract_ole(fh, where, limits, depth)


def _extract_pdf(fh: IO[bytes], where: Location, limits: Limits, depth: int) -> Items:
    # pypdfium2 and its library (several MB per process) load when a PDF shows up.
    from ftiscan.scanner.extract import pdf

    return pdf.extract_pdf(fh, where, limits, depth)


CONTAINERS: dict[str, Container] = {
    "7z": archive.extract_7z,
    "bzip2": compressed.extract_bzip2,
    "eml": mail.extract_eml,
    "gzip": compressed.extract_gzip,
    "ole2": _extract_ole,
    "pdf": _extract_pdf,
    "rtf": rtf.extract_rtf,
    "sqlite": sqlitedb.extract_sqlite,
    "tar": archive.extract_tar,
    "xz": compressed.extract_xz,
    "zip": archive.extract_zip,
}
"""Kind -> extractor of a format that may hold other files (members, attachments)."""

UNSUPPORTED = frozenset({"png", "jpeg", "gif", "elf", "pe", "macho", "binary"})
"""Kinds `identify` knows that have no extractor yet."""


def extract(fh: IO[bytes], where: Location, limits: Limits, depth: int = 0) -> tuple[str, Items]:
    """Identify the content of ``fh`` and return ``(kind, items)``.

    ``depth`` counts the containers around ``fh``; a compressed stream at
    ``limits.max_depth`` raises `LimitExceeded` ("depth"), other containers check the
    depth of their own members.
    """
    head, stream = sniff(fh)
    if not head:
        return "empty", iter(())
    kind = _identify.identify(head)
    if kind in compressed.KINDS and depth >= limits.max_depth:
        raise LimitExceeded("depth", f"more than {limits.max_depth} nested streams")
    container = CONTAINERS.get(kind)
    if container is not None:
        return kind, container(stream, where, limits, depth)
    extractor = EXTRACTORS.get(kind)
    if extractor is None:
        raise ExtractError("unsupported", kind)
    return kind, extractor(stream, where, limits)
