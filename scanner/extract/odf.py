"""OpenDocument: spreadsheets (ODS, OTS), text (ODT, OTT), presentations (ODP, OTP).

The readers take the `zipfile.ZipFile` the zip dispatcher opened; `office_kind` names the
kind from the ``mimetype`` member (else the root entry of ``META-INF/manifest.xml``).
``content.xml`` is streamed with `ftiscan.scanner.extract._xml` (no DTDs, bounded bytes
and ratio, elements freed as they are read).

- ODS: each ``table:table`` as `Rows` with ``where.sheet`` = the table name and
  ``first_row`` = the row number of the sheet. ``table:number-rows-repeated`` and
  ``table:number-columns-repeated`` are honoured: cells are aligned by column (column A
  is index 0, up to 16384 columns), empty repeated cells and rows only advance the
  count (a sheet padded with 1,048,576 empty rows costs nothing), a non-empty row that
  claims to repeat is yielded at most 100 times. Numbers (float, percentage, currency)
  come from ``office:value`` as written, an integer-valued float as its digits, not in
  their display format (``1.23E+08``). The header is the first non-empty row when
  `delimited.looks_like_header` says so. Cell comments are prose.
- ODT: paragraphs and headings as prose (``where.line`` counts paragraphs, a
  ``text:line-break`` adds a line; ``text:s`` and ``text:tab`` are spaces and tabs),
  tables as `Rows` (``where.sheet`` = the table name); headers and footers of
  ``styles.xml`` as prose with ``where.sheet`` = ``"styles"``.
- ODP: each ``draw:page`` with ``where.page`` = its position, its notes with
  ``where.sheet`` = ``"notes"``, its tables as `Rows`.
- Embedded sub-documents (``Object N/content.xml``: charts, spreadsheets inside a text)
  are read like ``content.xml`` with ``where.sheet`` = ``"Object N"`` (tables
  ``"Object N/Table1"``); other embedded files (OLE objects and the like, not pictures
  or thumbnails) go to the registry one level deeper with ``where.member`` = the member
  name joined onto the outer member; past ``limits.max_depth``: ``limit:depth``.

A part that cannot be read yields ``Unread`` with the part in ``where.sheet`` (None for
``content.xml``) and its reason (``corrupt``, ``encrypted``, ``limit:ratio``,
``limit:bytes``); the other parts are read. More than ``limits.max_members`` parts:
``Unread(where, "limit:members")``. When the bytes or text of the whole file pass their
limits, `LimitExceeded` ("bytes") is raised after what was read. A password-protected
document (members with ``manifest:encryption-data`` in ``META-INF/manifest.xml``) yields
``Unread(part, "encrypted")`` for each such part.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from xml.etree.ElementTree import Element

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract._xml import (
    Budget,
    Dialect,
    guarded,
    join_member,
    local_name,
    number_text,
    open_part,
    read_document,
    scan_elements,
)
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = [
    "READERS",
    "extract_odp",
    "extract_ods",
    "extract_odt",
    "office_kind",
]

Item = Segment | Rows | Unread
Reader = Callable[[zipfile.ZipFile, Location, Limits, int], Iterator[Item]]
Section = Callable[[str, Element, Location], Location]

_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_VALUE_TYPE = f"{{{_OFFICE}}}value-type"
_VALUE = f"{{{_OFFICE}}}value"
_ROWS_REPEATED = f"{{{_TABLE}}}number-rows-repeated"
_COLUMNS_REPEATED = f"{{{_TABLE}}}number-columns-repeated"
_TABLE_NAME = f"{{{_TABLE}}}name"
_SPACES = f"{{{_TEXT}}}c"
_MAX_REPEAT = 1 << 24
_MAX_SPACES = 1024
_KIND_BYTES = 4 * 1024 * 1024
_MIMETYPES = {
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ods",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "odt",
    "application/vnd.oasis.opendocument.text-master": "odt",
    "application/vnd.oasis.opendocument.text-web": "odt",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.presentation-template": "odp",
}
_NOT_EMBEDDED = ("meta-inf/", "thumbnails/", "pictures/", "configurations2/", "objectreplacements/")
_NOT_EMBEDDED_NAMES = frozenset({"mimetype", "layout-cache"})


def office_kind(zf: zipfile.ZipFile) -> str | None:
    """``"ods"``, ``"odt"`` or ``"odp"`` for an OpenDocument package (templates
    included), else None. Never raises."""
    budget = Budget(Limits(max_decompressed_bytes=_KIND_BYTES))
    names = {info.filename: info for info in zf.infolist()}
    info = names.get("mimetype")
    try:
        if info is not None and info.file_size < 256:
            with open_part(zf, info, budget) as fh:
                kind = _MIMETYPES.get(fh.read(256).decode("ascii", "replace").strip().lower())
            if kind:
                return kind
        info = names.get("META-INF/manifest.xml")
        if info is not None:
            wanted = frozenset({"file-entry"})
            for _, attrs in scan_elements(zf, info, budget, wanted):
                if attrs.get(f"{{{_MANIFEST}}}full-path") == "/":
                    media = attrs.get(f"{{{_MANIFEST}}}media-type", "")
                    return _MIMETYPES.get(media.strip().lower())
    except ExtractError:
        return None
    return None


def _encrypted(zf: zipfile.ZipFile, info: zipfile.ZipInfo | None, budget: Budget) -> set[str]:
    """Members the manifest lists with ``manifest:encryption-data`` (password-protected)."""
    found: set[str] = set()
    if info is None:
        return found
    entry = None
    wanted = frozenset({"file-entry", "encryption-data"})
    try:
        for name, attrs in scan_elements(zf, info, budget, wanted):
            if name == "file-entry":
                entry = attrs.get(f"{{{_MANIFEST}}}full-path")
            elif entry:
                found.add(entry)
    except ExtractError:
        if budget.exhausted:
            raise
    return found


def _repeat(elem: Element, attr: str) -> int:
    raw = elem.get(attr)
    if not raw:
        return 1
    try:
        return max(1, min(int(raw), _MAX_REPEAT))
    except ValueError:
        return 1


def _rows_repeated(elem: Element) -> int:
    return _repeat(elem, _ROWS_REPEATED)


def _cells_repeated(elem: Element) -> int:
    return _repeat(elem, _COLUMNS_REPEATED)


def _table_name(elem: Element) -> str | None:
    return elem.get(_TABLE_NAME)


def _value(cell: Element, text: str) -> str:
    if cell.get(_VALUE_TYPE) in ("float", "percentage", "currency"):
        raw = cell.get(_VALUE)
        if raw:
            return number_text(raw)
    return text


# Subtrees whose text is not part of the paragraph around them: nested paragraphs are
# read on their own, note citations are numbers, frames hold text boxes and captions.
_TEXT_SKIP = frozenset({"p", "h", "annotation", "note-citation", "frame", "table"})


def _odf_text(paragraph: Element) -> str:
    """Text of a ``text:p`` or ``text:h`` (mixed content: text, spans, tails)."""
    parts: list[str] = []

    def walk(elem: Element) -> None:
        if elem.text:
            parts.append(elem.text)
        for child in elem:
            name = local_name(child.tag)
            if name == "s":
                parts.append(" " * max(1, min(_repeat(child, _SPACES), _MAX_SPACES)))
            elif name == "tab":
                parts.append("\t")
            elif name == "line-break":
                parts.append("\n")
            elif name not in _TEXT_SKIP:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(paragraph)
    return "".join(parts)


_DIALECT = Dialect(
    paragraphs=frozenset({"p", "h"}),
    tables=frozenset({"table"}),
    rows=frozenset({"table-row"}),
    cells=frozenset({"table-cell", "covered-table-cell"}),
    text=_odf_text,
    containers=frozenset({"annotation", "text-box"}),
    value=_value,
    rows_repeated=_rows_repeated,
    cells_repeated=_cells_repeated,
    table_name=_table_name,
)
_SLIDES = replace(_DIALECT, sections=frozenset({"page", "notes"}))


def _table_where(base: Location, number: int, name: str | None) -> Location:
    title = name or f"table {number}"
    return replace(base, line=None, sheet=f"{base.sheet}/{title}" if base.sheet else title)


def _pages(base: Location) -> Section:
    count = 0

    def section(name: str, _: Element, current: Location) -> Location:
        nonlocal count
        if name == "page":
            count += 1
            return replace(base, page=count)
        return replace(current, sheet="notes")

    return section


def _read(
    zf: zipfile.ZipFile,
    kind: str,
    where: Location,
    limits: Limits,
    depth: int,
) -> Iterator[Item]:
    from ftiscan.scanner.extract import extract as dispatch

    budget = Budget(limits)
    infos = [info for info in zf.infolist() if not info.is_dir()]
    names = {info.filename: info for info in infos}
    parts: list[tuple[str, str | None]] = [("content.xml", None)]
    if kind == "odt":
        parts.append(("styles.xml", "styles"))
    objects = sorted(
        n for n in names if n.endswith("/content.xml") and n.count("/") == 1 and n[0] != "."
    )
    parts.extend((name, posixpath.dirname(name)) for name in objects)
    encrypted = _encrypted(zf, names.get("META-INF/manifest.xml"), budget)
    for part, label in parts:
        at = replace(where, sheet=label)
        info = names.get(part)
        if info is None:
            if label is None:
                yield Unread(at, "corrupt")
            continue
        if not budget.take_part():
            yield Unread(where, "limit:members")
            return
        if part in encrypted:
            yield Unread(at, "encrypted")
            continue
        dialect = _SLIDES if kind == "odp" and label is None else _DIALECT
        section = _pages(at) if dialect is _SLIDES else None

        def items(
            info: zipfile.ZipInfo = info,
            at: Location = at,
            dialect: Dialect = dialect,
            section: Section | None = section,
        ) -> Iterator[Item]:
            with open_part(zf, info, budget) as fh:
                yield from read_document(fh, dialect, at, limits, budget, _table_where, section)

        yield from guarded(items(), at, budget)
    folders = {posixpath.dirname(name) + "/" for name in objects}
    for info in infos:
        name = info.filename
        lower = name.lower()
        if (
            lower in _NOT_EMBEDDED_NAMES
            or lower.endswith((".xml", ".rdf"))
            or lower.startswith(_NOT_EMBEDDED)
            or any(name.startswith(folder) for folder in folders)
        ):
            continue
        inner = replace(where, member=join_member(where.member, name), sheet=None, line=None)
        if not budget.take_part():
            yield Unread(where, "limit:members")
            return
        if name in encrypted:
            yield Unread(inner, "encrypted")
            continue
        if depth >= limits.max_depth:
            yield Unread(inner, "limit:depth")
            continue

        def embedded(info: zipfile.ZipInfo = info, inner: Location = inner) -> Iterator[Item]:
            with open_part(zf, info, budget) as fh:
                _, found = dispatch(fh, inner, limits, depth + 1)
                yield from found

        yield from guarded(embedded(), inner, budget)


def extract_ods(
    zf: zipfile.ZipFile, where: Location, limits: Limits, depth: int = 0
) -> Iterator[Item]:
    """Yield the rows of every table of a spreadsheet, its comments and embedded files."""
    return _read(zf, "ods", where, limits, depth)


def extract_odt(
    zf: zipfile.ZipFile, where: Location, limits: Limits, depth: int = 0
) -> Iterator[Item]:
    """Yield the paragraphs and tables of a text, its headers, footers and embedded files."""
    return _read(zf, "odt", where, limits, depth)


def extract_odp(
    zf: zipfile.ZipFile, where: Location, limits: Limits, depth: int = 0
) -> Iterator[Item]:
    """Yield the text and tables of each page and its notes, then embedded files."""
    return _read(zf, "odp", where, limits, depth)


READERS: dict[str, Reader] = {
    "odp": extract_odp,
    "ods": extract_ods,
    "odt": extract_odt,
}
"""Kind (as `office_kind` names it) -> reader."""
