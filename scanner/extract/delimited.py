"""Delimited tables: CSV, TSV, pipe- and semicolon-separated, with quoted fields.

- The delimiter is sniffed from the first lines (`sniff_delimiter`): among comma, tab,
  pipe and semicolon, the one that splits the most lines into the same number (> 1) of
  fields; ties go to fewer cells holding a stray quote (a wrong delimiter splits quoted
  fields), then to the larger number of fields, then to that order.
- The header (`looks_like_header`): the first row has no cell that is mostly digits and
  at least one alphabetic cell, and its columns differ from the data below (a text cell
  over numbers, a length unlike the data's fixed length, a usual column name such as
  ``ssn`` or ``street`` absent from the data, an ``identifier_like`` name). A headerless
  file yields ``header=None``.
- A preamble (`preamble_rows`: up to five one-field lines, such as a title or an FTI
  banner, above a table of wider rows) is yielded as its own batch of rows first; the
  header is then looked for on the line after it.
- Rows come in batches of ``limits.batch_rows``; ``first_row`` numbers records (the
  header is row 1, so data starts at 2), ``where.line`` is the physical line on which
  ``rows[0]`` starts (quoted fields may hold newlines). Empty lines are empty rows, so
  numbering stays that of the file.
- A record the csv module rejects (a field longer than ``limits.max_line_chars``,
  the field size limit while this extractor reads) is skipped and reading goes on;
  at the end `ExtractError` ("corrupt", "row N: reason; K row(s) skipped") is raised,
  after every readable row was yielded; if no row could be read, "row N: reason".
  A read error of the stream (`ExtractError`, e.g. a truncated gzip) yields the rows
  read so far first.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from itertools import chain, islice
from operator import itemgetter, methodcaller
from typing import IO, Literal

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract import _decode
from ftiscan.scanner.model import Limits, Location, Rows

__all__ = [
    "DELIMITERS",
    "extract",
    "looks_like_header",
    "preamble_rows",
    "sample_lines",
    "sniff_delimiter",
]

DELIMITERS = (",", "\t", "|", ";")

_HEADER_ROWS = 20
_MAX_PREAMBLE = 5
_SNIFF_LINES = 100
_WORDS = re.compile(r"[a-z]+|[0-9]+")
_VOCABULARY = frozenset(
    [
        "name",
        "first",
        "last",
        "middle",
        "given",
        "surname",
        "family",
        "full",
        "firstname",
        "lastname",
        "fullname",
        "ssn",
        "tin",
        "itin",
        "ein",
        "taxpayer",
        "tax",
        "id",
        "number",
        "no",
        "num",
        "nbr",
        "address",
        "addr",
        "street",
        "city",
        "state",
        "zip",
        "zipcode",
        "postal",
        "postcode",
        "code",
        "county",
        "country",
        "phone",
        "email",
        "mail",
        "dob",
        "birth",
        "date",
        "year",
        "period",
        "amount",
        "type",
        "status",
        "account",
        "acct",
        "line",
        "apt",
        "unit",
        "suite",
        "mft",
        "dln",
        "form",
        "filing",
        "spouse",
        "income",
        "balance",
        "description",
        "notes",
        "comment",
        "record",
        "key",
        "value",
        "total",
        "count",
        "dependent",
        "employer",
        "employee",
        "wages",
        "refund",
        "return",
        "sex",
        "gender",
        "age",
        "title",
    ]
)


def sample_lines(sample: str, complete: bool, limit: int = _SNIFF_LINES) -> list[str]:
    """The first ``limit`` lines of a decoded sample; a cut last line is dropped."""
    lines = sample.split("\n", limit + 1)
    if len(lines) > limit or not complete or lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines[:limit]]


def sniff_delimiter(lines: Sequence[str], *, strict: bool = False) -> tuple[str, int, float] | None:
    """Pick the delimiter of ``lines``: ``(delimiter, fields, share)`` or None.

    ``share`` is the fraction of records that have the most common field count. With
    ``strict``, a delimiter that leaves the first field of most records empty (tab
    indentation) does not count.

    >>> sniff_delimiter(["a|b|c", "1|2,5|3"])
    ('|', 3, 1.0)
    """
    best: tuple[float, int, int, int] | None = None
    choice: tuple[str, int, float] | None = None
    for rank, delim in enumerate(DELIMITERS):
        if not any(delim in line for line in lines):
            continue
        try:
            records = [row for row in csv.reader(lines, delimiter=delim) if row]
        except csv.Error:
            continue
        if not records:
            continue
        counts = Counter(len(row) for row in records)
        fields, seen = counts.most_common(1)[0]
        if fields < 2:
            continue
        # A delimiter only at the start of lines (indentation) does not make a table.
        if strict and sum(1 for row in records if row[0].strip()) * 2 < len(records):
            continue
        share = seen / len(records)
        # A wrong delimiter splits quoted fields and leaves stray quotes in the cells.
        stray = sum('"' in cell for row in records for cell in row)
        key = (share, -stray, fields, -rank)
        if best is None or key > best:
            best, choice = key, (delim, fields, share)
    return choice


def _kind(cell: str) -> str:
    text = cell.strip()
    if not text:
        return "empty"
    digits = sum(ch.isdigit() for ch in text)
    if digits * 2 >= len(text):
        return "number"
    if any(ch.isalpha() for ch in text):
        return "alpha"
    return "other"


def looks_like_header(rows: Sequence[Sequence[str]]) -> bool:
    """Whether ``rows[0]`` names the columns of the rows after it.

    >>> looks_like_header([["name", "zip"], ["Ann", "20500"]])
    True
    >>> looks_like_header([["Ann", "20500"], ["Bob", "20501"]])
    False
    """
    if len(rows) < 2 or not rows[0]:
        return False  # a lone row is data: a header without rows would hide it
    first = rows[0]
    kinds = [_kind(cell) for cell in first]
    if "number" in kinds or "alpha" not in kinds:
        return False
    data = [row for row in rows[1 : _HEADER_ROWS + 1] if row]
    votes = 0
    for column, cell in enumerate(first):
        name = cell.strip()
        if not name:
            continue
        values = [row[column].strip() for row in data if column < len(row)]
        if name in values:
            votes -= 1
            continue
        words = set(_WORDS.findall(name.lower()))
        if words & _VOCABULARY or ("_" in name and " " not in name):
            votes += 1
        if values:
            value_kinds = Counter(_kind(value) for value in values)
            if value_kinds["number"] * 2 > len(values) and kinds[column] == "alpha":
                votes += 1
            lengths = {len(value) for value in values}
            if len(values) > 1 and len(lengths) == 1 and len(name) not in lengths:
                votes += 1
    return votes > 0


def preamble_rows(rows: Sequence[Sequence[str]]) -> int:
    """How many leading one-field rows (a title, a banner such as an FTI marking) stand
    above a table whose rows have more fields; they are yielded as rows of their own,
    so that the header below them is still recognised.

    >>> preamble_rows([["FEDERAL TAX INFORMATION"], [], ["name", "zip"], ["Ann", "20500"]])
    2
    >>> preamble_rows([["name", "zip"], ["Ann", "20500"]])
    0
    """
    lead = 0
    for row in rows[:_MAX_PREAMBLE]:
        if len(row) > 1:
            break
        lead += 1
    body = [row for row in rows[lead:] if row]
    if not lead or len(body) < 2:
        return 0
    counts = Counter(len(row) for row in body)
    fields, seen = counts.most_common(1)[0]
    return lead if fields > 1 and seen * 2 > len(body) else 0


def extract(fh: IO[bytes], where: Location, limits: Limits) -> Iterator[Rows]:
    """Yield `Rows` batches from the delimited table in the binary stream ``fh``."""
    head, stream = _decode.sniff(fh)
    codec = _decode.detect(head)
    lines = sample_lines(_decode.decode(head, codec), len(head) < _decode.HEAD_BYTES)
    sniffed = sniff_delimiter(lines)
    if sniffed:
        delimiter = sniffed[0]
    else:
        sample = "\n".join(lines)
        delimiter = max(DELIMITERS, key=sample.count)
    wrapper = io.TextIOWrapper(stream, encoding=codec, errors=_decode.ERRORS, newline="")
    try:
        yield from _rows(_TextLines(wrapper.read), delimiter, where, limits)
    finally:
        with contextlib.suppress(ValueError):
            wrapper.detach()  # never close the caller's stream


_FIRST, _LAST = itemgetter(0), itemgetter(-1)
_SEP = "\x1f"  # between cells in a batch's text (as `ftiscan.scanner.records` joins them)


def _quoted_parts(text: str, delimiter: str) -> list[str] | None:
    """``text.split('"')`` when every quote opens or closes a whole field that holds
    no quote, delimiter or line break (the csv module reads ``"a b"`` as ``a b``, so
    the parts joined are the text without its quotes); None otherwise. Checked with
    C-level string operations, no step per field.

    >>> "".join(_quoted_parts('1,"a b",2\\n"c",3', ","))
    '1,a b,2\\nc,3'
    >>> _quoted_parts('1,"a,b"', ","), _quoted_parts('"a"b', ",")
    (None, None)
    """
    parts = text.split('"')
    if len(parts) % 2 == 0:
        return None  # a quote left open
    if "" in parts[1:-1]:
        return None  # an empty or escaped quote: "" alone on a line is one empty field
    inside = "".join(parts[1::2])
    if delimiter in inside or "\n" in inside or "\r" in inside:
        return None
    bounds = {delimiter, "\n", "\r"}
    outside = parts[0::2]
    if outside[0] and outside[0][-1] not in bounds:
        return None  # text before an opening quote in the field
    if outside[-1] and outside[-1][0] not in bounds:
        return None  # text after a closing quote in the field
    middle = outside[1:-1]  # none is empty: "" was ruled out
    if not set(map(_FIRST, middle)) <= bounds or not set(map(_LAST, middle)) <= bounds:
        return None
    return parts


def block_text(text: str, delimiter: str) -> str | None:
    r"""The records of ``text`` (whole lines) as one string, cells joined by ``"\x1f"``
    and records by ``"\n"`` (`Rows.text`), when each line is one record whose fields
    the delimiter alone separates: no quote character, or only quotes around whole
    fields that hold no quote, delimiter or line break (`_quoted_parts`); and no ``"\x1f"``
    of its own. None for any other block: the csv module must read it.

    >>> block_text('a,b c\r\n\n,"d"\re', ",")
    'a\x1fb c\n\n\x1fd\ne'
    >>> block_text('a,"b,c"\n', ","), block_text("a\x1fb\n", ",")
    (None, None)
    """
    parts = _simple(text, delimiter)
    if parts is None:
        return None
    return _joined(text if parts is True else "".join(parts), delimiter)


def _simple(text: str, delimiter: str) -> list[str] | Literal[True] | None:
    """Whether `block_text` reads ``text``: True (no quote), its ``split('"')`` (quotes
    `_quoted_parts` can leave out), or None (the csv module must read it)."""
    if _SEP in text:
        return None
    if '"' in text:
        return _quoted_parts(text, delimiter)
    return True


def _joined(text: str, delimiter: str) -> str:
    """`block_text` of unquoted ``text``: records by ``"\n"``, cells by ``_SEP``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]  # the last line's terminator
    return text.replace(delimiter, _SEP)


def split_text(text: str) -> list[tuple[str, ...]]:
    r"""The rows of a `block_text` (an empty line is an empty record).

    >>> split_text("a\x1fb\n\nc")
    [('a', 'b'), (), ('c',)]
    """
    parts = text.split("\n")
    rows = list(map(tuple, map(methodcaller("split", _SEP), parts)))
    if "" in parts:
        rows = [() if row == ("",) else row for row in rows]
    return rows


class _Deferred:
    """A block of ``lines`` records that `block_text` reads, as it stands in the file
    (``raw``): its `block_text` is made on first use (`text`), split on first parse."""

    __slots__ = ("_parts", "_text", "delimiter", "lines", "raw")

    def __init__(
        self, raw: str, delimiter: str, lines: int, parts: list[str] | Literal[True]
    ) -> None:
        self.raw, self.delimiter, self.lines = raw, delimiter, lines
        self._parts: list[str] | Literal[True] | None = parts  # `_simple` of ``raw``
        self._text: str | None = None

    def text(self) -> str:
        if self._text is None:
            parts = self._parts
            assert parts is not None
            unquoted = self.raw if parts is True else "".join(parts)
            self._text, self._parts = _joined(unquoted, self.delimiter), None
        return self._text

    def parse(self) -> list[tuple[str, ...]]:
        return split_text(self.text())


_READ_CHARS = 256 * 1024
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a line as TextIOWrapper(newline="")
_GUESS = 64  # characters per line assumed before any block was taken
_STEPS = 64  # lines stepped over one by one at most, once a window was counted


class _TextLines:
    r"""The lines of a decoded text stream as ``TextIOWrapper(newline="")`` reads them
    (each ends at ``\r\n``, ``\r`` or ``\n``, kept), taken ``count`` at a time as one
    string (`take`: C-level searches, no step per line; a table is mostly whole
    lines) or one at a time (iteration, for the csv module). A read error
    (`ExtractError`, a truncated compressed stream) ends the lines: those read before
    it are given first, and `failed` holds it.

    >>> lines = _TextLines(io.StringIO("a\r\nb\rc\nd", newline="").read)
    >>> lines.take(2), next(lines), lines.take(5), list(lines)
    (('a\r\nb\r', 2), 'c\n', ('d', 1), [])
    """

    def __init__(self, read: Callable[[int], str]) -> None:
        self._read = read
        self._buf = ""
        self._at = 0
        self._ended = False
        self._per_line = _GUESS
        self.failed: ExtractError | None = None

    def _more(self) -> bool:
        """Read on; False at the end of the stream (or at a read error)."""
        if self._ended:
            return False
        try:
            piece = self._read(_READ_CHARS)
        except ExtractError as exc:
            self.failed, piece = exc, ""
        if not piece:
            self._ended = True
            return False
        self._buf = self._buf[self._at :] + piece
        self._at = 0
        return True

    def __iter__(self) -> _TextLines:
        return self

    def __next__(self) -> str:
        while True:
            buf, at = self._buf, self._at
            newline = buf.find("\n", at)
            ret = buf.find("\r", at, newline if newline >= 0 else len(buf))
            if ret >= 0:  # a \r ends the line, alone or as \r\n
                if ret + 1 == len(buf) and self._more():
                    continue  # read on to see whether a \n follows
                end = ret + 2 if buf.startswith("\n", ret + 1) else ret + 1
            elif newline >= 0:
                end = newline + 1
            elif self._more():
                continue
            elif at < len(buf):
                end = len(buf)  # the last line, without a line end
            else:
                raise StopIteration
            self._at = end
            return buf[at:end]

    def take(self, count: int) -> tuple[str, int]:
        """Up to ``count`` whole lines as one string, and how many they are (fewer
        only at the end of the stream)."""
        while True:
            end = self._after(self._buf, self._at, count)
            if end is not None or not self._more():
                break
        buf, at = self._buf, self._at
        text = buf[at:] if end is None else buf[at:end]  # None: the rest of the stream
        if "\r" in text and text.count("\r") != text.count("\r\n"):
            lines = _LINE.findall(text)[:count]  # a line that ends at a lone \r
            text = "".join(lines)
            self._at = at + len(text)
            return text, len(lines)
        self._at = at + len(text)
        # ``end`` is just after the ``count``-th line end: only the rest is counted.
        found = (
            count
            if end is not None
            else text.count("\n") + (not text.endswith("\n") and bool(text))
        )
        if found:
            self._per_line = max(1, len(text) // found)
        return text, found

    def _after(self, buf: str, at: int, count: int) -> int | None:
        """The offset just after the ``count``-th ``\n`` from ``at`` in ``buf``, None
        when ``buf`` holds fewer: newlines are counted in a window as long as the lines
        so far suggest (resized until it is about right), and the few more or fewer
        are stepped over one by one."""
        if count <= 0:
            return at
        lo, need, per_line = at, count, self._per_line
        while True:
            hi = min(len(buf), lo + per_line * need)
            seen = buf.count("\n", lo, hi)
            if seen >= need + _STEPS:
                per_line = max(1, (hi - lo) // seen)  # too far: a narrower window
            elif seen < need and hi == len(buf):
                return None
            elif seen <= need - _STEPS:
                if seen:  # not far enough: go on from the window's last line
                    per_line = max(1, (hi - lo) // seen)
                    lo, need = buf.rfind("\n", lo, hi) + 1, need - seen
                else:
                    per_line *= 2
            else:
                break
        if seen >= need:
            pos = buf.rfind("\n", lo, hi)
            for _ in range(seen - need):
                pos = buf.rfind("\n", lo, pos)
            return pos + 1
        pos = hi
        for _ in range(need - seen):
            found = buf.find("\n", pos)
            if found < 0:
                return None
            pos = found + 1
        return pos


def _longest(text: str) -> int:
    """The length of the longest line of ``text`` with its line end (an upper bound
    when a line ends at a lone \\r)."""
    if not text:
        return 0
    lengths = list(map(len, text.split("\n")))
    last = lengths.pop()
    return max(max(lengths, default=0) + 1, last)


def _chunks(
    lines: _TextLines,
    delimiter: str,
    size: int,
    first: int,
    limit: int,
    failures: list[str],
) -> Iterator[tuple[int, int, list[tuple[str, ...]] | _Deferred]]:
    """(record number, line, consecutive records) chunks of about ``size`` records.

    Lines are taken ``size`` at a time. A block that `block_text` can read is one
    record per line: after the first chunk, it comes as a `_Deferred` (its text and
    line count; `split_text` makes its records when they are wanted); any other
    block is read by the csv module, which may read on past the block to finish a
    quoted field, and always stops at a record's end. When
    the csv module rejects a record, the records before it are kept, the rejected one
    is noted and skipped. A read error of the stream yields the records gathered so
    far, then propagates. The first chunk holds ``first`` records.

    ``csv.field_size_limit`` is process-wide: it is set to ``limit`` only while a block
    is read and restored before the chunk is yielded, so other readers are unaffected
    (a thread reading CSV at the same moment would see our limit). A block with a line
    longer than ``limit`` goes to the csv module, which rejects its long fields.
    """
    number = line = 1
    while True:
        want = first if number == 1 else size
        raw, count = lines.take(want)  # keeps the lines read before a read error
        short = bool(count) and (len(raw) <= limit or _longest(raw) <= limit)
        parts = _simple(raw, delimiter) if short else None
        if parts is not None:
            deferred = _Deferred(raw, delimiter, count, parts)
            yield number, line, deferred if number > 1 else deferred.parse()
            number += count
            line += count
        elif count:
            block = _LINE.findall(raw)
            # After a read error the stream is not read again: the block is all there is.
            source = iter(block) if lines.failed is not None else chain(block, lines)
            reader = csv.reader(source, delimiter=delimiter)
            start = line
            previous = csv.field_size_limit(limit)
            try:
                while reader.line_num < len(block):
                    rows: list[tuple[str, ...]] = []
                    try:
                        rows.extend(map(tuple, islice(reader, len(block) - reader.line_num)))
                    except ExtractError:
                        if rows:
                            yield number, line, rows
                        raise
                    except csv.Error as exc:
                        failures.append(f"row {number + len(rows)}: {exc}")
                        if rows:
                            yield number, line, rows
                        number += len(rows) + 1
                        line = start + reader.line_num
                        continue
                    if not rows:
                        break  # the stream ended
                    yield number, line, rows
                    number += len(rows)
                    line = start + reader.line_num
            finally:
                csv.field_size_limit(previous)
        if lines.failed is not None:
            raise lines.failed
        if count < want:
            return


def _rows(lines: _TextLines, delimiter: str, where: Location, limits: Limits) -> Iterator[Rows]:
    failures: list[str] = []
    header: tuple[str, ...] | None = None
    read = lead = 0
    size = max(1, limits.batch_rows)
    first = max(size, _HEADER_ROWS + 1)
    limit = max(1, limits.max_line_chars)
    for number, line, rows in _chunks(lines, delimiter, size, first, limit, failures):
        if isinstance(rows, _Deferred):  # never the first chunk
            read += rows.lines
            yield Rows(
                None,
                number,
                header,
                replace(where, line=line),
                parse=rows.parse,
                count=rows.lines,
                make_text=rows.text,
                raw=rows.raw,
            )
            continue
        if number == 1:
            lead = preamble_rows(rows[: _HEADER_ROWS + 1])
            if lead:
                yield Rows(rows[:lead], 1, None, replace(where, line=line))
                line += sum(1 + sum(cell.count("\n") for cell in row) for row in rows[:lead])
                number, rows = 1 + lead, rows[lead:]
                read += lead
        if number == 1 + lead and looks_like_header(rows[: _HEADER_ROWS + 1]):
            header = rows[0]
            line += 1 + sum(cell.count("\n") for cell in header)
            number, rows = number + 1, rows[1:]
        read += len(rows)
        if len(rows) <= size:
            if rows:
                yield Rows(rows, number, header, replace(where, line=line))
            continue
        # Only the first chunk may be larger than a batch; lines inside it are unknown
        # without counting, so later batches of it count the newlines of earlier rows.
        for start in range(0, len(rows), size):
            part = rows[start : start + size]
            yield Rows(part, number + start, header, replace(where, line=line))
            line += sum(1 + sum(cell.count("\n") for cell in row) for row in part)
    if failures:
        if read == 0:
            raise ExtractError("corrupt", failures[0])
        raise ExtractError("corrupt", f"{failures[0]}; {len(failures)} row(s) skipped")
