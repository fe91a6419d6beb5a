"""Person names in prose: the one-pass hint never rules out a text that holds one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner import names

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
