"""Safe, streaming XML for the office readers (OOXML and ODF): bounded parts, no DTDs.

- `open_part` opens a member of an already opened `zipfile.ZipFile` as a stream that
  counts what it decompresses against the `Budget` of the office file:

  - an encrypted member raises `ExtractError` ("encrypted");
  - a member that declares more bytes than are left of ``limits.max_decompressed_bytes``
    raises `LimitExceeded` ("bytes") before anything is decompressed; the bytes really
    decompressed are counted as well, and passing the limit that way raises
    `LimitExceeded` ("bytes") and marks the budget exhausted (nothing more can be read);
  - once more than 1 MiB is out of a member, out / compressed-bytes-consumed above
    ``limits.max_ratio`` raises `LimitExceeded` ("ratio"); a member whose declared sizes
    already say so is refused before it is opened;
  - the bytes are also charged to the budget of the whole scanned file
    (`ftiscan.scanner.extract._budget`, across nested containers): past it,
    `LimitExceeded` ("bytes") and the budget is exhausted;
  - a read more than ``limits.max_seconds`` after the `Budget` was made raises
    `LimitExceeded` ("time") and exhausts the budget;
  - damage (bad CRC, bad deflate data, a bad local header) raises `ExtractError`
    ("corrupt"); an unknown compression method ``unsupported:compression``.
- `XmlEvents` parses such a stream with the C parser behind `xml.etree.ElementTree`
  (``XMLPullParser``, fed 64 KiB at a time). A guard parser (pyexpat) reads the prolog
  first: a DOCTYPE, the only place a DTD, an entity declaration or an external entity can
  come from, raises `ExtractError` ("corrupt", "XML part declares a DTD") before the main
  parser sees those bytes, so no entity is ever expanded or fetched (billion laughs, XXE).
  Malformed XML, an encoding declaration naming an unknown codec and nesting deeper
  than `MAX_DEPTH` elements raise `ExtractError` ("corrupt"). Each element is removed
  from its parent once its end event was handled (unless ``hold`` says the caller still
  needs it), so memory is that of the open elements.
- `Prose` and `Table` turn paragraphs and table rows into bounded `Segment` and `Rows`
  batches and count characters against ``limits.max_text_chars`` (past it, what was read
  is yielded and `LimitExceeded` ("bytes") is raised; the budget is then exhausted).
- `read_document` walks a word-processing or presentation part (DOCX, PPTX, ODT, ODP,
  ODS) described by a `Dialect`; `guarded` turns the errors of one part into an `Unread`.

No message carries document content: details name the part or the limit only.
"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, TypeVar, cast
from xml.parsers import expat

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _budget
from ftiscan.scanner.extract.delimited import looks_like_header, preamble_rows
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
    "CHUNK",
    "MAX_COLUMNS",
    "MAX_DEPTH",
    "Budget",
    "Dialect",
    "Prose",
    "Table",
    "XmlEvents",
    "guarded",
    "join_member",
    "local_name",
    "number_text",
    "open_part",
    "read_document",
    "scan_elements",
]

CHUNK = 64 * 1024
"""Bytes fed to the parser at a time."""

MAX_DEPTH = 256
"""Deepest element nesting accepted (real documents stay far below)."""

MAX_COLUMNS = 16_384
"""Widest row that is aligned by column (Excel's and LibreOffice's limit, XFD)."""

ROW_REPEAT_CAP = 100
"""Copies yielded of a non-empty row that claims to repeat (ODF); the numbering goes on."""

_RATIO_AFTER = 1024 * 1024
_HEADER_ROWS = 20
_ROW_GAP = 16  # missing rows padded with empty rows; a larger gap starts a new batch
_BATCH_CELLS = 1 << 20  # cell slots per batch, so that wide sparse rows stay bounded
_LONG_SLACK = 1024
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError)
_T = TypeVar("_T")


@dataclass(slots=True)
class Budget:
    """What one office file has used of its `Limits`."""

    limits: Limits
    out: int = 0  # decompressed bytes
    text: int = 0  # characters yielded
    parts: int = 0  # content parts read (sheets, slides, embeddings ...)
    exhausted: bool = False  # a per-file limit was passed: nothing more can be read
    deadline: float = field(init=False)  # time.monotonic() after which reading stops

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.max_seconds

    def take_part(self) -> bool:
        """Count one more content part; False once ``limits.max_members`` are taken."""
        self.parts += 1
        return self.parts <= self.limits.max_members

    def add_text(self, size: int) -> bool:
        """Count ``size`` characters; True when that passes ``limits.max_text_chars``."""
        self.text += size
        if self.text > self.limits.max_text_chars:
            self.exhausted = True
            return True
        return False

    def text_error(self) -> LimitExceeded:
        return LimitExceeded("bytes", f"more than {self.limits.max_text_chars} characters of text")


class _Part(io.RawIOBase):
    """The decompressed bytes of one zip member, counted against the budget."""

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo, budget: Budget) -> None:
        super().__init__()
        self._raw, self._info, self._budget = raw, info, budget
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._raw.read(len(view))
        except _ZIP_ERRORS as exc:
            raise ExtractError("corrupt", f"damaged zip member ({type(exc).__name__})") from exc
        size = len(data)
        view[:size] = data
        self.count += size
        budget = self._budget
        limits = budget.limits
        budget.out += size
        if budget.out > limits.max_decompressed_bytes:
            budget.exhausted = True
            raise LimitExceeded("bytes", f"more than {limits.max_decompressed_bytes} bytes out")
        try:
            _budget.charge(size)  # the budget of the whole scanned file, across containers
        except LimitExceeded:
            budget.exhausted = True
            raise
        if time.monotonic() > budget.deadline:
            # Parts of empty elements yield nothing for many seconds, and the engine
            # checks its clock only between items: the time limit is checked per read.
            budget.exhausted = True
            raise LimitExceeded("time", f"more than {limits.max_seconds} s")
        if self.count > _RATIO_AFTER:
            # ZipExtFile keeps the compressed bytes it has not read yet in _compress_left
            # (CPython 3.x); without it the declared compressed size is used.
            left = getattr(self._raw, "_compress_left", None)
            packed = self._info.compress_size
            consumed = packed - left if isinstance(left, int) else packed
            if self.count > limits.max_ratio * max(1, consumed):
                raise LimitExceeded("ratio", f"more than {limits.max_ratio}:1")
        return size


@contextmanager
def open_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> Iterator[IO[bytes]]:
    """Open the member ``info`` of ``zf`` as a bounded stream (see the module docstring)."""
    limits = budget.limits
    if info.flag_bits & 0x1:
        raise ExtractError("encrypted", "encrypted zip member")
    left = limits.max_decompressed_bytes - budget.out
    if info.file_size > left:
        raise LimitExceeded("bytes", f"member declares more than the {left} bytes left")
    if info.file_size > _RATIO_AFTER and info.file_size > limits.max_ratio * max(
        1, info.compress_size
    ):
        raise LimitExceeded("ratio", f"member declares more than {limits.max_ratio}:1")
    try:
        raw = zf.open(info)
    except NotImplementedError as exc:
        raise ExtractError("unsupported:compression", "zip compression method") from exc
    except _ZIP_ERRORS as exc:
        raise ExtractError("corrupt", f"damaged zip member ({type(exc).__name__})") from exc
    with raw:
        yield io.BufferedReader(_Part(raw, info, budget), CHUNK)


class _RootSeen(Exception):
    """The guard parser reached the root element: no DTD can follow."""


class _Declared(Exception):
    """The guard parser met a DOCTYPE or a declaration."""


class _Guard:
    """A pyexpat parser that reads the prolog and refuses any DOCTYPE."""

    def __init__(self) -> None:
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self._declared
        parser.EntityDeclHandler = self._declared
        parser.UnparsedEntityDeclHandler = self._declared
        parser.StartElementHandler = self._root
        self._parser = parser

    @staticmethod
    def _declared(*_: object) -> None:
        raise _Declared

    @staticmethod
    def _root(*_: object) -> None:
        raise _RootSeen

    def feed(self, data: bytes, final: bool) -> bool:
        """Parse ``data``; True once no DTD can come any more."""
        try:
            self._parser.Parse(data, final)
        except _RootSeen:
            return True
        except _Declared:
            raise ExtractError("corrupt", "XML part declares a DTD") from None
        except expat.ExpatError:
            return True  # the main parser stops at the same byte and reports it
        except LookupError:  # <?xml encoding="..."?> names a codec Python does not have
            raise ExtractError("corrupt", "XML part declares an unknown encoding") from None
        return final


_LOCAL: dict[str, str] = {}


def local_name(tag: str) -> str:
    """The name of ``tag`` without its namespace.

    >>> local_name("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}row")
    'row'
    """
    name = _LOCAL.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL) < 4096:
            _LOCAL[tag] = name
    return name


class XmlEvents:
    """``(is_start, local name, element)`` events of one XML stream (module docstring).

    An element is removed from its parent after its end event unless ``hold`` > 0:
    a caller that needs the subtree of an element raises ``hold`` at its start and
    lowers it at its end (the element itself is then removed).
    """

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.hold = 0

    def __iter__(self) -> Iterator[tuple[bool, str, ET.Element]]:
        guard: _Guard | None = _Guard()
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(("start", "end"))
        # Only start and end events are asked for: each comes with its element.
        read_events = cast("Callable[[], Iterator[tuple[str, ET.Element]]]", parser.read_events)
        stack: list[ET.Element] = []
        names = _LOCAL
        done = False
        while not done:
            data = self._fh.read(CHUNK)
            done = not data
            if guard is not None and guard.feed(data, done):
                guard = None
            try:
                if done:
                    parser.close()
                else:
                    parser.feed(data)
                for event, elem in read_events():
                    if event == "start":
                        stack.append(elem)
                        if len(stack) > MAX_DEPTH:
                            raise ExtractError("corrupt", f"XML nested deeper than {MAX_DEPTH}")
                        tag = elem.tag
                        yield True, names.get(tag) or local_name(tag), elem
                    else:
                        stack.pop()
                        tag = elem.tag
                        yield False, names.get(tag) or local_name(tag), elem
                        if not self.hold and stack:
                            stack[-1].remove(elem)
            except ET.ParseError as exc:
                raise ExtractError("corrupt", f"malformed XML at line {exc.position[0]}") from exc


def scan_elements(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, wanted: frozenset[str]
) -> Iterator[tuple[str, dict[str, str]]]:
    """``(local name, attributes)`` of the elements named in ``wanted``, in order."""
    with open_part(zf, info, budget) as fh:
        for start, name, elem in XmlEvents(fh):
            if start and name in wanted:
                yield name, dict(elem.attrib)


def guarded(items: Iterator[_T], where: Location, budget: Budget) -> Iterator[_T | Unread]:
    """``items``, but an `ExtractError` ends them with ``Unread(where, reason)``;
    once the budget is exhausted the error propagates (the rest cannot be read)."""
    try:
        yield from items
    except ExtractError as exc:
        if budget.exhausted:
            raise
        reason = f"unsupported:{exc.detail}" if exc.reason == "unsupported" else exc.reason
        yield Unread(where, reason)


def join_member(outer: str | None, name: str) -> str:
    """``name`` inside the member ``outer`` (None: the file itself).

    >>> join_member("mail.eml/a.docx", "word/embeddings/oleObject1.bin")
    'mail.eml/a.docx/word/embeddings/oleObject1.bin'
    """
    return f"{outer}/{name}" if outer else name


def number_text(raw: str) -> str:
    """A number as written, with an integer-valued float written as its digits.

    >>> number_text("457555462"), number_text("457555462.0"), number_text("4.57555462E8")
    ('457555462', '457555462', '457555462')
    >>> number_text("0.25")
    '0.25'
    """
    text = raw.strip()
    if text.isdigit() and text.isascii():
        return text
    body = text[1:] if text[:1] == "-" else text
    if body.endswith(".0") and body[:-2].isdigit() and body.isascii():
        return text[:-2]
    if "." in text or "e" in text or "E" in text:
        try:
            value = Decimal(text)
        except InvalidOperation:
            return raw
        if value.is_finite() and value.adjusted() < 21 and value == value.to_integral_value():
            return str(int(value))
    return raw


class Prose:
    """Paragraphs into `Segment` blocks of about ``limits.block_chars`` characters.

    Each paragraph is a line; a newline inside one (a line break) starts another, so
    ``where.line`` of a block is the line of its first paragraph in that count.
    """

    def __init__(self, where: Location, limits: Limits, budget: Budget) -> None:
        self.where = where
        self.line = 1
        self._block = max(1, limits.block_chars)
        self._budget = budget
        self._parts: list[str] = []
        self._size = 0
        self._first = 1
        self._text = False

    def add(self, text: str) -> Iterator[Segment]:
        """Add one paragraph; yield the blocks that are full."""
        over = self._budget.add_text(len(text))
        if over:
            excess = self._budget.text - self._budget.limits.max_text_chars
            text = text[: max(0, len(text) - excess)]
        if len(text) > self._block:
            yield from self.flush()
            yield from self._long(text)
        else:
            if self._size + len(text) + 1 > self._block:
                yield from self.flush()
            if not self._parts:
                self._first = self.line
            self._parts.append(text)
            self._size += len(text) + 1
            if not self._text and text and not text.isspace():
                self._text = True
            self.line += 1 + text.count("\n")
        if over:
            yield from self.flush()
            raise self._budget.text_error()

    def _long(self, text: str) -> Iterator[Segment]:
        start = 0
        while start < len(text):
            end = min(len(text), start + self._block)
            if end < len(text):
                cut = max(text.rfind(ch, end - _LONG_SLACK, end) for ch in " \n\t")
                if cut > start:
                    end = cut + 1
            piece = text[start:end]
            yield Segment(piece, replace(self.where, line=self.line))
            self.line += piece.count("\n")
            start = end
        self.line += 1

    def flush(self) -> Iterator[Segment]:
        """Yield the paragraphs gathered so far (if any has text)."""
        if self._parts and self._text:
            text = "\n".join(self._parts) + "\n"
            yield Segment(text, replace(self.where, line=self._first))
        self._parts = []
        self._size = 0
        self._text = False


class Table:
    """Numbered rows of one table (sheet) into `Rows` batches.

    Rows are added with their 1-based number, in increasing order; empty rows need not
    be added. The header is looked for as in `delimited`: up to five one-field preamble
    rows (a title) form a batch of their own, then the first row is the header when
    `looks_like_header` says so (it is then not among the rows). A batch holds
    consecutive rows (gaps of up to 16 rows are padded with empty rows), at most
    ``limits.batch_rows`` rows and about a million cell slots.
    """

    def __init__(self, where: Location, limits: Limits, budget: Budget) -> None:
        self.where = where
        self._limits, self._budget = limits, budget
        self._batch = max(1, limits.batch_rows)
        self._head: list[tuple[int, tuple[str, ...]]] | None = []
        self._header: tuple[str, ...] | None = None
        self._rows: list[tuple[str, ...]] = []
        self._first = 0
        self._next = 0
        self._cells = 0

    def add(self, number: int, cells: tuple[str, ...]) -> Iterator[Rows]:
        """Add row ``number``; yield the batches that are full."""
        if self._budget.add_text(sum(map(len, cells))):
            yield from self.finish()
            raise self._budget.text_error()
        if self._head is not None:
            self._head.append((number, cells))
            if len(self._head) > _HEADER_ROWS:
                yield from self._decide()
            return
        yield from self._put(number, cells)

    def _decide(self) -> Iterator[Rows]:
        head = self._head or []
        self._head = None
        rows = [cells for _, cells in head]
        lead = preamble_rows(rows)
        for number, cells in head[:lead]:
            yield from self._put(number, cells)
        if lead:
            yield from self._flush()
        rest = head[lead:]
        if rest and looks_like_header(rows[lead:]):
            self._header = rest[0][1]
            rest = rest[1:]
        for number, cells in rest:
            yield from self._put(number, cells)

    def _put(self, number: int, cells: tuple[str, ...]) -> Iterator[Rows]:
        if self._rows:
            gap = number - self._next
            if (
                gap < 0
                or gap > _ROW_GAP
                or len(self._rows) + gap >= self._batch
                or self._cells >= _BATCH_CELLS
            ):
                yield from self._flush()
            elif gap:
                self._rows.extend([()] * gap)
        if not self._rows:
            self._first = number
        self._rows.append(cells)
        self._cells += len(cells)
        self._next = number + 1

    def _flush(self) -> Iterator[Rows]:
        if self._rows:
            yield Rows(self._rows, self._first, self._header, self.where)
        self._rows = []
        self._cells = 0

    def finish(self) -> Iterator[Rows]:
        """Yield what is left."""
        if self._head is not None:
            yield from self._decide()
        yield from self._flush()


@dataclass(slots=True)
class _OpenTable:
    table: Table
    number: int = 1
    cells: list[str] = field(default_factory=list)
    empty: int = 0  # empty cells not yet padded (only padded before a non-empty one)

    def put_cell(self, value: str, repeat: int) -> None:
        cells = self.cells
        if not value:
            self.empty += repeat
            return
        if self.empty:
            pad = min(self.empty, MAX_COLUMNS - len(cells))
            if pad > 0:
                cells.extend([""] * pad)
            self.empty = 0
        cells.extend([value] * max(1, min(repeat, MAX_COLUMNS - len(cells))))

    def end_row(self, repeat: int) -> Iterator[Rows]:
        cells = tuple(self.cells)
        self.cells = []
        self.empty = 0
        if cells:
            for offset in range(min(repeat, ROW_REPEAT_CAP)):
                yield from self.table.add(self.number + offset, cells)
        self.number += repeat


def _one(_: ET.Element) -> int:
    return 1


def _no_name(_: ET.Element) -> str | None:
    return None


def _same(_: ET.Element, text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Dialect:
    """The element names (local names) of a document vocabulary and how to read them."""

    paragraphs: frozenset[str]
    tables: frozenset[str]
    rows: frozenset[str]
    cells: frozenset[str]
    text: Callable[[ET.Element], str]
    """Text of a finished paragraph element (without nested paragraphs and tables)."""
    containers: frozenset[str] = frozenset()
    """Elements whose paragraphs are prose even inside a table cell (text boxes, notes)."""
    skip: frozenset[str] = frozenset()
    """Subtrees not read at all (alternate renderings of the same content)."""
    value: Callable[[ET.Element, str], str] = _same
    rows_repeated: Callable[[ET.Element], int] = _one
    cells_repeated: Callable[[ET.Element], int] = _one
    table_name: Callable[[ET.Element], str | None] = _no_name
    sections: frozenset[str] = frozenset()
    """Elements that change the location of what is inside them (slides of an ODP)."""


TableWhere = Callable[[Location, int, "str | None"], Location]
Section = Callable[[str, ET.Element, Location], Location]


def read_document(
    fh: IO[bytes],
    dialect: Dialect,
    where: Location,
    limits: Limits,
    budget: Budget,
    table_where: TableWhere,
    section: Section | None = None,
) -> Iterator[Segment | Rows]:
    """Paragraphs outside tables as prose at ``where``, each table as `Rows` at
    ``table_where(current prose location, table number, table name)``. On an
    `ExtractError` what was gathered is yielded before the error propagates."""
    d = dialect
    events = XmlEvents(fh)
    prose = Prose(where, limits, budget)
    contexts: list[list[str] | None] = [None]  # None: prose; a list: the open cell's text
    tables: list[_OpenTable] = []
    saved: list[tuple[Location, int]] = []
    count = 0
    skipping = 0
    try:
        for start, name, elem in events:
            if name in d.skip:
                skipping += 1 if start else -1
                continue
            if skipping:
                continue
            if start:
                if name in d.paragraphs:
                    events.hold += 1
                elif name in d.cells:
                    contexts.append([])
                elif name in d.containers:
                    contexts.append(None)
                elif name in d.rows:
                    if tables:
                        tables[-1].cells = []
                        tables[-1].empty = 0
                elif name in d.tables:
                    count += 1
                    table_at = table_where(prose.where, count, d.table_name(elem))
                    tables.append(_OpenTable(Table(table_at, limits, budget)))
                elif name in d.sections and section is not None:
                    yield from prose.flush()
                    saved.append((prose.where, prose.line))
                    prose.where, prose.line = section(name, elem, prose.where), 1
                continue
            if name in d.paragraphs:
                events.hold -= 1
                text = d.text(elem)
                if events.hold:  # inside another paragraph: keep its tail for that one
                    tail = elem.tail
                    elem.clear()
                    elem.tail = tail
                context = contexts[-1]
                if context is None:
                    yield from prose.add(text)
                else:
                    context.append(text)
            elif name in d.cells:
                parts = contexts.pop() if len(contexts) > 1 else None
                if tables:
                    value = d.value(elem, "\n".join(parts) if parts else "")
                    tables[-1].put_cell(value, d.cells_repeated(elem))
            elif name in d.containers:
                if len(contexts) > 1:
                    contexts.pop()
            elif name in d.rows:
                if tables:
                    yield from tables[-1].end_row(d.rows_repeated(elem))
            elif name in d.tables:
                if tables:
                    yield from tables.pop().table.finish()
            elif name in d.sections and saved:
                yield from prose.flush()
                prose.where, prose.line = saved.pop()
    except ExtractError:
        # Damage or a limit: what was gathered before it is still yielded.
        yield from prose.flush()
        for open_table in reversed(tables):
            yield from open_table.table.finish()
        raise
    yield from prose.flush()
