"""Tests for the MFT code validator."""

from __future__ import annotations

import pytest
from hypothesis import given

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import mft
from tests.strategies import digit_strings, identifier_noise


@pytest.mark.parametrize("code", ["01", "02", "05", "06", "10", "30", "31", "51", "52", "74"])
def test_mft_validate_accepts_common_codes(code: str) -> None:
    """Codes for the common returns (941, 1120, 1041, 1065, 940, 1040, 709, 706, 5500) pass."""
    assert mft.validate(code) == code


@pytest.mark.parametrize("code", ["00", "99", "98", "18", "90"])
def test_mft_validate_rejects_unknown_codes(code: str) -> None:
    """Two digits that are no MFT code are rejected naming the code."""
    with pytest.raises(InvalidComponent, match=f"MFT {code}"):
        mft.validate(code)


@pytest.mark.parametrize("text", ["", "3", "300", "3O", "xx"])
def test_mft_validate_rejects_bad_shapes(text: str) -> None:
    """Anything but two digits is a format error."""
    with pytest.raises(InvalidFormat):
        mft.validate(text)


@given(digit_strings(2))
def test_mft_validate_output_revalidates(code: str) -> None:
    """Accepted codes validate to themselves."""
    if mft.is_valid(code):
        assert mft.validate(mft.validate(code)) == code


@given(identifier_noise())
def test_mft_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert mft.compact(mft.compact(text)) == mft.compact(text)


def test_mft_codes_are_two_digit_strings() -> None:
    """Every code in the table is two ASCII digits."""
    assert all(len(code) == 2 and code.isdigit() for code in mft.CODES)


def test_mft_mask_hides_digits() -> None:
    """The mask keeps only the shape."""
    assert mft.mask("30") == "**"
