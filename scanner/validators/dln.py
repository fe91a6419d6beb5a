"""DLN (IRS Document Locator Number).

Fourteen digits, usually written ``FFTDD-JJJ-BBBSS-Y``:

=====  =======================================================================
FF     file location code: the campus or area office that numbered the document
T      tax class: the kind of tax (1 employment 941/943/945, 2 income 1040/1041/
       1065, 3 corporate 1120, 4 excise, 5 estate and gift, 7 CT-1, 8 FUTA ...)
DD     document code: the form within the tax class
JJJ    Julian date: the day of the year the document was numbered, 001-366
BBB    blocking series: the block the document was batched in
SS     serial number: the document's place in its block, 00-99
Y      year digit: the last digit of the year the DLN was assigned
=====  =======================================================================

Every value of FF, T, DD, BBB, SS and Y occurs somewhere, so only the Julian date
can be checked. Document 6209 describes DLNs whose Julian date carries 400 more
than the day of the year (re-input and refile documents); rejecting a real DLN is
worse than accepting a fake one, so 401-766 is accepted too. 000, 367-400 and
767-999 are refused.

Source: IRS Document 6209 (Rev. 01-2014), "IRS Processing Codes and Information",
Section 4 "Document Locator Number"; IRM 3.10.73 and the DLN figures published
with the IRM (www.irs.gov/media/141201, /media/171061).

>>> validate("28210-055-00100-4")
'28210055001004'
>>> validate("28210-455-00100-4")
'28210455001004'
>>> validate("28210-000-00100-4")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: Julian date 000 is not 001-366 (or 401-766)
>>> validate("28210-055-0010")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidFormat: expected 14 digits, got 12
>>> mask("28210-055-00100-4")
'*****-***-*****-*'
"""

from __future__ import annotations

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat

__all__ = ["JULIAN_DATES", "compact", "is_valid", "mask", "validate"]

#: Julian dates that may appear in a DLN, as 3-character strings.
JULIAN_DATES = frozenset(f"{n:03d}" for n in [*range(1, 367), *range(401, 767)])

_STRIP = str.maketrans("", "", " -")


def compact(value: str) -> str:
    """Return ``value`` without spaces and dashes."""
    return value.strip().translate(_STRIP)


def validate(value: str) -> str:
    """Return the 14 compact digits of ``value`` or raise naming the failing part."""
    digits = compact(value)
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidFormat("expected only digits, spaces and dashes")
    if len(digits) != 14:
        raise InvalidFormat(f"expected 14 digits, got {len(digits)}")
    julian = digits[5:8]
    if julian not in JULIAN_DATES:
        raise InvalidComponent(f"Julian date {julian} is not 001-366 (or 401-766)")
    return digits


def is_valid(value: str) -> bool:
    """Return whether ``value`` is a well-formed DLN."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
