"""Shared Hypothesis strategies for the test suite.

Identifiers are generated, never written down: the repository holds no SSN-shaped
literal that could have been issued.
"""

from __future__ import annotations

from hypothesis import strategies as st

DIGITS = "0123456789"


def digit_strings(size: int) -> st.SearchStrategy[str]:
    """Strings of exactly ``size`` ASCII digits."""
    return st.text(alphabet=DIGITS, min_size=size, max_size=size)


def nine_digits() -> st.SearchStrategy[str]:
    """Any 9 ASCII digits, valid as a TIN or not."""
    return digit_strings(9)


def _numbered(low: int, high: int, width: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:0{width}d}")


def ssn_digits() -> st.SearchStrategy[str]:
    """Nine digits obeying the SSA rules (area, group, serial); void numbers excluded."""
    from ftiscan.scanner.validators.ssn import VOID

    area = _numbered(1, 899, 3).filter(lambda a: a != "666")
    parts = st.tuples(area, _numbered(1, 99, 2), _numbered(1, 9999, 4))
    return parts.map("".join).filter(lambda d: d not in VOID)


def itin_digits() -> st.SearchStrategy[str]:
    """Nine digits in an IRS-issued ITIN range (50-65, 70-88, 90-92, 94-99)."""
    from ftiscan.scanner.validators.itin import GROUPS

    group = st.sampled_from(sorted(GROUPS))
    return st.tuples(digit_strings(2), group, digit_strings(4)).map(lambda p: "9" + "".join(p))


def ein_digits() -> st.SearchStrategy[str]:
    """Nine digits with a valid EIN campus prefix."""
    from ftiscan.scanner.validators.ein import PREFIXES

    return st.tuples(st.sampled_from(sorted(PREFIXES)), digit_strings(7)).map("".join)


def tin_forms(digits: str) -> st.SearchStrategy[str]:
    """The written forms of a 9-digit SSN or ITIN: bare, dashed and spaced."""
    return st.sampled_from(
        [
            digits,
            f"{digits[:3]}-{digits[3:5]}-{digits[5:]}",
            f"{digits[:3]} {digits[3:5]} {digits[5:]}",
        ]
    )


def dln_digits() -> st.SearchStrategy[str]:
    """Fourteen digits with a Julian date DLNs use (001-366 or 401-766)."""
    julian = st.one_of(_numbered(1, 366, 3), _numbered(401, 766, 3))
    return st.tuples(digit_strings(5), julian, digit_strings(6)).map("".join)


def tax_periods() -> st.SearchStrategy[str]:
    """Valid ``YYYYMM`` tax periods."""
    return st.tuples(_numbered(1900, 2099, 4), _numbered(1, 12, 2)).map("".join)


def name_controls() -> st.SearchStrategy[str]:
    """Valid name controls: 1-4 of ``A-Z0-9&-``, the first a letter or digit."""
    first = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    rest = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&-", max_size=3)
    return st.tuples(first, rest).map("".join)


def identifier_noise() -> st.SearchStrategy[str]:
    """Short strings of digits, letters, separators and odd characters."""
    return st.text(alphabet=DIGITS + " -./#&AZaz\u0663\u00e9", max_size=20)
