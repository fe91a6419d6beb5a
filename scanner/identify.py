"""Type identification by content, never by name.

`identify` reads a fixed header (the first `HEAD_BYTES` bytes; a shorter header is taken
as the whole file) and checks the most specific type first, as filetype.py does:

1. magic numbers: ``gzip``, ``bzip2``, ``xz``, ``zip``, ``7z``, ``pdf``, ``ole2``, ``rtf``,
   ``sqlite``, ``png``, ``jpeg``, ``gif``, ``elf``, ``pe``, ``macho``, and ``tar`` (the
   ustar magic or a valid v7 header checksum);
2. the header is decoded with the encoding detector (so UTF-16 text is text); NULs it
   does not explain (more than 0.1 % of the sample) or more than 5 % control characters
   make ``binary``;
3. text: ``eml`` (RFC 5322 header fields, or an mbox), ``jsonl`` (several lines, each
   a JSON object or array), ``json`` (a document that parses, or that starts like one
   when it is longer than the header), ``csv`` (a comma, tab, pipe or semicolon
   delimiter that splits most lines into the same number of fields), ``fixed`` (lines
   of one length with space-separated columns), ``text``.

A table with three or more delimited fields wins over fixed width; fixed width wins over
a two-field "table" (``SMITH, JOHN`` in a fixed-width file is not a delimiter).
An empty header is ``empty``.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from ftiscan.scanner.extract import _decode, archive, mail
from ftiscan.scanner.extract.delimited import sample_lines, sniff_delimiter
from ftiscan.scanner.extract.fixedwidth import infer_columns

__all__ = ["HEAD_BYTES", "KINDS", "identify"]

HEAD_BYTES = _decode.HEAD_BYTES

KINDS = (
    "gzip",
    "bzip2",
    "xz",
    "zip",
    "7z",
    "tar",
    "pdf",
    "ole2",
    "rtf",
    "sqlite",
    "png",
    "jpeg",
    "gif",
    "elf",
    "pe",
    "macho",
    "binary",
    "eml",
    "json",
    "jsonl",
    "csv",
    "fixed",
    "text",
    "empty",
)
"""Every kind `identify` can return."""

_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_JSON_START = re.compile(r'\s*(?:\{\s*["}]|\[\s*[-\d"{\[\]tfn])')
_MACHO = (
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)


def _magic(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4] in (
        b"1",
        b"2",
        b"3",
        b"4",
        b"5",
        b"6",
        b"7",
        b"8",
        b"9",
    ):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if archive.is_7z(head):
        return "7z"
    pdf = head.find(b"%PDF-", 0, 1024)
    if pdf == 0 or (pdf > 0 and not head[:pdf].strip(b" \t\r\n\x00\x0c")):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole2"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"\x7fELF"):
        return "elf"
    if head.startswith(b"MZ") and len(head) >= 64:
        offset = int.from_bytes(head[0x3C:0x40], "little")
        if head[offset : offset + 4] == b"PE\x00\x00" or (
            offset + 4 > len(head) and b"\x00" in head[:64]
        ):
            return "pe"
    if head.startswith(_MACHO):
        return "macho"
    if archive.is_tar(head):
        return "tar"
    # Universal (fat) Mach-O shares CAFEBABE with Java classes: few architectures.
    if head.startswith(b"\xca\xfe\xba\xbe") and 0 < int.from_bytes(head[4:8], "big") < 30:
        return "macho"
    return None


def _is_binary(head: bytes, codec: str, sample: str) -> bool:
    if not sample:
        return True
    if not codec.startswith("utf-16"):
        nuls = head.count(0)
        if nuls and nuls * 1000 > len(head):
            return True
    controls = len(_CONTROLS.findall(sample))
    return controls * 20 > len(sample)


def _is_jsonl(lines: list[str]) -> bool:
    values = [line for line in lines[:20] if line.strip()]
    if len(values) < 2:
        return False
    for line in values:
        if not line.lstrip().startswith(("{", "[")):
            return False
        try:
            json.loads(line)
        except (ValueError, RecursionError):
            return False
    return True


def _is_json(sample: str, complete: bool) -> bool:
    if not _JSON_START.match(sample):
        return False
    if not complete:
        return True
    try:
        json.loads(sample)
    except (ValueError, RecursionError):
        return False
    return True


def _is_fixed(lines: list[str]) -> bool:
    rows = [line for line in lines if line.strip()]
    if len(rows) < 5:
        return False
    width, seen = Counter(len(line) for line in rows).most_common(1)[0]
    if width < 8 or seen * 10 < len(rows) * 8:
        return False
    return len(infer_columns(rows[1:] if len(rows) > 5 else rows)) >= 2


def identify(head: bytes) -> str:
    """The kind of a file whose first bytes are ``head`` (see the module docstring).

    >>> identify(b"\\x89PNG\\r\\n\\x1a\\n....")
    'png'
    >>> identify(b"name,zip\\nAnn,20500\\n")
    'csv'
    """
    if not head:
        return "empty"
    head = head[:HEAD_BYTES]
    magic = _magic(head)
    if magic:
        return magic
    codec = _decode.detect(head)
    sample = _decode.decode(head, codec).removeprefix("\ufeff")
    if _is_binary(head, codec, sample):
        return "binary"
    complete = len(head) < HEAD_BYTES
    lines = sample_lines(sample, complete, 200)
    if mail.looks_like_mail(head):
        return "eml"
    stripped = sample.lstrip()
    if stripped.startswith(("{", "[")):
        if _is_jsonl(lines):
            return "jsonl"
        if _is_json(stripped, complete):
            return "json"
    sniffed = sniff_delimiter(lines[:100], strict=True) if len(lines) >= 2 else None
    table = sniffed is not None and sniffed[2] >= 0.8
    if table and sniffed is not None and sniffed[1] >= 3:
        return "csv"
    if _is_fixed(lines):
        return "fixed"
    return "csv" if table else "text"
