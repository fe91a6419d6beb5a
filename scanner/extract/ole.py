"""OLE2 compound files (legacy Office): what is inside, and the dispatch to its reader.

An OLE2 file is a small file system of storages and streams. `ole_kind` tells the kind
from the directory entries alone (no stream is read):

- a ``Workbook`` or ``Book`` stream at the root: ``xls`` (`ftiscan.scanner.extract.xls`);
- a ``__properties_version1.0`` stream or ``__substg1.0_`` streams at the root: ``msg``
  (an Outlook message, `ftiscan.scanner.extract.msg`);
- ``EncryptionInfo`` and ``EncryptedPackage``: ``ole-encrypted`` (a password-protected
  OOXML document: Office puts the encrypted .docx/.xlsx inside an OLE2 file);
- ``WordDocument``: ``doc``; ``PowerPoint Document``: ``ppt``;
- anything else: ``ole2``.

`extract_ole` is the registry's extractor for kind ``ole2``: it reads ``xls`` and ``msg``,
raises `ExtractError` ("encrypted") for ``ole-encrypted`` and ("unsupported", kind) for
the others. `open_ole` opens the container for the readers: a seekable stream is read in
place (olefile seeks to the sectors it needs); another one is read into memory, at most
``limits.max_decompressed_bytes`` (then `LimitExceeded` ("bytes")). A file that olefile
cannot parse raises `ExtractError` ("corrupt").

`Budget` counts the bytes read out of streams against ``limits.max_decompressed_bytes``:
streams may share sectors, so their sizes can add up to more than the file holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import olefile

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract._streams import random_access
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["KINDS", "Budget", "extract_ole", "ole_kind", "open_ole", "read_stream", "seekable"]

KINDS = ("xls", "msg", "doc", "ppt", "ole-encrypted", "ole2")
"""Every kind `ole_kind` returns."""

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Budget:
    """Bytes read out of an OLE2 file so far, checked against a limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    def take(self, size: int) -> None:
        """Count ``size`` more bytes; `LimitExceeded` ("bytes") past the limit."""
        self.used += size
        if self.used > self.limit:
            raise LimitExceeded("bytes", f"more than {self.limit} bytes read from OLE2 streams")


def seekable(fh: IO[bytes], limits: Limits) -> IO[bytes]:
    """``fh`` if it can seek (from its start), else its bytes in memory (bounded)."""
    return random_access(fh, limits.max_decompressed_bytes)


def open_ole(fh: IO[bytes], limits: Limits) -> olefile.OleFileIO:
    """The parsed container of ``fh`` (see the module docstring)."""
    stream = seekable(fh, limits)
    try:
        return olefile.OleFileIO(stream)
    except Exception as exc:  # olefile raises OSError, struct.error, IndexError ...
        raise ExtractError("corrupt", f"OLE2 directory unreadable ({type(exc).__name__})") from exc


def read_stream(ole: olefile.OleFileIO, path: list[str], budget: Budget) -> bytes:
    """The bytes of the stream at ``path``, counted in ``budget`` before they are read.

    Raises `ExtractError` ("corrupt") when olefile cannot follow the sector chain.
    """
    try:
        size = int(ole.get_size(path))
    except Exception as exc:
        raise ExtractError("corrupt", f"OLE2 entry unreadable ({type(exc).__name__})") from exc
    budget.take(size)
    try:
        with ole.openstream(path) as stream:
            data: bytes = stream.read()
    except Exception as exc:
        raise ExtractError("corrupt", f"OLE2 stream unreadable ({type(exc).__name__})") from exc
    return data


def _kind_of(names: set[str]) -> str:
    if "workbook" in names or "book" in names:
        return "xls"
    if "__properties_version1.0" in names or any(n.startswith("__substg1.0_") for n in names):
        return "msg"
    if "encryptioninfo" in names and "encryptedpackage" in names:
        return "ole-encrypted"
    if "worddocument" in names:
        return "doc"
    if "powerpoint document" in names:
        return "ppt"
    return "ole2"


def kind_of(ole: olefile.OleFileIO) -> str:
    """The kind of an opened container (see the module docstring)."""
    try:
        root = ole.root
        names = {str(kid.name).lower() for kid in root.kids}
    except Exception as exc:
        raise ExtractError("corrupt", f"OLE2 directory unreadable ({type(exc).__name__})") from exc
    return _kind_of(names)


def ole_kind(fh: IO[bytes]) -> str:
    """The kind of the OLE2 file in ``fh``, from its root directory entries.

    ``fh`` must be seekable; its position is restored. Raises `ExtractError` ("corrupt")
    when the directory cannot be read.
    """
    start = fh.tell()
    try:
        fh.seek(0)
        try:
            ole = olefile.OleFileIO(fh)
        except Exception as exc:
            raise ExtractError(
                "corrupt", f"OLE2 directory unreadable ({type(exc).__name__})"
            ) from exc
        try:
            return kind_of(ole)
        finally:
            ole.close()
    finally:
        fh.seek(start)


def extract_ole(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield what the reader of this OLE2 file's kind yields (see the module docstring)."""
    from ftiscan.scanner.extract import msg, xls

    stream = seekable(fh, limits)
    kind = ole_kind(stream)
    if kind == "xls":
        yield from xls.extract_xls(stream, where, limits, depth)
    elif kind == "msg":
        yield from msg.extract_msg(stream, where, limits, depth)
    elif kind == "ole-encrypted":
        raise ExtractError("encrypted", "password-protected Office document")
    else:
        raise ExtractError("unsupported", kind)
