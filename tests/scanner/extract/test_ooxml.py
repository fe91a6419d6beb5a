"""XLSX, DOCX and PPTX: sheets, cells, paragraphs, slides, embeddings and hostile parts."""

from __future__ import annotations

import io
import random
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import _budget, _xml, ooxml
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread
from tests.synthetic import formats
from tests.synthetic.formats import (
    BILLION_LAUGHS,
    DOCX_CT,
    DRAW,
    MAIN,
    PPTX_CT,
    PRES,
    REL,
    WORD,
    XLSM_CT,
)
from tests.synthetic.formats import rels_xml as _rels
from tests.synthetic.formats import sheet_xml as _sheet
from tests.synthetic.formats import word_p as _p
from tests.synthetic.formats import word_r as _r
from tests.synthetic.formats import word_table as _tbl

WHERE = Location(Path("book.xlsx"))
Item = Segment | Rows | Unread


def _ssn(seed: int) -> str:
    return valid_ssn(random.Random(seed))


def _opened(data: bytes) -> zipfile.ZipFile:
    """The writer's bytes as the readers take them (tests flip member flags on it)."""
    return zipfile.ZipFile(io.BytesIO(data))


def _package(main: str, content_type: str, parts: dict[str, str | bytes]) -> zipfile.ZipFile:
    return _opened(formats.ooxml_package(main, content_type, parts))


def _one_cell(text: str) -> str:
    return _sheet(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{text}</t></is></c></row>')


def _xlsx(
    sheets: list[tuple[str, str | bytes]],
    shared: list[str] | None = None,
    extra: dict[str, str | bytes] | None = None,
    content_type: str = formats.XLSX_CT,
) -> zipfile.ZipFile:
    return _opened(formats.xlsx_xml(sheets, shared, extra, content_type))


def _run(reader: object, zf: zipfile.ZipFile, where: Location = WHERE, **limits: int) -> list[Item]:
    assert callable(reader)
    items: Iterator[Item] = reader(zf, where, Limits(**limits))
    return list(items)


def _rows(items: list[Item]) -> list[Rows]:
    return [item for item in items if isinstance(item, Rows)]


def _unread(items: list[Item]) -> list[tuple[str | None, str]]:
    return [(item.where.sheet, item.reason) for item in items if isinstance(item, Unread)]


def test_ooxml_xlsx_sheets_cells_and_numbers() -> None:
    """Sheet names, shared and inline strings, raw numbers, header and column alignment."""
    ssn = _ssn(1)
    shared = [
        "<si><t>name</t></si>",
        "<si><t>ssn</t></si>",
        "<si><t>street</t></si>",
        '<si><r><t>Ann </t></r><r><rPr><b/></rPr><t xml:space="preserve">Lee</t></r>'
        "<rPh><t>PHONETIC</t></rPh></si>",
    ]
    people = _sheet(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c></row>'
        f'<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2"><v>{ssn}</v></c>'
        '<c r="C2" t="inlineStr"><is><t>12 Elm St</t></is></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>Bo Kim</t></is></c>'
        f'<c r="B3" s="2"><v>{ssn}.0</v></c></row>'
        f'<row r="5"><c r="C5" t="str"><v>x</v></c><c r="B5"><v>{ssn[0]}.{ssn[1:]}E8</v></c></row>'
    )
    other = _sheet('<row r="7"><c r="B7" t="b"><v>1</v></c><c r="D7"><v>0.25</v></c></row>')
    items = _run(ooxml.extract_xlsx, _xlsx([("People", people), ("Other", other)], shared))
    batches = _rows(items)
    assert [(b.where.sheet, b.first_row, b.header) for b in batches] == [
        ("People", 2, ("name", "ssn", "street")),
        ("Other", 7, None),
    ]
    assert batches[0].rows == [
        ("Ann Lee", ssn, "12 Elm St"),
        ("Bo Kim", ssn),
        (),
        ("", ssn, "x"),
    ]
    assert batches[1].rows == [("", "TRUE", "", "0.25")]
    assert _unread(items) == []


def test_ooxml_xlsx_office_kind() -> None:
    """office_kind names xlsx for XLSX and XLSM, docx, pptx, and None for a plain zip."""
    sheet = _sheet("")
    assert ooxml.office_kind(_xlsx([("S", sheet)])) == "xlsx"
    assert ooxml.office_kind(_xlsx([("S", sheet)], content_type=XLSM_CT)) == "xlsx"
    assert ooxml.office_kind(_package("word/document.xml", DOCX_CT, {})) == "docx"
    assert ooxml.office_kind(_package("ppt/presentation.xml", PPTX_CT, {})) == "pptx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.csv", "a,b\n")
    assert ooxml.office_kind(zipfile.ZipFile(buf)) is None
    assert ooxml.READERS["xlsx"] is ooxml.extract_xlsx


def test_ooxml_xlsx_batches_and_orphan_sheet() -> None:
    """Rows come in batches of batch_rows; a worksheet no sheet lists is read by its part name."""
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 26))
    zf = _xlsx(
        [("Data", _sheet(rows))],
        extra={"xl/worksheets/hidden.xml": _sheet('<row r="1"><c r="A1"><v>1</v></c></row>')},
    )
    batches = _rows(_run(ooxml.extract_xlsx, zf, batch_rows=10))
    assert [(b.where.sheet, b.first_row, len(b.rows)) for b in batches] == [
        ("Data", 1, 10),
        ("Data", 11, 10),
        ("Data", 21, 5),
        ("hidden", 1, 1),
    ]
    assert batches[2].rows[-1] == ("25",)


def test_ooxml_xlsx_billion_laughs_is_corrupt_and_others_read() -> None:
    """A sheet declaring entities is Unread corrupt, never expanded; the next sheet is read."""
    bomb = BILLION_LAUGHS + _one_cell("&lol9;")
    xxe = '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _one_cell(
        "&x;"
    )
    good = _sheet('<row r="4"><c r="A4"><v>7</v></c></row>')
    start = time.monotonic()
    items = _run(ooxml.extract_xlsx, _xlsx([("Bomb", bomb), ("Xxe", xxe), ("Good", good)]))
    assert time.monotonic() - start < 2
    assert _unread(items) == [("Bomb", "corrupt"), ("Xxe", "corrupt")]
    assert [(b.where.sheet, b.rows) for b in _rows(items)] == [("Good", [("7",)])]


def test_ooxml_xlsx_doctype_after_a_long_prolog_is_refused() -> None:
    """A DOCTYPE that starts after the first 64 KiB chunk is still refused."""
    body = (
        '<?xml version="1.0"?><!--'
        + "x" * 70_000
        + '--><!DOCTYPE w [<!ENTITY a "aaaa">]>'
        + _one_cell("&a;")
    )
    items = _run(ooxml.extract_xlsx, _xlsx([("Late", body)]))
    assert _unread(items) == [("Late", "corrupt")]
    assert _rows(items) == []


def test_ooxml_xlsx_corrupt_sheet_and_missing_part() -> None:
    """Malformed XML in a sheet: its rows before the damage, Unread corrupt, the next sheet."""
    broken = (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><v>5</v></c></row><row r="2"><c'
    )
    good = _sheet('<row r="1"><c r="A1"><v>6</v></c></row>')
    items = _run(ooxml.extract_xlsx, _xlsx([("Broken", broken), ("Good", good)]))
    assert _unread(items) == [("Broken", "corrupt")]
    assert [(b.where.sheet, b.rows) for b in _rows(items)] == [
        ("Broken", [("5",)]),
        ("Good", [("6",)]),
    ]


def test_ooxml_xlsx_deep_nesting_is_corrupt() -> None:
    """Elements nested thousands deep are refused as corrupt."""
    deep = f'<worksheet xmlns="{MAIN}">' + "<x>" * 5000 + "</x>" * 5000 + "</worksheet>"
    items = _run(ooxml.extract_xlsx, _xlsx([("Deep", deep)]))
    assert _unread(items) == [("Deep", "corrupt")]


def test_ooxml_xlsx_ratio_and_bytes_limits() -> None:
    """A highly compressed sheet is limit:ratio; a sheet past the byte budget is limit:bytes."""
    padding = " " * (30 * 1024 * 1024)
    bomb = f'<worksheet xmlns="{MAIN}"><sheetData>{padding}</sheetData></worksheet>'
    good = _sheet('<row r="1"><c r="A1"><v>1</v></c></row>')
    items = _run(ooxml.extract_xlsx, _xlsx([("Bomb", bomb), ("Good", good)]))
    assert _unread(items) == [("Bomb", "limit:ratio")]
    assert [b.where.sheet for b in _rows(items)] == ["Good"]
    big = _sheet("".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 5000)))
    items = _run(
        ooxml.extract_xlsx, _xlsx([("Big", big), ("Good", good)]), max_decompressed_bytes=50_000
    )
    assert _unread(items) == [("Big", "limit:bytes")]
    assert [b.where.sheet for b in _rows(items)] == ["Good"]


def test_ooxml_xlsx_byte_budget_is_per_file() -> None:
    """The byte budget counts every part: sheets past what is left are Unread limit:bytes."""
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 3000))
    zf = _xlsx([("One", _sheet(rows)), ("Two", _sheet(rows)), ("Three", _sheet(rows))])
    size = zf.getinfo("xl/worksheets/sheet1.xml").file_size
    items = _run(ooxml.extract_xlsx, zf, max_decompressed_bytes=size * 2)
    assert {b.where.sheet for b in _rows(items)} == {"One"}
    assert _unread(items) == [("Two", "limit:bytes"), ("Three", "limit:bytes")]


def test_ooxml_counted_bytes_past_budget_exhaust_the_file() -> None:
    """Bytes really decompressed past the budget raise limit:bytes and mark the file exhausted."""
    zf = _xlsx([("One", _sheet("<row/>" * 1000))])
    info = zf.getinfo("xl/worksheets/sheet1.xml")
    budget = _xml.Budget(Limits(max_decompressed_bytes=info.file_size + 10))
    with _xml.open_part(zf, info, budget) as fh:
        budget.out = 100  # another part of the same file was read meanwhile
        with pytest.raises(LimitExceeded, match="limit:bytes"):
            fh.read()
    assert budget.exhausted
    with pytest.raises(LimitExceeded, match="limit:bytes"), _xml.open_part(zf, info, budget):
        pass


def test_ooxml_whole_file_budget_is_charged() -> None:
    """Decompressed parts count against the budget of the whole scanned file, across containers."""
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 3000))
    zf = _xlsx([("One", _sheet(rows)), ("Two", _sheet(rows))])
    size = zf.getinfo("xl/worksheets/sheet1.xml").file_size
    seen: list[Item] = []
    with _budget.per_file(size + size // 2), pytest.raises(LimitExceeded, match="limit:bytes"):
        seen.extend(ooxml.extract_xlsx(zf, WHERE, Limits()))
    assert sum(len(b.rows) for b in _rows(seen) if b.where.sheet == "One") == 2999


def test_ooxml_counted_ratio_catches_lying_sizes() -> None:
    """A member whose declared compressed size hides its ratio is stopped by the counted ratio."""
    noise = random.Random(5).randbytes(2 << 20)  # real bytes after the member to read into
    zf = _xlsx(
        [("Bomb", f'<worksheet xmlns="{MAIN}">' + " " * (40 << 20) + "</worksheet>")],
        extra={"xl/media/noise.bin": noise},
    )
    info = zf.getinfo("xl/worksheets/sheet1.xml")
    info.compress_size += 1 << 20  # declares about 40:1; the real stream is about 1000:1
    items = _run(ooxml.extract_xlsx, zf)
    assert _unread(items) == [("Bomb", "limit:ratio")]


def test_ooxml_xlsx_huge_dimension_and_far_cell_is_fast() -> None:
    """A 1,048,576 x 16384 dimension, empty styled cells and a cell at XFD1048576 stay fast."""
    empties = "".join(f'<c r="{col}2" s="1"/>' for col in ("A", "B", "ZZ", "XFC"))
    body = (
        f'<worksheet xmlns="{MAIN}"><dimension ref="A1:XFD1048576"/><sheetData>'
        f'<row r="2">{empties}</row><row r="1048576"><c r="XFD1048576"><v>9</v></c>'
        '<c r="QQQQQ1048576"><v>8</v></c></row></sheetData></worksheet>'
    )
    start = time.monotonic()
    batches = _rows(_run(ooxml.extract_xlsx, _xlsx([("Wide", body)])))
    assert time.monotonic() - start < 1
    assert [(b.first_row, len(b.rows)) for b in batches] == [(1048576, 1)]
    row = batches[0].rows[0]
    assert len(row) == 16385
    assert (row[16383], row[16384]) == ("9", "8")


def test_ooxml_xlsx_shared_strings_limit() -> None:
    """Shared strings past max_text_chars are Unread limit:bytes; the sheet still reads."""
    shared = [f"<si><t>{'w' * 50}{n}</t></si>" for n in range(10)]
    sheet = _sheet(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>9</v></c>'
        '<c r="C1"><v>3</v></c></row>'
    )
    items = _run(ooxml.extract_xlsx, _xlsx([("S", sheet)], shared), max_text_chars=200)
    assert _unread(items) == [("sharedStrings", "limit:bytes")]
    assert _rows(items)[0].rows == [("w" * 50 + "0", "", "3")]


def test_ooxml_xlsx_text_limit_raises_after_rows() -> None:
    """More characters than max_text_chars end the file with LimitExceeded after earlier rows."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{"z" * 40}</t></is></c></row>'
        for r in range(1, 100)
    )
    seen: list[Item] = []
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        seen.extend(
            ooxml.extract_xlsx(
                _xlsx([("S", _sheet(rows))]), WHERE, Limits(max_text_chars=1000, batch_rows=5)
            )
        )
    assert sum(len(b.rows) for b in _rows(seen)) >= 20


def test_ooxml_xlsx_more_parts_than_max_members() -> None:
    """More sheets than max_members yield one Unread limit:members after the first ones."""
    sheets = [(f"S{n}", _sheet(f'<row r="1"><c r="A1"><v>{n}</v></c></row>')) for n in range(5)]
    items = _run(ooxml.extract_xlsx, _xlsx(sheets), max_members=3)
    assert [b.where.sheet for b in _rows(items)] == ["S0", "S1", "S2"]
    assert _unread(items) == [(None, "limit:members")]


def test_ooxml_xlsx_encrypted_member_is_unread() -> None:
    """A zip member flagged as encrypted is Unread encrypted, the others are read."""
    zf = _xlsx(
        [("Locked", _sheet("")), ("Open", _sheet('<row r="1"><c r="A1"><v>1</v></c></row>'))]
    )
    zf.getinfo("xl/worksheets/sheet1.xml").flag_bits |= 0x1  # as zipfile reads a ZipCrypto member
    items = _run(ooxml.extract_xlsx, zf)
    assert _unread(items) == [("Locked", "encrypted")]
    assert [b.where.sheet for b in _rows(items)] == ["Open"]


def test_ooxml_xlsx_comments_are_prose() -> None:
    """Legacy and threaded cell comments are prose with the part name as sheet."""
    comments = (
        f'<comments xmlns="{MAIN}"><authors><author>a</author></authors><commentList>'
        '<comment ref="B2" authorId="0"><text><r><t>call back</t></r></text></comment>'
        "</commentList></comments>"
    )
    threaded = (
        '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/'
        'threadedcomments"><threadedComment ref="A1"><text>see file</text></threadedComment>'
        "</ThreadedComments>"
    )
    extra: dict[str, str | bytes] = {
        "xl/comments1.xml": comments,
        "xl/threadedComments/threadedComment1.xml": threaded,
    }
    items = _run(ooxml.extract_xlsx, _xlsx([("S", _sheet(""))], extra=extra))
    segments = [(i.text, i.where.sheet, i.where.line) for i in items if isinstance(i, Segment)]
    assert segments == [
        ("call back\n", "comments1", 1),
        ("see file\n", "threadedcomments/threadedcomment1", 1),
    ]


def _docx(body: str, extra: dict[str, str | bytes] | None = None) -> zipfile.ZipFile:
    return _opened(formats.docx_xml(body, extra))


def test_ooxml_docx_paragraphs_tables_and_parts() -> None:
    """Paragraph lines, tab and break, tables as Rows, headers and comments by part name."""
    ssn = _ssn(2)
    body = (
        _p(_r("Dear "), _r("Ann Lee"))
        + _p()
        + _p(_r("SSN"), "<w:r><w:tab/></w:r>", _r(ssn), "<w:r><w:br/></w:r>", _r("12 Elm St"))
        + _tbl(("name", "ssn"), ("Bo Kim", ssn))
        + _p(_r("after"), "<w:del><w:r><w:delText>gone</w:delText></w:r></w:del>")
        + _tbl(("x",))
    )
    header = f'<w:hdr xmlns:w="{WORD}">{_p(_r("FEDERAL TAX INFORMATION"))}</w:hdr>'
    comments = (
        f'<w:comments xmlns:w="{WORD}"><w:comment w:id="0">{_p(_r("check"))}</w:comment>'
        "</w:comments>"
    )
    items = _run(
        ooxml.extract_docx,
        _docx(body, {"word/header1.xml": header, "word/comments.xml": comments}),
        Location(Path("letter.docx")),
    )
    prose = [(i.text, i.where.sheet, i.where.line) for i in items if isinstance(i, Segment)]
    assert prose == [
        (f"Dear Ann Lee\n\nSSN\t{ssn}\n12 Elm St\naftergone\n", None, 1),
        ("check\n", "comments", 1),
        ("FEDERAL TAX INFORMATION\n", "header1", 1),
    ]
    tables = [(b.where.sheet, b.first_row, b.header, b.rows) for b in _rows(items)]
    assert tables == [
        ("table 1", 2, ("name", "ssn"), [("Bo Kim", ssn)]),
        ("table 2", 1, None, [("x",)]),
    ]


def test_ooxml_docx_textbox_and_fallback_read_once() -> None:
    """A text box paragraph is prose of its own and its VML fallback copy is not read twice."""
    box = (
        '<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/'
        'markup-compatibility/2006"><mc:Choice Requires="wps"><w:drawing>'
        f"<w:txbxContent>{_p(_r('boxed'))}</w:txbxContent></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><w:txbxContent>{_p(_r('boxed'))}</w:txbxContent></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    items = _run(ooxml.extract_docx, _docx(_p(_r("before "), box, _r("after"))))
    assert [i.text for i in items if isinstance(i, Segment)] == ["boxed\nbefore after\n"]


def test_ooxml_docx_embedded_files_go_to_the_registry() -> None:
    """Embedded parts are dispatched with their member name; unknown kinds are Unread."""
    ssn = _ssn(3)
    table = f"name,ssn\nAnn Lee,{ssn}\n".encode()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    zf = _docx(
        _p(_r("see attached")),
        {"word/embeddings/oleObject1.bin": table, "word/embeddings/image.png": png},
    )
    where = Location(Path("mail.eml"), member="att/letter.docx")
    items = _run(ooxml.extract_docx, zf, where)
    rows = _rows(items)
    assert [(b.where.member, b.rows) for b in rows] == [
        ("att/letter.docx/word/embeddings/oleObject1.bin", [("Ann Lee", ssn)])
    ]
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        ("att/letter.docx/word/embeddings/image.png", "unsupported:png")
    ]
    items = list(ooxml.extract_docx(zf, where, Limits(max_depth=2), 2))
    assert sorted((i.where.member or "", i.reason) for i in items if isinstance(i, Unread)) == [
        ("att/letter.docx/word/embeddings/image.png", "limit:depth"),
        ("att/letter.docx/word/embeddings/oleObject1.bin", "limit:depth"),
    ]


def test_ooxml_docx_without_main_part_is_corrupt() -> None:
    """A package without its main document yields Unread corrupt."""
    zf = _package("word/document.xml", DOCX_CT, {})
    assert _unread(_run(ooxml.extract_docx, zf)) == [(None, "corrupt")]


def _slide(*shapes: str) -> str:
    return (
        f'<p:sld xmlns:p="{PRES}" xmlns:a="{DRAW}"><p:cSld><p:spTree>'
        + "".join(shapes)
        + "</p:spTree></p:cSld></p:sld>"
    )


def _shape(*paragraphs: str) -> str:
    body = "".join(f"<a:p><a:pPr/><a:r><a:t>{p}</a:t></a:r></a:p>" for p in paragraphs)
    return f"<p:sp><p:txBody><a:bodyPr/>{body}</p:txBody></p:sp>"


def _atbl(*rows: tuple[str, ...]) -> str:
    body = "".join(
        "<a:tr>"
        + "".join(
            f"<a:tc><a:txBody><a:p><a:r><a:t>{c}</a:t></a:r></a:p></a:txBody></a:tc>" for c in row
        )
        + "</a:tr>"
        for row in rows
    )
    return (
        f"<p:graphicFrame><a:graphic><a:graphicData><a:tbl>{body}</a:tbl>"
        "</a:graphicData></a:graphic></p:graphicFrame>"
    )


def test_ooxml_pptx_slides_in_order_with_notes_and_tables() -> None:
    """Slides follow the presentation order with page numbers; notes and tables keep the page."""
    ssn = _ssn(4)
    presentation = (
        f'<p:presentation xmlns:p="{PRES}" xmlns:r="{REL}"><p:sldIdLst>'
        '<p:sldId id="256" r:id="rId2"/><p:sldId id="257" r:id="rId1"/>'
        "</p:sldIdLst></p:presentation>"
    )
    notes = (
        f'<p:notes xmlns:p="{PRES}" xmlns:a="{DRAW}"><p:cSld><p:spTree>'
        f"{_shape('say hi')}</p:spTree></p:cSld></p:notes>"
    )
    parts: dict[str, str | bytes] = {
        "ppt/presentation.xml": presentation,
        "ppt/_rels/presentation.xml.rels": _rels(
            ("rId1", "slide", "slides/slide1.xml"), ("rId2", "slide", "slides/slide2.xml")
        ),
        "ppt/slides/slide1.xml": _slide(
            _shape("Second", "line two"), _atbl(("name", "ssn"), ("Ann Lee", ssn))
        ),
        "ppt/slides/slide2.xml": _slide(_shape("First")),
        "ppt/slides/_rels/slide1.xml.rels": _rels(
            ("rId9", "notesSlide", "../notesSlides/notesSlide1.xml")
        ),
        "ppt/notesSlides/notesSlide1.xml": notes,
    }
    items = _run(
        ooxml.extract_pptx,
        _package("ppt/presentation.xml", PPTX_CT, parts),
        Location(Path("deck.pptx")),
    )
    prose = [(i.text, i.where.page, i.where.sheet) for i in items if isinstance(i, Segment)]
    assert prose == [
        ("First\n", 1, None),
        ("Second\nline two\n", 2, None),
        ("say hi\n", 2, "notes"),
    ]
    assert [(b.where.page, b.where.sheet, b.header, b.rows) for b in _rows(items)] == [
        (2, "table 1", ("name", "ssn"), [("Ann Lee", ssn)])
    ]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_ooxml_arbitrary_part_bytes_only_unread(data: bytes) -> None:
    """Arbitrary bytes as a sheet, a document or a slide never raise, at most Unread corrupt."""
    for reader, zf in (
        (ooxml.extract_xlsx, _xlsx([("S", data)])),
        (ooxml.extract_docx, _package("word/document.xml", DOCX_CT, {"word/document.xml": data})),
        (
            ooxml.extract_pptx,
            _package("ppt/presentation.xml", PPTX_CT, {"ppt/slides/slide1.xml": data}),
        ),
    ):
        try:
            items = _run(reader, zf, max_text_chars=10_000)
        except ExtractError:
            continue
        assert all(item.reason == "corrupt" for item in items if isinstance(item, Unread))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_ooxml_office_kind_never_raises(data: bytes) -> None:
    """Any [Content_Types].xml content gives a kind or None, never an exception."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", data)
    assert ooxml.office_kind(zipfile.ZipFile(buf)) in (None, "xlsx", "docx", "pptx")
