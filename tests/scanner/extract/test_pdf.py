"""PDF text by page and line, pages without text, attachments, encryption, damage.

`_pdf` (``tests.synthetic.formats.pdf``) writes a PDF by hand at test time: one object
per line of the file, Helvetica text drawn with ``Tj`` in FlateDecode content streams, a
correct cross-reference table; pages given as None draw only a filled rectangle (no
text, like a scan). Attachments go into the EmbeddedFiles name tree. ``encrypt`` adds a
Standard security handler whose user password is unknown (random O and U entries), so
PDFium asks for a password.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import pdf
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread
from tests.synthetic.formats import OneWay
from tests.synthetic.formats import pdf as _pdf

WHERE = Location(Path("docs/return.pdf"))
Item = Segment | Rows | Unread


def _run(data: bytes, limits: Limits | None = None, where: Location = WHERE) -> list[Item]:
    return list(pdf.extract_pdf(io.BytesIO(data), where, limits or Limits()))


def _dashed(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def test_pdf_text_by_page_and_line() -> None:
    """Every page gives its lines, with the page number and the line within the page."""
    ssn = valid_ssn(random.Random(3))
    data = _pdf([["Form 1040", "Name: Pat Example"], ["SSN " + _dashed(ssn), "12 Oak St"]])
    items = _run(data)
    assert all(isinstance(i, Segment) for i in items)
    lines = [
        (i.where.page, i.where.line + k, line)
        for i in items
        if isinstance(i, Segment) and i.where.line is not None
        for k, line in enumerate(i.text.splitlines())
    ]
    assert lines == [
        (1, 1, "Form 1040"),
        (1, 2, "Name: Pat Example"),
        (2, 1, "SSN " + _dashed(ssn)),
        (2, 2, "12 Oak St"),
    ]


def test_pdf_form_field_values_and_comments_follow_the_page_text() -> None:
    """Filled-in text fields and comments are read after the page's own lines."""
    ssn = _dashed(valid_ssn(random.Random(8)))
    data = _pdf(
        [["Form 1040"], None],
        fields={0: [("f1_01", "Pat Example"), ("f1_02", ssn)], 1: [("f2_01", "12 Oak St")]},
        comments={0: "checked by  reviewer"},
    )
    items = _run(data)
    assert [(i.where.page, i.where.line, getattr(i, "text", None)) for i in items] == [
        (1, 1, f"Form 1040\nPat Example\n{ssn}\nchecked by reviewer\n"),
        (2, 1, "12 Oak St\n"),
    ]


def test_pdf_blocks_are_bounded() -> None:
    """A page with many lines comes in blocks of at most block_chars, lines numbered on."""
    lines = [f"line {i:03d} of the page" for i in range(60)]
    items = _run(_pdf([lines]), Limits(block_chars=200))
    segments = [i for i in items if isinstance(i, Segment)]
    assert len(segments) > 5
    assert all(len(s.text) <= 200 for s in segments)
    expected = 1
    for segment in segments:
        assert (segment.where.page, segment.where.line) == (1, expected)
        expected += segment.text.count("\n")
    assert expected == 61


def test_pdf_without_any_text_layer() -> None:
    """Pages that hold no text at all: nothing yielded, then no-text-layer for the file."""
    seen: list[Item] = []
    with pytest.raises(ExtractError) as caught:
        seen.extend(pdf.extract_pdf(io.BytesIO(_pdf([None, None])), WHERE, Limits()))
    assert seen == []
    assert (caught.value.reason, caught.value.detail) == ("no-text-layer", "2 pages, no text")


def test_pdf_some_pages_without_text() -> None:
    """A scanned page among text pages is named with its page number."""
    items = _run(_pdf([None, ["page two"], None]))
    assert [(type(i).__name__, i.where.page) for i in items] == [
        ("Unread", 1),
        ("Segment", 2),
        ("Unread", 3),
    ]
    assert {i.reason for i in items if isinstance(i, Unread)} == {"no-text-layer"}


def test_pdf_pages_without_text_are_capped() -> None:
    """Past 20 pages without text, one summary Unread stands for the rest."""
    items = _run(_pdf([["cover"]] + [None] * 30))
    unread = [i for i in items if isinstance(i, Unread)]
    assert [u.where.page for u in unread] == [*range(2, 22), None]
    assert {u.reason for u in unread} == {"no-text-layer"}


def test_pdf_needing_a_password_is_encrypted() -> None:
    """A PDF whose user password is not empty is reported as encrypted."""
    with pytest.raises(ExtractError) as caught:
        _run(_pdf([["secret"]], encrypt=True))
    assert caught.value.reason == "encrypted"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + b"\x00" * 50, b"%PDF-1.4\n1 0 obj << /Type /Catalog", b"%PDF-"],
)
def test_pdf_damaged_is_corrupt(data: bytes) -> None:
    """A file PDFium cannot open is corrupt."""
    with pytest.raises(ExtractError) as caught:
        _run(data)
    assert caught.value.reason == "corrupt"


def test_pdf_attachment_goes_to_the_registry() -> None:
    """An embedded CSV gives rows under attachments/<name>, nested under the member."""
    rng = random.Random(11)
    csv = "name,ssn\n" + "".join(f"P{i},{_dashed(valid_ssn(rng))}\n" for i in range(3))
    data = _pdf([["see attached"]], {"people.csv": csv.encode()})
    where = Location(Path("mail.eml"), member="attachments/report.pdf")
    items = _run(data, where=where)
    rows = [i for i in items if isinstance(i, Rows)]
    assert [(r.where.member, r.first_row, len(r.rows)) for r in rows] == [
        ("attachments/report.pdf/attachments/people.csv", 2, 3)
    ]
    assert rows[0].where.page is None


def test_pdf_attachment_limits() -> None:
    """Attachments at max_depth, past max_members and past the bytes left are Unread."""
    data = _pdf([["x"]], {"a.txt": b"alpha\n", "b.txt": b"beta\n", "c.txt": b"gamma\n"})
    items = _run(data, Limits(max_depth=0))
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        ("attachments/a.txt", "limit:depth"),
        ("attachments/b.txt", "limit:depth"),
        ("attachments/c.txt", "limit:depth"),
    ]
    items = _run(data, Limits(max_members=2))
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        (None, "limit:members")
    ]
    assert [i.where.member for i in items if isinstance(i, Segment)] == [
        None,
        "attachments/a.txt",
        "attachments/b.txt",
    ]


def test_pdf_attachment_bomb_stops_at_bytes_limit() -> None:
    """20 MB of zeros in a small embedded file is not handed on past the bytes limit."""
    start = time.monotonic()
    data = _pdf([["x"]], {"zeros.bin": b"\0" * (20 << 20)})
    assert len(data) < 100_000
    items = _run(data, Limits(max_decompressed_bytes=1 << 20))
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        ("attachments/zeros.bin", "limit:bytes")
    ]
    assert time.monotonic() - start < 10


def test_pdf_unsupported_attachment() -> None:
    """An attachment of a kind without an extractor is Unread unsupported:<kind>."""
    data = _pdf([["x"]], {"pic.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 40})
    items = _run(data)
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        ("attachments/pic.png", "unsupported:png")
    ]


def test_pdf_text_limit() -> None:
    """Past max_text_chars the text read is kept and the bytes limit is raised."""
    data = _pdf([[f"page {p} line {i}" for i in range(40)] for p in range(10)])
    seen: list[Item] = []
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        seen.extend(pdf.extract_pdf(io.BytesIO(data), WHERE, Limits(max_text_chars=1000)))
    assert 0 < sum(len(i.text) for i in seen if isinstance(i, Segment)) <= 1000


def test_pdf_from_stream_that_cannot_seek(tmp_path: Path) -> None:
    """A non-seekable stream is read into memory (bounded); a file is read in place."""
    data = _pdf([["one"], ["two"]])
    items = list(pdf.extract_pdf(io.BufferedReader(OneWay(data)), WHERE, Limits()))
    assert [i.where.page for i in items] == [1, 2]
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        list(
            pdf.extract_pdf(
                io.BufferedReader(OneWay(data)), WHERE, Limits(max_decompressed_bytes=100)
            )
        )
    path = tmp_path / "f.pdf"
    path.write_bytes(data)
    before = os.stat(path)
    with path.open("rb") as fh:
        items = list(pdf.extract_pdf(fh, WHERE, Limits()))
    assert [i.text for i in items if isinstance(i, Segment)] == ["one\n", "two\n"]
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns


@settings(max_examples=200, deadline=None)
@given(
    raw=st.binary(max_size=2048),
    edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6),
)
def test_pdf_damaged_input_raises_only_extract_errors(
    raw: bytes, edits: list[tuple[int, int]]
) -> None:
    """Arbitrary bytes after a PDF header, or a damaged PDF, end in items or ExtractError."""
    sample = bytearray(_SAMPLE)
    for pos, value in edits:
        sample[pos % len(sample)] = value
    for data in (b"%PDF-1.4\n" + raw, bytes(sample)):
        with contextlib.suppress(ExtractError):
            list(pdf.extract_pdf(io.BytesIO(data), WHERE, Limits(max_decompressed_bytes=1 << 20)))


_SAMPLE = _pdf([["alpha beta"], None], {"n.txt": b"note\n"})
