"""US state (USPS state and territory abbreviations).

The 50 states, the District of Columbia, the territories and freely associated
states served by USPS (AS, FM, GU, MH, MP, PR, PW, VI) and the three military
"states" (AA, AE, AP), by two-letter code and by name.

Source: USPS Publication 28, "Postal Addressing Standards" (June 2020),
Appendix B "Two-Letter State and Possession Abbreviations".

>>> normalize("IL")
'IL'
>>> normalize(" illinois ")
'IL'
>>> normalize("District of Columbia")
'DC'
>>> normalize("D.C.")
'DC'
>>> normalize("U.S. Virgin Islands")
'VI'
>>> normalize("Gondor") is None
True
"""

from __future__ import annotations

import re

__all__ = ["CODES", "NAMES", "is_valid", "name", "normalize"]

#: Code -> name as USPS writes it (Publication 28, Appendix B).
NAMES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AS": "American Samoa",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FM": "Federated States of Micronesia",
    "FL": "Florida",
    "GA": "Georgia",
    "GU": "Guam",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MH": "Marshall Islands",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "MP": "Northern Mariana Islands",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PW": "Palau",
    "PA": "Pennsylvania",
    "PR": "Puerto Rico",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VI": "Virgin Islands",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe",
    "AP": "Armed Forces Pacific",
}

#: Every accepted two-letter code.
CODES = frozenset(NAMES)

# Other spellings seen in addresses, already in the normalized key form.
_ALIASES: dict[str, str] = {
    "US VIRGIN ISLANDS": "VI",
    "UNITED STATES VIRGIN ISLANDS": "VI",
    "VIRGIN ISLANDS OF THE UNITED STATES": "VI",
    "WASHINGTON DC": "DC",
    "NORTHERN MARIANA ISLANDS": "MP",
    "COMMONWEALTH OF THE NORTHERN MARIANA ISLANDS": "MP",
    "MICRONESIA": "FM",
    "REPUBLIC OF PALAU": "PW",
    "REPUBLIC OF THE MARSHALL ISLANDS": "MH",
    "COMMONWEALTH OF PUERTO RICO": "PR",
    "ARMED FORCES AFRICA": "AE",
    "ARMED FORCES CANADA": "AE",
    "ARMED FORCES MIDDLE EAST": "AE",
    "ARMED FORCES AMERICAS EXCEPT CANADA": "AA",
}

_NOISE = re.compile(r"[.,()]")
_BLANKS = re.compile(r"\s+")


def _key(text: str) -> str:
    return _BLANKS.sub(" ", _NOISE.sub("", text).replace("-", " ")).strip().upper()


_LOOKUP: dict[str, str] = {
    **{code: code for code in NAMES},
    **{_key(full): code for code, full in NAMES.items()},
    **_ALIASES,
}


def normalize(text: str) -> str | None:
    """Return the two-letter code for a code or name in any case, else ``None``."""
    return _LOOKUP.get(_key(text))


def is_valid(text: str) -> bool:
    """Return whether ``text`` names a state, territory or military state."""
    return normalize(text) is not None


def name(code: str) -> str:
    """Return the USPS name of a two-letter ``code`` (any case); `KeyError` if unknown."""
    return NAMES[code.strip().upper()]
