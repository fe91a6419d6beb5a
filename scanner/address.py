"""Street addresses: USPS Publication 28 shapes, in prose and in table cells.

A street line is a house number, an optional directional, one to four street-name
words and a Publication 28 suffix (``12 N Main St``, ``4410 Old Mill Road Apt 4B``),
or a PO box. City/state/ZIP evidence counts when the ZIP prefix belongs to the state.
Nothing here keeps the text it looked at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from ftiscan.scanner.literals import re2
from ftiscan.scanner.validators import states, usps, zipcode

_HOUSE = r"(?<![\w#/-])\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_DIRS = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\.?"
_WORD = r"[^\W_][\w'.&-]*"


@cache
def street_re() -> re.Pattern[str]:
    """Street line: number, optional directional, name words, suffix, optional unit."""
    suffix = usps.suffix_pattern()
    unit = usps.unit_pattern()
    pattern = (
        rf"{_HOUSE}\s+(?:{_DIRS}\s+)?(?:{_WORD}\s+){{0,3}}?{_WORD}\s+(?:{suffix})\.?(?![\w'-])"
        rf"(?:\s+{_DIRS}(?![\w'-]))?"
        rf"(?:[\s,]+(?:(?:{unit})\.?\s*#?\s*[\w-]{{1,6}}|#\s*[\w-]{{1,6}})(?![\w-]))?"
        r"|(?<![\w])P\.?\s*O\.?\s*Box\s+\d{1,7}(?![\w])"
    )
    return re.compile(pattern, re.IGNORECASE)


@cache
def _unit_re() -> re.Pattern[str]:
    return re.compile(rf"(?:^|\s)(?:{usps.unit_pattern()})\.?\s*#?\s*[\w-]{{1,6}}$", re.IGNORECASE)


_BUSINESS_UNIT = re.compile(r"\b(?:suite|ste|fl|floor|dept|bldg|building)\b\.?", re.IGNORECASE)
_BUSINESS_UNIT_ASCII = (
    None
    if re2 is None
    else re2.compile(
        r"(?i)(?:^|[^0-9a-z_])(?:suite|ste|fl|floor|dept|bldg|building)(?:[^0-9a-z_]|$)"
    )
)
_CITY_STATE_ZIP = re.compile(
    r"(?<![\w])([^\W\d_][^\W\d_ .'-]*(?:[ .'-]+[^\W\d_]+){0,3})\.?,?\s+"
    r"([A-Za-z]{2}|[A-Za-z]+(?: [A-Za-z]+){0,2})\.?,?\s+(\d{5})(?:-\d{4})?(?!\d)"
)
_ZIP = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")


# What every street line holds, on ASCII text: whitespace, a Publication 28 suffix
# and no word character after it; or "P O Box". RE2 answers it in one pass (2 us a
# 400-character window, where the street pattern, tried at every position, costs 30).
# Whitespace is spelled out as Python's ``\s`` has it on ASCII (RE2's lacks \v and
# \x1c-\x1f).
_WS = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"


@cache
def _street_hint() -> Callable[[bytes], object] | None:
    if re2 is None:  # pragma: no cover - google-re2 is a dependency
        return None
    hint = rf"(?i){_WS}(?:{usps.suffix_pattern()})\.?(?:[^A-Za-z0-9_'-]|$)|p\.?{_WS}*o\.?{_WS}*box"
    search: Callable[[bytes], object] = re2.compile(hint.encode("ascii")).search
    return search


def find_streets(text: str) -> list[tuple[int, int]]:
    """Spans of street lines in ``text``."""
    hint = _street_hint()
    if hint is not None and text.isascii() and hint(text.encode("ascii")) is None:
        return []  # no suffix and no PO box: no street line (`_street_hint`)
    return [m.span() for m in street_re().finditer(text)]


def is_street(cell: str) -> bool:
    """A table cell that holds a street line (possibly with city, state, ZIP after it)."""
    cell = cell.strip()
    if not cell or not (cell[0].isdigit() or cell[:1] in "Pp"):
        return False
    return street_re().match(cell) is not None


def is_business_address(text: str) -> bool:
    """Suites, floors and departments mark office addresses, not homes."""
    return _BUSINESS_UNIT.search(text) is not None


def may_hold_business_address(text: str) -> bool:
    r"""False when no cell of ``text`` (cells joined by line ends) is a business address
    (`is_business_address`); in ASCII text by RE2 (the same words and bounds).

    >>> may_hold_business_address("12 Oak St\n4 Elm Ave")
    False
    >>> may_hold_business_address("12 Oak St\n1 Main St Ste 4")
    True
    """
    if _BUSINESS_UNIT_ASCII is not None and text.isascii():
        return _BUSINESS_UNIT_ASCII.search(text) is not None
    return is_business_address(text)


def zip5(cell: str) -> str | None:
    match = _ZIP.match(cell)
    return match.group(1) if match else None


def state_zip_consistent(state: str, zip_cell: str) -> bool:
    """``state`` (code or name) and the ZIP in ``zip_cell`` belong together."""
    code = states.normalize(state)
    z = zip5(zip_cell)
    return code is not None and z is not None and zipcode.consistent(z, code)


def find_city_state_zip(text: str) -> list[tuple[int, int]]:
    """Spans of ``City, ST 12345`` where the ZIP prefix belongs to the state."""
    spans = []
    for match in _CITY_STATE_ZIP.finditer(text):
        code = states.normalize(match.group(2))
        if code is not None and zipcode.consistent(match.group(3), code):
            spans.append(match.span())
    return spans


def normalize_street(text: str) -> str:
    """A comparable form: upper case, Publication 28 abbreviations, single spaces."""
    words = re.sub(r"[^\w# -]", " ", text.upper()).split()
    out = []
    for word in words:
        out.append(usps.suffix(word) or usps.directional(word) or usps.unit(word) or word)
    return " ".join(out)
