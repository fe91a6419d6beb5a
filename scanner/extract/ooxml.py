"""Office Open XML: workbooks (XLSX, XLSM, XLTX), documents (DOCX), presentations (PPTX).

The readers take the `zipfile.ZipFile` the zip dispatcher opened; `office_kind` names the
kind from the main part's content type in ``[Content_Types].xml`` (falling back on the
usual main part names). Parts are streamed with `ftiscan.scanner.extract._xml` (no DTDs,
bounded bytes and ratio, elements freed as they are read).

- XLSX: every worksheet in workbook order (names from ``xl/workbook.xml`` and its
  relationships; worksheet parts no sheet points at follow under their file name), then
  the comments (``xl/commentsN.xml``, ``xl/comments/commentN.xml``, threaded comments) as
  prose with ``where.sheet`` = the part name (``"comments1"``, ``"comments/comment1"``).
  Each sheet yields `Rows` with ``where.sheet`` = the sheet name and ``first_row`` = the
  row number of the sheet (the ``r`` attribute); cells are aligned by column letter
  (column A is index 0, missing cells are ""), so a finding at index 1 of row 12 is
  ``Sheet!B12``. Shared strings (rich text runs joined, phonetic runs left out) are held
  up to ``limits.max_text_chars`` characters (beyond: ``Unread(sheet="sharedStrings",
  "limit:bytes")`` and the missing strings read as ""); numbers come as written in the
  file, an integer-valued float as its digits (``1.2345E4`` -> ``12345``);
  booleans as TRUE/FALSE. Formulas are not read, their cached values are. The header is
  the first non-empty row when `delimited.looks_like_header` says so.
- DOCX: body paragraphs as prose (``where.line`` counts paragraphs, a ``w:br`` adds a
  line; ``w:tab`` is a tab; deleted text of tracked changes is read), each table as `Rows`
  (``where.sheet`` = ``"table N"``); headers, footers, footnotes, endnotes, comments and
  the glossary as prose with ``where.sheet`` = the part name (``"header1"``,
  ``"comments"``; their tables ``"header1 table 1"``).
- PPTX: each slide in presentation order with ``where.page`` = the slide number, tables as
  `Rows` (``where.sheet`` = ``"table N"``, ``where.page`` set), its notes with
  ``where.sheet`` = ``"notes"``.
- Embedded files (``*/embeddings/*``) go to the registry one level deeper with
  ``where.member`` = the part name joined onto the outer member; more than
  ``limits.max_depth`` levels: ``Unread(member, "limit:depth")``.

A part that cannot be read yields ``Unread`` with the part in ``where.sheet`` (or the sheet
name) and its reason (``corrupt``, ``encrypted``, ``limit:ratio``, ``limit:bytes``), and
the other parts are read. More than ``limits.max_members`` content parts: one
``Unread(where, "limit:members")`` and the rest is skipped. When the bytes or text of the
whole file pass their limits, `LimitExceeded` ("bytes") is raised after what was read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract._xml import (
    MAX_COLUMNS,
    Budget,
    Dialect,
    Table,
    XmlEvents,
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
    "extract_docx",
    "extract_pptx",
    "extract_xlsx",
    "office_kind",
]

Item = Segment | Rows | Unread
Reader = Callable[[zipfile.ZipFile, Location, Limits, int], Iterator[Item]]

_KIND_BYTES = 4 * 1024 * 1024  # [Content_Types].xml read by office_kind
_FALLBACK = (("xl/workbook.xml", "xlsx"), ("word/document.xml", "docx"))
_FALLBACK_PPTX = "ppt/presentation.xml"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml")
_WORD_PARTS = re.compile(
    r"word/(header\d*|footer\d*|footnotes|endnotes|comments|glossary/document)\.xml"
)
_SHEET_PART = re.compile(r"xl/worksheets/([^/]+)\.xml")
_COMMENTS = re.compile(
    r"xl/(?:comments\d*|comments/comment\d*|threadedcomments/threadedcomment\d*)\.xml"
)


def _main_kind(content_type: str) -> str | None:
    kind = content_type.strip().lower()
    if not kind.endswith(".main+xml"):
        return None
    if "spreadsheetml." in kind or "ms-excel." in kind:
        return "xlsx"
    if "wordprocessingml." in kind or "ms-word." in kind:
        return "docx"
    if "presentationml." in kind or "ms-powerpoint." in kind:
        return "pptx"
    return None


def _index(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Part names (lower case: OPC names are case-insensitive) -> members."""
    return {info.filename.lower(): info for info in zf.infolist() if not info.is_dir()}


def office_kind(zf: zipfile.ZipFile) -> str | None:
    """``"xlsx"``, ``"docx"`` or ``"pptx"`` for an OOXML package (XLSM, XLTX, DOCM, PPSX
    ... included), else None. Binary workbooks (XLSB) are None. Never raises."""
    names = _index(zf)
    info = names.get("[content_types].xml")
    if info is None:
        return None
    budget = Budget(Limits(max_decompressed_bytes=_KIND_BYTES))
    try:
        for _, attrs in scan_elements(zf, info, budget, frozenset({"Override"})):
            kind = _main_kind(attrs.get("ContentType", ""))
            if kind:
                return kind
    except ExtractError:
        pass
    for name, kind in _FALLBACK:
        if name in names:
            return kind
    return "pptx" if _FALLBACK_PPTX in names else None


# -- package structure ------------------------------------------------------------


def _rel_id(attrs: dict[str, str]) -> str | None:
    for key, value in attrs.items():
        if key.endswith("}id") and "relationships" in key:
            return value
    return None


def _resolve(base: str, target: str) -> str:
    """The part name a relationship target names, relative to the folder ``base``."""
    target = unquote(target.replace("\\", "/"))
    path = target[1:] if target.startswith("/") else posixpath.join(base, target)
    return posixpath.normpath(path).lower()


def _rels(
    zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], part: str, budget: Budget
) -> dict[str, tuple[str, str]]:
    """The relationships of ``part``: id -> (type, target part name); {} if unreadable."""
    folder, base = posixpath.split(part)
    info = names.get(posixpath.join(folder, "_rels", base + ".rels").lower())
    out: dict[str, tuple[str, str]] = {}
    if info is None:
        return out
    try:
        for _, attrs in scan_elements(zf, info, budget, frozenset({"Relationship"})):
            if attrs.get("TargetMode", "").lower() == "external":
                continue
            rid, target = attrs.get("Id"), attrs.get("Target")
            if rid and target:
                out[rid] = (attrs.get("Type", ""), _resolve(folder, target))
    except ExtractError:
        if budget.exhausted:
            raise
    return out


def _main_part(
    zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], budget: Budget, default: str
) -> str:
    for kind, target in _rels(zf, names, "", budget).values():
        if kind.endswith("/officeDocument") and target in names:
            return target
    return default


def _label(part: str) -> str:
    """``word/header1.xml`` -> ``header1``, ``word/glossary/document.xml`` ->
    ``glossary/document``."""
    return posixpath.splitext(part)[0].split("/", 1)[-1] or part


def _embeddings(
    zf: zipfile.ZipFile,
    names: dict[str, zipfile.ZipInfo],
    where: Location,
    limits: Limits,
    budget: Budget,
    depth: int,
) -> Iterator[Item]:
    """Hand each ``*/embeddings/*`` part to the registry."""
    from ftiscan.scanner.extract import extract as dispatch

    for key, info in names.items():
        if "/embeddings/" not in key:
            continue
        inner = replace(
            where, member=join_member(where.member, info.filename), sheet=None, line=None
        )
        if not budget.take_part():
            yield Unread(where, "limit:members")
            return
        if depth >= limits.max_depth:
            yield Unread(inner, "limit:depth")
            continue

        def items(info: zipfile.ZipInfo = info, inner: Location = inner) -> Iterator[Item]:
            with open_part(zf, info, budget) as fh:
                _, found = dispatch(fh, inner, limits, depth + 1)
                yield from found

        yield from guarded(items(), inner, budget)


def _part(
    zf: zipfile.ZipFile,
    names: dict[str, zipfile.ZipInfo],
    part: str,
    where: Location,
    budget: Budget,
    read: Callable[[zipfile.ZipFile, zipfile.ZipInfo, Location], Iterator[Item]],
) -> Iterator[Item]:
    """One content part, its errors turned into ``Unread(where, reason)``."""
    info = names.get(part.lower())
    if info is None:
        yield Unread(where, "corrupt")
        return
    yield from guarded(read(zf, info, where), where, budget)


# -- XLSX -----------------------------------------------------------------------------


def _unescape(text: str) -> str:
    """OOXML escapes characters XML cannot hold as ``_xHHHH_``."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _rich_text(elem: Element) -> str:
    """Text of an ``si`` or ``is`` element: its ``t``, or the ``t`` of its runs."""
    parts: list[str] = []
    for child in elem:
        name = local_name(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(sub.text or "" for sub in child if local_name(sub.tag) == "t")
    return _unescape("".join(parts))


def _shared_strings(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, table: list[str]
) -> None:
    """Fill ``table`` with the shared strings (kept when reading stops early)."""
    limit = budget.limits.max_text_chars
    total = 0
    with open_part(zf, info, budget) as fh:
        events = XmlEvents(fh)
        for start, name, elem in events:
            if name != "si":
                continue
            if start:
                events.hold += 1
                continue
            events.hold -= 1
            text = _rich_text(elem)
            total += len(text)
            if total > limit:
                raise LimitExceeded("bytes", f"shared strings over {limit} characters")
            table.append(text)


_PAD_LITERALS = frozenset("- /()")


def digit_pattern(code: str) -> str | None:
    """The zero-padding pattern of an Excel number format, or None.

    Excel's special formats keep leading zeros that the stored number lost: "Social
    Security Number" is ``000-00-0000``, "Zip Code" ``00000``, "Zip Code + 4"
    ``00000-0000``. Only codes made of ``0`` digits and literal separators (plain,
    backslash-escaped or quoted) count; anything else (decimals, colours, sections)
    leaves the number as written.

    >>> digit_pattern("000-00-0000"), digit_pattern('000\\\\-00\\\\-0000'), digit_pattern("0.00")
    ('000-00-0000', '000-00-0000', None)
    """
    out: list[str] = []
    text = code.replace('"', "")
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            ch = text[i + 1]
            i += 1
        if ch != "0" and ch not in _PAD_LITERALS:
            return None
        out.append(ch)
        i += 1
    pattern = "".join(out)
    return pattern if pattern.count("0") >= 2 else None


def format_digits(value: str, pattern: str) -> str:
    """``value`` (an integer as digits) laid out in ``pattern``'s zero positions.

    >>> format_digits("1234", "000-00-0000"), format_digits("2134", "00000")
    ('000-00-1234', '02134')
    >>> format_digits("1234567890", "00000")
    '1234567890'
    """
    width = pattern.count("0")
    if not value.isdigit() or len(value) > width:
        return value
    digits = iter(value.zfill(width))
    return "".join(next(digits) if ch == "0" else ch for ch in pattern)


def _styles(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> list[str | None]:
    """Per cell style index (``s``), the zero-padding pattern of its number format."""
    codes: dict[str, str] = {}
    styles: list[str | None] = []
    inside = False
    with open_part(zf, info, budget) as fh:
        for start, name, elem in XmlEvents(fh):
            if name == "cellXfs":
                inside = start
            elif start and name == "numFmt":
                codes[elem.get("numFmtId", "")] = elem.get("formatCode", "")
            elif start and inside and name == "xf":
                code = codes.get(elem.get("numFmtId", "0"))
                styles.append(digit_pattern(code) if code else None)
    return styles


_COLUMN_CACHE: dict[str, int] = {}


def _column(ref: str) -> int | None:
    """Column index of a cell reference (``B12`` -> 1), None if it names none."""
    letters = ref.rstrip("0123456789")
    index = _COLUMN_CACHE.get(letters)
    if index is not None:
        return index
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isalpha():
        return None
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    index -= 1
    _COLUMN_CACHE[letters] = index
    return index


def _cell_value(cell: Element, strings: list[str], styles: list[str | None]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        for child in cell:
            if local_name(child.tag) == "is":
                return _rich_text(child)
        return ""
    raw = None
    for child in cell:
        if local_name(child.tag) == "v":
            raw = child.text or ""
            break
    if not raw:
        return ""
    if kind is None or kind == "n":
        text = number_text(raw)
        style = cell.get("s")
        if styles and style is not None and style.isdigit() and int(style) < len(styles):
            pattern = styles[int(style)]
            if pattern is not None:
                return format_digits(text, pattern)
        return text
    if kind == "s":
        try:
            index = int(raw)
        except ValueError:
            return ""
        return strings[index] if 0 <= index < len(strings) else ""
    if kind == "b":
        return "TRUE" if raw.strip() == "1" else "FALSE"
    return _unescape(raw)  # str (formula result), e (error), d (ISO date)


def _sheet(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    where: Location,
    budget: Budget,
    strings: list[str],
    styles: list[str | None],
) -> Iterator[Rows]:
    table = Table(where, budget.limits, budget)
    number = 0
    cells: list[str] = []
    column = 0
    with open_part(zf, info, budget) as fh:
        events = XmlEvents(fh)
        try:
            for start, name, elem in events:
                if start:
                    if name == "c":
                        events.hold += 1
                    elif name == "row":
                        ref = elem.get("r", "")
                        number = int(ref) if ref.isdigit() and len(ref) < 10 else number + 1
                        cells = []
                        column = 0
                    continue
                if name == "c":
                    events.hold -= 1
                    value = _cell_value(elem, strings, styles)
                    at = elem.get("r")
                    index = _column(at) if at else None
                    if index is None or index >= MAX_COLUMNS:
                        index = column
                    column = index + 1
                    if not value:
                        continue
                    size = len(cells)
                    if index == size:
                        cells.append(value)
                    elif index > size:
                        cells.extend([""] * (index - size))
                        cells.append(value)
                    else:
                        cells[index] = value
                elif name == "row" and cells:
                    yield from table.add(number, tuple(cells))
                    cells = []
        except ExtractError:
            yield from table.finish()  # the rows before the damage
            raise
    yield from table.finish()


def _sheet_kind(kind: str) -> bool:
    return kind.endswith(("/worksheet", "/xlMacrosheet", "/xlIntlMacrosheet"))


def _comment_text(elem: Element) -> str:
    """Text of a legacy ``comment`` (rich text) or a ``threadedComment`` (plain text)."""
    for child in elem:
        if local_name(child.tag) == "text":
            return _rich_text(child) or _unescape(child.text or "")
    return ""


_XLSX_COMMENTS = Dialect(
    paragraphs=frozenset({"comment", "threadedComment"}),
    tables=frozenset(),
    rows=frozenset(),
    cells=frozenset(),
    text=_comment_text,
)


def extract_xlsx(
    zf: zipfile.ZipFile, where: Location, limits: Limits, depth: int = 0
) -> Iterator[Item]:
    """Yield the rows of every sheet of a workbook, its comments and embedded files."""
    budget = Budget(limits)
    names = _index(zf)
    main = _main_part(zf, names, budget, "xl/workbook.xml")
    folder = posixpath.dirname(main)
    rels = _rels(zf, names, main, budget)
    sheets: list[tuple[str, str]] = []
    if main in names:
        workbook = replace(where, sheet="workbook")
        try:
            for _, attrs in scan_elements(zf, names[main], budget, frozenset({"sheet"})):
                kind, part = rels.get(_rel_id(attrs) or "", ("", ""))
                if part and (_sheet_kind(kind) or _SHEET_PART.fullmatch(part)):
                    sheets.append((attrs.get("name") or _label(part), part))
        except ExtractError as exc:
            if budget.exhausted:
                raise
            yield Unread(workbook, exc.reason)
    listed = {part for _, part in sheets}
    for key in sorted(names):
        found = _SHEET_PART.fullmatch(key)
        if found and key not in listed:
            sheets.append((found.group(1), key))
    strings: list[str] = []
    shared = next(
        (part for kind, part in rels.values() if kind.endswith("/sharedStrings")),
        posixpath.join(folder, "sharedstrings.xml"),
    )
    if shared in names:
        if not budget.take_part():
            yield Unread(where, "limit:members")
            return
        try:
            _shared_strings(zf, names[shared], budget, strings)
        except ExtractError as exc:
            if budget.exhausted:
                raise
            yield Unread(replace(where, sheet="sharedStrings"), exc.reason)

    styles: list[str | None] = []
    styles_part = next(
        (part for kind, part in rels.values() if kind.endswith("/styles")),
        posixpath.join(folder, "styles.xml"),
    )
    if styles_part in names:
        try:
            styles = _styles(zf, names[styles_part], budget)
        except ExtractError as exc:
            if budget.exhausted:
                raise
            yield Unread(replace(where, sheet="styles"), exc.reason)

    def read_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, at: Location) -> Iterator[Item]:
        return _sheet(zf, info, at, budget, strings, styles)

    for title, part in sheets:
        if not budget.take_part():
            yield Unread(where, "limit:members")
            return
        yield from _part(zf, names, part, replace(where, sheet=title), budget, read_sheet)
    yield from _prose_parts(
        zf,
        names,
        where,
        limits,
        budget,
        sorted(k for k in names if _COMMENTS.fullmatch(k)),
        _XLSX_COMMENTS,
    )
    yield from _embeddings(zf, names, where, limits, budget, depth)


# -- DOCX and PPTX ----------------------------------------------------------------------

_TEXT_SKIP = frozenset(
    {"pPr", "rPr", "instrText", "delInstrText", "Fallback", "p", "tbl", "txbxContent"}
)


def _ooxml_text(paragraph: Element) -> str:
    """Text of a ``w:p`` or ``a:p``: runs joined, tabs and breaks kept."""
    parts: list[str] = []

    def walk(elem: Element) -> None:
        for child in elem:
            name = local_name(child.tag)
            if name in ("t", "delText"):
                parts.append(child.text or "")
            elif name == "tab":
                parts.append("\t")
            elif name in ("br", "cr"):
                parts.append("\n")
            elif name == "noBreakHyphen":
                parts.append("-")
            elif name not in _TEXT_SKIP:
                walk(child)

    walk(paragraph)
    return "".join(parts)


_WORD = Dialect(
    paragraphs=frozenset({"p"}),
    tables=frozenset({"tbl"}),
    rows=frozenset({"tr"}),
    cells=frozenset({"tc"}),
    text=_ooxml_text,
    containers=frozenset({"txbxContent"}),
    skip=frozenset({"Fallback"}),
)


def _table_where(base: Location, number: int, _: str | None) -> Location:
    label = f"{base.sheet} table {number}" if base.sheet else f"table {number}"
    return replace(base, line=None, sheet=label)


def _prose_parts(
    zf: zipfile.ZipFile,
    names: dict[str, zipfile.ZipInfo],
    where: Location,
    limits: Limits,
    budget: Budget,
    parts: list[str],
    dialect: Dialect,
) -> Iterator[Item]:
    def read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, at: Location) -> Iterator[Item]:
        with open_part(zf, info, budget) as fh:
            yield from read_document(fh, dialect, at, limits, budget, _table_where)

    for part in parts:
        if not budget.take_part():
            yield Unread(where, "limit:members")
            return
        yield from _part(zf, names, part, replace(where, sheet=_label(part)), budget, read)


def extract_docx(
    zf: zipfile.ZipFile, where: Location, limits: Limits, depth: int = 0
) -> Iterator[Item]:
    """Yield the body, tables, headers, footers, notes, comments and embedded files."""
    budget = Budget(limits)
    names = _index(zf)
    main = _main_part(zf, names, budget, "word/document.xml")

    def read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, at: Location) -> Iterator[Item]:
        with open_part(zf, info, budget) as fh:
            yield from read_document(fh, _WORD, at, limits, budget, _table_where)

    if not budget.take_part():
        yield Unread(where, "limit:members")
        return
    yield from _part(zf, names, main, where, budget, read)
    others = sorted(k for k in names if _WORD_PARTS.fullmatch(k) and k != main)
    yield from _prose_parts(zf, names, where, limits, budget, others, _WORD)
    yield from _embeddings(zf, names, where, limits, budget, depth)


def _slides(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], budget: Budget) -> list[str]:
    """Slide parts in presentation order, then slides the presentation does not list."""
    main = _main_part(zf, names, budget, "ppt/presentation.xml")
    rels = _rels(zf, names, main, budget)
    order: list[str] = []
    if main in names:
        try:
            for _, attrs in scan_elements(zf, names[main], budget, frozenset({"sldId"})):
                kind, part = rels.get(_rel_id(attrs) or "", ("", ""))
                if kind.endswith("/slide") and part in names and part not in order:
                    order.append(part)
        except ExtractError:
            if budget.exhausted:
                raise
    rest = [(int(m.group(1)), k) for k in names if (m := _SLIDE.fullmatch(k)) and k not in order]
    return order + [k for _, k in sorted(rest)]


def extract_pptx(
    zf: zipfile.ZipFile, where: Location, limits: Limits, depth: int = 0
) -> Iterator[Item]:
    """Yield the text and tables of each slide and its notes, then embedded files."""
    budget = Budget(limits)
    names = _index(zf)

    def read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, at: Location) -> Iterator[Item]:
        with open_part(zf, info, budget) as fh:
            yield from read_document(fh, _WORD, at, limits, budget, _table_where)

    for page, part in enumerate(_slides(zf, names, budget), start=1):
        if not budget.take_part():
            yield Unread(where, "limit:members")
            return
        yield from _part(zf, names, part, replace(where, page=page), budget, read)
        for kind, notes in _rels(zf, names, part, budget).values():
            if kind.endswith("/notesSlide") and notes in names:
                if not budget.take_part():
                    yield Unread(where, "limit:members")
                    return
                at = replace(where, page=page, sheet="notes")
                yield from _part(zf, names, notes, at, budget, read)
    yield from _embeddings(zf, names, where, limits, budget, depth)


READERS: dict[str, Reader] = {
    "docx": extract_docx,
    "pptx": extract_pptx,
    "xlsx": extract_xlsx,
}
"""Kind (as `office_kind` names it) -> reader."""
