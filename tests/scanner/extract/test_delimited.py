"""Delimited tables: delimiter, header, row numbers, and hostile structure."""

from __future__ import annotations

import csv
import io
import random
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract import delimited
from ftiscan.scanner.model import Limits, Location, Rows

WHERE = Location(Path("people.csv"))


def _rows(data: bytes, **limits: int) -> list[Rows]:
    return list(delimited.extract(io.BytesIO(data), WHERE, Limits(**limits)))


def _table(delimiter: str = ",", rows: int = 10, header: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow(["first_name", "street", "zip", "tin"])
    rng = random.Random(7)
    for i in range(rows):
        # TIN-shaped test values use area 9xx, never an issuable SSN.
        tin = f"9{rng.randint(0, 99):02d}-{rng.randint(70, 88)}-{rng.randint(1, 9999):04d}"
        writer.writerow([f"Ann{i}", f"{i + 1} Main St, Apt {i}", f"{20500 + i:05d}", tin])
    return out.getvalue()


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
def test_delimited_sniffs_delimiter_and_header(delimiter: str) -> None:
    """Comma, tab, pipe and semicolon tables come back with header and row numbers."""
    batches = _rows(_table(delimiter).encode())
    assert len(batches) == 1
    batch = batches[0]
    assert batch.header == ("first_name", "street", "zip", "tin")
    assert batch.first_row == 2
    assert batch.where.line == 2
    assert batch.rows[0][:2] == ("Ann0", "1 Main St, Apt 0")
    assert len(batch.rows) == 10


def test_delimited_headerless_has_no_header() -> None:
    """A table whose first row is data yields header None and starts at row 1."""
    batch = _rows(_table(header=False).encode())[0]
    assert batch.header is None
    assert batch.first_row == 1
    assert batch.rows[0][0] == "Ann0"


def test_delimited_utf16() -> None:
    """A UTF-16 CSV with a BOM reads like any other."""
    batch = _rows(_table().encode("utf-16"))[0]
    assert batch.header == ("first_name", "street", "zip", "tin")
    assert batch.rows[-1][0] == "Ann9"


def test_delimited_batches_and_lines() -> None:
    """Batches hold batch_rows rows; first_row and line follow embedded newlines."""
    data = b'name,note\nAnn,"two\nlines"\nBob,x\nCy,y\nDi,z\n'
    batches = _rows(data, batch_rows=2)
    assert [(b.first_row, b.where.line, len(b.rows)) for b in batches] == [
        (2, 2, 2),
        (4, 5, 2),
    ]
    assert batches[0].rows[0] == ("Ann", "two\nlines")


def test_delimited_ragged_and_nul_do_not_crash() -> None:
    """Ragged rows and NUL bytes are kept as they are."""
    data = b"a,b,c\n1,2\n3,4,5,6\nx\x00y,z,w\n"
    batches = _rows(data)
    assert batches[0].header == ("a", "b", "c")
    rows = [row for batch in batches for row in batch.rows]
    assert rows == [("1", "2"), ("3", "4", "5", "6"), ("x\x00y", "z", "w")]


def test_delimited_huge_field_is_skipped_and_reported() -> None:
    """A field above max_line_chars is skipped; later rows are read, then it is reported."""
    data = b"name,note\nAnn,short\nBob," + b"x" * 10_000_000 + b"\nCy,after\n"
    limit = csv.field_size_limit()
    seen: list[Rows] = []
    with pytest.raises(ExtractError, match=r"row 3: field larger"):
        seen.extend(delimited.extract(io.BytesIO(data), WHERE, Limits(max_line_chars=1_000_000)))
    rows = {(b.first_row + i, row[0]) for b in seen for i, row in enumerate(b.rows)}
    assert rows == {(2, "Ann"), (4, "Cy")}
    assert csv.field_size_limit() == limit  # restored for other readers


def test_delimited_nothing_readable_is_corrupt() -> None:
    """A file whose only record is rejected raises corrupt with the row number."""
    data = b'"' + b"x" * 2000
    with pytest.raises(ExtractError, match="row 1"):
        _rows(data, max_line_chars=100)


_CELL = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
)


@settings(max_examples=100)
@given(
    table=st.integers(2, 5).flatmap(
        lambda width: st.lists(st.lists(_CELL, min_size=width, max_size=width), min_size=1)
    ),
    delimiter=st.sampled_from(delimited.DELIMITERS),
)
def test_delimited_round_trip(table: list[list[str]], delimiter: str) -> None:
    """Rows written by csv.writer with any delimiter come back the same."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows(
        table
    )
    data = out.getvalue().encode("utf-8")
    batches = _rows(data, batch_rows=3)
    got = ([batches[0].header] if batches and batches[0].header else []) + [
        row for batch in batches for row in batch.rows
    ]
    assert got == [tuple(row) for row in table]
    number = 2 if batches and batches[0].header else 1
    for batch in batches:
        assert batch.first_row == number
        number += len(batch.rows)


def test_delimited_sniffer_prefers_the_consistent_delimiter() -> None:
    """Commas inside tab-separated fields do not win over the tab."""
    lines = ["Smith, Ann\t20500\tx", "Lee, Bo\t20501\ty", "Ng, Cy\t20502\tz"]
    assert delimited.sniff_delimiter(lines) == ("\t", 3, 1.0)


def test_delimited_banner_above_header_is_preamble() -> None:
    """A one-field banner above the header comes first as its own rows; the header below
    it is still recognised and data rows keep the file's numbering."""
    data = ("FEDERAL TAX INFORMATION\n\n" + _table(rows=3)).encode()
    batches = _rows(data)
    assert [(b.first_row, b.where.line, b.header, len(b.rows)) for b in batches] == [
        (1, 1, None, 2),
        (4, 4, ("first_name", "street", "zip", "tin"), 3),
    ]


def test_delimited_single_column_file_has_no_preamble() -> None:
    """A file of one-field lines is a list, not a preamble over nothing."""
    assert delimited.preamble_rows([["a"], ["b"], ["c"]]) == 0


_LINE = st.lists(
    st.sampled_from(
        ["a", "1", " ", ",", "|", '"', '""', "x y", "\r", "\n", "\r\n", '"x y"', ',"', '",']
    ),
    max_size=8,
).map("".join)


@settings(max_examples=300)
@given(
    text=st.lists(_LINE, max_size=30).map("".join),
    delimiter=st.sampled_from([",", "|"]),
    size=st.integers(1, 7),
    piece=st.integers(1, 9),
)
def test_delimited_blocks_read_as_the_csv_module_does(
    text: str, delimiter: str, size: int, piece: int
) -> None:
    """Blocks split in C (no quote) and blocks read by the csv module (quotes, fields over
    lines) give the csv module's records, record numbers and first lines, whatever the
    line endings, empty lines and batch size."""
    reference = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    expected = []
    while True:
        line = reference.line_num + 1
        try:
            record = next(reference)
        except StopIteration:
            break
        expected.append((len(expected) + 1, line, tuple(record)))
    got = []
    failures: list[str] = []
    stream = io.StringIO(text, newline="")
    lines = delimited._TextLines(lambda n: stream.read(min(n, piece)))  # reads cut anywhere
    for number, line, chunk in delimited._chunks(lines, delimiter, size, size, 1000, failures):
        rows = chunk.parse() if isinstance(chunk, delimited._Deferred) else chunk
        assert rows
        for offset, row in enumerate(rows):
            got.append((number + offset, line if offset == 0 else None, row))
    assert failures == []
    assert [(n, r) for n, _, r in got] == [(n, r) for n, _, r in expected]
    firsts = {n: line for n, line, _ in got if line is not None}
    assert all(firsts[n] == line for n, line, _ in expected if n in firsts)


@settings(max_examples=300)
@given(
    text=st.lists(st.sampled_from(["a", "bc", "\r", "\n", "\r\n", "", " "]), max_size=60).map(
        "".join
    ),
    steps=st.lists(st.integers(0, 6), min_size=1, max_size=20),
    piece=st.integers(1, 9),
)
def test_text_lines_split_as_textiowrapper(text: str, steps: list[int], piece: int) -> None:
    """Blocks of lines (`_TextLines.take`, 0 meaning one line by iteration) are the lines
    TextIOWrapper(newline="") reads, with true counts, however the reads are cut."""
    expected = list(io.StringIO(text, newline=""))
    stream = io.StringIO(text, newline="")
    lines = delimited._TextLines(lambda n: stream.read(min(n, piece)))
    got: list[str] = []
    for step in steps * 30:
        if step == 0:
            got.extend(islice(lines, 1))
            continue
        block, count = lines.take(step)
        split = list(io.StringIO(block, newline=""))
        assert len(split) == count
        assert count == step or len(got) + count == len(expected)
        got.extend(split)
    got.extend(lines)
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 400), min_size=1, max_size=6000),
    count=st.integers(1, 3000),
    piece=st.integers(100, 300_000),
    seed=st.integers(0, 9),
)
def test_text_lines_take_large_blocks(
    lengths: list[int], count: int, piece: int, seed: int
) -> None:
    """Blocks of thousands of lines of uneven length (the window that counts them is
    resized), read in pieces of any size, hold exactly ``count`` lines each."""
    rng = random.Random(seed)
    expected = ["x" * n + rng.choice(["\n", "\r\n"]) for n in lengths]
    stream = io.StringIO("".join(expected), newline="")
    lines = delimited._TextLines(lambda n: stream.read(min(n, piece)))
    got: list[str] = []
    while True:
        block, taken = lines.take(count)
        split = list(io.StringIO(block, newline=""))
        assert taken == len(split)
        got.extend(split)
        if taken < count:
            break
    assert got == expected
