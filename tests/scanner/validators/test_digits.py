"""The nine-digit windows accept exactly what the hot-path checks accept."""

from __future__ import annotations

import re
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner import detect
from ftiscan.scanner.packs import NINE_DIGIT_VALIDATORS, VALIDATORS
from ftiscan.scanner.validators import _digits, ein, itin, ssn

_MODULES: dict[str, ModuleType] = {"ssn": ssn, "itin": itin, "ein": ein}
_NINE = st.text(alphabet="0123456789", min_size=9, max_size=9)
_SEPARATORS = st.lists(st.sampled_from(["", "", "-", " ", " - ", "--"]), min_size=9, max_size=9)


def _accepts(name: str, digits: str) -> bool:
    """What the window must accept: the check, bar the SSN void list (left to it)."""
    return VALIDATORS[name](digits) or (name == "ssn" and digits in ssn.VOID)


def test_digits_every_nine_digit_validator_has_a_window() -> None:
    """The detector filters runs for every validator it matches run by run."""
    assert set(detect._WINDOWS) == set(NINE_DIGIT_VALIDATORS) == set(_MODULES)


@pytest.mark.parametrize("name", sorted(_MODULES))
def test_digits_window_equals_check_on_every_prefix(name: str) -> None:
    """Every five-digit prefix, with serials 0000 and 5000: window == check."""
    window = re.compile(_MODULES[name].WINDOW)
    for prefix in range(100_000):
        for serial in ("0000", "5000"):
            digits = f"{prefix:05d}{serial}"
            assert bool(window.fullmatch(digits.encode())) == _accepts(name, digits)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(_MODULES)), _NINE, _SEPARATORS)
def test_digits_window_allows_dashes_and_spaces_after_each_digit(
    name: str, digits: str, separators: list[str]
) -> None:
    """Written with dashes and spaces between its digits, a number matches as compact."""
    text = "".join(d + s for d, s in zip(digits, separators, strict=True)).rstrip(" -")
    window = re.compile(_MODULES[name].WINDOW)
    assert bool(window.fullmatch(text.encode())) == _accepts(name, digits)


def test_digits_window_rejects_bad_parts() -> None:
    """Parts are sets of ASCII digit strings of one length, or a count."""
    with pytest.raises(ValueError, match="ASCII digit strings"):
        _digits.window([frozenset({"1a"})])
    with pytest.raises(ValueError, match="one length"):
        _digits.window([frozenset({"1", "22"})])
    assert re.fullmatch(_digits.window([2]), b"1 2")
