"""Canonical JSON: one byte form per value, no floats, round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports.canonical import CanonicalError, canonical_bytes, parse

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_canonical_round_trip(value: Any) -> None:
    """Parsing the canonical bytes gives the value back, and re-serialising is stable."""
    data = canonical_bytes(value)
    assert parse(data) == value
    assert canonical_bytes(parse(data)) == data


@given(st.dictionaries(st.text(), st.integers(), min_size=2, max_size=8))
def test_canonical_key_order_irrelevant(value: dict[str, int]) -> None:
    """Insertion order of keys never changes the bytes."""
    reverse = dict(reversed(list(value.items())))
    assert canonical_bytes(reverse) == canonical_bytes(value)


def test_canonical_exact_bytes() -> None:
    """Sorted keys, no whitespace, UTF-8 unescaped."""
    assert (
        canonical_bytes({"b": [1, True, None], "a": "é"}) == '{"a":"é","b":[1,true,null]}'.encode()
    )


@pytest.mark.parametrize("bad", [1.5, {"x": [0.0]}, {1: "a"}, {"s": {1, 2}}])
def test_canonical_refuses_non_json(bad: Any) -> None:
    """Floats, non-string keys and non-JSON types are refused, not approximated."""
    with pytest.raises(CanonicalError):
        canonical_bytes(bad)


def test_canonical_parse_refuses_floats_and_duplicates() -> None:
    """Parsing refuses floats and duplicate keys (two readers could disagree)."""
    with pytest.raises(CanonicalError, match="floats"):
        parse(b'{"a":1.0}')
    with pytest.raises(CanonicalError, match="duplicate key 'a'"):
        parse(b'{"a":1,"a":2}')
    assert json.loads(canonical_bytes({"n": 10**30})) == {"n": 10**30}
