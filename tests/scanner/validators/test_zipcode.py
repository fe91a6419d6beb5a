"""Tests for the ZIP Code validator and the prefix table."""

from __future__ import annotations

import pytest
from hypothesis import given

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import states, zipcode
from tests.strategies import digit_strings, identifier_noise


@pytest.mark.parametrize(
    ("zip5", "state"),
    [
        ("60601", "IL"),
        ("62999", "IL"),
        ("10001", "NY"),
        ("14901", "NY"),
        ("00501", "NY"),
        ("90001", "CA"),
        ("96162", "CA"),
        ("20001", "DC"),
        ("20101", "VA"),
        ("05501", "MA"),
        ("73301", "TX"),
        ("88510", "TX"),
        ("00601", "PR"),
        ("00802", "VI"),
        ("96910", "GU"),
        ("96950", "MP"),
        ("96799", "AS"),
        ("34001", "AA"),
        ("09001", "AE"),
        ("96201", "AP"),
        ("99501", "AK"),
        ("96801", "HI"),
        ("06390", "NY"),
    ],
)
def test_zipcode_consistent_accepts_matching_state(zip5: str, state: str) -> None:
    """A ZIP Code is consistent with the state its prefix (or cross-state entry) names."""
    assert zipcode.consistent(zip5, state)
    assert state in zipcode.state_for_zip(zip5)


@pytest.mark.parametrize(
    ("zip5", "state"),
    [
        ("60601", "IN"),
        ("10001", "NJ"),
        ("90001", "NV"),
        ("00501", "PR"),
        ("20101", "DC"),
        ("60601", "Nowhere"),
    ],
)
def test_zipcode_consistent_rejects_other_states(zip5: str, state: str) -> None:
    """A ZIP Code is inconsistent with a state its prefix does not serve."""
    assert not zipcode.consistent(zip5, state)


def test_zipcode_consistent_takes_state_names() -> None:
    """The state may be given by name, in any case."""
    assert zipcode.consistent("60601", "illinois")
    assert zipcode.consistent("60601-1234", "IL")


@pytest.mark.parametrize("zip5", ["00001", "00012", "00423", "09901", "21301", "34301", "98701"])
def test_zipcode_unassigned_prefixes_are_invalid(zip5: str) -> None:
    """Prefixes never assigned belong to no state and fail validation."""
    assert zipcode.state_for_zip(zip5) == frozenset()
    with pytest.raises(InvalidComponent, match=f"prefix {zip5[:3]}"):
        zipcode.validate(zip5)


@pytest.mark.parametrize("text", ["", "6060", "606011", "60601-123", "60601 1234", "6O601"])
def test_zipcode_validate_rejects_bad_shapes(text: str) -> None:
    """Anything but 5 digits, ZIP+4 or 9 digits is a format error."""
    with pytest.raises(InvalidFormat):
        zipcode.validate(text)


@pytest.mark.parametrize("text", ["", "6060", "606011", "60601-123", "6O601", "\u0666\u0660601"])
def test_zipcode_state_for_zip_is_empty_for_non_zip_text(text: str) -> None:
    """Text that is no ZIP Code has no state."""
    assert zipcode.state_for_zip(text) == frozenset()


@given(digit_strings(5))
def test_zipcode_validate_output_revalidates(zip5: str) -> None:
    """Accepted ZIP Codes validate to themselves, and only they have states."""
    if zipcode.is_valid(zip5):
        assert zipcode.validate(zipcode.validate(zip5)) == zip5
        assert zipcode.state_for_zip(zip5)
    else:
        assert not zipcode.state_for_zip(zip5)


@given(identifier_noise())
def test_zipcode_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert zipcode.compact(zipcode.compact(text)) == zipcode.compact(text)


def test_zipcode_prefix_table_is_well_formed() -> None:
    """Ranges are ordered, within 000-999, and keyed by known state codes."""
    for code, ranges in zipcode.PREFIX_RANGES.items():
        assert code in states.CODES
        for low, high in ranges:
            assert 0 <= low <= high <= 999
    for zip5, extra in zipcode.CROSS_STATE.items():
        assert zipcode.is_valid(zip5)
        assert extra <= states.CODES


def test_zipcode_only_the_pacific_prefix_is_shared() -> None:
    """Apart from 969 (Guam and the Pacific islands), every prefix has one state."""
    shared = {f"{n:03d}" for n in range(1000) if len(zipcode.state_for_zip(f"{n:03d}00")) > 1}
    assert shared == {"969"}


def test_zipcode_mask_keeps_dash() -> None:
    """The mask keeps the ZIP+4 dash and hides the digits."""
    assert zipcode.mask("60601-1234") == "*****-****"
