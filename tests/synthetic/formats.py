"""File writers for every format the scanner reads, all built by hand at test time.

Each writer is a small function that returns the file's bytes; the same inputs give the
same bytes (fixed timestamps, fixed MIME boundaries), so that generated trees are
deterministic per seed. Two levels:

* high level, from rows and paragraphs: ``xlsx``, ``docx``, ``pptx``, ``ods``, ``odt``,
  ``pdf``, ``xls``, ``msg``, ``eml``, ``sqlite``, ``rtf``, ``zip_archive``,
  ``tar_archive``, ``sevenzip``;
* low level, from parts and XML, for the extractor tests that need odd or hostile
  parts: ``ooxml_package``, ``xlsx_xml``, ``docx_xml``, ``odf``, ``ole``,
  ``biff8_workbook``, ``msg_tree``, ``lzfu``, with the fragments ``rels_xml``,
  ``sheet_xml``, ``word_p``, ``word_r`` and ``word_table``.

Nothing here holds data: callers pass synthetic values in (``tests.synthetic.people``).

>>> import zipfile, io
>>> book = xlsx({"People": [("name", "zip"), ("Ann Lee", 20500)]})
>>> sorted(zipfile.ZipFile(io.BytesIO(book)).namelist())[:2]
['[Content_Types].xml', '_rels/.rels']
>>> book == xlsx({"People": [("name", "zip"), ("Ann Lee", 20500)]})
True
>>> pdf([["hello"]]).startswith(b"%PDF-1.7")
True
>>> ole({"Workbook": b"x"})[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
True
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import random
import sqlite3
import struct
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Union
from xml.sax.saxutils import escape

__all__ = [
    "BILLION_LAUGHS",
    "CT",
    "DOCX_CT",
    "DRAW",
    "MAIN",
    "ODF_MIME",
    "ODF_NS",
    "OLE_MAGIC",
    "PKG",
    "PPTX_CT",
    "PRES",
    "REL",
    "WORD",
    "XLSM_CT",
    "XLSX_CT",
    "Cell",
    "OleTree",
    "OneWay",
    "biff8_workbook",
    "docx",
    "docx_xml",
    "eml",
    "lzfu",
    "msg",
    "msg_tree",
    "odf",
    "ods",
    "odt",
    "ole",
    "ooxml_package",
    "pdf",
    "pptx",
    "rels_xml",
    "rtf",
    "sevenzip",
    "sevenzip_members",
    "sheet_xml",
    "sqlite",
    "tar_archive",
    "word_p",
    "word_r",
    "word_table",
    "xls",
    "xlsx",
    "xlsx_xml",
    "zip_archive",
]

Cell = str | int | float | None
Table = Sequence[Sequence[Cell]]

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _cell_text(value: Cell) -> str:
    if value is None:
        return ""
    return (
        value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    )


# --------------------------------------------------------------------------- archives


def zip_archive(members: Mapping[str, bytes | str], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP of ``members`` (name -> data) in order, all dated 1980-01-01."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, _ZIP_DATE), data, compress_type=method)
    return out.getvalue()


def tar_archive(members: Mapping[str, bytes], compression: str = "") -> bytes:
    """A ustar/pax TAR of ``members``, mtime 0; ``compression`` "", "gz", "bz2" or "xz"."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    raw = out.getvalue()
    if compression == "gz":
        return gzip.compress(raw, mtime=0)
    if compression == "bz2":
        return bz2.compress(raw)
    if compression == "xz":
        return lzma.compress(raw)
    if compression:
        raise ValueError(f"unknown compression {compression!r}")
    return raw


def sevenzip(
    members: Mapping[str, bytes], password: str | None = None, header: bool = False
) -> bytes:
    """A 7z of ``members``; with ``password`` the members (and with ``header`` the
    header) are AES-encrypted. Timestamps are fixed, so without a password the bytes
    are the same on every call."""
    import py7zr
    from py7zr.helpers import ArchiveTimestamp

    fixed = ArchiveTimestamp.from_datetime(315532800.0)  # 1980-01-01
    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w", password=password, header_encryption=header) as sz:
        for name, data in members.items():
            sz.writestr(data, name)
            info = sz.header.files_info.files[-1]
            for key in ("creationtime", "lastwritetime", "lastaccesstime"):
                info[key] = fixed
    return out.getvalue()


def sevenzip_members(data: bytes) -> dict[str, bytes]:
    """The inverse of ``sevenzip`` (no password): member name -> bytes."""
    import py7zr

    with tempfile.TemporaryDirectory() as folder:
        with py7zr.SevenZipFile(io.BytesIO(data)) as archive:
            archive.extractall(path=folder)  # noqa: S202  # our own archives, into a temp dir
        root = Path(folder)
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }


# --------------------------------------------------------------------------- OOXML

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)
    )
    + "]>"
)
"""A DTD whose entity ``&lol9;`` would expand to 10**9 "lol"s (readers must refuse it)."""


class OneWay(io.RawIOBase):
    """A stream that can only be read forward (a pipe, a decompressed stream)."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # bytes buffer
        chunk = self._data[self._pos : self._pos + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DRAW = "http://schemas.openxmlformats.org/drawingml/2006/main"
PRES = "http://schemas.openxmlformats.org/presentationml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
XLSX_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
DOCX_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
PPTX_CT = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def rels_xml(*rels: tuple[str, str, str]) -> str:
    """A relationships part: (id, type under the officeDocument namespace, target)."""
    body = "".join(
        f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{target}"/>' for i, t, target in rels
    )
    return f'<Relationships xmlns="{PKG}">{body}</Relationships>'


def ooxml_package(main: str, content_type: str, parts: Mapping[str, str | bytes]) -> bytes:
    """An OPC package whose main part ``main`` has ``content_type``, plus ``parts``."""
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": (
            f'<Types xmlns="{CT}"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main}" ContentType="{content_type}"/></Types>'
        ),
        "_rels/.rels": rels_xml(("rId1", "officeDocument", main)),
    }
    members.update(parts)
    return zip_archive(members)


def sheet_xml(rows: str) -> str:
    """A worksheet part around ``rows`` (``<row>`` elements)."""
    return (
        f'<worksheet xmlns="{MAIN}"><dimension ref="A1:C3"/>'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )


def xlsx_xml(
    sheets: Sequence[tuple[str, str | bytes]],
    shared: Sequence[str] | None = None,
    extra: Mapping[str, str | bytes] | None = None,
    content_type: str = XLSX_CT,
) -> bytes:
    """A workbook from worksheet parts (name, XML); ``shared`` are ``<si>`` elements."""
    listed = "".join(
        f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
        for n, (name, _) in enumerate(sheets, start=1)
    )
    rels = [(f"rId{n}", "worksheet", f"worksheets/sheet{n}.xml") for n in range(1, len(sheets) + 1)]
    parts: dict[str, str | bytes] = {
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{listed}</sheets></workbook>'
        ),
    }
    for n, (_, body) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{n}.xml"] = body
    if shared is not None:
        rels.append(("rIdS", "sharedStrings", "sharedStrings.xml"))
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">{"".join(shared)}</sst>'
    parts["xl/_rels/workbook.xml.rels"] = rels_xml(*rels)
    parts.update(extra or {})
    return ooxml_package("xl/workbook.xml", content_type, parts)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx(sheets: Mapping[str, Table], shared_strings: bool = True) -> bytes:
    """A workbook with one sheet per entry: text in the shared string table (as Excel
    writes it; inline strings with ``shared_strings=False``), numbers as numbers."""
    strings: dict[str, int] = {}
    parts: list[tuple[str, str]] = []
    for name, rows in sheets.items():
        xml = []
        for r, row in enumerate(rows, start=1):
            cells = []
            for c, value in enumerate(row):
                ref = f"{_column(c)}{r}"
                if value is None or value == "":
                    continue
                if isinstance(value, int | float):
                    cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                elif shared_strings:
                    index = strings.setdefault(value, len(strings))
                    cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                else:
                    text = escape(value)
                    cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
            xml.append(f'<row r="{r}">{"".join(cells)}</row>')
        parts.append((name, sheet_xml("".join(xml))))
    shared = [f"<si><t>{escape(s)}</t></si>" for s in strings] if shared_strings else None
    return xlsx_xml(parts, shared)


def word_r(text: str) -> str:
    """A run of text (not escaped: callers pass XML-safe text or markup)."""
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def word_p(*runs: str) -> str:
    """A paragraph of runs (with a tab stop, as Word writes them)."""
    return (
        '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>'
        + "".join(runs)
        + "</w:p>"
    )


def word_table(*rows: Sequence[str]) -> str:
    """A table of cells, one paragraph each (text not escaped)."""
    body = "".join(
        "<w:tr>"
        + "".join(f"<w:tc><w:tcPr/>{word_p(word_r(cell))}</w:tc>" for cell in row)
        + "</w:tr>"
        for row in rows
    )
    return f"<w:tbl><w:tblPr/>{body}</w:tbl>"


def docx_xml(body: str, extra: Mapping[str, str | bytes] | None = None) -> bytes:
    """A document whose body is ``body`` (WordprocessingML), plus ``extra`` parts."""
    doc = f'<w:document xmlns:w="{WORD}"><w:body>{body}</w:body></w:document>'
    return ooxml_package("word/document.xml", DOCX_CT, {"word/document.xml": doc, **(extra or {})})


def docx(
    paragraphs: Sequence[str], tables: Sequence[Table] = (), header: str | None = None
) -> bytes:
    """A letter: the paragraphs, then each table; ``header`` goes into a page header part."""
    body = "".join(word_p(word_r(escape(p))) if p else word_p() for p in paragraphs)
    for table in tables:
        body += word_table(*[[escape(_cell_text(v)) for v in row] for row in table])
    extra = {}
    if header is not None:
        extra["word/header1.xml"] = (
            f'<w:hdr xmlns:w="{WORD}">{word_p(word_r(escape(header)))}</w:hdr>'
        )
    return docx_xml(body, extra)


def pptx(slides: Sequence[Sequence[str]], tables: Mapping[int, Table] | None = None) -> bytes:
    """A deck: one text box of paragraphs per slide; ``tables`` adds a table to slide N
    (0-based)."""
    ids = "".join(f'<p:sldId id="{256 + n}" r:id="rId{n + 1}"/>' for n in range(len(slides)))
    parts: dict[str, str | bytes] = {
        "ppt/presentation.xml": (
            f'<p:presentation xmlns:p="{PRES}" xmlns:r="{REL}"><p:sldIdLst>{ids}'
            "</p:sldIdLst></p:presentation>"
        ),
        "ppt/_rels/presentation.xml.rels": rels_xml(
            *[(f"rId{n + 1}", "slide", f"slides/slide{n + 1}.xml") for n in range(len(slides))]
        ),
    }
    for n, paragraphs in enumerate(slides):
        body = "".join(f"<a:p><a:r><a:t>{escape(p)}</a:t></a:r></a:p>" for p in paragraphs)
        shapes = f"<p:sp><p:txBody><a:bodyPr/>{body}</p:txBody></p:sp>"
        table = (tables or {}).get(n)
        if table is not None:
            rows = "".join(
                "<a:tr>"
                + "".join(
                    f"<a:tc><a:txBody><a:p><a:r><a:t>{escape(_cell_text(v))}</a:t></a:r></a:p>"
                    "</a:txBody></a:tc>"
                    for v in row
                )
                + "</a:tr>"
                for row in table
            )
            shapes += (
                f"<p:graphicFrame><a:graphic><a:graphicData><a:tbl>{rows}</a:tbl>"
                "</a:graphicData></a:graphic></p:graphicFrame>"
            )
        parts[f"ppt/slides/slide{n + 1}.xml"] = (
            f'<p:sld xmlns:p="{PRES}" xmlns:a="{DRAW}"><p:cSld><p:spTree>{shapes}'
            "</p:spTree></p:cSld></p:sld>"
        )
    return ooxml_package("ppt/presentation.xml", PPTX_CT, parts)


# --------------------------------------------------------------------------- ODF

ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)
ODF_MIME = "application/vnd.oasis.opendocument."


def odf(kind: str, body: str | bytes, extra: Mapping[str, str | bytes] | None = None) -> bytes:
    """An OpenDocument package of ``kind`` (spreadsheet, text, presentation); a str
    ``body`` is wrapped in ``office:document-content``, bytes are the whole content.xml."""
    if isinstance(body, str):
        body = (
            f"<office:document-content {ODF_NS}><office:body><office:{kind}>{body}"
            f"</office:{kind}></office:body></office:document-content>"
        )
    members: dict[str, str | bytes] = {
        "mimetype": ODF_MIME + kind,
        "content.xml": body,
        "META-INF/manifest.xml": "<manifest/>",
        "Thumbnails/thumbnail.png": b"\x89PNG\r\n\x1a\n",
    }
    members.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name, _ZIP_DATE), data, compress_type=method)
    return out.getvalue()


def _odf_table(name: str, rows: Table) -> str:
    xml = []
    for row in rows:
        cells = []
        for value in row:
            if value is None or value == "":
                cells.append("<table:table-cell/>")
            elif isinstance(value, int | float):
                cells.append(
                    f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>"
                )
            else:
                cells.append(
                    f'<table:table-cell office:value-type="string"><text:p>{escape(value)}'
                    "</text:p></table:table-cell>"
                )
        xml.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    return f'<table:table table:name="{escape(name)}">{"".join(xml)}</table:table>'


def ods(sheets: Mapping[str, Table]) -> bytes:
    """A spreadsheet with one table per entry; numbers as float cells."""
    return odf("spreadsheet", "".join(_odf_table(n, rows) for n, rows in sheets.items()))


def odt(paragraphs: Sequence[str], tables: Sequence[Table] = ()) -> bytes:
    """A text document: the paragraphs, then each table."""
    body = "".join(f"<text:p>{escape(p)}</text:p>" for p in paragraphs)
    body += "".join(_odf_table(f"Table{n}", t) for n, t in enumerate(tables, start=1))
    return odf("text", body)


# --------------------------------------------------------------------------- PDF


def _pdf_escape(text: str) -> bytes:
    raw = text.encode("latin-1")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_content(lines: Sequence[str]) -> bytes:
    ops = [b"BT /F1 12 Tf 14 TL 72 720 Td"]
    for line in lines:
        ops.append(b"(" + _pdf_escape(line) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def pdf(
    pages: Sequence[Sequence[str] | None],
    attachments: Mapping[str, bytes] | None = None,
    encrypt: bool = False,
    fields: Mapping[int, Sequence[tuple[str, str]]] | None = None,
    comments: Mapping[int, str] | None = None,
) -> bytes:
    """A PDF with one page per entry: lines of Helvetica text drawn with ``Tj`` in
    FlateDecode streams, or None for a page with only a filled rectangle (like a scan).
    ``attachments`` go into the EmbeddedFiles name tree, ``fields`` are text widgets
    (name, value) per page, ``comments`` a text annotation per page; ``encrypt`` adds a
    Standard security handler with an unknown user password (random O and U)."""
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
            content = stream(_pdf_content(lines))
        annots = []
        for k, (name, value) in enumerate((fields or {}).get(number, [])):
            annots.append(
                add(
                    b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (%s) /V (%s) "
                    b"/Rect [72 %d 300 %d] /F 4 >>"
                    % (_pdf_escape(name), _pdf_escape(value), 500 - 30 * k, 520 - 30 * k)
                )
            )
            widgets.append(annots[-1])
        if number in (comments or {}):
            note = _pdf_escape((comments or {})[number])
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
                % (_pdf_escape(name), _pdf_escape(name), embedded)
            )
            entries.append(b"(%s) %d 0 R" % (_pdf_escape(name), spec))
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


# --------------------------------------------------------------------------- OLE2

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
OleTree = dict[str, Union[bytes, "OleTree"]]

_SECTOR, _MINI, _CUTOFF = 512, 64, 4096
_FREE, _END, _FATSECT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole(tree: OleTree) -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors, a mini stream for streams
    under 4096 bytes) holding ``tree``: dicts are storages, bytes are streams."""
    entries: list[list[object]] = []  # name, type, kids, data, start

    def add(name: str, node: bytes | OleTree) -> int:
        index = len(entries)
        entries.append([])
        if isinstance(node, dict):
            kids = [add(key, value) for key, value in node.items()]
            entries[index] = [name, 1, kids, b"", _END]
        else:
            entries[index] = [name, 2, [], node, _END]
        return index

    add("Root Entry", tree)
    entries[0][1] = 5
    sectors: list[bytes] = []
    fat: list[int] = []

    def alloc(data: bytes) -> int:
        count = -(-len(data) // _SECTOR)
        first = len(sectors)
        for k in range(count):
            sectors.append(data[k * _SECTOR : (k + 1) * _SECTOR].ljust(_SECTOR, b"\0"))
            fat.append(first + k + 1 if k < count - 1 else _END)
        return first if count else _END

    mini = bytearray()
    minifat: list[int] = []
    for entry in entries:
        data = entry[3]
        assert isinstance(data, bytes)
        if entry[1] != 2 or not data or len(data) >= _CUTOFF:
            continue
        first = len(mini) // _MINI
        count = -(-len(data) // _MINI)
        minifat += [first + k + 1 for k in range(count - 1)] + [_END]
        mini += data.ljust(count * _MINI, b"\0")
        entry[4] = first
    for entry in entries:
        data = entry[3]
        assert isinstance(data, bytes)
        if entry[1] == 2 and len(data) >= _CUTOFF:
            entry[4] = alloc(data)
    entries[0][4] = alloc(bytes(mini))
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_bytes = minifat_bytes.ljust(-(-len(minifat_bytes) // _SECTOR) * _SECTOR, b"\xff")
    minifat_start = alloc(minifat_bytes)
    directory = bytearray()
    right_of: dict[int, int] = {}
    for entry in entries:
        family = entry[2]
        assert isinstance(family, list)
        right_of.update(itertools.pairwise(family))
    for index, (name, kind, kids, data, start) in enumerate(entries):
        assert isinstance(name, str)
        assert isinstance(kids, list)
        assert isinstance(data, bytes)
        right = right_of.get(index, _NONE)
        encoded = name.encode("utf-16-le") + b"\0\0"
        size = len(mini) if kind == 5 else len(data)
        directory += struct.pack(
            "<64sHBBIII16sIQQIII",
            encoded,
            len(encoded),
            kind,
            1,
            _NONE,
            right,
            kids[0] if kids else _NONE,
            b"\0" * 16,
            0,
            0,
            0,
            start,
            size,
            0,
        )
    while len(directory) % _SECTOR:
        directory += struct.pack(
            "<64sHBBIII16sIQQIII", b"", 0, 0, 0, _NONE, _NONE, _NONE, b"", 0, 0, 0, 0, 0, 0
        )
    dir_start = alloc(bytes(directory))
    count = 1
    while count * (_SECTOR // 4) < len(sectors) + count:
        count += 1
    if count > 109:
        raise ValueError("compound file too large for a header-only DIFAT (about 6.8 MB)")
    fat_start = len(sectors)
    fat += [_FATSECT] * count
    fat += [_FREE] * (count * (_SECTOR // 4) - len(fat))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    difat = [fat_start + k for k in range(count)] + [_FREE] * (109 - count)
    header = (
        OLE_MAGIC
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack(
            "<IIIIIIIII",
            0,
            count,
            dir_start,
            0,
            _CUTOFF,
            minifat_start if minifat else _END,
            len(minifat_bytes) // _SECTOR,
            _END,
            0,
        )
        + b"".join(struct.pack("<I", v) for v in difat)
    )
    assert len(header) == _SECTOR
    return header + b"".join(sectors) + fat_bytes


def _rec(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _rec(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))


def _sheet_name(name: str, pos: int) -> bytes:
    encoded = name.encode("utf-16-le")
    return _rec(0x0085, struct.pack("<IBBBB", pos, 0, 0, len(name), 1) + encoded)


def biff8_workbook(sheets: Sequence[tuple[str, Table]], filepass: bool = False) -> bytes:
    """A BIFF8 workbook stream: LABEL cells for text, NUMBER cells for numbers;
    ``filepass`` adds a FILEPASS record (an encrypted workbook)."""
    head = [_bof(0x0005)]
    if filepass:
        head.append(_rec(0x002F, b"\x01\x00" + b"\x00" * 52))
    bodies = []
    for _, rows in sheets:
        cells = []
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    data = struct.pack("<HHHHB", r, c, 0, len(value), 1)
                    cells.append(_rec(0x0204, data + value.encode("utf-16-le")))
                elif value is not None:
                    cells.append(_rec(0x0203, struct.pack("<HHHd", r, c, 0, value)))
        width = max((len(row) for row in rows), default=0)
        dims = _rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        bodies.append(_bof(0x0010) + dims + b"".join(cells) + _rec(0x000A, b""))
    pos = sum(map(len, head)) + sum(len(_sheet_name(n, 0)) for n, _ in sheets) + 4
    names = []
    for (name, _), body in zip(sheets, bodies, strict=True):
        names.append(_sheet_name(name, pos))
        pos += len(body)
    return b"".join([*head, *names, _rec(0x000A, b""), *bodies])


def xls(sheets: Sequence[tuple[str, Table]], filepass: bool = False) -> bytes:
    """A legacy Excel workbook: an OLE2 file with a BIFF8 ``Workbook`` stream."""
    return ole({"Workbook": biff8_workbook(sheets, filepass)})


def _u(text: str) -> bytes:
    return text.encode("utf-16-le")


def _props(header: int, values: Mapping[int, tuple[int, int]]) -> bytes:
    """A properties stream: ``header`` bytes, then (prop -> (type, value)) entries."""
    out = b"\0" * header
    for prop, (kind, value) in values.items():
        out += struct.pack("<IIQ", prop << 16 | kind, 6, value)
    return out


def _filetime(year: int) -> int:
    seconds = time.mktime((year, 4, 15, 12, 0, 0, 0, 0, 0)) - time.timezone
    return int((seconds + 11644473600) * 10_000_000)


def msg_tree(
    *,
    subject: str = "Quarterly list",
    body: str | None = "Hello,\nsee the list.\n",
    attachments: Sequence[tuple[str, bytes | OleTree, int]] | None = None,
    header: int = 32,
    extra: OleTree | None = None,
) -> OleTree:
    """The streams of an Outlook .msg; attachments are (name, data or message tree,
    method: 1 by value, 5 embedded message, 6 OLE object)."""
    tree: OleTree = {
        "__properties_version1.0": _props(header, {0x0039: (0x0040, _filetime(2024))}),
        "__substg1.0_0037001F": _u(subject),
        "__substg1.0_0C1A001F": _u("Pat Example"),
        "__substg1.0_5D01001F": _u("pat@example.test"),
        "__recip_version1.0_#00000000": {
            "__properties_version1.0": _props(8, {0x0C15: (0x0003, 1)}),
            "__substg1.0_3001001F": _u("Lee Sample"),
            "__substg1.0_39FE001F": _u("lee@example.test"),
        },
        "__recip_version1.0_#00000001": {
            "__properties_version1.0": _props(8, {0x0C15: (0x0003, 2)}),
            "__substg1.0_3001001F": _u("Kim Test"),
            "__substg1.0_39FE001F": _u("kim@example.test"),
        },
    }
    if body is not None:
        tree["__substg1.0_1000001F"] = _u(body)
    for number, (name, data, method) in enumerate(attachments or []):
        storage: OleTree = {
            "__properties_version1.0": _props(8, {0x3705: (0x0003, method)}),
            "__substg1.0_3707001F": _u(name),
        }
        if isinstance(data, dict):
            storage["__substg1.0_3701000D"] = data
        else:
            storage["__substg1.0_37010102"] = data
        tree[f"__attach_version1.0_#{number:08X}"] = storage
    tree.update(extra or {})
    return tree


def msg(
    subject: str = "Quarterly list",
    body: str | None = "Hello,\nsee the list.\n",
    attachments: Mapping[str, bytes] | None = None,
) -> bytes:
    """An Outlook .msg with a plain body and ``attachments`` (name -> bytes) by value."""
    files = [(name, data, 1) for name, data in (attachments or {}).items()]
    return ole(msg_tree(subject=subject, body=body, attachments=files))


def lzfu(rtf_bytes: bytes) -> bytes:
    """Compressed RTF (LZFu) with literals only, then the end marker."""
    body = bytearray()
    write = 207
    for start in range(0, len(rtf_bytes), 8):
        chunk = rtf_bytes[start : start + 8]
        if len(chunk) == 8:
            body += b"\0" + chunk
            write = (write + 8) & 0xFFF
        else:
            write = (write + len(chunk)) & 0xFFF
            body += bytes([1 << len(chunk)]) + chunk + struct.pack(">H", write << 4)
            break
    else:
        body += b"\x01" + struct.pack(">H", write << 4)
    return struct.pack("<IIII", len(body) + 12, len(rtf_bytes), 0x75465A4C, 0) + bytes(body)


# --------------------------------------------------------------------------- mail, SQLite, RTF

_BOUNDARY = "==ftiscan-synthetic-part=="


def eml(
    body: str,
    attachments: Mapping[str, bytes] | None = None,
    *,
    subject: str = "export",
    sender: str = "analyst@example.invalid",
    to: str = "files@example.invalid",
    date: str = "Tue, 14 Jan 2025 09:30:00 +0000",
) -> bytes:
    """An RFC 5322 message with a plain body and base64 attachments (name -> bytes),
    CRLF line ends and a fixed boundary, so the bytes are the same on every call."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = date
    message["Message-ID"] = "<synthetic@example.invalid>"
    message.set_content(body)
    for name, data in (attachments or {}).items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    if message.is_multipart():
        message.set_boundary(_BOUNDARY)
    return bytes(message)


def sqlite(tables: Mapping[str, tuple[Sequence[str], Table]]) -> bytes:
    """A SQLite database with one table per entry: (column names, rows)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "db.sqlite"
        conn = sqlite3.connect(path)
        try:
            for name, (columns, rows) in tables.items():
                cols = ", ".join(f'"{c}"' for c in columns)
                conn.execute(f'CREATE TABLE "{name}" ({cols})')  # names: the caller's, synthetic
                marks = ", ".join("?" for _ in columns)
                sql = f'INSERT INTO "{name}" VALUES ({marks})'  # noqa: S608  # synthetic names
                conn.executemany(sql, rows)
            conn.commit()
        finally:
            conn.close()
        return path.read_bytes()


def _rtf_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) > 127:
            out.append(f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?")
        else:
            out.append(ch)
    return "".join(out)


def rtf(paragraphs: Sequence[str], table: Table | None = None) -> bytes:
    """An RTF document: one ``\\par`` per paragraph, then an optional table (``\\trowd``
    rows of ``\\cell``s)."""
    out = [r"{\rtf1\ansi\deff0{\fonttbl{\f0\fswiss Helvetica;}}\f0\fs22 "]
    for paragraph in paragraphs:
        out.append(r"\pard " + _rtf_escape(paragraph) + r"\par" + "\n")
    for row in table or ():
        cells = "".join(rf"\cellx{1800 * (k + 1)}" for k in range(len(row)))
        out.append(
            r"\trowd"
            + cells
            + " "
            + "".join(r"\pard\intbl " + _rtf_escape(_cell_text(v)) + r"\cell " for v in row)
            + r"\row"
            + "\n"
        )
    out.append("}")
    return "".join(out).encode("ascii")
