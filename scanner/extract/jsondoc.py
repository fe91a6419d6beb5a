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
after another are read as JSON Lines), so a file is never lost for a syntax error.

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
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import IO

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
    keys: dict[str, None] = {}
    for item in items:
        keys.update(dict.fromkeys(flatten(item)))
    header = tuple(keys)
    located = replace(where, cell=pointer)
    batch_rows = max(1, limits.batch_rows)
    for first in range(0, len(items), batch_rows):
        rows = []
        for item in items[first : first + batch_rows]:
            flat = flatten(item)
            rows.append(tuple([flat.get(key, "") for key in header]))
        yield Rows(rows, first + 1, header, located)


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
    head, stream = _decode.sniff(fh)
    codec = _decode.detect(head)
    raw = stream.read(limits.max_text_chars + 1)
    if len(raw) > limits.max_text_chars:
        raise LimitExceeded("bytes", f"JSON document above {limits.max_text_chars} bytes")
    document = _decode.decode(raw, codec)
    try:
        doc = json.loads(document)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            del raw  # the decoded text is all that is read from here on
            yield from _lines(_split_lines(document), where, limits)
        else:
            yield from text.extract(io.BytesIO(raw), where, limits)
        return
    except RecursionError:  # nested deeper than the parser allows
        yield from text.extract(io.BytesIO(raw), where, limits)
        return
    yield from _walk(doc, where, limits)


def _split_lines(document: str) -> Iterator[str]:
    r"""``line + "\n"`` for each line of ``document.split("\n")``, one at a time (a
    list of every line of a large file would double its memory).

    >>> list(_split_lines("a\nb")), list(_split_lines("a\n")), list(_split_lines(""))
    (['a\n', 'b\n'], ['a\n', '\n'], ['\n'])
    """
    start = 0
    find = document.find
    while True:
        end = find("\n", start)
        if end < 0:
            yield document[start:] + "\n"
            return
        yield document[start : end + 1]
        start = end + 1


def extract_lines(fh: IO[bytes], where: Location, limits: Limits) -> Iterator[Segment | Rows]:
    """Yield rows (one per object line) and prose from the JSON Lines file in ``fh``."""
    head, stream = _decode.sniff(fh)
    codec = _decode.detect(head)
    wrapper = io.TextIOWrapper(stream, encoding=codec, errors=_decode.ERRORS, newline="\n")
    limit = max(1, limits.max_line_chars)
    try:
        yield from _lines(iter(lambda: wrapper.readline(limit), ""), where, limits)
    finally:
        with contextlib.suppress(ValueError):
            wrapper.detach()  # never close the caller's stream


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORDS = frozenset(("null", "true", "false", "NaN", "Infinity"))


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
    if first in '{["':
        return True
    if first == "-" or first.isdigit():
        return body == "-Infinity" or _NUMBER.fullmatch(body) is not None
    return body in _WORDS


def _lines(lines: Iterable[str], where: Location, limits: Limits) -> Iterator[Segment | Rows]:
    """Rows from the JSON object lines and prose blocks from the other lines.

    In a log that mixes both, each kind is batched on its own: a row batch keeps the
    line number of each row (`Rows.numbers`), and a prose block keeps an empty line in
    place of each object line, so that line numbers stay true and a batch is not cut
    at every change of kind (a block per line would cost far more than its text).
    """
    header: dict[str, None] = {}
    batch: list[dict[str, str]] = []
    numbers: list[int] = []  # the line of each row in ``batch``
    number = 1
    total = 0
    batch_rows = max(1, limits.batch_rows)
    limit = max(1, limits.max_line_chars)
    whole = True  # the previous line was read whole

    prose: list[str] = []  # the lines that are not JSON objects, as one block
    prose_start = 1
    prose_size = 0
    prose_end = 0  # lines of ``prose`` up to its last line of text

    def flush() -> Rows:
        keys = tuple(header)
        rows = [tuple([flat.get(key, "") for key in keys]) for flat in batch]
        first = numbers[0]
        consecutive = numbers[-1] - first == len(numbers) - 1
        out = Rows(rows, first, keys, where.at_line(first), None if consecutive else numbers[:])
        batch.clear()
        numbers.clear()
        return out

    def flush_prose() -> Segment:
        nonlocal prose_size
        text = "".join(prose[:prose_end])  # without the empty lines after the last text
        prose.clear()
        prose_size = 0
        return Segment(text if text.endswith("\n") else text + "\n", where.at_line(prose_start))

    max_total, block_chars, loads = limits.max_text_chars, limits.block_chars, json.loads
    try:
        for line in lines:
            current, piece, size = number, not whole, len(line)
            ended = line.endswith("\n")
            whole = ended or size < limit
            piece = piece or not whole
            if ended:
                number += 1
            total += size
            if total > max_total:
                if batch:
                    yield flush()
                if prose:
                    yield flush_prose()
                raise LimitExceeded("bytes", f"more than {limits.max_text_chars} characters")
            body = line.strip()
            if not body:
                if prose:  # keep the block's line numbering
                    prose.append(line)
                continue
            value: object = None
            if not piece and _may_be_json(body):
                try:
                    value = loads(body)
                except (ValueError, RecursionError):
                    value = None
            if value is None or value is True or value is False:
                if not prose:
                    prose_start = current
                prose.append(line)
                prose_end = len(prose)
                prose_size += size
                if prose_size >= block_chars:
                    yield flush_prose()
                continue
            if prose:
                prose.append("\n")  # this line's place in the block
            if isinstance(value, dict):
                flat = flatten(value)
                if batch and not flat.keys() <= header.keys():
                    yield flush()  # one header per batch
                header.update(dict.fromkeys(flat))
                batch.append(flat)
                numbers.append(current)
                if len(batch) >= batch_rows:
                    yield flush()
            else:
                yield from _walk(value, where.at_line(current), limits)
    except ExtractError:
        if batch:
            yield flush()
        if prose:
            yield flush_prose()
        raise
    if batch:
        yield flush()
    if prose:
        yield flush_prose()
