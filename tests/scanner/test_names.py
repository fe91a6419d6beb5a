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
