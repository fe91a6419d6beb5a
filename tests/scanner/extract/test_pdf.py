"""PDF text by page and line, pages without text, attachments, encryption, damage.

`_pdf` writes a PDF by hand at test time: one object per line of the file, Helvetica
text drawn with ``Tj`` in FlateDecode content streams, a correct cross-reference table;
pages given as None draw only a filled rectangle (no text, like a scan). Attachments go
into the EmbeddedFiles name tree. ``encrypt`` adds a Standard security handler whose
user password is unknown (random O and U entries), so PDFium asks for a password.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import pdf
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

WHERE = Location(Path("docs/return.pdf"))
Item = Segment | Rows | Unread


def _escape(text: str) -> bytes:
    raw = text.encode("latin-1")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: list[str]) -> bytes:
    ops = [b"BT /F1 12 Tf 14 TL 72 720 Td"]
    for line in lines:
        ops.append(b"(" + _escape(line) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def _pdf(
    pages: list[list[str] | None],
    attachments: dict[str, bytes] | None = None,
    encrypt: bool = False,
    fields: dict[int, list[tuple[str, str]]] | None = None,
    comments: dict[int, str] | None = None,
) -> bytes:
    """A PDF with one page per entry (lines of text, or None for a page without text)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: bytes = b"") -> int:
        packed = zlib.compress(data)
        head = b"<< /Length %d /Filter /FlateDecode %s>>" % (len(packed), extra)
        return add(head + b"\nstream\n" + packed + b"\nendstream")

    catalog = add(b"")  # filled in below
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    widgets: list[int] = []
    for number, lines in enumerate(pages):
        if lines is None:
            content = stream(b"0 0 1 rg 72 72 300 300 re f")
        else:
            content = stream(_content(lines))
        annots = []
        for k, (name, value) in enumerate((fields or {}).get(number, [])):
            annots.append(
                add(
                    b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (%s) /V (%s) "
                    b"/Rect [72 %d 300 %d] /F 4 >>"
                    % (_escape(name), _escape(value), 500 - 30 * k, 520 - 30 * k)
                )
            )
            widgets.append(annots[-1])
        if number in (comments or {}):
            note = _escape((comments or {})[number])
            annots.append(
                add(b"<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (%s) >>" % note)
            )
        listed = b" /Annots [%s]" % b" ".join(b"%d 0 R" % a for a in annots) if annots else b""
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R%s >>"
                % (tree, font, content, listed)
            )
        )
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    names = b""
    if attachments:
        entries = []
        for name, data in sorted(attachments.items()):
            embedded = stream(data, b"/Type /EmbeddedFile /Params << /Size %d >> " % len(data))
            spec = add(
                b"<< /Type /Filespec /F (%s) /UF (%s) /EF << /F %d 0 R >> >>"
                % (_escape(name), _escape(name), embedded)
            )
            entries.append(b"(%s) %d 0 R" % (_escape(name), spec))
        names = b" /Names << /EmbeddedFiles << /Names [%s] >> >>" % b" ".join(entries)
    if widgets:
        listed = b" ".join(b"%d 0 R" % w for w in widgets)
        names += b" /AcroForm << /Fields [%s] >>" % listed
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R%s >>" % (tree, names)
    trailer_extra = b""
    if encrypt:
        rng = random.Random(5)
        o_value = bytes(rng.randrange(256) for _ in range(32)).hex().encode()
        u_value = bytes(rng.randrange(256) for _ in range(32)).hex().encode()
        crypt = add(
            b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -44 >>" % (o_value, u_value)
        )
        ident = b"<" + b"ab" * 16 + b">"
        trailer_extra = b" /Encrypt %d 0 R /ID [%s %s]" % (crypt, ident, ident)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\n" % (len(objects) + 1, catalog, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


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


class _OneWay(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data[self._pos : self._pos + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def test_pdf_from_stream_that_cannot_seek(tmp_path: Path) -> None:
    """A non-seekable stream is read into memory (bounded); a file is read in place."""
    data = _pdf([["one"], ["two"]])
    items = list(pdf.extract_pdf(io.BufferedReader(_OneWay(data)), WHERE, Limits()))
    assert [i.where.page for i in items] == [1, 2]
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        list(
            pdf.extract_pdf(
                io.BufferedReader(_OneWay(data)), WHERE, Limits(max_decompressed_bytes=100)
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
