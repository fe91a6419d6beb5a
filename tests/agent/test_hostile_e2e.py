"""Hostile and broken files, made by the test: one real scan survives them all.

The files cover the issue's list: zip bombs (nested, overlapping members, gzip and 7z
of zeros, an expanding sheet), deep nesting (ZIP, JSON, MIME, RTF groups, gzip chains,
XML elements), huge lines (text, a CSV field, a JSON string) and bad encodings (text,
CSV, mail charsets and transfer encodings, an XML encoding declaration), plus damaged,
encrypted and path-traversing archives. Each file must end in the report's coverage
with its reason, the scan must finish with exit 0 (nothing here holds taxpayer data),
and the scanning processes must stay under 300 MB of resident memory.
"""

from __future__ import annotations

import gzip
import io
import struct
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic import formats
from tests.synthetic.formats import BILLION_LAUGHS, sheet_xml, word_p, word_r
from tests.synthetic.report import load_report

pytestmark = pytest.mark.slow
MB = 1024 * 1024


def _zip(members: dict[str, bytes]) -> bytes:
    return formats.zip_archive(members)


def _nested_bomb(levels: int = 3, fan: int = 16) -> bytes:
    """42.zip in small: ``fan`` copies of the level below, ``levels`` deep."""
    data = _zip({"words.txt": b"x " * (4 * MB)})
    for level in range(levels):
        data = _zip({f"l{level}-{n}.zip": data for n in range(fan)})
    return data


def _overlapping_bomb(copies: int = 2000) -> bytes:
    """One compressed member referenced by ``copies`` central directory entries (an
    overlapping-member bomb: every entry expands the same data again)."""
    single = _zip({"a.txt": b"x " * (5 * MB)})
    central = single.find(b"PK\x01\x02")
    end = single.find(b"PK\x05\x06")
    entry = single[central:end]
    size = len(entry) * copies
    tail = bytearray(single[end:])
    struct.pack_into("<HHII", tail, 8, copies, copies, size, central)
    return single[:central] + entry * copies + bytes(tail)


def _gzip_zeros(path: Path, size: int = 1024 * MB) -> None:
    block = b"\0" * MB
    with gzip.open(path, "wb", compresslevel=9) as fh:
        for _ in range(size // MB):
            fh.write(block)


def _nested_mime(levels: int) -> bytes:
    """A message whose body is ``levels`` multiparts, each inside the one before."""
    body = b"hello\n"
    for level in range(levels):
        head = b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (level, level)
        body = head + body + b"\n--b%d--\n" % level
    return b"From: a@example.invalid\nTo: b@example.invalid\nSubject: nested\n" + body


def _stored(members: dict[str, bytes]) -> bytes:
    return formats.zip_archive(members, zipfile.ZIP_STORED)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _deep_docx(levels: int = 100_000) -> bytes:
    """A stored DOCX (no ratio to trip) whose paragraphs nest ``levels`` deep."""
    members = _members(formats.docx_xml(word_p(word_r("x"))))
    body = "<w:p>" * levels + "x" + "</w:p>" * levels
    document = f'<w:document xmlns:w="{formats.WORD}"><w:body>{body}</w:body></w:document>'
    members["word/document.xml"] = document.encode()
    return _stored(members)


def _bogus_encoding_xlsx() -> bytes:
    """A workbook whose sheet declares an encoding no codec has."""
    cell = '<row r="1"><c r="A1" t="inlineStr"><is><t>words</t></is></c></row>'
    members = _members(formats.xlsx_xml([("S", sheet_xml(cell))]))
    sheet = next(name for name in members if name.startswith("xl/worksheets/"))
    members[sheet] = b'<?xml version="1.0" encoding="x-bogus"?>' + members[sheet].split(b"?>")[-1]
    return _stored(members)


_BAD_CHARSET_EML = (
    b"From: a@example.invalid\r\nTo: b@example.invalid\r\nSubject: =?x-unknown?B?!!!?=\r\n"
    b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
    b"--zz\r\nContent-Type: text/plain; charset=x-unknown\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64***\r\n"
    b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=\r\nna=FF=FEve\r\n--zz--\r\n"
)


def _gzip_chain(levels: int = 30) -> bytes:
    data = b"hello\n"
    for _ in range(levels):
        data = gzip.compress(data, mtime=0)
    return data


def _tree(root: Path) -> dict[str, set[str]]:
    """Write the hostile files; return file -> the coverage reasons it may end with."""
    root.mkdir(parents=True)
    expect: dict[str, set[str]] = {}

    def put(name: str, data: bytes, reasons: set[str]) -> None:
        (root / name).write_bytes(data)
        expect[name] = reasons

    put("nested-bomb.zip", _nested_bomb(), {"limit:ratio", "limit:bytes", "limit:time"})
    put("overlap-bomb.zip", _overlapping_bomb(), {"limit:ratio", "limit:bytes"})
    _gzip_zeros(root / "zeros.gz")
    expect["zeros.gz"] = {"limit:ratio"}
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{"x " * 200}</t></is></c></row>'
        for n in range(1, 2)
    )
    huge_sheet = sheet_xml(rows).replace("</sheetData>", "<row/>" * (40 * MB // 6) + "</sheetData>")
    put("expands.xlsx", formats.xlsx_xml([("S", huge_sheet)]), {"limit:ratio", "limit:bytes"})
    put("many.zip", _zip({f"m{n}.txt": b"" for n in range(100_000)}), {"limit:members"})
    deep = b"bottom\n"
    for level in range(200):
        deep = _zip({f"d{level}.zip" if level else "b.txt": deep})
    put("deep.zip", deep, {"limit:depth"})
    put("paths.zip", _zip({"../../etc/evil.txt": b"hello\n", "/abs/x.txt": b"hi\n"}), set())
    locked = bytearray(_zip({"secret.txt": b"hidden\n", "open.txt": b"plain\n"}))
    locked[6] |= 1
    locked[locked.find(b"PK\x01\x02") + 8] |= 1
    put("locked.zip", bytes(locked), {"encrypted"})
    put("cut.zip", _zip({"a.txt": b"words " * 1000})[:-40], {"corrupt"})
    xlsx = formats.xlsx_xml([("S", sheet_xml('<row r="1"><c r="A1"><v>5</v></c></row>'))])
    put("cut.xlsx", xlsx[: len(xlsx) // 2], {"corrupt"})
    docx = formats.docx_xml(word_p(word_r("hello")) * 200)
    put("cut.docx", docx[: len(docx) // 2], {"corrupt"})
    pdf = formats.pdf([["page one text"], ["page two text"]])
    put("cut.pdf", pdf[: len(pdf) // 2], {"corrupt"})
    laughs = formats.docx_xml(
        word_p(word_r("x")), {"word/document.xml": BILLION_LAUGHS + "<w:document/>"}
    )
    put("laughs.docx", laughs, {"corrupt"})
    put("one-line.txt", b"word " * (10 * MB), set())
    put("bad-utf8.txt", b"caf\xc3 \xff\xfe na\xefve \x80\x81 text\n" * 1000, set())
    put("utf16-nobom.txt", "plain words in utf-16\n".encode("utf-16-le") * 1000, set())
    # Deep nesting in every container and format that nests.
    put("deep.json", b"[" * (2 * MB) + b"]" * (2 * MB), set())
    put("deep-mime.eml", _nested_mime(2000), {"limit:depth"})
    put("deep-groups.rtf", b"{\\rtf1 " + b"{" * (256 * 1024) + b"x" + b"}" * (256 * 1024), set())
    put("deep.gz", _gzip_chain(), {"limit:depth"})
    put("deep.docx", _deep_docx(), {"corrupt"})
    # A huge line inside a table and inside a JSON string.
    field = b"word " * (4 * MB)
    put("huge-field.csv", b'name,note,city\nAnn,"' + field + b'",Springfield\nBob,x,Ely\n', set())
    put("huge-string.json", b'[{"note": "' + field + b'"}]', set())
    # Bad encodings inside tables, mail and XML.
    put("bad-utf8.csv", b"name,city,street\n" + b"caf\xe9,\xff\xfe,na\xefve \x80\n" * 20_000, set())
    put("bad-charset.eml", _BAD_CHARSET_EML, {"corrupt"})
    put("bogus-encoding.xlsx", _bogus_encoding_xlsx(), {"corrupt"})
    # A 7z bomb: 100 MB of zeros in a few kilobytes.
    put(
        "zeros.7z",
        formats.sevenzip({"z.txt": b"\0" * (100 * MB)}),
        {"limit:ratio", "unsupported:binary"},
    )
    return expect


def _largest_rss(proc: subprocess.Popen[bytes]) -> int:
    """Sample the resident size of ``proc`` and its workers until it exits; the largest
    one seen, in bytes. (ru_maxrss of children would count the fork of this large test
    process before exec, not the scanner.)"""
    largest = 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for member in tree:
            try:
                largest = max(largest, member.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    return largest


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, set[str]], Any, int]:
    base = tmp_path_factory.mktemp("hostile")
    expect = _tree(base / "tree")
    report = base / "report.json"
    with (base / "stderr").open("wb") as err:
        proc = subprocess.Popen(
            [str(FTISCAN), "scan", str(base / "tree"), "--report", str(report), "-q"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=private_env(base),
        )
        peak = _largest_rss(proc)
        code = proc.wait(timeout=900)
    assert code == 0, (base / "stderr").read_text()[-3000:]
    return expect, load_report(report), peak


def test_hostile_each_file_in_coverage_with_reason(
    scanned: tuple[dict[str, set[str]], Any, int],
) -> None:
    """Every hostile file is seen, and each one that could not be read whole carries
    one of its expected reasons; the others were read."""
    expect, report, _ = scanned
    coverage = report["coverage"]
    assert coverage["files_seen"] == len(expect)
    reasons: dict[str, set[str]] = {}
    for entry in coverage["not_read"]:
        reasons.setdefault(Path(entry["path"]).name, set()).add(entry["reason"])
    for name, allowed in sorted(expect.items()):
        got = reasons.get(name, set())
        assert bool(got) == bool(allowed), (name, sorted(got))
        assert got <= allowed, (name, sorted(got))
    assert report["findings"] == [] or {f["severity"] for f in report["findings"]} <= {
        "info",
        "low",
    }


def test_hostile_scan_memory_bounded(scanned: tuple[dict[str, set[str]], Any, int]) -> None:
    """The largest scanning process stayed under 300 MB resident."""
    _, _, peak = scanned
    assert 0 < peak < 300 * MB
