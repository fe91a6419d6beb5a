"""Tests for the state table."""

from __future__ import annotations

import pytest

from ftiscan.scanner.validators import states


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("IL", "IL"),
        ("il", "IL"),
        ("Illinois", "IL"),
        ("ILLINOIS", "IL"),
        ("  new   york ", "NY"),
        ("New-York", "NY"),
        ("District of Columbia", "DC"),
        ("D.C.", "DC"),
        ("Washington, D.C.", "DC"),
        ("Puerto Rico", "PR"),
        ("pr", "PR"),
        ("Guam", "GU"),
        ("U.S. Virgin Islands", "VI"),
        ("Virgin Islands", "VI"),
        ("American Samoa", "AS"),
        ("Northern Mariana Islands", "MP"),
        ("AA", "AA"),
        ("Armed Forces Europe", "AE"),
        ("armed forces pacific", "AP"),
        ("West Virginia", "WV"),
    ],
)
def test_states_normalize_accepts_codes_and_names(text: str, code: str) -> None:
    """Codes and names in any case and spacing map to the USPS code."""
    assert states.normalize(text) == code


@pytest.mark.parametrize("text", ["", "XX", "Illinoise", "Washington State", "ILL", "Canada"])
def test_states_normalize_rejects_unknown_text(text: str) -> None:
    """Anything that is no state, territory or military state gives None."""
    assert states.normalize(text) is None


def test_states_table_has_every_state_and_territory() -> None:
    """The table holds 50 states, DC, 8 territories and associated states, 3 military."""
    assert len(states.CODES) == 62
    assert {"DC", "PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP"} <= states.CODES


def test_states_every_name_round_trips() -> None:
    """The USPS name of every code normalizes back to that code."""
    for code in states.CODES:
        assert states.normalize(states.name(code)) == code
        assert states.normalize(states.name(code).upper()) == code
        assert states.is_valid(code.lower())
