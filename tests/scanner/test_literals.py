"""One-pass literal search: the RE2 path finds what the substring search finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.literals import LiteralScan

_LITERALS = st.lists(st.text(alphabet="abc.", min_size=1, max_size=4), min_size=1, max_size=6)
_DATA = st.text(alphabet="abcABC. x", max_size=80).map(lambda t: t.encode("ascii"))


@settings(max_examples=500)
@given(_LITERALS, _DATA)
def test_literal_scan_re2_equals_substring_search(literals: list[str], data: bytes) -> None:
    """Every start of every literal, overlapping ones too, case-insensitively."""
    fast, plain = LiteralScan(literals), LiteralScan(literals, use_re2=False)
    expected = {
        lit: [i for i in range(len(data)) if data.lower().startswith(lit.encode(), i)]
        for lit in sorted(set(literals))
    }
    expected = {lit: starts for lit, starts in expected.items() if starts}
    assert fast.starts(data) == expected
    assert plain.starts(data) == expected
    assert fast.any(data) is bool(expected)
    assert fast.present(data) == plain.present(data) == frozenset(expected)
