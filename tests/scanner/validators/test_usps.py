"""Tests for the USPS suffix, unit and directional tables."""

from __future__ import annotations

import re

import pytest

from ftiscan.scanner.validators import usps


@pytest.mark.parametrize(
    ("word", "standard"),
    [
        ("Street", "ST"),
        ("ST", "ST"),
        ("str", "ST"),
        ("St.", "ST"),
        ("STRT", "ST"),
        ("Avenue", "AVE"),
        ("Ave", "AVE"),
        ("AVNUE", "AVE"),
        ("Boulevard", "BLVD"),
        ("boul", "BLVD"),
        ("Road", "RD"),
        ("Lane", "LN"),
        ("Drive", "DR"),
        ("Court", "CT"),
        ("Place", "PL"),
        ("Parkway", "PKWY"),
        ("pky", "PKWY"),
        ("Highway", "HWY"),
        ("Circle", "CIR"),
        ("Terrace", "TER"),
        ("Crossing", "XING"),
        ("Turnpike", "TPKE"),
        ("Meadow", "MDW"),
        ("MDW", "MDW"),
        ("Meadows", "MDWS"),
        ("Heights", "HTS"),
        ("Trailer", "TRLR"),
        ("Way", "WAY"),
    ],
)
def test_usps_suffix_maps_common_forms(word: str, standard: str) -> None:
    """Primary names and common forms map to the USPS standard abbreviation."""
    assert usps.suffix(word) == standard


@pytest.mark.parametrize("word", ["", "Apple", "Streetz", "Apt", "North"])
def test_usps_suffix_rejects_other_words(word: str) -> None:
    """Words that are no street suffix give None."""
    assert usps.suffix(word) is None


@pytest.mark.parametrize(
    ("word", "standard"),
    [
        ("Apt", "APT"),
        ("APT", "APT"),
        ("Apartment", "APT"),
        ("apt.", "APT"),
        ("#", "#"),
        ("Unit", "UNIT"),
        ("Suite", "STE"),
        ("Ste", "STE"),
        ("Building", "BLDG"),
        ("Floor", "FL"),
        ("Room", "RM"),
        ("Penthouse", "PH"),
        ("Basement", "BSMT"),
        ("Space", "SPC"),
    ],
)
def test_usps_unit_maps_designators(word: str, standard: str) -> None:
    """Secondary unit names, abbreviations and # map to the USPS abbreviation."""
    assert usps.unit(word) == standard


@pytest.mark.parametrize(
    ("word", "standard"),
    [
        ("North", "N"),
        ("n", "N"),
        ("N.", "N"),
        ("Southwest", "SW"),
        ("north east", "NE"),
        ("N.E.", "NE"),
        ("WEST", "W"),
    ],
)
def test_usps_directional_maps_spelled_and_short_forms(word: str, standard: str) -> None:
    """Spelled, abbreviated and dotted directionals map to the USPS abbreviation."""
    assert usps.directional(word) == standard


def test_usps_tables_are_complete_and_upper_case() -> None:
    """Keys are upper case, every C2 designator is there, and about 200 suffixes are."""
    for table in (usps.SUFFIXES, usps.UNITS, usps.DIRECTIONALS):
        assert all(key == key.upper() for key in table)
    c2 = {
        "APT",
        "BSMT",
        "BLDG",
        "DEPT",
        "FL",
        "FRNT",
        "HNGR",
        "KEY",
        "LBBY",
        "LOT",
        "LOWR",
        "OFC",
        "PH",
        "PIER",
        "REAR",
        "RM",
        "SIDE",
        "SLIP",
        "SPC",
        "STOP",
        "STE",
        "TRLR",
        "UNIT",
        "UPPR",
        "#",
    }
    assert set(usps.UNITS.values()) == c2
    assert len(set(usps.SUFFIXES.values())) >= 190
    assert all(usps.SUFFIXES[standard] == standard for standard in usps.SUFFIXES.values())


def test_usps_suffix_pattern_matches_every_form_whole() -> None:
    """The suffix alternation matches each form as a whole word and not inside words."""
    pattern = re.compile(usps.suffix_pattern(), re.IGNORECASE)
    for form in usps.SUFFIXES:
        assert pattern.fullmatch(form)
        assert pattern.fullmatch(form.lower())
    assert pattern.search("12 Elm Streets")[0] == "Streets"  # type: ignore[index]
    assert pattern.search("Stre") is None


def test_usps_unit_pattern_matches_designators_and_hash() -> None:
    """The unit alternation finds designators and # in an address line."""
    pattern = re.compile(usps.unit_pattern(), re.IGNORECASE)
    assert pattern.findall("12 Elm St Apt 4, Suite 9, # 3, apartment 2") == [
        "Apt",
        "Suite",
        "#",
        "apartment",
    ]
    assert pattern.search("Aptitude") is None
