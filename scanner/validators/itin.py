"""ITIN (U.S. Individual Taxpayer Identification Number).

Nine digits formatted like an SSN (``9NN-NN-NNNN``): the first digit is always 9
and digits 4-5 (the group) are in 50-65, 70-88, 90-92 or 94-99. Group 93 belongs
to ATINs and groups 01-10, 17-19, 28-29 and 37-39 to IRS-internal IRSNs, so they
are not ITINs.

Source: IRS, "Individual Taxpayer Identification Number (ITIN)" general
information (www.irs.gov/individuals/individual-taxpayer-identification-number,
as published in 2025): nine digits beginning with 9, with 50-65, 70-88, 90-92 or
94-99 as the fourth and fifth digits. The 50-65 range was opened in April 2011.
python-stdnum 2.2 (``stdnum/us/itin.py``) still accepts only 70-99 without 89 and
93; where they differ the IRS wins.

>>> number = f"9{'0' * 2}-{min(GROUPS)}-{'0' * 4}"  # the first issued group
>>> spaced = number.replace("-", " ")
>>> validate(number) == validate(spaced) == number.replace("-", "")
True
>>> validate("970-89-1111")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: group 89 is not issued for ITINs
>>> validate("000-71-1111")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: first digit 0 is not 9 (ITINs start with 9)
>>> validate("970-89-111")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidFormat: expected 9NN-NN-NNNN, 9NN NN NNNN or 9 digits
>>> mask(number)
'***-**-****'
"""

from __future__ import annotations

import re

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators._digits import Part, window

__all__ = [
    "GROUPS",
    "PARTS",
    "WINDOW",
    "compact",
    "is_valid",
    "is_valid_digits",
    "mask",
    "validate",
]

#: Digits 4-5 the IRS issues for ITINs, as 2-character strings.
GROUPS = frozenset(
    f"{n:02d}" for n in [*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)]
)

#: `is_valid_digits` as the parts of a number and as a regex over digits with dashes
#: and spaces after each (`ftiscan.scanner.validators._digits`).
PARTS: tuple[Part, ...] = (frozenset({"9"}), 2, GROUPS, 4)
WINDOW = window(PARTS)

_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9}")
_STRIP = str.maketrans("", "", " -")


def compact(value: str) -> str:
    """Return ``value`` without spaces and dashes."""
    return value.translate(_STRIP)


def validate(value: str) -> str:
    """Return the 9 compact digits of ``value`` or raise naming the failing part."""
    text = value.strip()
    if not text.isascii() or _SHAPE.fullmatch(text) is None:
        raise InvalidFormat("expected 9NN-NN-NNNN, 9NN NN NNNN or 9 digits")
    digits = compact(text)
    if digits[0] != "9":
        raise InvalidComponent(f"first digit {digits[0]} is not 9 (ITINs start with 9)")
    if digits[3:5] not in GROUPS:
        raise InvalidComponent(f"group {digits[3:5]} is not issued for ITINs")
    return digits


def is_valid(value: str) -> bool:
    """Return whether ``value`` is a well-formed ITIN in an issued range."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def is_valid_digits(d: str) -> bool:
    """Hot path: ``d`` is exactly 9 ASCII digits (the caller guarantees it)."""
    return d[0] == "9" and d[3:5] in GROUPS


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
