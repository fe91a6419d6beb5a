"""Names and street lines in prose: the one-pass hints never rule out a text that holds one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner import address, names

# Words and the characters around them that the name pattern looks at.
_PIECES = st.sampled_from(
    ["Ann", "Lee", "O'Neil", "D'angelo", "Jean-Luc", "Zoë", "Émile", "Łukasz", "A.", "B",
     "J.", "Smith", "Dear", "Street", "LLC", "INFO", "ERROR", "Z", "x", "1", "12Z", "_",
     " ", "  ", "\n", "\t", ", ", ",", ".", "-", "'", "’", "(", "[", "\u00a0", "é"]
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES, max_size=16).map("".join))
def test_names_hint_never_rules_out_a_name(text: str) -> None:
    """`find_names` (hint first) finds exactly what the full pattern finds."""
    assert names.find_names(text) == names._name_spans(text)


def test_names_found_and_ruled_out() -> None:
    """Two capitalised name words are a name; a timestamp before a level word is not."""
    assert names.find_names("to Ann Lee, at") == [(3, 10)]
    assert names.find_names("x O'Neil Smith y") == [(2, 14)]
    assert names.find_names("2025-01-05T12:33:11.123Z INFO [scheduler] done") == []
    assert names._NAME_HINT.search("2025-01-05T12:33:11.123Z INFO [scheduler]") is None


_STREET_PIECES = st.sampled_from(
    ["12", "4410", "7B", "1/2", " ", "  ", "\t", "\x1f", "\x0b", "\n", ",", ".", "-", "'",
     "#", "N", "Old", "Mill", "Main", "St", "st.", "ST", "Road", "Rd", "Way", "way-", "Apt",
     "4B", "Suite", "P", "O", "Box", "P.O.", "box", "x", "é", "Street", "Avenue", "Ln"]
)  # fmt: skip


_SPACE = st.sampled_from([" ", "  ", "\t", "\x1f", "\x0b", "\x1c", "\n", "\r\n", ", "])


@st.composite
def _street_text(draw: st.DrawFn) -> str:
    """Noise around a street-shaped line whose separators are any whitespace."""
    parts = [draw(st.sampled_from(["12", "4410", "7B", "1/2", "P.O. Box 7", "PO Box"]))]
    for _ in range(draw(st.integers(1, 3))):
        parts += [draw(_SPACE), draw(st.sampled_from(["N", "Old", "Mill", "Main", "x"]))]
    parts += [draw(_SPACE), draw(st.sampled_from(["St", "st.", "Road", "Way", "way-", "Ln"]))]
    around = st.lists(_STREET_PIECES, max_size=4).map("".join)
    return draw(around) + "".join(parts) + draw(around)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.lists(_STREET_PIECES, max_size=14).map("".join), _street_text()))
def test_streets_hint_never_rules_out_a_street(text: str) -> None:
    """`address.find_streets` (RE2 hint first on ASCII) finds what the pattern finds."""
    assert address.find_streets(text) == [m.span() for m in address.street_re().finditer(text)]


def test_streets_found_and_ruled_out() -> None:
    assert address.find_streets("at 12 N Main St, Apt 4") == [(3, 22)]
    assert address.find_streets("PO Box 12") == [(0, 9)]
    assert address.find_streets("job 123 finished: 12345 rows, 99 skipped") == []


# --- a column at once: the business-name and business-address searches ---------------

_CELL_PIECES = st.sampled_from(
    ["Ann", "Lee", "Acme", "LLC", "llc.", "Co.", "co", "Nicole", "Inc", "Bancorp", "Bank",
     "Suite", "ste", "Fl", "4", "12 Oak St", "PO Box 3", "é", "Ŝ", "ſuite", "K", "_", "-",
     " ", ".", ",", "\t"]
)  # fmt: skip
_CELLS = st.lists(st.lists(_CELL_PIECES, max_size=6).map("".join), min_size=1, max_size=12)


@settings(max_examples=1000, deadline=None)
@given(_CELLS)
def test_column_searches_never_rule_out_a_business(cells: list[str]) -> None:
    """A column whose cells hold a business name (an address with a suite or floor)
    is never ruled out by the one search over the whole column."""
    column = "\n".join(cells)
    if any(map(names.is_business_name, cells)):
        assert names.may_hold_business_name(column)
    if any(map(address.is_business_address, cells)):
        assert address.may_hold_business_address(column)
    if column.isascii():  # there the search is exact
        assert names.may_hold_business_name(column) == bool(
            names._BUSINESS_WORD.search(column.lower())
        )


def test_column_searches_find_and_rule_out() -> None:
    assert not names.may_hold_business_name("Ann Lee\nNicole Cole\nBo Inca")
    assert names.may_hold_business_name("Ann Lee\nAcme Supply LLC")
    assert not address.may_hold_business_address("12 Oak St\nPO Box 4\n9 Stevens Rd")
    assert address.may_hold_business_address("12 Oak St\n1 Main St, Ste. 4")
