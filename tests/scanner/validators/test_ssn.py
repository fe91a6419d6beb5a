"""Tests for the SSN validator."""

from __future__ import annotations

import pytest
import stdnum.us.ssn
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import ssn
from tests.strategies import identifier_noise, nine_digits, ssn_digits, tin_forms


@given(ssn_digits().flatmap(tin_forms))
def test_ssn_validate_accepts_generated_numbers(text: str) -> None:
    """Every number built from the SSA rules validates in each written form."""
    assert ssn.validate(text) == ssn.compact(text)
    assert ssn.is_valid(text)


@given(ssn_digits().flatmap(tin_forms))
def test_ssn_validate_output_revalidates(text: str) -> None:
    """The compact form `validate` returns validates to itself."""
    digits = ssn.validate(text)
    assert ssn.validate(digits) == digits


@given(identifier_noise())
def test_ssn_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert ssn.compact(ssn.compact(text)) == ssn.compact(text)


@given(identifier_noise())
def test_ssn_mask_keeps_shape_and_hides_digits(text: str) -> None:
    """The mask has the input's length and separators and no digit or letter."""
    masked = ssn.mask(text)
    assert len(masked) == len(text)
    assert not any(ch.isalnum() for ch in masked)
    assert all(m == c for m, c in zip(masked, text, strict=True) if not c.isalnum())


@given(nine_digits())
def test_ssn_is_valid_digits_matches_is_valid(digits: str) -> None:
    """The hot path agrees with the full validator on any 9 digits."""
    assert ssn.is_valid_digits(digits) == ssn.is_valid(digits)


@given(st.one_of(nine_digits(), ssn_digits()))
def test_ssn_agrees_with_stdnum(digits: str) -> None:
    """python-stdnum accepts exactly the bare and dashed numbers this module accepts."""
    dashed = f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
    assert ssn.is_valid(digits) == stdnum.us.ssn.is_valid(digits)
    assert ssn.is_valid(dashed) == stdnum.us.ssn.is_valid(dashed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("000-12-3456", "area 000"),
        ("666-12-3456", "area 666"),
        ("900-12-3456", "area 900"),
        ("999 12 3456", "area 999"),
        ("123-00-4567", "group 00"),
        ("123-45-0000", "serial 0000"),
        ("078-05-1120", "advertising or void"),
        ("219-09-9999", "advertising or void"),
        ("457555462", "advertising or void"),
    ],
)
def test_ssn_validate_names_the_failing_part(text: str, message: str) -> None:
    """Each rule SSA publishes rejects with a message naming the part."""
    with pytest.raises(InvalidComponent, match=message):
        ssn.validate(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "07805112",
        "0780511200",
        "078-05 1120",
        "078 05-1120",
        "0780-5-1120",
        "078.05.1120",
        "O78-05-1120",
        "\u0660\u0667\u0668051120",
    ],
)
def test_ssn_validate_rejects_bad_shapes(text: str) -> None:
    """Wrong length, mixed or misplaced separators and non-ASCII digits are format errors."""
    with pytest.raises(InvalidFormat):
        ssn.validate(text)


@given(nine_digits().flatmap(tin_forms))
def test_ssn_errors_never_echo_the_number(text: str) -> None:
    """No error message carries the full number in any form."""
    if ssn.is_valid(text):
        return
    with pytest.raises((InvalidFormat, InvalidComponent)) as info:
        ssn.validate(text)
    assert ssn.compact(text) not in str(info.value)
    assert text not in str(info.value)


def test_ssn_mask_dashed_form() -> None:
    """A dashed SSN masks to the familiar shape."""
    assert ssn.mask("078-05-1120") == "***-**-****"
