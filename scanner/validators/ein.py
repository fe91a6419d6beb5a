"""EIN (U.S. Employer Identification Number).

Nine digits written ``NN-NNNNNNN``; the 2-digit prefix names the IRS campus (or
the Internet, or the SBA) that assigned the number and only the published prefixes
are ever issued.

Source: IRS, "How EINs are assigned and valid EIN prefixes"
(www.irs.gov/businesses/small-businesses-self-employed/how-eins-are-assigned-and-
valid-ein-prefixes), as transcribed in python-stdnum 2.2 ``stdnum/us/ein.dat``.
Never issued: 00, 07-09, 17-19, 28-29, 49, 69-70, 78-79, 89, 96-97.

>>> number = f"{min(PREFIXES)}-{'0' * 6}1"  # the first issued prefix
>>> validate(number) == number.replace("-", ""), mask(number)
(True, '**-*******')
>>> validate("07-0000001")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: prefix 07 is not a valid EIN prefix
>>> validate("070-00-0001")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidFormat: expected NN-NNNNNNN or 9 digits
"""

from __future__ import annotations

import re

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators._digits import Part, window

__all__ = [
    "PARTS",
    "PREFIXES",
    "WINDOW",
    "compact",
    "is_valid",
    "is_valid_digits",
    "mask",
    "validate",
]

# Prefixes by assigning office (IRS page above; 46 is listed under two offices).
_BY_OFFICE: dict[str, tuple[int, ...]] = {
    "Andover": (10, 12),
    "Atlanta": (60, 67),
    "Austin": (50, 53),
    "Brookhaven": (
        1,
        2,
        3,
        4,
        5,
        6,
        11,
        13,
        14,
        16,
        21,
        22,
        23,
        25,
        34,
        51,
        52,
        54,
        55,
        56,
        57,
        58,
        59,
        65,
    ),
    "Cincinnati": (30, 32, 35, 36, 37, 38, 61),
    "Fresno": (15, 24),
    "Internet": (20, 26, 27, 45, 46, 47, 81, 82, 83, 84),
    "Kansas City": (40, 44),
    "Memphis": (94, 95),
    "Ogden": (80, 90),
    "Philadelphia": (
        33,
        39,
        41,
        42,
        43,
        46,
        48,
        62,
        63,
        64,
        66,
        68,
        71,
        72,
        73,
        74,
        75,
        76,
        77,
        85,
        86,
        87,
        88,
        91,
        92,
        93,
        98,
        99,
    ),
    "Small Business Administration (SBA)": (31,),
}

#: Valid 2-digit EIN prefixes, as 2-character strings.
PREFIXES = frozenset(f"{n:02d}" for prefixes in _BY_OFFICE.values() for n in prefixes)

#: `is_valid_digits` as the parts of a number and as a regex over digits with dashes
#: and spaces after each (`ftiscan.scanner.validators._digits`).
PARTS: tuple[Part, ...] = (PREFIXES, 7)
WINDOW = window(PARTS)

_SHAPE = re.compile(r"\d{2}-\d{7}|\d{9}")
_STRIP = str.maketrans("", "", " -")


def compact(value: str) -> str:
    """Return ``value`` without spaces and dashes."""
    return value.translate(_STRIP)


def validate(value: str) -> str:
    """Return the 9 compact digits of ``value`` or raise naming the failing part."""
    text = value.strip()
    if not text.isascii() or _SHAPE.fullmatch(text) is None:
        raise InvalidFormat("expected NN-NNNNNNN or 9 digits")
    digits = compact(text)
    if digits[:2] not in PREFIXES:
        raise InvalidComponent(f"prefix {digits[:2]} is not a valid EIN prefix")
    return digits


def is_valid(value: str) -> bool:
    """Return whether ``value`` is a well-formed EIN with an issued prefix."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def is_valid_digits(d: str) -> bool:
    """Hot path: ``d`` is exactly 9 ASCII digits (the caller guarantees it)."""
    return d[:2] in PREFIXES


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
