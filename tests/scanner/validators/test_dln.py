"""Tests for the DLN validator."""

from __future__ import annotations

import pytest
from hypothesis import given

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import dln
from tests.strategies import digit_strings, dln_digits, identifier_noise


def _written(digits: str) -> str:
    return f"{digits[:5]}-{digits[5:8]}-{digits[8:13]}-{digits[13]}"


@given(dln_digits())
def test_dln_validate_accepts_generated_numbers(digits: str) -> None:
    """Any 14 digits with a usable Julian date validate, bare and in the written form."""
    assert dln.validate(digits) == digits
    assert dln.validate(_written(digits)) == digits


@given(dln_digits())
def test_dln_validate_output_revalidates(digits: str) -> None:
    """The compact form `validate` returns validates to itself."""
    assert dln.validate(dln.validate(_written(digits))) == digits


@given(identifier_noise())
def test_dln_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert dln.compact(dln.compact(text)) == dln.compact(text)


@given(digit_strings(14))
def test_dln_mask_keeps_shape_and_hides_digits(digits: str) -> None:
    """The mask of the written form keeps its dashes and hides every digit."""
    assert dln.mask(_written(digits)) == "*****-***-*****-*"


@pytest.mark.parametrize("julian", ["000", "367", "399", "400", "767", "999"])
def test_dln_validate_rejects_impossible_julian_dates(julian: str) -> None:
    """Julian dates outside 001-366 and 401-766 are rejected naming the date."""
    with pytest.raises(InvalidComponent, match=f"Julian date {julian}"):
        dln.validate(f"28210{julian}001004")


@pytest.mark.parametrize("julian", ["001", "366", "401", "766"])
def test_dln_validate_accepts_julian_date_bounds(julian: str) -> None:
    """The ends of both Julian date ranges are accepted."""
    assert dln.is_valid(f"28210{julian}001004")


@pytest.mark.parametrize("text", ["", "2821005500100", "282100550010045", "28210-055-0O100-4"])
def test_dln_validate_rejects_bad_shapes(text: str) -> None:
    """Wrong length or non-digits are format errors."""
    with pytest.raises(InvalidFormat):
        dln.validate(text)
