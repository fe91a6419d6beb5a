"""Canonical JSON: one byte form per value, no floats, round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports.canonical import MAX_INT, CanonicalError, canonical_bytes, parse
from ftiscan.reports.render import render_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_INT, MAX_INT) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_canonical_round_trip(value: Any) -> None:
    """Parsing the canonical bytes gives the value back, and re-serialising is stable."""
    data = canonical_bytes(value)
    assert parse(data) == value
    assert canonical_bytes(parse(data)) == data


@given(st.dictionaries(st.text(), st.integers(-MAX_INT, MAX_INT), min_size=2, max_size=8))
def test_canonical_key_order_irrelevant(value: dict[str, int]) -> None:
    """Insertion order of keys never changes the bytes."""
    reverse = dict(reversed(list(value.items())))
    assert canonical_bytes(reverse) == canonical_bytes(value)


def test_canonical_exact_bytes() -> None:
    """Sorted keys, no whitespace, UTF-8 unescaped."""
    assert (
        canonical_bytes({"b": [1, True, None], "a": "é"}) == '{"a":"é","b":[1,true,null]}'.encode()
    )


@pytest.mark.parametrize(
    "bad", [1.5, {"x": [0.0]}, {1: "a"}, {"s": {1, 2}}, 2**53, -(2**53), "\udc80", {"\ud800": 1}]
)
def test_canonical_refuses_non_json(bad: Any) -> None:
    """Floats, non-string keys, non-JSON types, integers beyond 2**53 - 1 and lone
    surrogates are refused, not approximated."""
    with pytest.raises(CanonicalError):
        canonical_bytes(bad)


def test_canonical_parse_refuses_floats_and_duplicates() -> None:
    """Parsing refuses floats and duplicate keys (two readers could disagree)."""
    with pytest.raises(CanonicalError, match="floats"):
        parse(b'{"a":1.0}')
    with pytest.raises(CanonicalError, match="duplicate key 'a'"):
        parse(b'{"a":1,"a":2}')
    with pytest.raises(CanonicalError, match="I-JSON"):
        parse(b'{"n":9007199254740992}')
    with pytest.raises(CanonicalError, match="not UTF-8 at byte 6"):
        parse(b'{"a":"\xff"}')
    with pytest.raises(CanonicalError, match="floats"):
        parse(b'{"a":NaN}')
    with pytest.raises(CanonicalError, match="not JSON: Expecting value at line 1 column 6"):
        parse(b'{"a":}')
    assert parse(canonical_bytes({"n": MAX_INT})) == {"n": MAX_INT}


def test_canonical_rfc8785_key_order() -> None:
    """Keys sort by UTF-16 code units (RFC 8785 section 3.2.3's example): the emoji's
    surrogates come before U+FB33, unlike code point order."""
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    data = canonical_bytes({name: n for n, name in enumerate(names)})
    order = [names[v] for v in json.loads(data).values()]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert data.startswith(b'{"\\r":1,"1":3,')


def test_canonical_escapes_as_jcs() -> None:
    """Control characters use JCS escapes (short forms, else lowercase \\u00xx); others
    are literal UTF-8."""
    value = '\b\f\n\r\t\x01\x1f"\\\x7f\u2028é'
    assert canonical_bytes(value) == ('"\\b\\f\\n\\r\\t\\u0001\\u001f\\"\\\\\x7f\u2028é"').encode()


_ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
)


@given(_ANY_JSON)
def test_render_json_is_the_standard_librarys_text(value: Any) -> None:
    """The fast JSON renderer writes what ``json.dumps(indent=2, sort_keys=True,
    ensure_ascii=False)`` writes: floats, big integers and lone surrogates included."""
    assert render_json(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_canonical_lists_of_strings_refuse_a_lone_surrogate_by_its_place(
    values: list[str],
) -> None:
    """A list of strings is checked at once; one with a lone surrogate is named."""
    assert (
        canonical_bytes({"a": values})
        == json.dumps({"a": values}, separators=(",", ":"), ensure_ascii=False).encode()
    )
    with pytest.raises(CanonicalError, match=rf"\$\.a\[{len(values)}\]: lone surrogate"):
        canonical_bytes({"a": [*values, "x\udc80"]})
