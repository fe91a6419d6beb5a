"""ZIP Code (USPS ZIP Code and ZIP+4).

Five digits, or nine written ``NNNNN-NNNN`` (ZIP+4). The first three digits name
the sectional center facility, which lies in one state (or territory, or military
"state"); prefixes never assigned are invalid. A few 5-digit ZIP Codes serve
addresses across a state line; they are listed in `CROSS_STATE`.

Source: USPS, "National Five-Digit ZIP Code and Post Office Directory" /
Publication 65, and the USPS 3-digit ZIP Code prefix list (Labeling List L002,
"3-Digit ZIP Code Prefix Matrix"), as in effect in 2024.

>>> validate("60601")
'60601'
>>> validate("60601-1234")
'606011234'
>>> validate("00012")
Traceback (most recent call last):
ftiscan.scanner.errors.InvalidComponent: prefix 000 is not assigned
>>> sorted(state_for_zip("60601"))
['IL']
>>> consistent("10001", "NY"), consistent("10001", "NJ")
(True, False)
>>> consistent("90210", "California")
True
>>> mask("60601-1234")
'*****-****'
"""

from __future__ import annotations

import re

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import states

__all__ = [
    "CROSS_STATE",
    "PREFIX_RANGES",
    "compact",
    "consistent",
    "is_valid",
    "mask",
    "state_for_zip",
    "validate",
]

#: State code -> inclusive ranges of 3-digit prefixes (USPS L002 prefix matrix).
#: Prefixes that appear under no state are unassigned.
PREFIX_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "AA": ((340, 340),),
    "AE": ((90, 98),),
    "AK": ((995, 999),),
    "AL": ((350, 352), (354, 369)),
    "AP": ((962, 966),),
    "AR": ((716, 729),),
    "AZ": ((850, 853), (855, 857), (859, 860), (863, 865)),
    "CA": ((900, 908), (910, 928), (930, 961)),
    "CO": ((800, 816),),
    "CT": ((60, 69),),
    "DC": ((200, 200), (202, 205), (569, 569)),
    "DE": ((197, 199),),
    "FL": ((320, 339), (341, 342), (344, 344), (346, 347), (349, 349)),
    "FM": ((969, 969),),
    "GA": ((300, 319), (398, 399)),
    "GU": ((969, 969),),
    "HI": ((967, 968),),
    "IA": ((500, 516), (520, 528)),
    "ID": ((832, 838),),
    "IL": ((600, 620), (622, 629)),
    "IN": ((460, 479),),
    "KS": ((660, 662), (664, 679)),
    "KY": ((400, 418), (420, 427)),
    "LA": ((700, 701), (703, 708), (710, 714)),
    "MA": ((10, 27), (55, 55)),
    "MD": ((206, 212), (214, 219)),
    "ME": ((39, 49),),
    "MH": ((969, 969),),
    "MI": ((480, 499),),
    "MN": ((550, 551), (553, 567)),
    "MO": ((630, 631), (633, 641), (644, 658)),
    "MP": ((969, 969),),
    "MS": ((386, 397),),
    "MT": ((590, 599),),
    "NC": ((270, 289),),
    "ND": ((580, 588),),
    "NE": ((680, 681), (683, 693)),
    "NH": ((30, 38),),
    "NJ": ((70, 89),),
    "NM": ((870, 871), (873, 875), (877, 884)),
    "NV": ((889, 891), (893, 895), (897, 898)),
    "NY": ((5, 5), (100, 149)),
    "OH": ((430, 459),),
    "OK": ((730, 731), (734, 741), (743, 749)),
    "OR": ((970, 979),),
    "PA": ((150, 196),),
    "PR": ((6, 7), (9, 9)),
    "PW": ((969, 969),),
    "RI": ((28, 29),),
    "SC": ((290, 299),),
    "SD": ((570, 577),),
    "TN": ((370, 385),),
    "TX": ((733, 733), (750, 770), (772, 799), (885, 885)),
    "UT": ((840, 847),),
    "VA": ((201, 201), (220, 246)),
    "VI": ((8, 8),),
    "VT": ((50, 54), (56, 59)),
    "WA": ((980, 986), (988, 994)),
    "WI": ((530, 532), (534, 535), (537, 549)),
    "WV": ((247, 268),),
    "WY": ((820, 831),),
}

#: 5-digit ZIP Codes whose post office serves an address in another state than its
#: prefix's (the ZIP Code's own state comes from the prefix).
CROSS_STATE: dict[str, frozenset[str]] = {
    "06390": frozenset({"NY"}),  # Fishers Island, NY, served from the 063 (CT) center
    "42223": frozenset({"TN"}),  # Fort Campbell, KY; the post spans KY and TN
    "83414": frozenset({"WY"}),  # Alta, WY, served from the 834 (ID) center
    "96799": frozenset({"AS"}),  # Pago Pago, AS, under the 967 (HI) prefix
    "97635": frozenset({"CA"}),  # New Pine Creek, OR, also serves the CA side
}


def _by_prefix() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for code, ranges in PREFIX_RANGES.items():
        for low, high in ranges:
            for prefix in range(low, high + 1):
                table.setdefault(f"{prefix:03d}", set()).add(code)
    return {prefix: frozenset(codes) for prefix, codes in table.items()}


_PREFIX_STATES = _by_prefix()
_SHAPE = re.compile(r"\d{5}(?:-\d{4})?|\d{9}")
_NONE: frozenset[str] = frozenset()


def compact(value: str) -> str:
    """Return ``value`` without blanks and dashes."""
    return "".join(value.split()).replace("-", "")


def validate(value: str) -> str:
    """Return the 5 or 9 compact digits of ``value`` or raise naming the failing part."""
    text = value.strip()
    if not text.isascii() or _SHAPE.fullmatch(text) is None:
        raise InvalidFormat("expected NNNNN, NNNNN-NNNN or 9 digits")
    digits = compact(text)
    if digits[:3] not in _PREFIX_STATES:
        raise InvalidComponent(f"prefix {digits[:3]} is not assigned")
    return digits


def is_valid(value: str) -> bool:
    """Return whether ``value`` is a ZIP Code or ZIP+4 with an assigned prefix."""
    try:
        validate(value)
    except (InvalidFormat, InvalidComponent):
        return False
    return True


def state_for_zip(zip5: str) -> frozenset[str]:
    """Return the state codes a ZIP Code (5 or 9 digits, any form) can belong to.

    Empty when the prefix is unassigned or the value is not a ZIP Code.
    """
    digits = compact(zip5)
    if len(digits) not in (5, 9) or not (digits.isascii() and digits.isdigit()):
        return _NONE
    found = _PREFIX_STATES.get(digits[:3], _NONE)
    extra = CROSS_STATE.get(digits[:5])
    return found | extra if extra else found


def consistent(zip5: str, state_code: str) -> bool:
    """Return whether a ZIP Code can belong to a state given by code or name."""
    code = states.normalize(state_code)
    return code is not None and code in state_for_zip(zip5)


def mask(value: str) -> str:
    """Return the shape of ``value``: every letter or digit becomes ``*``."""
    return "".join("*" if ch.isalnum() else ch for ch in value)
