"""Fixed-width records: inferred columns, optional header, row numbers."""

from __future__ import annotations

import io
import random
from pathlib import Path

from ftiscan.scanner.extract import fixedwidth
from ftiscan.scanner.model import Limits, Location, Rows

WHERE = Location(Path("master.dat"))


def _records(count: int, header: bool) -> bytes:
    rng = random.Random(3)
    lines = [f"{'NAME':<12}{'STREET':<22}{'ZIP':<6}{'AMOUNT':>9}"] if header else []
    for i in range(count):
        name = rng.choice(["SMITH ANN", "LEE BO", "GARCIA", "O NEIL CY"])
        street = f"{rng.randint(1, 9999)} {rng.choice(['MAIN ST', 'OAK AVE', 'ELM RD'])}"
        lines.append(f"{name:<12}{street:<22}{20500 + i:05d} {rng.random() * 1000:9.2f}")
    return ("\n".join(lines) + "\n").encode()


def _rows(data: bytes, **limits: int) -> list[Rows]:
    return list(fixedwidth.extract(io.BytesIO(data), WHERE, Limits(**limits)))


def test_fixed_columns_and_header() -> None:
    """Columns come from aligned spaces; a word header is recognised as row 1."""
    batches = _rows(_records(30, header=True), batch_rows=10)
    assert batches[0].header == ("NAME", "STREET", "ZIP", "AMOUNT")
    assert [(b.first_row, b.where.line, len(b.rows)) for b in batches] == [
        (2, 2, 10),
        (12, 12, 10),
        (22, 22, 10),
    ]
    name, street, zipcode, amount = batches[0].rows[0]
    assert name in {"SMITH ANN", "LEE BO", "GARCIA", "O NEIL CY"}
    assert street.split(" ", 1)[1] in {"MAIN ST", "OAK AVE", "ELM RD"}
    assert zipcode == "20500"
    assert float(amount) >= 0


def test_fixed_without_header() -> None:
    """Data from the first line: header None, rows numbered from 1."""
    batches = _rows(_records(8, header=False))
    assert batches[0].header is None
    assert batches[0].first_row == 1
    assert len(batches[0].rows) == 8


def test_fixed_blank_lines_keep_numbering() -> None:
    """A blank line is skipped and the next row keeps its line number."""
    data = _records(6, header=False).replace(b"\n", b"\n\n", 1)
    batches = _rows(data)
    assert [(b.first_row, len(b.rows)) for b in batches] == [(1, 1), (3, 5)]


def test_infer_columns_ignores_a_rare_non_space() -> None:
    """A position that is a space in 95 % of lines still separates columns."""
    lines = ["AAAA BBBB"] * 40 + ["AAAAXBBBB"]
    assert fixedwidth.infer_columns(lines) == [0, 5]
