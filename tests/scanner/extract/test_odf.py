"""ODS, ODT and ODP: tables with repeats, paragraphs, pages, embedded objects, hostile parts."""

from __future__ import annotations

import io
import random
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import odf
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread
from tests.synthetic import formats
from tests.synthetic.formats import BILLION_LAUGHS
from tests.synthetic.formats import ODF_MIME as MIME
from tests.synthetic.formats import ODF_NS as NS

WHERE = Location(Path("people.ods"))
Item = Segment | Rows | Unread


def _ssn(seed: int) -> str:
    return valid_ssn(random.Random(seed))


def _odf(
    kind: str, body: str | bytes, extra: dict[str, str | bytes] | None = None
) -> zipfile.ZipFile:
    """The writer's package as the readers take it."""
    return zipfile.ZipFile(io.BytesIO(formats.odf(kind, body, extra)))


def _run(reader: object, zf: zipfile.ZipFile, where: Location = WHERE, **limits: int) -> list[Item]:
    assert callable(reader)
    items: Iterator[Item] = reader(zf, where, Limits(**limits))
    return list(items)


def _rows(items: list[Item]) -> list[Rows]:
    return [item for item in items if isinstance(item, Rows)]


def _unread(items: list[Item]) -> list[tuple[str | None, str | None, str]]:
    return [(i.where.sheet, i.where.member, i.reason) for i in items if isinstance(i, Unread)]


def _cell(text: str = "", repeat: int = 1, value: str | None = None) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if value is not None:
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}"{rep}>'
            f"<text:p>{text}</text:p></table:table-cell>"
        )
    if not text:
        return f"<table:table-cell{rep}/>"
    return (
        f'<table:table-cell office:value-type="string"{rep}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


def _row(*cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{''.join(cells)}</table:table-row>"


def _table(name: str, *rows: str) -> str:
    columns = '<table:table-column table:number-columns-repeated="1024"/>'
    return f'<table:table table:name="{name}">{columns}{"".join(rows)}</table:table>'


def test_odf_ods_tables_values_and_repeats() -> None:
    """Tables by name, float values as written not as displayed, repeats aligned and numbered."""
    ssn = _ssn(1)
    people = _table(
        "People",
        _row(_cell("name"), _cell("ssn"), _cell("street")),
        _row(_cell("Ann Lee"), _cell("1.23E+08", value=ssn), _cell("12 Elm St")),
        _row(_cell(repeat=3), repeat=2),
        _row(_cell(), _cell("x", repeat=2), _cell(repeat=1020)),
        _row(_cell("Bo Kim"), _cell(value=f"{ssn}.0"), _cell(repeat=1022)),
        _row(_cell(repeat=1024), repeat=1048570),
    )
    other = _table("Notes", _row(_cell("only")))
    items = _run(odf.extract_ods, _odf("spreadsheet", people + other))
    batches = _rows(items)
    assert [(b.where.sheet, b.first_row, b.header) for b in batches] == [
        ("People", 2, ("name", "ssn", "street")),
        ("Notes", 1, None),
    ]
    assert batches[0].rows == [
        ("Ann Lee", ssn, "12 Elm St"),
        (),
        (),
        ("", "x", "x"),
        ("Bo Kim", ssn),
    ]
    assert batches[1].rows == [("only",)]
    assert _unread(items) == []


def test_odf_ods_huge_repeat_claims_are_fast() -> None:
    """A million repeated empty rows and 16384 empty cells cost nothing; numbering holds."""
    body = _table(
        "Big",
        _row(_cell(repeat=16384), repeat=1048575),
        _row(_cell(repeat=16383), _cell(value="7")),
        _row(_cell("same", repeat=10**9), repeat=10**6),
    )
    start = time.monotonic()
    batches = _rows(_run(odf.extract_ods, _odf("spreadsheet", body), batch_rows=50))
    assert time.monotonic() - start < 1
    assert [(b.first_row, len(b.rows)) for b in batches] == [
        (1048576, 50),
        (1048626, 50),
        (1048676, 1),
    ]
    assert batches[0].rows[0] == ("",) * 16383 + ("7",)
    assert batches[0].rows[1] == ("same",) * 16384
    assert sum(len(b.rows) for b in batches) == 1 + 100


def test_odf_odt_paragraphs_tables_styles_and_comments() -> None:
    """Paragraph lines with spaces, tabs and breaks; a table as Rows; headers from styles.xml."""
    ssn = _ssn(2)
    body = (
        "<text:h>Notice</text:h>"
        f'<text:p>Dear <text:span>Ann</text:span><text:s text:c="2"/>Lee<text:tab/>{ssn}'
        "<text:line-break/>12 Elm St"
        "<office:annotation><dc:creator>Reviewer</dc:creator><text:p>check this</text:p>"
        "</office:annotation> again<text:note><text:note-citation>1</text:note-citation>"
        "<text:note-body><text:p>a note</text:p></text:note-body></text:note></text:p>"
        "<text:p/>"
        + _table("Table1", _row(_cell("name"), _cell("ssn")), _row(_cell("Bo Kim"), _cell(ssn)))
        + "<text:list><text:list-item><text:p>item</text:p></text:list-item></text:list>"
    )
    styles = (
        f"<office:document-styles {NS}><office:master-styles><style:master-page>"
        "<style:header><text:p>FEDERAL TAX INFORMATION</text:p></style:header>"
        "</style:master-page></office:master-styles></office:document-styles>"
    )
    items = _run(
        odf.extract_odt, _odf("text", body, {"styles.xml": styles}), Location(Path("a.odt"))
    )
    prose = [(i.text, i.where.sheet, i.where.line) for i in items if isinstance(i, Segment)]
    assert prose == [
        (
            f"Notice\ncheck this\na note\nDear Ann  Lee\t{ssn}\n12 Elm St again\n\nitem\n",
            None,
            1,
        ),
        ("FEDERAL TAX INFORMATION\n", "styles", 1),
    ]
    assert [(b.where.sheet, b.first_row, b.header, b.rows) for b in _rows(items)] == [
        ("Table1", 2, ("name", "ssn"), [("Bo Kim", ssn)])
    ]


def test_odf_odp_pages_notes_and_tables() -> None:
    """Each page has its number; notes are sheet notes on that page; tables keep the page."""
    ssn = _ssn(3)

    def frame(*paragraphs: str) -> str:
        inner = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
        return f"<draw:frame><draw:text-box>{inner}</draw:text-box></draw:frame>"

    table = _table("T", _row(_cell("name"), _cell("ssn")), _row(_cell("Ann Lee"), _cell(ssn)))
    body = (
        f'<draw:page draw:name="p1">{frame("Title", "sub")}</draw:page>'
        f'<draw:page draw:name="p2">{frame("Second")}'
        f"<draw:frame>{table}</draw:frame>"
        f"<presentation:notes>{frame('say hi')}</presentation:notes></draw:page>"
    )
    items = _run(odf.extract_odp, _odf("presentation", body), Location(Path("deck.odp")))
    prose = [(i.text, i.where.page, i.where.sheet) for i in items if isinstance(i, Segment)]
    assert prose == [("Title\nsub\n", 1, None), ("Second\n", 2, None), ("say hi\n", 2, "notes")]
    assert [(b.where.page, b.where.sheet, b.rows) for b in _rows(items)] == [
        (2, "T", [("Ann Lee", ssn)])
    ]


def test_odf_office_kind() -> None:
    """office_kind reads the mimetype member, else the manifest root entry; None otherwise."""
    assert odf.office_kind(_odf("spreadsheet", "")) == "ods"
    assert odf.office_kind(_odf("text", "")) == "odt"
    assert odf.office_kind(_odf("presentation", "")) == "odp"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
            f'"{MIME}text-template"/>'
            "</manifest:manifest>",
        )
    assert odf.office_kind(zipfile.ZipFile(buf)) == "odt"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
    assert odf.office_kind(zipfile.ZipFile(buf)) is None
    assert odf.READERS["ods"] is odf.extract_ods


def test_odf_billion_laughs_and_corrupt_content_are_unread() -> None:
    """Entity declarations and malformed XML in content.xml are Unread corrupt; styles read."""
    styles = f"<office:document-styles {NS}><text:p>footer</text:p></office:document-styles>"
    bomb = (
        BILLION_LAUGHS
        + f"<office:document-content {NS}><text:p>&lol9;</text:p></office:document-content>"
    )
    for content in (bomb, f"<office:document-content {NS}><text:p>cut"):
        start = time.monotonic()
        items = _run(odf.extract_odt, _odf("text", content, {"styles.xml": styles}))
        assert time.monotonic() - start < 2
        assert _unread(items) == [(None, None, "corrupt")]
        assert [(i.text, i.where.sheet) for i in items if isinstance(i, Segment)] == [
            ("footer\n", "styles")
        ]


def test_odf_encrypted_parts_are_unread() -> None:
    """Parts the manifest marks as encrypted are Unread encrypted, never parsed."""
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="x"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum="AAAA"/></manifest:file-entry>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    styles = f"<office:document-styles {NS}><text:p>footer</text:p></office:document-styles>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", MIME + "text")
        zf.writestr("content.xml", random.Random(6).randbytes(300))
        zf.writestr("styles.xml", styles)
        zf.writestr("META-INF/manifest.xml", manifest)
    items = _run(odf.extract_odt, zipfile.ZipFile(buf))
    assert _unread(items) == [(None, None, "encrypted")]
    assert [(i.text, i.where.sheet) for i in items if isinstance(i, Segment)] == [
        ("footer\n", "styles")
    ]


def test_odf_ratio_and_bytes_limits() -> None:
    """A content.xml bomb is limit:ratio; past the byte budget it is limit:bytes."""
    bomb = f"<office:document-content {NS}>" + " " * (30 << 20) + "</office:document-content>"
    assert _unread(_run(odf.extract_ods, _odf("spreadsheet", bomb))) == [
        (None, None, "limit:ratio")
    ]
    rows = _table("S", *(_row(_cell(f"r{n}")) for n in range(2000)))
    items = _run(odf.extract_ods, _odf("spreadsheet", rows), max_decompressed_bytes=20_000)
    assert _unread(items) == [(None, None, "limit:bytes")]


def test_odf_embedded_objects_and_depth() -> None:
    """Sub-documents are read under their folder name; binary objects go to the registry."""
    ssn = _ssn(4)
    sub = (
        f"<office:document-content {NS}><office:body><office:spreadsheet>"
        + _table("Sheet1", _row(_cell("Ann Lee"), _cell(ssn)))
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    extra: dict[str, str | bytes] = {
        "Object 1/content.xml": sub,
        "Object 1/styles.xml": "<x/>",
        "Object 2": f"name,ssn\nBo Kim,{ssn}\n".encode(),
        "Pictures/1.png": b"\x89PNG\r\n\x1a\n",
        "ObjectReplacements/Object 1": b"\x00\x01",
    }
    zf = _odf("text", "<text:p>see objects</text:p>", extra)
    where = Location(Path("box.zip"), member="docs/a.odt")
    items = _run(odf.extract_odt, zf, where)
    assert [(b.where.member, b.where.sheet, b.rows) for b in _rows(items)] == [
        ("docs/a.odt", "Object 1/Sheet1", [("Ann Lee", ssn)]),
        ("docs/a.odt/Object 2", None, [("Bo Kim", ssn)]),
    ]
    items = list(odf.extract_odt(zf, where, Limits(max_depth=1), 1))
    assert _unread(items) == [(None, "docs/a.odt/Object 2", "limit:depth")]


def test_odf_more_members_than_max_members() -> None:
    """More embedded parts than max_members end with one Unread limit:members."""
    extra: dict[str, str | bytes] = {f"Object {n}": b"plain text\n" for n in range(1, 6)}
    items = _run(odf.extract_odt, _odf("text", "<text:p>x</text:p>", extra), max_members=3)
    assert _unread(items) == [(None, None, "limit:members")]
    assert [i.where.member for i in items if isinstance(i, Segment)] == [
        None,
        "Object 1",
        "Object 2",
    ]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_odf_arbitrary_content_only_unread(data: bytes) -> None:
    """Arbitrary bytes as content.xml raise nothing but ExtractError; at most Unread corrupt."""
    for reader in (odf.extract_ods, odf.extract_odt, odf.extract_odp):
        try:
            items = _run(reader, _odf("text", data), max_text_chars=10_000)
        except ExtractError:
            continue
        assert all(item.reason == "corrupt" for item in items if isinstance(item, Unread))
