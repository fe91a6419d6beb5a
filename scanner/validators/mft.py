"""MFT (IRS Master File Tax account code).

Two digits naming the kind of tax account a module belongs to on the IRS master
files, e.g. 30 (IMF, Form 1040), 01 (BMF, Form 941), 02 (BMF, Form 1120),
10 (BMF, Form 940), 51 (BMF, Form 709), 52 (BMF, Form 706), 74 (EPMF, Form 5500).
Only the codes listed below are accepted; the list is a best reconstruction of the
table in Document 6209 and errs towards accepting (rejecting a real code costs
more than accepting a fake one).

Source: IRS Document 6209 (Rev. 01-2014), "IRS Processing Codes and Information",
Section 2 "Tax Forms, Returns and Schedules" (MFT column) and the Master File Tax
account code table in Section 8.

>>> validate("30")
'30'
>>> validate(" 01 ")
'01'
>>> validate("99")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: MFT 99 is not a Master File Tax code
>>> validate("3")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidFormat: expected 2 digits
"""

from __future__ import annotations

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat

__all__ = ["CODES", "compact", "is_valid", "mask", "validate"]

#: Master File Tax account codes, as 2-character strings.
CODES = frozenset(
    {
        # Business Master File (BMF): employment, income, excise, estate and gift,
        # exempt-organization and civil-penalty accounts.
        *("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"),
        *("13", "14", "15", "16", "17", "33", "34", "36", "37", "44", "46", "47"),
        *("49", "50", "51", "52", "53", "58", "60", "61", "62", "63", "64", "67"),
        *("77", "78", "79", "80", "84", "85", "86", "89"),
        # Individual Master File (IMF) and IRA file: 1040, joint-liability split
        # accounts, shared-responsibility payment, civil penalties, IRA (5329).
        *("29", "30", "31", "35", "55", "65"),
        # Employee Plans Master File (EPMF): 5500 series, 5330.
        *("74", "76"),
    }
)


def compact(value: str) -> str:
    """Return ``value`` without surrounding blanks."""
    return value.strip()


def validate(value: str) -> str:
    """Return the 2-digit code or raise naming the failing part."""
    code = compact(value)
    if len(code) != 2 or not (code.isascii() and code.isdigit()):
        raise InvalidFormat("expected 2 digits")
    if code not in CODES:
        raise InvalidComponent(f"MFT {code} is not a Master File Tax code")
    return code


def is_valid(value: str) -> bool:
    """Return whether ``value`` is a known MFT code."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
