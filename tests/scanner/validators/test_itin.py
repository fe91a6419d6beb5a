"""Tests for the ITIN validator."""

from __future__ import annotations

import pytest
import stdnum.us.itin
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import itin
from tests.strategies import identifier_noise, itin_digits, nine_digits, tin_forms

# Groups the IRS has issued since 2011 that python-stdnum 2.2 still refuses.
_IRS_ONLY_GROUPS = frozenset(f"{n}" for n in range(50, 66))


@given(itin_digits().flatmap(tin_forms))
def test_itin_validate_accepts_issued_ranges(text: str) -> None:
    """Every number in an IRS-issued range validates in each written form."""
    assert itin.validate(text) == itin.compact(text)


@given(itin_digits().flatmap(tin_forms))
def test_itin_validate_output_revalidates(text: str) -> None:
    """The compact form `validate` returns validates to itself."""
    digits = itin.validate(text)
    assert itin.validate(digits) == digits


@given(identifier_noise())
def test_itin_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert itin.compact(itin.compact(text)) == itin.compact(text)


@given(identifier_noise())
def test_itin_mask_keeps_shape_and_hides_digits(text: str) -> None:
    """The mask has the input's length and separators and no digit or letter."""
    masked = itin.mask(text)
    assert len(masked) == len(text)
    assert not any(ch.isalnum() for ch in masked)
    assert all(m == c for m, c in zip(masked, text, strict=True) if not c.isalnum())


@given(st.one_of(nine_digits(), itin_digits()))
def test_itin_is_valid_digits_matches_is_valid(digits: str) -> None:
    """The hot path agrees with the full validator on any 9 digits."""
    assert itin.is_valid_digits(digits) == itin.is_valid(digits)


@given(st.one_of(nine_digits(), itin_digits()))
def test_itin_agrees_with_stdnum_except_groups_50_to_65(digits: str) -> None:
    """python-stdnum agrees everywhere but groups 50-65, which the IRS issues and stdnum refuses."""
    ours, theirs = itin.is_valid(digits), stdnum.us.itin.is_valid(digits)
    if digits[0] == "9" and digits[3:5] in _IRS_ONLY_GROUPS:
        assert ours
        assert not theirs  # IRS wins: the 50-65 range was opened in 2011
    else:
        assert ours == theirs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("970-89-1111", "group 89"),
        ("970-93-1111", "group 93"),
        ("970-66-1111", "group 66"),
        ("970-49-1111", "group 49"),
        ("000-71-1111", "first digit 0"),
    ],
)
def test_itin_validate_names_the_failing_part(text: str, message: str) -> None:
    """Numbers outside the issued ranges are rejected naming the part."""
    with pytest.raises(InvalidComponent, match=message):
        itin.validate(text)


@pytest.mark.parametrize("text", ["", "97089111", "970-89 1111", "9708-9-1111", "970_89_1111"])
def test_itin_validate_rejects_bad_shapes(text: str) -> None:
    """Wrong length or separators are format errors."""
    with pytest.raises(InvalidFormat):
        itin.validate(text)


def test_itin_group_table_matches_irs_ranges() -> None:
    """The group table is exactly 50-65, 70-88, 90-92 and 94-99."""
    expected = {*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)}
    assert {int(g) for g in itin.GROUPS} == expected
