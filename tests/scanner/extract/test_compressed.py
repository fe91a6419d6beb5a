"""gzip, bzip2 and xz: inner content dispatched, limits enforced, damage reported."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from collections.abc import Callable
from pathlib import Path

import pytest

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import extract
from ftiscan.scanner.model import Limits, Location, Rows, Segment

COMPRESSORS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": (".gz", gzip.compress),
    "bzip2": (".bz2", bz2.compress),
    "xz": (".xz", lzma.compress),
}


def _csv(rows: int) -> bytes:
    return b"name,street,zip\n" + b"".join(
        b"Ann%d,%d Main St,%05d\n" % (i, i + 1, 20500 + i % 99) for i in range(rows)
    )


def _run(path: Path, **limits: int) -> tuple[str, list[Segment | Rows]]:
    with path.open("rb") as fh:
        kind, items = extract(fh, Location(path), Limits(**limits))
        return kind, list(items)


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_compressed_csv_and_json(tmp_path: Path, kind: str) -> None:
    """A compressed CSV gives rows and a compressed JSON gives rows, with a member name."""
    suffix, compress = COMPRESSORS[kind]
    table = tmp_path / f"people.csv{suffix}"
    table.write_bytes(compress(_csv(50)))
    found, items = _run(table)
    assert found == kind
    rows = [row for item in items if isinstance(item, Rows) for row in item.rows]
    assert len(rows) == 50
    assert {item.where.member for item in items} == {"people.csv"}
    doc = tmp_path / f"export.json{suffix}"
    doc.write_bytes(compress(json.dumps([{"name": "Ann", "zip": "20500"}]).encode()))
    _, items = _run(doc)
    assert [(i.header, i.rows) for i in items if isinstance(i, Rows)] == [
        (("name", "zip"), [("Ann", "20500")])
    ]


def test_gzip_header_name_is_the_member(tmp_path: Path) -> None:
    """The original name stored in the gzip header names the member."""
    path = tmp_path / "download.bin"
    with path.open("wb") as raw, gzip.GzipFile("taxpayers.csv", "wb", fileobj=raw) as gz:
        gz.write(_csv(3))
    _, items = _run(path)
    assert {item.where.member for item in items} == {"taxpayers.csv"}


def test_gzip_of_zeros_hits_ratio_limit(tmp_path: Path) -> None:
    """50 MB of zeros in a small gzip stops at the ratio limit."""
    path = tmp_path / "zeros.gz"
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as gz:
        block = b"\x00" * (1024 * 1024)
        for _ in range(50):
            gz.write(block)
    with pytest.raises(LimitExceeded, match="limit:ratio"):
        _run(path)


def test_gzip_decompressed_bytes_limit(tmp_path: Path) -> None:
    """More decompressed bytes than allowed stop with the bytes limit."""
    path = tmp_path / "big.txt.gz"
    path.write_bytes(gzip.compress(b"".join(b"line %d\n" % i for i in range(500_000))))
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _run(path, max_decompressed_bytes=2_000_000)


def test_gzip_nesting_depth(tmp_path: Path) -> None:
    """A gzip inside gzip beyond max_depth stops with the depth limit."""
    data = _csv(3)
    for _ in range(3):
        data = gzip.compress(data)
    path = tmp_path / "deep.csv.gz.gz.gz"
    path.write_bytes(data)
    kind, items = _run(path, max_depth=3)
    assert kind == "gzip"
    assert items[0].where.member == "deep.csv"
    with pytest.raises(LimitExceeded, match="limit:depth"):
        _run(path, max_depth=2)


def test_truncated_gzip_keeps_earlier_rows(tmp_path: Path) -> None:
    """A truncated stream yields the rows before the damage, then raises corrupt."""
    data = gzip.compress(_csv(200_000))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    seen: list[Segment | Rows] = []
    with path.open("rb") as fh:
        kind, items = extract(fh, Location(path), Limits())
        with pytest.raises(ExtractError, match="truncated gzip stream") as caught:
            seen.extend(items)
    assert kind == "gzip"
    assert caught.value.reason == "corrupt"
    rows = [row for item in seen if isinstance(item, Rows) for row in item.rows]
    assert len(rows) > 50_000
    assert rows[:2] == [("Ann0", "1 Main St", "20500"), ("Ann1", "2 Main St", "20501")]
    numbers = [item.first_row for item in seen if isinstance(item, Rows)]
    assert numbers == sorted(numbers)
    assert numbers[0] == 2


def test_truncated_gzip_text_keeps_earlier_lines(tmp_path: Path) -> None:
    """A cut text stream yields its first lines, then raises corrupt."""
    text = b"".join(b"line %d of the letter\n" % i for i in range(100_000))
    data = gzip.compress(text)
    path = tmp_path / "letter.txt.gz"
    path.write_bytes(data[: len(data) // 3])
    seen: list[Segment | Rows] = []
    with path.open("rb") as fh:
        _, items = extract(fh, Location(path), Limits())
        with pytest.raises(ExtractError, match="truncated"):
            seen.extend(items)
    joined = "".join(item.text for item in seen if isinstance(item, Segment))
    assert joined.startswith("line 0 of the letter\n")
    assert len(joined) > 100_000


def test_corrupt_gzip_body(tmp_path: Path) -> None:
    """Garbage inside a gzip stream is reported as corrupt."""
    data = bytearray(gzip.compress(_csv(1000)))
    data[20:60] = b"\xff" * 40
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ExtractError, match="corrupt"):
        _run(path)
