"""SSN (U.S. Social Security Number).

Nine digits: a 3-digit area, a 2-digit group and a 4-digit serial. Since SSN
randomization (June 25, 2011) areas are no longer tied to states, so only these
rules remain: the area is never 000, 666 or 900-999, the group is never 00 and the
serial is never 0000. A few numbers printed in advertising or in SSA material were
voided and are refused as well (the same list python-stdnum 2.2 keeps in
``stdnum/us/ssn.py``: the 1938 Woolworth wallet-card number, the number printed in
a 1940 SSA pamphlet, and the number published in a 2000s advertising campaign).

Source: SSA, "Social Security Number Randomization" (www.ssa.gov/employer/
randomization.html, effective June 25, 2011: areas 000, 666 and 900-999 are never
assigned); C. Puckett, "The Story of the Social Security Number", Social Security
Bulletin Vol. 69 No. 2 (2009) (group 00 and serial 0000 never assigned; the
Woolworth and pamphlet numbers); python-stdnum 2.2 ``stdnum/us/ssn.py`` (void list).

Accepted written forms: ``NNN-NN-NNNN``, ``NNN NN NNNN`` and nine bare digits.

>>> validate("078 05 1120")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: number is a known advertising or void number
>>> validate("-".join(("666", "12", "3456")))  # its nine digits pass as an EIN: not written whole
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: area 666 is never issued
>>> validate("970-12-3456")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: area 970 is never issued (900-999 are not SSNs)
>>> validate("000-12-3456")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: area 000 is never issued
>>> validate("078-05 1120")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidFormat: expected NNN-NN-NNNN, NNN NN NNNN or 9 digits
>>> compact(" 000-12-3456 ")
'000123456'
>>> mask("078-05-1120")
'***-**-****'
>>> is_valid("219-09-9999")
False
"""

from __future__ import annotations

import re

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators._digits import Part, window

__all__ = ["PARTS", "VOID", "WINDOW", "compact", "is_valid", "is_valid_digits", "mask", "validate"]

#: Areas that may be issued, as 3-character strings ("001" .. "899" except "666").
_AREAS = frozenset(f"{n:03d}" for n in range(1, 900) if n != 666)

#: Numbers voided after publication (python-stdnum 2.2 ``_ssn_blacklist``), compact.
VOID = frozenset({"078051120", "219099999", "457555462"})

#: `is_valid_digits` but the void list, as the parts of a number and as a regex over
#: digits with dashes and spaces after each (`ftiscan.scanner.validators._digits`).
PARTS: tuple[Part, ...] = (
    _AREAS,
    frozenset(f"{n:02d}" for n in range(1, 100)),  # group 00 is never issued
    frozenset(f"{n:04d}" for n in range(1, 10_000)),  # nor serial 0000
)
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
        raise InvalidFormat("expected NNN-NN-NNNN, NNN NN NNNN or 9 digits")
    digits = compact(text)
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area[0] == "9":
        raise InvalidComponent(f"area {area} is never issued (900-999 are not SSNs)")
    if area not in _AREAS:
        raise InvalidComponent(f"area {area} is never issued")
    if group == "00":
        raise InvalidComponent("group 00 is never issued")
    if serial == "0000":
        raise InvalidComponent("serial 0000 is never issued")
    if digits in VOID:
        raise InvalidComponent("number is a known advertising or void number")
    return digits


def is_valid(value: str) -> bool:
    """Return whether ``value`` is a well-formed SSN that may have been issued."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def is_valid_digits(d: str) -> bool:
    """Hot path: ``d`` is exactly 9 ASCII digits (the caller guarantees it)."""
    return d[:3] in _AREAS and d[3:5] != "00" and d[5:] != "0000" and d not in VOID


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
