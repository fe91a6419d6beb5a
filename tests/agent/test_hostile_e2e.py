"""Hostile and broken files, made by the test: one real scan survives them all.

Each file must end in the report's coverage with its reason, the scan must finish with
exit 0 (nothing here holds taxpayer data), and the scanning processes must stay under
300 MB of resident memory.
"""

from __future__ import annotations

import gzip
import struct
import subprocess
import time
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
