"""Tests for the tax period validator."""

from __future__ import annotations

import pytest
from hypothesis import given

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import tax_period
from tests.strategies import identifier_noise, tax_periods


@given(tax_periods())
def test_tax_period_validate_accepts_every_written_form(period: str) -> None:
    """YYYYMM, YYYY-MM and MM/YYYY all validate to YYYYMM."""
    year, month = period[:4], period[4:]
    for text in (period, f"{year}-{month}", f"{month}/{year}", f" {period} "):
        assert tax_period.validate(text) == period


@given(tax_periods())
def test_tax_period_validate_output_revalidates(period: str) -> None:
    """The compact form `validate` returns validates to itself."""
    assert tax_period.validate(tax_period.validate(period)) == period


@given(identifier_noise())
def test_tax_period_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert tax_period.compact(tax_period.compact(text)) == tax_period.compact(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("202300", "month 00"),
        ("202313", "month 13"),
        ("13/2023", "month 13"),
        ("189912", "year 1899"),
        ("2100-01", "year 2100"),
    ],
)
def test_tax_period_validate_names_the_failing_part(text: str, message: str) -> None:
    """Months outside 01-12 and years outside 1900-2099 are rejected naming the part."""
    with pytest.raises(InvalidComponent, match=message):
        tax_period.validate(text)


@pytest.mark.parametrize("text", ["", "2023", "20231", "2023/12", "12-2023", "2023-1", "1/2023"])
def test_tax_period_validate_rejects_bad_shapes(text: str) -> None:
    """Other layouts are format errors."""
    with pytest.raises(InvalidFormat):
        tax_period.validate(text)


def test_tax_period_mask_keeps_separators() -> None:
    """The mask keeps the slash and hides the digits."""
    assert tax_period.mask("12/2023") == "**/****"
