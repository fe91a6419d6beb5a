"""JSON and JSON Lines: arrays of objects become rows, everything else prose."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import jsondoc
from ftiscan.scanner.model import Limits, Location, Rows, Segment

WHERE = Location(Path("export.json"))


def _items(data: bytes, lines: bool = False, **limits: int) -> list[Segment | Rows]:
    extract = jsondoc.extract_lines if lines else jsondoc.extract
    return list(extract(io.BytesIO(data), WHERE, Limits(**limits)))


def test_json_array_of_objects_is_rows() -> None:
    """Header is the keys in order of appearance; cells align; nesting is flattened."""
    doc = [
        {"name": "Ann", "home": {"street": "1 Main St", "zip": 20500}},
        {"name": "Bob", "tags": ["a", "b"], "home": {"zip": 20501}},
    ]
    (batch,) = _items(json.dumps(doc).encode())
    assert isinstance(batch, Rows)
    assert batch.header == ("name", "home.street", "home.zip", "tags")
    assert batch.rows == [("Ann", "1 Main St", "20500", ""), ("Bob", "", "20501", "a; b")]
    assert batch.first_row == 1
    assert batch.where.cell == ""


def test_json_records_inside_an_object() -> None:
    """{"records": [...]} gives rows at /records and prose for the other leaves."""
    doc = {"title": "Export", "records": [{"n": i} for i in range(5)], "flag": True}
    items = _items(json.dumps(doc).encode(), batch_rows=2)
    prose = [item for item in items if isinstance(item, Segment)]
    rows = [item for item in items if isinstance(item, Rows)]
    assert [(s.text, s.where.cell) for s in prose] == [("title: Export\n", "")]
    assert [(r.first_row, r.where.cell, len(r.rows)) for r in rows] == [
        (1, "/records", 2),
        (3, "/records", 2),
        (5, "/records", 1),
    ]


def test_json_other_values_are_prose_with_pointers() -> None:
    """Leaves of other containers come as segments named by their JSON pointer."""
    doc = {"a/b": {"x": "one", "y": 2, "z": None}, "list": ["p", 3, [4]]}
    items = _items(json.dumps(doc).encode())
    assert [(i.text, i.where.cell) for i in items if isinstance(i, Segment)] == [
        ("x: one\ny: 2\n", "/a~1b"),
        ("p\n3\n", "/list"),
        ("4\n", "/list/2"),
    ]


def test_json_invalid_falls_back_to_text() -> None:
    """Broken JSON is scanned as text rather than lost."""
    items = _items(b'{"name": "Ann",\n "zip": 20500\n')
    assert all(isinstance(i, Segment) for i in items)
    assert "".join(i.text for i in items if isinstance(i, Segment)).startswith('{"name"')


def test_json_deep_nesting_falls_back_to_text() -> None:
    """Nesting deeper than the parser allows does not crash."""
    items = _items(b"[" * 100_000 + b"]" * 100_000)
    assert items
    assert all(isinstance(i, Segment) for i in items)


def test_json_above_limit_is_refused() -> None:
    """A document above max_text_chars raises the bytes limit."""
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _items(json.dumps(["x" * 100]).encode(), max_text_chars=50)


def test_jsonl_rows_are_numbered_by_line() -> None:
    """Each object line is a row numbered by its line; others become segments."""
    data = b'{"name": "Ann"}\n\n{"name": "Bob", "zip": "20500"}\nnot json\n[1, "x"]\n{"n": 1}\n'
    items = _items(data, lines=True)
    summary = sorted(
        (i.first_row if isinstance(i, Rows) else i.where.line, type(i).__name__) for i in items
    )
    assert summary == [(1, "Rows"), (3, "Rows"), (4, "Segment"), (5, "Segment"), (6, "Rows")]
    first, second = (i for i in items if isinstance(i, Rows) and i.first_row in (1, 3))
    assert first.rows == [("Ann",)]
    assert second.header == ("name", "zip")
    assert second.rows == [("Bob", "20500")]
    assert all(i.numbers is None for i in items if isinstance(i, Rows))


def test_jsonl_mixed_log_batches_each_kind_with_true_numbers() -> None:
    """In a log mixing object lines and text lines, the objects are one batch with each
    row's line number and the text is one block whose lines keep their numbers."""
    lines = []
    for n in range(1, 301):
        lines.append(f'{{"event": "e{n}", "line": {n}}}' if n % 3 == 0 else f"text line {n}")
    items = _items(("\n".join(lines) + "\n").encode(), lines=True)
    rows = [i for i in items if isinstance(i, Rows)]
    segments = [i for i in items if isinstance(i, Segment)]
    assert len(rows) == 1
    assert len(segments) == 1
    batch = rows[0]
    assert batch.numbers == list(range(3, 301, 3))
    assert [batch.number(i) for i in (0, 1, 99)] == [3, 6, 300]
    assert [row[1] for row in batch.rows] == [str(n) for n in range(3, 301, 3)]
    block = segments[0]
    assert block.where.line == 1
    for offset, text in enumerate(block.text.split("\n")[:300], start=1):
        assert text == ("" if offset % 3 == 0 else f"text line {offset}")


def test_jsonl_long_line_is_read_in_pieces() -> None:
    """A line above max_line_chars is read in pieces that stay on its line (joined into
    one block), and numbering goes on."""
    data = b'{"a": 1}\n{"b": "' + b"x" * 500 + b'"}\n{"c": 3}\n'
    items = _items(data, lines=True, max_line_chars=100)
    segments = [i for i in items if isinstance(i, Segment)]
    assert [s.where.line for s in segments] == [2]
    assert segments[0].text == '{"b": "' + "x" * 500 + '"}\n'
    rows = [i for i in items if isinstance(i, Rows)]
    assert [r.first_row for r in rows] == [1, 3]


def test_json_extra_data_is_read_as_lines() -> None:
    """Several JSON values one after another (JSON Lines named .json) give rows."""
    items = _items(b'{"a": 1}\n{"a": 2}\n')
    assert [(i.first_row, i.rows) for i in items if isinstance(i, Rows)] == [(1, [("1",), ("2",)])]


def _log(count: int) -> bytes:
    """Odd lines JSON objects ``{"n": N}``, even lines ``plain N``."""
    lines = [f'{{"n": {n}}}' if n % 2 else f"plain {n}" for n in range(1, count + 1)]
    return ("\n".join(lines) + "\n").encode()


def _numbers(items: list[Segment | Rows]) -> tuple[list[int], list[str], list[str]]:
    """The row numbers, the row cells and the text lines of a `_log`."""
    rows = [i for i in items if isinstance(i, Rows)]
    text = "".join(i.text for i in items if isinstance(i, Segment))
    return (
        [number for batch in rows for number in batch.numbers or ()],
        [cell for batch in rows for (cell,) in batch.rows],
        [line for line in text.split("\n") if line],
    )


def test_json_log_longer_than_a_block_is_streamed() -> None:
    """A document of JSON and other lines longer than one block is read as it streams:
    every row and line, numbered by line."""
    assert _numbers(_items(_log(200), block_chars=256)) == (
        list(range(1, 201, 2)),
        [str(n) for n in range(1, 201, 2)],
        [f"plain {n}" for n in range(2, 201, 2)],
    )


def test_json_log_past_the_size_limit_is_read_in_part() -> None:
    """Past ``max_text_chars`` a streamed log gives what it read, then the bytes limit
    (the file is read in part, its findings kept), where a single document that long
    is refused with nothing read (`test_json_above_limit_is_refused`)."""
    items: list[Segment | Rows] = []
    reader = jsondoc.extract(
        io.BytesIO(_log(2000)), WHERE, Limits(block_chars=256, max_text_chars=5000)
    )
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        items.extend(reader)
    numbers, cells, text = _numbers(items)
    assert 300 < len(numbers) + len(text) < 1000  # ~5000 characters of 10-character lines
    assert numbers == list(range(1, 2 * len(numbers), 2))
    assert cells == [str(n) for n in numbers]


def test_json_document_longer_than_a_block_is_still_one_document() -> None:
    """A single value longer than a block (its end not in the first block) is read
    whole, as a document: rows of its array, not lines."""
    doc = [{"n": n} for n in range(100)]
    (batch,) = _items(json.dumps(doc).encode(), block_chars=64, batch_rows=500)
    assert isinstance(batch, Rows)
    assert batch.rows == [(str(n),) for n in range(100)]
    assert batch.numbers is None


def test_flatten_deep_values_become_json() -> None:
    """Nesting beyond the flattening depth is kept as compact JSON in one cell."""
    value: dict[str, object] = {"leaf": "v"}
    for _ in range(40):
        value = {"k": value}
    flat = jsondoc.flatten(value)
    (cell,) = flat.values()
    assert '"leaf": "v"' in cell


def test_jsondoc_pointer_never_carries_key_data() -> None:
    """Keys holding a TIN or a name are named by position; field names are kept."""
    tin = "".join(str(d) for d in (4, 0, 1, 7, 2, 3, 9, 8, 6))  # built here, never a literal
    doc = {"by_tin": {tin: {"note": "x"}}, "people": {"Maria Ortega": ["a"], "ok_key": ["b"]}}
    cells = [i.where.cell for i in _items(json.dumps(doc).encode())]
    assert cells == ["/by_tin/#1", "/people/#1", "/people/ok_key"]


def test_jsonl_consecutive_text_lines_are_one_block() -> None:
    """Lines that are not JSON objects come as one block with its first line number,
    an empty line in place of each object line between them (a mixed log costs one
    segment, not one per line); the objects are one batch numbered by line."""
    data = b'{"a": 1}\nplain one\n\nplain two\n{"a": 2}\nplain three\n'
    items = _items(data, lines=True)
    assert [(type(i).__name__, i.where.line) for i in items] == [("Rows", 1), ("Segment", 2)]
    assert items[0].numbers == [1, 5]  # type: ignore[union-attr]  # a Rows
    assert items[1].text == "plain one\n\nplain two\n\nplain three\n"  # type: ignore[union-attr]


# --- JSON Lines read in blocks: the same lines, rows and text as line by line ---------

_KEYS = st.sampled_from(["ts", "level", "msg", "key", "n", "a.b", "Name"])
_LEAVES = st.one_of(
    st.text(alphabet='ab 0123456789-:.\\"é', max_size=12),
    st.integers(-(10**12), 10**12),
    st.integers(-(10**30), 10**30),  # beyond 64 bits: orjson would read a float
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.none(),
)
_OBJECTS = st.recursive(
    st.dictionaries(_KEYS, _LEAVES, max_size=5),
    lambda inner: st.dictionaries(_KEYS, st.one_of(_LEAVES, inner, st.lists(_LEAVES, max_size=3))),
    max_leaves=8,
)
_LOG_LINES = st.one_of(
    _OBJECTS.map(json.dumps),
    _OBJECTS.map(lambda obj: "  " + json.dumps(obj) + " \t"),
    st.lists(_LEAVES, max_size=3).map(json.dumps),
    _LEAVES.map(json.dumps),
    st.sampled_from(
        [
            *("", "   ", "{broken", '{"a": 1} tail', "[1, 2", "2025-01-02 INFO x=1", "12", "-"),
            # JSON to the standard library, not to orjson (nor two objects on a line)
            *('{"a": NaN}', '{"a": 1e400}', '{"a": "\\ud800"}', '{"a": -Infinity}', "{}"),
            *('{"a": 1},{"b": 2}', '{"n": 123456789012345678901234567890}'),
        ]
    ),
    st.text(alphabet='abc {}[]"0123456789-. \t\r\x1f\xa0', max_size=40),
)


def _by_line(items: list[Segment | Rows]) -> tuple[dict[int, str], dict[int, dict[str, str]]]:
    """What the items say about each line: its text (prose) or its row (cells by key,
    empty cells left out), whatever the batching and blocks."""
    text: dict[int, str] = {}
    rows: dict[int, dict[str, str]] = {}
    for item in items:
        if isinstance(item, Rows):
            for index, row in enumerate(item.rows):
                cells = dict(zip(item.header or (), row, strict=True))
                rows[item.number(index)] = {k: v for k, v in cells.items() if v}
        else:
            assert item.where.line is not None
            for offset, line in enumerate(item.text.split("\n")[:-1]):
                if line.strip():
                    number = item.where.line + offset
                    text[number] = text.get(number, "") + line
    return text, rows


def _line_by_line(data: str, limits: Limits) -> list[Segment | Rows]:
    """The items of reading ``data`` as `extract_lines` did before blocks: one
    ``readline(max_line_chars)`` at a time."""
    stream = io.StringIO(data, newline="\n")
    limit = max(1, limits.max_line_chars)
    pieces = ((line, False) for line in iter(lambda: stream.readline(limit), ""))
    return list(jsondoc._lines(pieces, WHERE, limits))


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(_LOG_LINES, max_size=40),
    block=st.integers(1, 400),
    line_limit=st.integers(1, 400),
    end=st.sampled_from(["\n", ""]),
)
def test_jsonl_blocks_read_what_lines_read(
    lines: list[str], block: int, line_limit: int, end: str
) -> None:
    """Reading whole lines in blocks (`_LineReader.block`) gives every line the same
    text or row as reading line by line, for mixed, nested, broken, blank, long and
    unterminated lines, in files (`extract_lines`) and documents (`extract`)."""
    data = "\n".join(lines) + end
    limits = Limits(block_chars=block, max_line_chars=line_limit)
    expected = _by_line(_line_by_line(data, limits))
    assert _by_line(_items(data.encode(), lines=True, **limits_of(limits))) == expected
    # In a document, lines are never cut: compare with no line limit.
    whole = Limits(block_chars=block)
    document = list(jsondoc._lines(jsondoc._document_pieces(data, block), WHERE, whole))
    assert _by_line(document) == _by_line(_line_by_line(data, whole))
    # A document of several values gives the same lines, whether it is read whole (one
    # block or less) or streamed (longer): `extract` itself.
    if _extra_data(data):
        assert _by_line(_items(data.encode(), block_chars=block)) == _by_line(document)


@settings(max_examples=300, deadline=None)
@given(
    data=st.text(alphabet="ab\n", max_size=300),
    size=st.integers(1, 40),
    extra=st.integers(0, 40),
    trickle=st.integers(1, 50),
)
def test_stream_pieces_do_not_depend_on_how_the_text_is_read(
    data: str, size: int, extra: int, trickle: int
) -> None:
    """Blocks and long-line pieces are cut where the text says, never where a read
    ended: a reader giving a few characters at a time yields the same pieces as one
    giving the whole text at once; the pieces are the text, and each block is as long
    as whole lines allow (the next piece's first line would not fit)."""
    limit = size + extra

    def pieces(read: Callable[[int], str]) -> list[tuple[str, bool]]:
        return list(jsondoc._stream_pieces(read, size, limit))

    whole = io.StringIO(data)
    expected = pieces(lambda n: whole.read())
    assert "".join(text for text, _ in expected) == data
    for (text, block), (after, _) in itertools.pairwise(expected):
        line, newline, _ = after.partition("\n")
        assert not block or len(text) + len(line + newline) > size
    slow = io.StringIO(data)
    assert pieces(lambda n: slow.read(min(n, trickle))) == expected


_ARRAYS = st.one_of(
    st.lists(_OBJECTS, max_size=25),  # a table
    st.lists(st.one_of(_OBJECTS, _LEAVES), max_size=8),  # not one: read as a document
)


@settings(max_examples=200, deadline=None)
@given(
    items=_ARRAYS,
    indent=st.sampled_from([None, 0, 2]),
    tail=st.sampled_from(["", "\n", " \t\r\n", "]", ",", "x", "\n[]", "{"]),
    cut=st.integers(0, 6),
    window=st.integers(1, 40),
    batch=st.integers(1, 7),
)
def test_streamed_array_reads_what_the_whole_document_reads(
    items: list[object], indent: int | None, tail: str, cut: int, window: int, batch: int
) -> None:
    """A JSON array read item by item (as one longer than `_ARRAY_STREAM_BYTES` is,
    through a window of a few characters) gives the same rows, batches and prose as
    the document read whole: tables of objects, arrays that are not tables, and
    broken ones (cut short, or with more after them), which are read whole."""
    text = json.dumps(items, indent=indent) + tail
    data = text[: len(text) - cut].encode()
    limits = {"batch_rows": batch}
    whole = _items(data, **limits)
    with (
        mock.patch.object(jsondoc, "_ARRAY_STREAM_BYTES", -1),
        mock.patch.object(jsondoc, "_ARRAY_READ", window),
    ):
        assert _items(data, **limits) == whole


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(st.one_of(_OBJECTS, _LEAVES, st.lists(_LEAVES, max_size=3)), max_size=12),
    indent=st.sampled_from([None, 0, 3]),
    window=st.integers(1, 30),
)
def test_array_reader_reads_items_as_json_loads(
    items: list[object], indent: int | None, window: int
) -> None:
    """`_ArrayReader` gives the items ``json.loads`` gives, whatever the window (a
    number cut by it, ``12|345``, is read whole), and refuses what follows an array."""
    text = json.dumps(items, indent=indent)
    expected = json.loads(text)

    def read(document: str) -> list[object]:
        stream = io.StringIO(document)
        return list(jsondoc._ArrayReader(lambda n: stream.read(min(n, window))).items())

    with mock.patch.object(jsondoc, "_ARRAY_READ", window):
        assert read(text) == expected
        with pytest.raises(jsondoc._NotATable):
            read(text + " 1")


def test_streamed_array_that_changes_between_its_reads_is_changed() -> None:
    """The rows of a streamed array are read again after its header: an item that is
    no longer an object, or text that is no longer an array, is reason "changed"
    (the header here is the one a first read of a table found)."""
    for data in (b"[1, 2]", b'[{"a": 1}, '):
        with (
            mock.patch.object(jsondoc, "_ARRAY_STREAM_BYTES", -1),
            mock.patch.object(jsondoc, "_streamed_header", return_value=("a",)),
            pytest.raises(ExtractError) as caught,
        ):
            _items(data)
        assert caught.value.reason == "changed"


def _extra_data(document: str) -> bool:
    """Whether ``json.loads`` finds more than one value in ``document``."""
    try:
        json.loads(document)
    except json.JSONDecodeError as exc:
        return exc.msg == "Extra data"
    except RecursionError:
        return False
    return False


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ('{"n": 123456789012345678901234567890}', {"n": "123456789012345678901234567890"}),
        ('{"n": -123456789012345678901234567890}', {"n": "-123456789012345678901234567890"}),
        ('{"n": 18446744073709551615}', {"n": "18446744073709551615"}),
        ('{"n": NaN, "m": "x"}', {"n": "nan", "m": "x"}),
        ('{"n": 1e400}', {"n": "inf"}),
        ('{"n": "\\ud800"}', {"n": "\ud800"}),
        (
            '{"n": 2.5, "m": {"k": 12345678901234567890123}}',
            {"n": "2.5", "m.k": "12345678901234567890123"},
        ),
    ],
)
def test_jsonl_values_read_as_the_standard_library_reads_them(
    line: str, cells: dict[str, str]
) -> None:
    """Numbers beyond 64 bits stay exact (orjson, the fast reader, makes them floats),
    and what only the standard library reads (NaN, an overflowing float, a lone
    surrogate) is a row too, in a block of object lines as alone."""
    data = (line + "\n" + '{"n": 7}\n').encode()
    items = _items(data, lines=True)
    assert [type(i).__name__ for i in items] == ["Rows"]
    first = dict(zip(items[0].header or (), items[0].rows[0], strict=True))  # type: ignore[union-attr]
    assert {k: v for k, v in first.items() if v} == cells


def limits_of(limits: Limits) -> dict[str, int]:
    return {"block_chars": limits.block_chars, "max_line_chars": limits.max_line_chars}


@settings(max_examples=150, deadline=None)
@given(
    objects=st.lists(
        st.dictionaries(st.sampled_from("abcde"), st.sampled_from(["x", 1, 2.5]), max_size=4),
        max_size=30,
    ),
    batch=st.integers(1, 6),
)
def test_jsonl_batches_start_at_new_keys_and_full_batches(
    objects: list[dict[str, object]], batch: int
) -> None:
    """A row that brings a key the header lacks starts a batch whose header is every
    key seen so far, in order of appearance; a full batch (``batch_rows``) ends one;
    cells are aligned to the header, missing ones empty, numbers as text."""
    data = "".join(json.dumps(obj) + "\n" for obj in objects)
    expected: list[tuple[tuple[str, ...], list[int], list[tuple[str, ...]]]] = []
    header: dict[str, None] = {}
    current: list[tuple[int, dict[str, object]]] = []

    def close() -> None:
        if current:
            keys = tuple(header)
            rows = [tuple(str(obj.get(k, "")) for k in keys) for _, obj in current]
            expected.append((keys, [line for line, _ in current], rows))
            current.clear()

    for line, obj in enumerate(objects, start=1):
        if current and not obj.keys() <= header.keys():
            close()
        header.update(dict.fromkeys(obj))
        current.append((line, obj))
        if len(current) >= batch:
            close()
    close()
    items = _items(data.encode(), lines=True, batch_rows=batch)
    got = [
        (i.header, [i.number(n) for n in range(len(i))], i.rows)
        for i in items
        if isinstance(i, Rows)
    ]
    assert got == expected
