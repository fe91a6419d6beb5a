"""Name control (IRS name control).

One to four characters the IRS derives from a taxpayer's name and stores with the
TIN: letters, digits, ``&`` and ``-``, the first a letter or digit (business name
controls may start with a digit, e.g. ``3COM``). For an individual it is the first
four letters of the last name; apostrophes, blanks and periods are dropped, a
hyphen is kept (``LEE-`` for Lee-Smith), and shorter names give shorter controls
(``NG``).

Source: IRS Document 7071-A, "Name Control Job Aid" (individual rules: first four
letters of the last name, hyphen kept, apostrophes and blanks dropped); IRS
Publication 4164, "Modernized e-File (MeF) Guide for Software Developers and
Transmitters", name control characters (A-Z, 0-9, hyphen, ampersand; the first
alphabetic or numeric). Revisions as current on irs.gov in 2025.

>>> validate("smit")
'SMIT'
>>> validate("LEE-")
'LEE-'
>>> validate("A&B")
'A&B'
>>> validate("-ABC")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: first character must be a letter or digit
>>> validate("SMITH")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidFormat: expected 1-4 characters, got 5
>>> derive("O'Neil")
'ONEI'
>>> derive("Lee-Smith")
'LEE-'
>>> derive("De La Rosa")
'DELA'
>>> derive("Ng")
'NG'
>>> derive("Núñez")
'NUNE'
>>> mask("SMIT")
'****'
"""

from __future__ import annotations

import re
import unicodedata

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat

__all__ = ["compact", "derive", "is_valid", "mask", "validate"]

_CHARS = re.compile(r"[A-Z0-9&-]+")
_FIRST = re.compile(r"[A-Z0-9]")


def compact(value: str) -> str:
    """Return ``value`` upper-cased, without surrounding blanks."""
    return value.strip().upper()


def validate(value: str) -> str:
    """Return the upper-case name control or raise naming the failing part."""
    control = compact(value)
    if not 1 <= len(control) <= 4:
        raise InvalidFormat(f"expected 1-4 characters, got {len(control)}")
    if not control.isascii() or _CHARS.fullmatch(control) is None:
        raise InvalidFormat("expected only letters, digits, '&' and '-'")
    if _FIRST.match(control) is None:
        raise InvalidComponent("first character must be a letter or digit")
    return control


def is_valid(value: str) -> bool:
    """Return whether ``value`` has the shape of a name control."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def derive(last_name: str) -> str:
    """Return the name control the IRS derives from an individual's last name.

    Accents are dropped (``Ñ`` -> ``N``); only letters and hyphens count, and a
    hyphen before the first letter is ignored. Raises `InvalidFormat` when the
    name has no letter.
    """
    plain = unicodedata.normalize("NFKD", last_name)
    kept = "".join(
        ch for ch in plain.upper() if ch == "-" or (ch.isascii() and ch.isalpha())
    ).lstrip("-")
    if not kept:
        raise InvalidFormat("last name has no letter")
    return kept[:4]


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
