"""JSON documents and JSON Lines.

JSON (`extract`): the document is read whole (refused with `LimitExceeded` "bytes" above
``limits.max_text_chars`` bytes) and walked in document order:

- an array whose items are all objects is a table: `Rows` whose header is the keys of
  the first object extended by every new key in order of appearance, each row aligned
  to it (missing cells are ``""``); nested values are flattened to keys like ``a.b``
  and ``a.0.b``, a list of plain values to one cell joined with ``"; "``. ``first_row``
  is the 1-based index of the item, ``where.cell`` the JSON pointer of the array
  (``""`` is the whole document), so ``{"records": [...]}`` gives ``/records``;
- every other object or array gives one `Segment` with a line per string or number
  leaf (``key: value`` in objects, ``value`` in arrays), ``where.cell`` being the JSON
  pointer of that container; booleans and nulls are left out. A pointer names a key
  only when the key looks like a field name; other keys (a TIN, a person's name) are
  named by position, ``#3`` (`_pointer_token`), so no key's data reaches the report.

Text that is not JSON falls back to plain text extraction (several JSON values one
after another are read as JSON Lines), so a file is never lost for a syntax error. A
document longer than one block (`_block_size`) whose start is a whole value with more
after it (a log of JSON and other lines) is read as JSON Lines as it streams, in
bounded memory, rather than whole (`_several_values`); past ``limits.max_text_chars``
it is read in part (what came before kept), where one document that long is refused.
A top-level array longer than `_ARRAY_STREAM_BYTES` is read twice item by item
(`_ArrayReader`): once for the header of its table, once for the rows, so the same
rows come out as from the document read whole and memory does not grow with it; an
array that turns out not to be a table of objects is then read whole.

JSON Lines (`extract_lines`): each line holding an object is a row numbered by its line
(``where.line`` too); the header grows as new keys appear, and a row that brings a new
key starts a new batch, so a later batch may have a longer header than an earlier one.
A line that holds another value gives segments, a line that is not JSON a text segment
with its line number; blank lines are skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import replace
from itertools import chain, compress, islice, repeat
from operator import and_, contains, eq, is_, itemgetter, methodcaller, not_, or_
from typing import IO

import orjson

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _decode, text
from ftiscan.scanner.model import Limits, Location, Rows, Segment

__all__ = ["extract", "extract_lines", "flatten"]

_FLAT_DEPTH = 32


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def flatten(obj: dict[str, object], prefix: str = "", depth: int = 0) -> dict[str, str]:
    """Flatten a JSON object to ``{"a.b": "value"}`` (see the module docstring).

    >>> flatten({"name": "Ann", "home": {"zip": 20500}, "tags": ["a", "b"]})
    {'name': 'Ann', 'home.zip': '20500', 'tags': 'a; b'}
    """
    out: dict[str, str] = {}
    _flatten_into(obj, prefix, depth, out)
    return out


def _flatten_into(obj: dict[str, object], prefix: str, depth: int, out: dict[str, str]) -> None:
    for name, value in obj.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        kind = type(value)
        if kind is str:  # the usual leaf first: one type check, no call
            out[key] = value  # type: ignore[assignment] # a str, checked above
        elif kind is int or kind is float:
            out[key] = str(value)
        elif depth >= _FLAT_DEPTH and isinstance(value, dict | list):
            out[key] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, dict):
            if value:
                _flatten_into(value, key, depth + 1, out)
            else:
                out[key] = ""
        elif isinstance(value, list):
            if all(not isinstance(item, dict | list) for item in value):
                out[key] = "; ".join(_scalar(item) for item in value)
            else:
                _flatten_into({str(i): item for i, item in enumerate(value)}, key, depth + 1, out)
        else:
            out[key] = _scalar(value)


_FIELD_NAME = re.compile(r"[a-z_][A-Za-z0-9_.-]{0,63}")
_DIGIT_RUN = re.compile(r"\d{3}")


def _pointer_token(key: str, index: int) -> str:
    """The pointer token of an object member: its key when that looks like a field
    name (``records``, ``taxPayer_2``), else ``#index`` (1-based).

    Keys are data too: ``{"<SSN>": {...}}`` or ``{"Maria Ortega": {...}}`` must not
    put a TIN or a name into the report, so capitalised keys, keys with spaces or
    with a run of three digits are named by position only.

    >>> _pointer_token("records", 1), _pointer_token("a/b", 2), _pointer_token("Ann Lee", 3)
    ('records', 'a~1b', '#3')
    """
    if _FIELD_NAME.fullmatch(key.replace("/", "_")) and not _DIGIT_RUN.search(key):
        return key.replace("~", "~0").replace("/", "~1")
    return f"#{index}"


def _is_table(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) for i in value)


def _table(
    items: list[dict[str, object]], pointer: str, where: Location, limits: Limits
) -> Iterator[Rows]:
    yield from _table_rows(items, _header(items), pointer, where, limits)


def _header(items: Iterable[dict[str, object]]) -> tuple[str, ...]:
    """The keys of every flattened item, in order of appearance."""
    keys: dict[str, None] = {}
    for item in items:
        keys.update(dict.fromkeys(flatten(item)))
    return tuple(keys)


def _table_rows(
    items: Iterable[dict[str, object]],
    header: tuple[str, ...],
    pointer: str,
    where: Location,
    limits: Limits,
) -> Iterator[Rows]:
    """``items`` as rows aligned to ``header``, in batches of ``limits.batch_rows``."""
    located = replace(where, cell=pointer)
    batch_rows = max(1, limits.batch_rows)
    iterator = iter(items)
    first = 1
    while batch := list(islice(iterator, batch_rows)):
        rows = []
        for item in batch:
            flat = flatten(item)
            rows.append(tuple([flat.get(key, "") for key in header]))
        yield Rows(rows, first, header, located)
        first += len(batch)


def _segments(lines: list[str], where: Location, limits: Limits) -> Iterator[Segment]:
    block: list[str] = []
    size = 0
    for line in lines:
        if block and size + len(line) > limits.block_chars:
            yield Segment("\n".join(block) + "\n", where)
            block, size = [], 0
        block.append(line)
        size += len(line) + 1
    if block:
        yield Segment("\n".join(block) + "\n", where)


def _walk(doc: object, where: Location, limits: Limits) -> Iterator[Segment | Rows]:
    """Tables and prose of a parsed JSON value, in document order (no recursion)."""
    stack: list[tuple[str, object]] = [("", doc)]
    while stack:
        pointer, value = stack.pop()
        if _is_table(value):
            yield from _table(value, pointer, where, limits)  # type: ignore[arg-type] # checked
            continue
        items: Iterable[tuple[str, object]]
        if isinstance(value, dict):
            items, named = value.items(), True
        elif isinstance(value, list):
            items, named = ((str(i), item) for i, item in enumerate(value)), False
        else:
            items, named = [("", value)], False
        lines: list[str] = []
        children: list[tuple[str, object]] = []
        for index, (key, child) in enumerate(items, start=1):
            if isinstance(child, dict | list):
                token = _pointer_token(str(key), index) if named else str(key)
                children.append((f"{pointer}/{token}", child))
            elif isinstance(child, str) or (
                isinstance(child, int | float) and not isinstance(child, bool)
            ):
                lines.append(f"{key}: {child}" if named else str(child))
        if lines:
            yield from _segments(lines, replace(where, cell=pointer), limits)
        stack.extend(reversed(children))


def extract(fh: IO[bytes], where: Location, limits: Limits) -> Iterator[Segment | Rows]:
    """Yield the tables and prose of the JSON document in ``fh``."""
    block = _block_size(limits)
    head, stream = _decode.sniff(fh, max(block + 1, _decode.HEAD_BYTES))
    codec = _decode.detect(head[: _decode.HEAD_BYTES])
    start = _decode.decode(head, codec)
    if len(head) > block and _several_values(start):
        yield from _stream_lines(stream, codec, where, limits)
        return
    size = _remaining(stream)
    if size > limits.max_text_chars:
        raise LimitExceeded("bytes", f"JSON document above {limits.max_text_chars} bytes")
    if size > _ARRAY_STREAM_BYTES and start.lstrip(_JSON_SPACE)[:1] == "[":
        header = _streamed_header(stream, codec)
        if header is not None:
            try:
                with contextlib.closing(_array_items(stream, codec)) as items:
                    yield from _table_rows(_objects(items), header, "", where, limits)
            except _NotATable:
                raise ExtractError("changed", "the JSON array changed while it was read") from None
            return
    raw = stream.read(limits.max_text_chars + 1)
    if len(raw) > limits.max_text_chars:
        raise LimitExceeded("bytes", f"JSON document above {limits.max_text_chars} bytes")
    document = _decode.decode(raw, codec)
    try:
        doc = json.loads(document)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            del raw  # the decoded text is all that is read from here on
            yield from _lines(_document_pieces(document, _block_size(limits)), where, limits)
        else:
            yield from text.extract(io.BytesIO(raw), where, limits)
        return
    except RecursionError:  # nested deeper than the parser allows
        yield from text.extract(io.BytesIO(raw), where, limits)
        return
    yield from _walk(doc, where, limits)


def extract_lines(fh: IO[bytes], where: Location, limits: Limits) -> Iterator[Segment | Rows]:
    """Yield rows (one per object line) and prose from the JSON Lines file in ``fh``."""
    head, stream = _decode.sniff(fh)
    yield from _stream_lines(stream, _decode.detect(head), where, limits)


def _stream_lines(
    stream: IO[bytes], codec: str, where: Location, limits: Limits
) -> Iterator[Segment | Rows]:
    """`_lines` of ``stream`` as it is read, a block at a time (lines above
    ``limits.max_line_chars`` in pieces)."""
    wrapper = io.TextIOWrapper(stream, encoding=codec, errors=_decode.ERRORS, newline="\n")
    limit = max(1, limits.max_line_chars)
    try:
        yield from _lines(_stream_pieces(wrapper.read, _block_size(limits), limit), where, limits)
    finally:
        with contextlib.suppress(ValueError):
            wrapper.detach()  # never close the caller's stream


_JSON_SPACE = " \t\n\r"  # the whitespace json.loads skips around a value
_NOT_SPACE = re.compile(r"[^ \t\n\r]")
_NUMBER_GOES_ON = re.compile(r"[0-9.eE+-]*")  # after a value: all a number could go on with
_ARRAY_READ = 1024 * 1024  # characters read at a time from a streamed array


# A JSON array longer than this (bytes) is read twice, item by item, rather than whole:
# 16-37% more CPU (bench.memory) for memory that no longer grows with it (a 50 MB array
# of records took 400 MB whole).
_ARRAY_STREAM_BYTES = 8 * 1024 * 1024


def _remaining(stream: IO[bytes]) -> int:
    """Bytes from where ``stream`` stands to its end; -1 when it cannot seek."""
    try:
        if not stream.seekable():
            return -1
        start = stream.tell()
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
    except (OSError, ValueError):
        return -1
    return size


class _NotATable(Exception):
    """The text is not one JSON array that `_ArrayReader` can read item by item."""


class _ArrayReader:
    """The items of the JSON array a text stream holds, parsed one at a time by the
    standard library's own scanner from a window of the text (widened for a large
    item), so that a large array of records is never in memory at once. The text must
    be one array and nothing else, as for ``json.loads``; anything else (another
    value, a syntax error, more after the array, nesting beyond the parser) raises
    `_NotATable` when the reader gets to it."""

    def __init__(self, read: Callable[[int], str]) -> None:
        self._read = read
        self._text = ""
        self._at = 0
        self._ended = False

    def _more(self, chars: int) -> bool:
        """Read up to ``chars`` more characters; False at the end of the text."""
        if self._ended:
            return False
        piece = self._read(chars)
        self._text, self._at = self._text[self._at :] + piece, 0
        self._ended = not piece
        return bool(piece)

    def _next(self) -> str:
        """The next character that is not whitespace (not consumed), "" at the end."""
        while True:
            found = _NOT_SPACE.search(self._text, self._at)
            if found is not None:
                self._at = found.start()
                return self._text[self._at]
            self._at = len(self._text)
            if not self._more(_ARRAY_READ):
                return ""

    def _value(self) -> object:
        want = _ARRAY_READ
        while True:
            try:
                value, end = _SCAN(self._text, self._at)
            except (StopIteration, ValueError):  # cut off by the window, or a syntax error
                if not self._more(want):
                    raise _NotATable from None
                want *= 2
                continue
            except RecursionError:
                raise _NotATable from None
            # A number the window cut (``12|345``, ``0.|5``) goes on past it.
            if _NUMBER_GOES_ON.fullmatch(self._text, end) and self._more(want):
                continue
            self._at = end
            return value

    def items(self) -> Iterator[object]:
        if self._next() != "[":
            raise _NotATable
        self._at += 1
        if self._next() == "]":
            self._at += 1
        else:
            while True:
                self._next()
                yield self._value()
                after = self._next()
                self._at += 1
                if after == "]":
                    break
                if after != ",":
                    raise _NotATable
        if self._next():  # more after the array: "Extra data" to json.loads
            raise _NotATable


def _array_items(stream: IO[bytes], codec: str) -> Generator[object, None, None]:
    """`_ArrayReader.items` of ``stream`` read from where it stands."""
    wrapper = io.TextIOWrapper(stream, encoding=codec, errors=_decode.ERRORS, newline="\n")
    try:
        yield from _ArrayReader(wrapper.read).items()
    finally:
        with contextlib.suppress(ValueError):
            wrapper.detach()  # never close the caller's stream


def _streamed_header(stream: IO[bytes], codec: str) -> tuple[str, ...] | None:
    """The header of the table a JSON array of objects in ``stream`` makes (the keys
    of every object, as `_table` finds them), read once item by item; None when the
    document is not such an array (then it is read whole). ``stream`` (seekable) is
    put back where it stood."""
    start = stream.tell()
    try:
        with contextlib.closing(_array_items(stream, codec)) as items:
            objects = _objects(items)
            first = next(objects, None)
            return None if first is None else _header(chain((first,), objects))
    except _NotATable:
        return None
    finally:
        stream.seek(start)


def _objects(items: Iterable[object]) -> Iterator[dict[str, object]]:
    """``items``, each an object, or `_NotATable` at the first that is not."""
    for item in items:
        if not isinstance(item, dict):
            raise _NotATable
        yield item


def _several_values(start: str) -> bool:
    r"""True when ``start`` (the first characters of a document) begins with a whole
    JSON value followed by more than whitespace, so that ``json.loads`` of the whole
    document must fail with "Extra data": the value ends where it ends whatever comes
    after ``start``. A value that does not end inside ``start`` (one large document),
    or a start the parser refuses, is False.

    >>> [_several_values(t) for t in ('{"a": 1}\n{"a"', '{"a": 1}\n\t', '[1, 2', "12")]
    [True, False, False, False]
    """
    if start.startswith("\ufeff"):  # json.loads refuses a BOM before anything else
        return False
    try:
        _, end = _SCAN(start, len(start) - len(start.lstrip(_JSON_SPACE)))
    except (StopIteration, ValueError, RecursionError):
        return False
    return bool(start[end:].lstrip(_JSON_SPACE))


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORDS = frozenset(("null", "true", "false", "NaN", "Infinity"))
_OPENERS = frozenset('{["')
_SCALAR_FIRST = frozenset("-0123456789ntfNI")  # a number or one of `_WORDS`
_OTHER_OPENERS = _OPENERS - {"{"}
_OTHER_FIRST = _OTHER_OPENERS | _SCALAR_FIRST
_HEAD = itemgetter(slice(0, 1))
_STRIP = methodcaller("strip")
_READ_CHARS = 64 * 1024
# The C scanner json.loads ends in, without its wrappers (typeshed does not list it).
_SCAN: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_PLAIN = frozenset((str, int, float))
_BIG = 2.0**63  # from here on, orjson may have read an integer as a float


def _may_be_json(body: str) -> bool:
    """False when ``json.loads(body)`` must fail (``body``: stripped, not empty), which
    a log line usually shows by its first character, at a fraction of the cost of the
    parser's exception. A value after which anything but whitespace follows is
    "Extra data", so a word or number must be the whole of ``body``.

    >>> [_may_be_json(b) for b in ('{"a": 1}', "[1]", '"x"', "-1.5e3", "true", "NaN")]
    [True, True, True, True, True, True]
    >>> [_may_be_json(b) for b in ("2024-01-31 INFO", "1 2", "nothing", "GET /", "-")]
    [False, False, False, False, False]
    """
    first = body[0]
    if first in _OPENERS:
        return True
    if first == "-" or first.isdigit():
        return body == "-Infinity" or _NUMBER.fullmatch(body) is not None
    return body in _WORDS


def _value(body: str) -> object:
    """``json.loads(body)`` for a stripped ``body``, None when that fails (``body`` is
    then text). The C scanner is called directly: ``loads`` adds about 5 µs of
    wrappers per line, more than a log line's parse."""
    try:
        value, end = _SCAN(body, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    return value if end == len(body) else None  # json.loads: "Extra data"


def _fast_objects(bodies: list[str]) -> tuple[list[object], bool] | None:
    """The objects of ``bodies`` (each starts with ``{``) as `_value` parses them, by
    orjson (about three times the speed of the standard library's scanner on a log
    record); None when a body is not JSON to orjson (NaN, a lone surrogate, a number
    out of range: `_value` then reads each alone) or when orjson may have read it
    otherwise: it reads an integer beyond 64 bits as a float, so a float that large
    (or any nested value, not looked into) sends the bodies to `_value`. With the
    objects, whether all their values are strings and numbers (`_PLAIN`)."""
    try:
        values = list(map(orjson.loads, bodies))
    except orjson.JSONDecodeError:
        return None
    leaves = list(chain.from_iterable(map(dict.values, values)))
    kinds = set(map(type, leaves))
    if dict in kinds or list in kinds:
        return None
    if (
        float in kinds
        and max(map(abs, compress(leaves, map(is_, map(type, leaves), repeat(float))))) >= _BIG
    ):
        return None
    return values, kinds <= _PLAIN


def _parsed(lines: list[str], heads: list[str]) -> tuple[dict[int, object], bool]:
    """The values of the ``lines`` (first characters ``heads``) that are JSON but
    neither text nor a boolean, by index in order, and whether they are all objects
    of strings and numbers. Object lines (a log's records) are parsed by one C-level
    map; when one of them is not JSON, each alone."""
    objects = list(compress(range(len(heads)), map(eq, heads, repeat("{"))))
    bodies = list(map(_STRIP, map(lines.__getitem__, objects)))
    fast = _fast_objects(bodies)
    plain = fast is not None and fast[1]
    if fast is not None:
        found = dict(zip(objects, fast[0], strict=True))
    else:
        found = {i: v for i, v in zip(objects, map(_value, bodies), strict=True) if v is not None}
    # Other values: a line of one word or number (no space), or an array or string.
    maybe = list(compress(range(len(heads)), map(_OTHER_FIRST.__contains__, heads)))
    others = False
    if maybe:
        bodies = list(map(_STRIP, map(lines.__getitem__, maybe)))
        opened = map(_OTHER_OPENERS.__contains__, map(heads.__getitem__, maybe))
        single = map(not_, map(contains, bodies, repeat(" ")))
        for index, body in compress(zip(maybe, bodies, strict=True), map(or_, opened, single)):
            value = _value(body) if _may_be_json(body) else None
            if value is not None and value is not True and value is not False:
                found[index] = value
                others = True
    return (dict(sorted(found.items())) if others and objects else found), plain and not others


def _ended(text: str) -> list[str]:
    r"""The lines of ``text`` with their ``"\n"`` (the last one without, if it has none).

    >>> _ended("a\nb\n"), _ended("a\nb")
    (['a\n', 'b\n'], ['a\n', 'b'])
    """
    lines = [line + "\n" for line in text.split("\n")]
    last = lines.pop()
    if last != "\n":
        lines.append(last[:-1])
    return lines


def _document_pieces(document: str, size: int) -> Iterator[tuple[str, bool]]:
    r"""``document`` as (text, block) pairs: blocks of whole lines of at most ``size``
    characters, and each line longer than that alone (``block`` False).

    >>> list(_document_pieces("ab\ncd\nefghij\nk", 4))
    [('ab\n', True), ('cd\n', True), ('efghij\n', False), ('k', True)]
    """
    start, length = 0, len(document)
    while start < length:
        stop = start + size
        if stop >= length:
            yield document[start:], True
            return
        end = document.rfind("\n", start, stop)
        if end < 0:
            end = document.find("\n", stop)
            if end < 0:
                yield document[start:], False
                return
            yield document[start : end + 1], False
        else:
            yield document[start : end + 1], True
        start = end + 1


def _stream_pieces(read: Callable[[int], str], size: int, limit: int) -> Iterator[tuple[str, bool]]:
    r"""The text ``read`` gives as (text, block) pairs: blocks of whole lines of at most
    ``size`` (<= ``limit``) characters, and a longer line as ``readline(limit)`` would
    read it, in pieces of ``limit`` characters (``block`` False; its last piece may
    start a block, which `_LineReader.block` then reads line by line). When ``read`` fails
    (`ExtractError`: a truncated compressed stream), the text read before is given
    first, then the error is raised again.

    >>> import io
    >>> list(_stream_pieces(io.StringIO("ab\ncd\nefghij\nk").read, 4, 4))
    [('ab\n', True), ('cd\n', True), ('efgh', False), ('ij\nk', True)]
    """
    pending, at, ended = "", 0, False
    failed: ExtractError | None = None
    chunk = max(_READ_CHARS, size + limit)  # the text left over is copied once a chunk
    while True:
        left = len(pending) - at
        # Enough text ahead to cut: more than a window of ``size`` for a block (at most
        # ``size`` may be the last block), ``limit`` for a line longer than that.
        if not ended and (
            left <= size or (left < limit and pending.rfind("\n", at, at + size) < 0)
        ):
            try:
                piece = read(chunk)
            except ExtractError as exc:
                failed, piece = exc, ""
            ended = not piece
            pending, at = pending[at:] + piece, 0
            continue
        if ended and left <= size:
            if left:  # readline(limit) reads a last line of ``limit`` characters as a piece
                yield pending[at:], left < limit or pending.find("\n", at) >= 0
            if failed is not None:
                raise failed
            return
        end = pending.rfind("\n", at, at + size)
        if end >= 0:
            yield pending[at : end + 1], True
            at = end + 1
            continue
        end = pending.find("\n", at, at + limit)  # a line longer than ``size``
        stop = end + 1 if end >= 0 else min(len(pending), at + limit)
        yield pending[at:stop], False
        at = stop


def _block_size(limits: Limits) -> int:
    """Characters of whole lines read at once (`_LineReader.block`): a prose block's
    size, no more than a line may have."""
    return max(1, min(limits.block_chars, limits.max_line_chars))


class _LineReader:
    """The state of `_lines` as it reads a JSON Lines file (see `_lines`)."""

    def __init__(self, where: Location, limits: Limits) -> None:
        self.where, self.limits = where, limits
        self.header: dict[str, None] = {}
        self.batch: list[tuple[str, ...]] = []  # rows aligned to ``header``
        self.numbers: list[int] = []  # the line of each row in ``batch``
        self.number = 1
        self.total = 0
        self.whole = True  # the previous line was read whole
        self.prose: list[str] = []  # the lines that are not JSON objects, as one block
        self.prose_start = 1
        self.prose_size = 0
        self.prose_end = 0  # items of ``prose`` up to its last line of text
        self.out: list[Segment | Rows] = []

    def take(self) -> list[Segment | Rows]:
        out, self.out = self.out, []
        return out

    def flush(self) -> None:
        if not self.batch:
            return
        numbers = self.numbers
        first = numbers[0]
        consecutive = numbers[-1] - first == len(numbers) - 1
        at = self.where.at_line(first)
        rows, self.batch = self.batch, []
        self.out.append(
            Rows(rows, first, tuple(self.header), at, None if consecutive else numbers[:])
        )
        numbers.clear()

    def flush_prose(self) -> None:
        if not self.prose:
            return
        text = "".join(self.prose[: self.prose_end])  # without the blank lines after the text
        self.prose.clear()
        self.prose_size = 0
        text = text if text.endswith("\n") else text + "\n"
        self.out.append(Segment(text, self.where.at_line(self.prose_start)))

    def finish(self) -> None:
        self.flush()
        self.flush_prose()

    def _object(self, value: object, line: int) -> None:
        """A JSON value that is not text: a row (an object) or segments (another value)."""
        if isinstance(value, dict):
            self._objects([value], [line])
        else:
            self.out.extend(_walk(value, self.where.at_line(line), self.limits))

    def _objects(
        self, values: list[dict[str, object]], lines: list[int], plain: bool = False
    ) -> None:
        """Rows of the objects ``values`` on ``lines``, as one `_object` call per object
        would make them, with a step in Python per kind of object (its keys), not per
        object: a row that brings a key the header lacks starts a batch, the header
        then takes its keys (only the first object of each kind can bring one).
        ``plain``: their values are known to be strings and numbers."""
        flats: list[dict[str, object]] = values
        if (
            not plain
            and not set(map(type, chain.from_iterable(map(dict.values, values)))) <= _PLAIN
        ):
            each = map(
                _PLAIN.issuperset, map(set, map(map, repeat(type), map(dict.values, values)))
            )
            flats = [v if p else flatten(v) for v, p in zip(values, each, strict=True)]  # type: ignore[misc] # str values
        shapes = list(map(tuple, flats))
        header, at = self.header, 0
        for shape in dict.fromkeys(shapes):  # each kind of object, at its first object
            if set(shape).issubset(header):
                continue
            index = shapes.index(shape, at)
            self._add(flats[at:index], shapes[at:index], lines[at:index])
            self.flush()
            header.update(dict.fromkeys(shape))
            at = index
        self._add(flats[at:], shapes[at:], lines[at:])

    def _add(
        self, flats: list[dict[str, object]], shapes: list[tuple[str, ...]], lines: list[int]
    ) -> None:
        """Objects whose keys the header holds, as rows aligned to it (missing cells
        ``""``, numbers as text), in batches of ``limits.batch_rows``."""
        if not flats:
            return
        keys = tuple(self.header)
        if shapes.count(keys) == len(shapes):
            rows = list(map(tuple, map(dict.values, flats)))
        else:
            rows = [
                tuple(flat.values())
                if shape == keys
                else tuple([flat.get(key, "") for key in keys])
                for flat, shape in zip(flats, shapes, strict=True)
            ]
        if keys:  # numbers as text, column by column (a log's latency, say)
            columns = list(zip(*rows, strict=True))
            kinds = list(map(set, map(map, repeat(type), columns)))
            if any(kind != {str} for kind in kinds):
                for index, kind in enumerate(kinds):
                    if kind != {str}:
                        columns[index] = tuple(map(str, columns[index]))
                rows = list(zip(*columns, strict=True))
        size = max(1, self.limits.batch_rows)
        start = 0
        while start < len(rows):
            room = size - len(self.batch)
            self.batch.extend(rows[start : start + room])  # type: ignore[arg-type] # str cells
            self.numbers.extend(lines[start : start + room])
            start += room
            if len(self.batch) >= size:
                self.flush()

    def line(self, line: str) -> None:
        """One line (or a piece of a line longer than ``max_line_chars``)."""
        limits = self.limits
        current, piece, size = self.number, not self.whole, len(line)
        ended = line.endswith("\n")
        self.whole = ended or size < max(1, limits.max_line_chars)
        piece = piece or not self.whole
        if ended:
            self.number += 1
        self.total += size
        if self.total > limits.max_text_chars:
            self.finish()
            raise LimitExceeded("bytes", f"more than {limits.max_text_chars} characters")
        body = line.strip()
        if not body:
            if self.prose:  # keep the block's line numbering
                self.prose.append(line)
            return
        value = _value(body) if not piece and _may_be_json(body) else None
        if value is None or value is True or value is False:
            if not self.prose:
                self.prose_start = current
            self.prose.append(line)
            self.prose_end = len(self.prose)
            self.prose_size += size
            if self.prose_size >= max(1, limits.block_chars):
                self.flush_prose()
            return
        if self.prose:
            self.prose.append("\n")  # this line's place in the block
        self._object(value, current)

    def block(self, text: str) -> None:
        """Whole lines at once: the same items as `line` for each, but the text lines
        cost no step in Python (a log is mostly text); only lines that may hold JSON
        (by their first character) are parsed one by one."""
        if not self.whole or self.total + len(text) > self.limits.max_text_chars:
            for line in _ended(text):
                self.line(line)
            return
        self.total += len(text)
        first = self.number
        lines = text.split("\n")
        if lines[-1]:
            self.number -= 1  # the last line has no line end: it does not count one
        else:
            lines.pop()
        self.number += len(lines)
        heads = list(map(_HEAD, lines))  # the first character, once blanks are stripped:
        if any(map(str.isspace, heads)):  # for the few lines that start with blanks
            for index in compress(range(len(heads)), map(str.isspace, heads)):
                heads[index] = lines[index].lstrip()[:1]
        found, plain = _parsed(lines, heads)  # index -> a parsed value that is not text
        texts = None
        if found:  # the lines of text: not blank, not a value
            unparsed = map(not_, map(found.__contains__, range(len(heads))))
            texts = list(compress(range(len(heads)), map(and_, map(bool, heads), unparsed)))
        if texts is None:
            texts_first = next((i for i, head in enumerate(heads) if head), None)
            texts_last = next((i for i in range(len(heads) - 1, -1, -1) if heads[i]), None)
        else:
            texts_first = texts[0] if texts else None
            texts_last = texts[-1] if texts else None
        if texts_first is not None and texts_last is not None:
            if found:
                for index in found:
                    lines[index] = ""  # its place in the block
            start = 0 if self.prose else texts_first
            if not self.prose:
                self.prose_start = first + texts_first
            body = "\n".join(lines[start : texts_last + 1]) + "\n"
            self.prose.append(body)
            self.prose_end = len(self.prose)
            self.prose_size += len(body)
            rest = len(lines) - texts_last - 1
            if rest:
                self.prose.append("\n".join(lines[texts_last + 1 :]) + "\n")
        elif self.prose:
            for index in found:
                lines[index] = ""  # its place in the block
            self.prose.append("\n".join(lines) + "\n")
        if found and (plain or set(map(type, found.values())) == {dict}):  # records only
            records: list[dict[str, object]] = list(found.values())  # type: ignore[arg-type] # dicts
            self._objects(records, list(map(first.__add__, found)), plain)
            found = {}
        objects: list[dict[str, object]] = []
        numbers: list[int] = []
        for index, value in found.items():
            if isinstance(value, dict):
                objects.append(value)
                numbers.append(first + index)
                continue
            if objects:
                self._objects(objects, numbers)
                objects, numbers = [], []
            self._object(value, first + index)
        if objects:
            self._objects(objects, numbers)
        if self.prose_size >= max(1, self.limits.block_chars):
            self.flush_prose()


def _lines(
    pieces: Iterable[tuple[str, bool]], where: Location, limits: Limits
) -> Iterator[Segment | Rows]:
    """Rows from the JSON object lines and prose blocks from the other lines, from
    (text, block) pairs: a block of whole lines (`_LineReader.block`) or one line or
    piece of a line (`_LineReader.line`).

    In a log that mixes both, each kind is batched on its own: a row batch keeps the
    line number of each row (`Rows.numbers`), and a prose block keeps an empty line in
    place of each object line, so that line numbers stay true and a batch is not cut
    at every change of kind (a block per line would cost far more than its text).
    """
    reader = _LineReader(where, limits)
    try:
        for text, block in pieces:
            if block:
                reader.block(text)
            else:
                reader.line(text)
            if reader.out:
                yield from reader.take()
    except ExtractError:
        reader.finish()
        yield from reader.take()
        raise
    reader.finish()
    yield from reader.take()
