"""Tests for the EIN validator."""

from __future__ import annotations

import pytest
import stdnum.us.ein
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import ein
from tests.strategies import ein_digits, identifier_noise, nine_digits


@given(ein_digits())
def test_ein_validate_accepts_valid_prefixes(digits: str) -> None:
    """Every number with a listed prefix validates, bare and dashed."""
    assert ein.validate(digits) == digits
    assert ein.validate(f"{digits[:2]}-{digits[2:]}") == digits


@given(ein_digits())
def test_ein_validate_output_revalidates(digits: str) -> None:
    """The compact form `validate` returns validates to itself."""
    assert ein.validate(ein.validate(digits)) == digits


@given(identifier_noise())
def test_ein_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert ein.compact(ein.compact(text)) == ein.compact(text)


@given(identifier_noise())
def test_ein_mask_keeps_shape_and_hides_digits(text: str) -> None:
    """The mask has the input's length and separators and no digit or letter."""
    masked = ein.mask(text)
    assert len(masked) == len(text)
    assert not any(ch.isalnum() for ch in masked)


@given(st.one_of(nine_digits(), ein_digits()))
def test_ein_is_valid_digits_matches_is_valid(digits: str) -> None:
    """The hot path agrees with the full validator on any 9 digits."""
    assert ein.is_valid_digits(digits) == ein.is_valid(digits)


@given(st.one_of(nine_digits(), ein_digits()))
def test_ein_agrees_with_stdnum(digits: str) -> None:
    """python-stdnum accepts exactly the bare and dashed EINs this module accepts."""
    dashed = f"{digits[:2]}-{digits[2:]}"
    assert ein.is_valid(digits) == stdnum.us.ein.is_valid(digits)
    assert ein.is_valid(dashed) == stdnum.us.ein.is_valid(dashed)


@pytest.mark.parametrize(
    "prefix",
    [
        "00",
        "07",
        "08",
        "09",
        "17",
        "18",
        "19",
        "28",
        "29",
        "49",
        "69",
        "70",
        "78",
        "79",
        "89",
        "96",
        "97",
    ],
)
def test_ein_validate_rejects_unissued_prefixes(prefix: str) -> None:
    """Prefixes the IRS never assigns are rejected naming the prefix."""
    with pytest.raises(InvalidComponent, match=f"prefix {prefix}"):
        ein.validate(f"{prefix}-1234567")


@pytest.mark.parametrize("text", ["", "07-000000", "000-12-3456", "0-70000000", "07 0000000x"])
def test_ein_validate_rejects_bad_shapes(text: str) -> None:
    """Wrong length or separators are format errors."""
    with pytest.raises(InvalidFormat):
        ein.validate(text)


def test_ein_mask_dashed_form() -> None:
    """A dashed EIN masks to its shape."""
    number = f"{min(ein.PREFIXES)}-{'0' * 6}1"  # the first issued prefix
    assert ein.mask(number) == "**-*******"
