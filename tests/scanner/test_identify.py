"""Type identification by content: magic numbers first, then decoded text shapes."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import struct
import tarfile
from pathlib import Path

import pytest

from ftiscan.scanner.identify import HEAD_BYTES, KINDS, identify

CSV = b"name,street,zip\n" + b"".join(b"Ann %d,%d Main St,%05d\n" % (i, i, i) for i in range(20))


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    return out.getvalue()


def _fixed() -> bytes:
    names = [b"SMITH", b"JONES", b"LEE", b"GARCIA", b"BROWN", b"O'NEIL"]
    return b"".join(
        b"%-10s %-12s %05d %8.2f\n" % (names[i % 6], b"CITY%d" % (i * 7), i * 13, i * 1.5)
        for i in range(30)
    )


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (gzip.compress(b"x"), "gzip"),
        (bz2.compress(b"x"), "bzip2"),
        (lzma.compress(b"x"), "xz"),
        (b"PK\x03\x04" + b"\x00" * 40, "zip"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "ole2"),
        (b"SQLite format 3\x00" + b"\x00" * 84, "sqlite"),
        (b"{\\rtf1\\ansi\\deff0 {\\fonttbl}", "rtf"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, "7z"),
        (_tar(), "tar"),
        (
            b"From: Ann <a@example.invalid>\r\nTo: b@example.invalid\r\n"
            b"Subject: hi\r\n\r\nbody\r\n",
            "eml",
        ),
        (
            b"From a@example.invalid Mon Jan  1 00:00:00 2024\n"
            b"From: a@example.invalid\nSubject: x\n\nhi\n",
            "eml",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "gif"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 40, "elf"),
        (b"MZ" + b"\x00" * 58 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 20, "pe"),
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 20, "macho"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + b"\x00" * 20, "macho"),
        (bytes(range(256)) * 4, "binary"),
        (b"\x00\x01\x02\x03" * 100, "binary"),
        (json.dumps([{"a": 1}, {"a": 2}], indent=2).encode(), "json"),
        (b'{"a": 1}\n{"a": 2}\n', "jsonl"),
        (CSV, "csv"),
        (CSV.replace(b",", b"\t"), "csv"),
        (CSV.replace(b",", b"|"), "csv"),
        (CSV.replace(b",", b";"), "csv"),
        (CSV.decode().encode("utf-16"), "csv"),
        (CSV.decode().encode("utf-16-le"), "csv"),
        (CSV.decode().encode("utf-16-be"), "csv"),
        (_fixed(), "fixed"),
        (b"Dear taxpayer,\nyour return was received.\nRegards\n", "text"),
        ("Tr\u00e8s cher contribuable\n".encode("utf-16"), "text"),
        ("na\u00efve caf\u00e9 text\n".encode("cp1252"), "text"),
        (b"", "empty"),
    ],
)
def test_identify_kinds(head: bytes, kind: str) -> None:
    """Each sample header is identified as its kind, and that kind is a known one."""
    assert identify(head) == kind
    assert kind in KINDS


def test_identify_ignores_names(tmp_path: Path) -> None:
    """A CSV renamed .jpg is csv; a PNG named .csv is png: the name is never read."""
    renamed = tmp_path / "photo.jpg"
    renamed.write_bytes(CSV)
    png = tmp_path / "people.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert identify(renamed.read_bytes()[:HEAD_BYTES]) == "csv"
    assert identify(png.read_bytes()[:HEAD_BYTES]) == "png"


def test_identify_long_json_by_its_start() -> None:
    """A JSON document longer than the header is recognised by how it starts."""
    doc = json.dumps({"records": [{"name": "x" * 50, "n": i} for i in range(5000)]}).encode()
    assert len(doc) > HEAD_BYTES
    assert identify(doc[:HEAD_BYTES]) == "json"


def test_identify_prose_with_commas_is_text() -> None:
    """Prose whose lines hold a varying number of commas is not a table."""
    prose = b"One, two, three.\nNo comma here\nA, b\nThe end, finally, at last, ok.\n" * 3
    assert identify(prose) == "text"


def test_identify_indented_code_is_not_tsv() -> None:
    """Lines indented with one tab do not make a tab-separated table."""
    code = b"def f():\n\treturn 1\n\tpass\n\tx = 2\n" * 5
    assert identify(code) == "text"
