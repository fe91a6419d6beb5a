"""Tests for the name control validator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import name_control
from tests.strategies import identifier_noise, name_controls


@given(name_controls())
def test_name_control_validate_accepts_generated_controls(control: str) -> None:
    """Every 1-4 character control of the allowed characters validates, in any case."""
    assert name_control.validate(control.lower()) == control


@given(name_controls())
def test_name_control_validate_output_revalidates(control: str) -> None:
    """The compact form `validate` returns validates to itself."""
    assert name_control.validate(name_control.validate(control)) == control


@given(identifier_noise())
def test_name_control_compact_is_idempotent(text: str) -> None:
    """Compacting twice gives what compacting once gives."""
    assert name_control.compact(name_control.compact(text)) == name_control.compact(text)


@pytest.mark.parametrize(("text", "message"), [("-ABC", "first character"), ("&CO", "first")])
def test_name_control_validate_rejects_bad_first_character(text: str, message: str) -> None:
    """A control must start with a letter or digit."""
    with pytest.raises(InvalidComponent, match=message):
        name_control.validate(text)


@pytest.mark.parametrize("text", ["", "SMITH", "SM T", "SM.T", "SMÏT"])
def test_name_control_validate_rejects_bad_shapes(text: str) -> None:
    """Too long, empty, or other characters are format errors."""
    with pytest.raises(InvalidFormat):
        name_control.validate(text)


@pytest.mark.parametrize(
    ("last_name", "control"),
    [
        ("Brown", "BROW"),
        ("O'Neil", "ONEI"),
        ("Lee-Smith", "LEE-"),
        ("Mc Carthy", "MCCA"),
        ("De La Rosa", "DELA"),
        ("Ng", "NG"),
        ("Núñez", "NUNE"),
        ("-Ward", "WARD"),
    ],
)
def test_name_control_derive_follows_irs_rules(last_name: str, control: str) -> None:
    """The derived control is the first four letters (and hyphens) of the last name."""
    assert name_control.derive(last_name) == control


@given(
    st.text(min_size=1, max_size=30).filter(lambda s: any(c.isascii() and c.isalpha() for c in s))
)
def test_name_control_derive_output_is_valid(last_name: str) -> None:
    """Whatever the name, a derived control is itself a valid name control."""
    assert name_control.is_valid(name_control.derive(last_name))


def test_name_control_derive_rejects_names_without_letters() -> None:
    """A name with no letter gives a format error, not an empty control."""
    with pytest.raises(InvalidFormat, match="no letter"):
        name_control.derive("--- 42")


def test_name_control_mask_hides_letters() -> None:
    """The mask hides letters and keeps the hyphen."""
    assert name_control.mask("LEE-") == "***-"
