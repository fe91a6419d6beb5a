"""Rich Text Format: the text of the document, paragraphs as lines, tables as rows.

A small streaming parser (no library): the file is read in chunks of 1 MiB and cut into
tokens by one regular expression (C loops); groups are tracked on an explicit stack, so
deep nesting never recurses in Python, and runs of groups in the same state take one
stack entry (100,000 nested braces cost nothing).

- Text: plain characters, ``\\'hh`` bytes (decoded with the document's code page:
  ``\\ansicpgN``, else ``\\ansi``/``\\mac``/``\\pc``/``\\pca``; consecutive bytes are
  decoded together, so double-byte code pages work), ``\\uN`` (with ``\\ucN`` fallback
  characters skipped; surrogate pairs joined), and the symbols (``\\tab``, ``\\emdash``,
  quotes, ``\\~`` ...). ``\\binN`` data is skipped.
- Skipped: ``{\\*\\...}`` destinations and those that hold no document text (font,
  colour, style and list tables, ``\\info``, pictures, field instructions ...).
- Lines: ``\\par``, ``\\line``, ``\\sect``, ``\\page`` end a line. `Segment` blocks of
  whole lines carry ``where.line`` (1-based, in the text as extracted).
- Tables: the cells of ``\\intbl`` paragraphs (``\\cell``) make a row at ``\\row``.
  Consecutive rows are one table: `Rows` with ``where.sheet`` = ``table N`` (N-th table
  of the document), ``first_row`` = row in that table, ``where.line`` = the line of
  ``rows[0]`` (each row counts as one line), ``header`` as in
  `delimited.looks_like_header`. Text inside a cell keeps its line breaks.
- Limits: after ``limits.max_text_chars`` characters, what was read is yielded and
  `LimitExceeded` ("bytes") raised; after ``limits.max_seconds`` (checked per chunk),
  `LimitExceeded` ("time"). More than 100,000 stacked group states (a hostile file
  alternating states at every level) raise `ExtractError` ("corrupt").
"""

from __future__ import annotations

import codecs
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import IO

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _decode, text
from ftiscan.scanner.extract.delimited import looks_like_header
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["extract_rtf"]

_CHUNK = 1024 * 1024
_TAIL = 64  # a token never spans more than this many characters (control words: 46)
_PROSE = 64 * 1024  # prose is handed on in pieces of about this size
_MAX_STATES = 100_000
_HEADER_ROWS = 20

_TOKEN = re.compile(
    r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # 1, 2: control word and parameter
    r"|\\'([0-9a-fA-F]{2})"  # 3: a byte in the code page
    r"|\\(.)"  # 4: control symbol
    r"|([{}])"  # 5: group
    r"|([^\\{}\r\n]+)"  # 6: text
    r"|[\r\n]+",
    re.S,
)
_SURROGATE = re.compile("[\ud800-\udfff]")

_SKIPPED = frozenset(
    [
        "fonttbl",
        "colortbl",
        "stylesheet",
        "info",
        "pict",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "generator",
        "themedata",
        "colorschememapping",
        "latentstyles",
        "datastore",
        "xmlnstbl",
        "filetbl",
        "revtbl",
        "pgdsctbl",
        "fldinst",
        "bkmkstart",
        "bkmkend",
        "pntxta",
        "pntxtb",
        "nonshppict",
        "shppict",
        "userprops",
        "template",
        "ftnsep",
        "ftnsepc",
        "aftnsep",
        "aftnsepc",
        "objdata",
        "objclass",
        "objname",
        "mmathPr",
        "panose",
        "falt",
        "passwordhash",
    ]
)
_NEWLINE = frozenset(("par", "line", "sect", "page", "outlinelevel0"))
_SYMBOLS = {
    "tab": "\t",
    "emdash": "\u2014",
    "endash": "\u2013",
    "emspace": " ",
    "enspace": " ",
    "qmspace": " ",
    "bullet": "\u2022",
    "lquote": "\u2018",
    "rquote": "\u2019",
    "ldblquote": "\u201c",
    "rdblquote": "\u201d",
    "zwj": "",
    "zwnj": "",
    "nestcell": "\t",
    "nestrow": "\n",
}
_CONTROL_SYMBOLS = {"~": "\u00a0", "_": "-", "-": "", ":": "", "|": "", "\\": "\\"}
_CHARSETS = {"ansi": "cp1252", "mac": "mac-roman", "pc": "cp437", "pca": "cp850"}

# Group state: (skip, uc, intbl) packed as an int: skip bit 0, intbl bit 1, uc above.
_SKIP, _INTBL = 1, 2

Event = tuple[int, str | list[tuple[str, ...]]]
"""(0, whole lines of prose) or (table number, rows of that table)."""


def _fix(value: str) -> str:
    if _SURROGATE.search(value):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


class _Parser:
    """Turns RTF chunks into events (see `Event`)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.codec = "cp1252"
        self.state = 1 << 2  # uc = 1
        self.stack: list[list[int]] = []  # [state, count] runs
        self.fresh = False  # the previous token opened a group
        self.fallback = 0  # characters still to skip after \uN
        self.bytes = bytearray()  # \'hh bytes waiting to be decoded
        self.cur: list[str] = []  # the paragraph or cell being read
        self.cur_chars = 0
        self.cells: list[str] = []
        self.rows: list[tuple[str, ...]] = []
        self.prose: list[str] = []
        self.prose_chars = 0
        self.table = 0
        self.in_table = False
        self.total = 0
        self.skip_bytes = 0  # \binN data still to skip
        self.events: list[Event] = []

    # -- output -----------------------------------------------------------------------

    def _count(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.max_text_chars:
            raise LimitExceeded("bytes", f"more than {self.limits.max_text_chars} characters")

    def _put(self, value: str) -> None:
        if self.fallback:
            cut = min(self.fallback, len(value))
            self.fallback -= cut
            value = value[cut:]
        if not value:
            return
        self._count(len(value))
        self.cur.append(value)
        self.cur_chars += len(value)
        if self.cur_chars >= self.limits.block_chars and not self.state & _INTBL:
            self._cut_long_paragraph()

    def _cut_long_paragraph(self) -> None:
        """Hand on a paragraph longer than a block in pieces of at most a block, cut
        after a space where there is one (the pieces stay on the paragraph's line)."""
        joined = "".join(self.cur)
        block = max(1, self.limits.block_chars)
        if self.rows or self.in_table:
            self._end_table()
        self._flush_prose()
        while len(joined) >= block:
            space = max(joined.rfind(" ", 0, block), joined.rfind("\t", 0, block))
            end = space + 1 if space > 0 else block
            self.events.append((0, _fix(joined[:end])))
            joined = joined[end:]
        self.cur, self.cur_chars = ([joined], len(joined)) if joined else ([], 0)

    def _flush_bytes(self) -> None:
        if self.bytes:
            data = bytes(self.bytes)
            self.bytes.clear()
            self._put(_decode.decode(data, self.codec))

    def _prose(self, value: str) -> None:
        if self.rows or self.in_table:
            self._end_table()
        self.prose.append(value)
        self.prose_chars += len(value)
        if self.prose_chars >= _PROSE:
            self._flush_prose()

    def _flush_prose(self) -> None:
        if self.prose:
            self.events.append((0, _fix("".join(self.prose))))
            self.prose, self.prose_chars = [], 0

    def _end_table(self) -> None:
        if self.rows:
            self.events.append((self.table, self.rows))
            self.rows = []
        self.in_table = False

    def _newline(self) -> None:
        self._flush_bytes()
        self.fallback = 0
        if self.state & _INTBL:
            self._put("\n")
            return
        self._count(1)
        self.cur.append("\n")
        self._prose("".join(self.cur))
        self.cur, self.cur_chars = [], 0

    def _cell(self) -> None:
        self._flush_bytes()
        self.cells.append(_fix("".join(self.cur).strip("\n")))
        self.cur, self.cur_chars = [], 0

    def _row(self) -> None:
        self._flush_bytes()
        rest = "".join(self.cur).strip()
        if rest:
            self.cells.append(_fix(rest))
        self.cur, self.cur_chars = [], 0
        if not self.cells:
            return
        if not self.in_table:
            self._flush_prose()
            self.table += 1
            self.in_table = True
        self.rows.append(tuple(self.cells))
        self.cells = []
        if len(self.rows) >= max(1, self.limits.batch_rows):
            self.events.append((self.table, self.rows))
            self.rows = []

    def salvage(self) -> None:
        """After an error: hand on what was read (nothing here counts characters)."""
        self.bytes.clear()
        self.fallback = 0
        self.finish()

    def finish(self) -> None:
        self._flush_bytes()
        if self.cells:
            self._row()
        if self.cur:
            tail = "".join(self.cur)
            self.cur = []
            if tail.strip():
                self._prose(tail if tail.endswith("\n") else tail + "\n")
        self._end_table()
        self._flush_prose()

    # -- groups -----------------------------------------------------------------------

    def _open(self) -> None:
        if self.stack and self.stack[-1][0] == self.state:
            self.stack[-1][1] += 1
        else:
            if len(self.stack) >= _MAX_STATES:
                raise ExtractError("corrupt", f"more than {_MAX_STATES} nested group states")
            self.stack.append([self.state, 1])

    def _close(self) -> None:
        if not self.stack:
            return  # an unbalanced brace: ignored
        top = self.stack[-1]
        self.state = top[0]
        top[1] -= 1
        if not top[1]:
            self.stack.pop()

    # -- tokens -----------------------------------------------------------------------

    def feed(self, buf: str, final: bool) -> str:
        """Parse ``buf``; return the tail that must wait for more input."""
        pos = 0
        size = len(buf)
        if self.skip_bytes:
            take = min(self.skip_bytes, size)
            self.skip_bytes -= take
            pos = take
        while pos < size:
            restart = False
            for match in _TOKEN.finditer(buf, pos):
                if not final and match.end() > size - _TAIL:
                    return buf[match.start() :]
                pos = match.end()
                skip = self.state & _SKIP
                word = match.group(1)
                if word is not None:
                    param = match.group(2)
                    fresh, self.fresh = self.fresh, False
                    if fresh and word in _SKIPPED:
                        self.state |= _SKIP
                        continue
                    if word == "bin":
                        self._flush_bytes()
                        count = max(0, int(param or 0))
                        if pos + count > size:
                            self.skip_bytes = pos + count - size
                            return ""
                        pos += count
                        restart = True
                        break
                    if skip:
                        continue
                    self._word(word, param)
                    continue
                hexa = match.group(3)
                if hexa is not None:
                    self.fresh = False
                    if skip:
                        continue
                    if self.fallback:
                        self.fallback -= 1
                    else:
                        self.bytes.append(int(hexa, 16))
                    continue
                symbol = match.group(4)
                if symbol is not None:
                    fresh, self.fresh = self.fresh, False
                    if symbol == "*":
                        if fresh:
                            self.state |= _SKIP
                        continue
                    if skip:
                        continue
                    if symbol in "\r\n":
                        self._newline()
                    elif symbol in "{}":
                        self._flush_bytes()
                        self._put(symbol)
                    else:
                        self._flush_bytes()
                        self._put(_CONTROL_SYMBOLS.get(symbol, ""))
                    continue
                brace = match.group(5)
                if brace is not None:
                    self._flush_bytes()
                    self.fallback = 0
                    if brace == "{":
                        self._open()
                        self.fresh = True
                    else:
                        self._close()
                        self.fresh = False
                    continue
                run = match.group(6)
                if run is not None:
                    self.fresh = False
                    if skip:
                        continue
                    self._flush_bytes()
                    if not run.isascii():  # raw 8-bit text from lax writers
                        run = _decode.decode(run.encode("latin-1"), self.codec)
                    self._put(run)
            if not restart:
                break
        return ""

    def _word(self, word: str, param: str | None) -> None:
        if word in _NEWLINE:
            self._newline()
        elif word == "cell":
            self._cell()
        elif word == "row":
            self._row()
        elif word == "u" and param is not None:
            self._flush_bytes()
            value = int(param)
            if value < 0:
                value += 65536
            self._put(chr(value & 0xFFFF))
            self.fallback = self.state >> 2
        elif word == "uc" and param is not None:
            self.state = (self.state & 3) | (max(0, min(int(param), 16)) << 2)
        elif word == "intbl":
            self.state |= _INTBL
        elif word == "pard":
            self.state &= ~_INTBL
        elif word in _SYMBOLS:
            self._flush_bytes()
            self._put(_SYMBOLS[word])
        elif word == "ansicpg" and param is not None:
            self.codec = _codepage(int(param), self.codec)
        elif word in _CHARSETS:
            self.codec = _CHARSETS[word]
        else:
            self._flush_bytes()


def _codepage(number: int, default: str) -> str:
    if number == 65001:
        return "utf-8"
    try:
        return codecs.lookup(f"cp{number}").name
    except LookupError:
        return default


def _events(fh: IO[bytes], parser: _Parser) -> Iterator[Event]:
    """The parser's events; on a limit or damage, the events before it, then the error."""
    read = getattr(fh, "read1", fh.read)
    pending = ""
    # A chunk of bare braces yields no event for seconds, so the engine, which checks
    # its clock between items, would not see ``max_seconds`` pass: check it per chunk.
    deadline = time.monotonic() + parser.limits.max_seconds
    while True:
        try:
            data = read(_CHUNK)
            final = not data
            text_ = data.decode("latin-1")
            pending = parser.feed(pending + text_ if pending else text_, final)
            if final:
                parser.finish()
            elif time.monotonic() > deadline:
                raise LimitExceeded("time", f"more than {parser.limits.max_seconds} s")
        except ExtractError:
            parser.salvage()
            yield from parser.events
            raise
        yield from parser.events
        parser.events.clear()
        if final:
            return


def extract_rtf(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0, *, first_line: int = 1
) -> Iterator[Segment | Rows | Unread]:
    """Yield the text of the RTF document in ``fh`` (see the module docstring).

    ``first_line`` numbers the first line (a message body after its headers).
    """
    parser = _Parser(limits)
    line = first_line
    tables: dict[int, tuple[int, tuple[str, ...] | None]] = {}  # table -> next row, header
    # The parser counts characters against the limit; the block cutter must not again.
    loose = replace(limits, max_text_chars=max(limits.max_text_chars, 1) * 2)
    for number, payload in _events(fh, parser):
        if isinstance(payload, str):
            yield from text.extract_text(iter([payload]), where, loose, codec="", first_line=line)
            line += payload.count("\n")
            continue
        rows = payload
        next_row, header = tables.get(number, (1, None))
        if next_row == 1 and looks_like_header(rows[: _HEADER_ROWS + 1]):
            header, rows = rows[0], rows[1:]
            line += 1
            next_row = 2
        if rows:
            yield Rows(rows, next_row, header, replace(where, sheet=f"table {number}", line=line))
        tables[number] = (next_row + len(rows), header)
        line += len(rows)
