"""Tax period (IRS tax period, ``YYYYMM``).

The IRS names a tax module by the year and month in which the tax period ends:
``202312`` is the calendar year 2023, ``202406`` a fiscal year ending June 2024 or
the quarter ending then. Months are 01-12; years 1900-2099 are accepted.

Source: IRM 3.12.21 "Credit and Account Transfers" (11-08-2023), 3.12.21.4.2.7
"Field 01-D - Tax Period (Validity Checks)": the period is keyed as YYYYMM; the
1900-2099 year window is ftiscan's own bound, not an IRS rule.

Accepted written forms: ``YYYYMM``, ``YYYY-MM`` and ``MM/YYYY``.

>>> validate("202312")
'202312'
>>> validate("2023-12")
'202312'
>>> validate("12/2023")
'202312'
>>> validate("202313")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: month 13 is not 01-12
>>> validate("1812-01")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: year 1812 is not 1900-2099
>>> mask("12/2023")
'**/****'
"""

from __future__ import annotations

import re

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat

__all__ = ["compact", "is_valid", "mask", "validate"]

_MONTHS = frozenset(f"{n:02d}" for n in range(1, 13))
_CENTURIES = frozenset({"19", "20"})
_YEAR_FIRST = re.compile(r"(\d{4})-?(\d{2})")
_MONTH_FIRST = re.compile(r"(\d{2})/(\d{4})")


def compact(value: str) -> str:
    """Return ``value`` as ``YYYYMM`` digits when it has one of the written forms.

    Anything else comes back stripped of surrounding blanks, unchanged.
    """
    text = value.strip()
    if not text.isascii():
        return text
    if match := _YEAR_FIRST.fullmatch(text):
        return match[1] + match[2]
    if match := _MONTH_FIRST.fullmatch(text):
        return match[2] + match[1]
    return text


def validate(value: str) -> str:
    """Return the ``YYYYMM`` form of ``value`` or raise naming the failing part."""
    digits = compact(value)
    if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):
        raise InvalidFormat("expected YYYYMM, YYYY-MM or MM/YYYY")
    if digits[:2] not in _CENTURIES:
        raise InvalidComponent(f"year {digits[:4]} is not 1900-2099")
    if digits[4:] not in _MONTHS:
        raise InvalidComponent(f"month {digits[4:]} is not 01-12")
    return digits


def is_valid(value: str) -> bool:
    """Return whether ``value`` is a tax period in one of the accepted forms."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
