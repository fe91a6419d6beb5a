"""USPS street suffixes, unit designators and directionals (Publication 28).

Three lookups the address detector and the EDM normaliser share:

* `SUFFIXES`: every primary street suffix name and the common forms USPS lists
  for it, mapped to the USPS standard abbreviation (Appendix C1);
* `UNITS`: secondary unit designators and their abbreviations (Appendix C2),
  plus ``#``;
* `DIRECTIONALS`: N, S, E, W, NE, NW, SE, SW and their spelled forms
  (Section 233).

All keys are upper case; lookups ignore case and a trailing period.

Source: USPS Publication 28, "Postal Addressing Standards" (June 2020),
Appendix C1 "Street Suffix Abbreviations", Appendix C2 "Secondary Unit
Designators" and Section 233 "Directionals".

>>> suffix("Street"), suffix("str"), suffix("St."), suffix("STRT")
('ST', 'ST', 'ST', 'ST')
>>> suffix("Avenue"), suffix("av"), suffix("AVN")
('AVE', 'AVE', 'AVE')
>>> suffix("Meadow"), suffix("Meadows"), suffix("Hwy")
('MDW', 'MDWS', 'HWY')
>>> suffix("Apple") is None
True
>>> unit("Apt"), unit("apartment"), unit("#"), unit("Suite"), unit("Unit")
('APT', 'APT', '#', 'STE', 'UNIT')
>>> directional("Northeast"), directional("n."), directional("SW")
('NE', 'N', 'SW')
>>> import re
>>> re.search(suffix_pattern(), "12 Elm Street", re.IGNORECASE)[0]
'Street'
"""

from __future__ import annotations

import re
from functools import cache

__all__ = [
    "DIRECTIONALS",
    "SUFFIXES",
    "UNITS",
    "directional",
    "suffix",
    "suffix_pattern",
    "unit",
    "unit_pattern",
]

# Appendix C1: (primary street suffix name, USPS standard abbreviation, common forms).
# The primary name and the standard abbreviation are always accepted as well.
_C1: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ALLEY", "ALY", ("ALLEE", "ALLY")),
    ("ANEX", "ANX", ("ANNEX", "ANNX")),
    ("ARCADE", "ARC", ()),
    ("AVENUE", "AVE", ("AV", "AVEN", "AVENU", "AVN", "AVNUE")),
    ("BAYOU", "BYU", ("BAYOO",)),
    ("BEACH", "BCH", ()),
    ("BEND", "BND", ()),
    ("BLUFF", "BLF", ("BLUF",)),
    ("BLUFFS", "BLFS", ()),
    ("BOTTOM", "BTM", ("BOT", "BOTTM")),
    ("BOULEVARD", "BLVD", ("BOUL", "BOULV")),
    ("BRANCH", "BR", ("BRNCH",)),
    ("BRIDGE", "BRG", ("BRDGE",)),
    ("BROOK", "BRK", ()),
    ("BROOKS", "BRKS", ()),
    ("BURG", "BG", ()),
    ("BURGS", "BGS", ()),
    ("BYPASS", "BYP", ("BYPA", "BYPAS", "BYPS")),
    ("CAMP", "CP", ("CMP",)),
    ("CANYON", "CYN", ("CANYN", "CNYN")),
    ("CAPE", "CPE", ()),
    ("CAUSEWAY", "CSWY", ("CAUSWA",)),
    ("CENTER", "CTR", ("CEN", "CENT", "CENTR", "CENTRE", "CNTER", "CNTR")),
    ("CENTERS", "CTRS", ()),
    ("CIRCLE", "CIR", ("CIRC", "CIRCL", "CRCL", "CRCLE")),
    ("CIRCLES", "CIRS", ()),
    ("CLIFF", "CLF", ()),
    ("CLIFFS", "CLFS", ()),
    ("CLUB", "CLB", ()),
    ("COMMON", "CMN", ()),
    ("COMMONS", "CMNS", ()),
    ("CORNER", "COR", ()),
    ("CORNERS", "CORS", ()),
    ("COURSE", "CRSE", ()),
    ("COURT", "CT", ()),
    ("COURTS", "CTS", ()),
    ("COVE", "CV", ()),
    ("COVES", "CVS", ()),
    ("CREEK", "CRK", ()),
    ("CRESCENT", "CRES", ("CRSENT", "CRSNT")),
    ("CREST", "CRST", ()),
    ("CROSSING", "XING", ("CRSSNG",)),
    ("CROSSROAD", "XRD", ()),
    ("CROSSROADS", "XRDS", ()),
    ("CURVE", "CURV", ()),
    ("DALE", "DL", ()),
    ("DAM", "DM", ()),
    ("DIVIDE", "DV", ("DIV", "DVD")),
    ("DRIVE", "DR", ("DRIV", "DRV")),
    ("DRIVES", "DRS", ()),
    ("ESTATE", "EST", ()),
    ("ESTATES", "ESTS", ()),
    ("EXPRESSWAY", "EXPY", ("EXP", "EXPR", "EXPRESS", "EXPW")),
    ("EXTENSION", "EXT", ("EXTN", "EXTNSN")),
    ("EXTENSIONS", "EXTS", ()),
    ("FALL", "FALL", ()),
    ("FALLS", "FLS", ()),
    ("FERRY", "FRY", ("FRRY",)),
    ("FIELD", "FLD", ()),
    ("FIELDS", "FLDS", ()),
    ("FLAT", "FLT", ()),
    ("FLATS", "FLTS", ()),
    ("FORD", "FRD", ()),
    ("FORDS", "FRDS", ()),
    ("FOREST", "FRST", ("FORESTS",)),
    ("FORGE", "FRG", ("FORG",)),
    ("FORGES", "FRGS", ()),
    ("FORK", "FRK", ()),
    ("FORKS", "FRKS", ()),
    ("FORT", "FT", ("FRT",)),
    ("FREEWAY", "FWY", ("FREEWY", "FRWAY", "FRWY")),
    ("GARDEN", "GDN", ("GARDN", "GRDEN", "GRDN")),
    ("GARDENS", "GDNS", ("GRDNS",)),
    ("GATEWAY", "GTWY", ("GATEWY", "GATWAY", "GTWAY")),
    ("GLEN", "GLN", ()),
    ("GLENS", "GLNS", ()),
    ("GREEN", "GRN", ()),
    ("GREENS", "GRNS", ()),
    ("GROVE", "GRV", ("GROV",)),
    ("GROVES", "GRVS", ()),
    ("HARBOR", "HBR", ("HARB", "HARBR", "HRBOR")),
    ("HARBORS", "HBRS", ()),
    ("HAVEN", "HVN", ()),
    ("HEIGHTS", "HTS", ("HT",)),
    ("HIGHWAY", "HWY", ("HIGHWY", "HIWAY", "HIWY", "HWAY")),
    ("HILL", "HL", ()),
    ("HILLS", "HLS", ()),
    ("HOLLOW", "HOLW", ("HLLW", "HOLLOWS", "HOLWS")),
    ("INLET", "INLT", ()),
    ("ISLAND", "IS", ("ISLND",)),
    ("ISLANDS", "ISS", ("ISLNDS",)),
    ("ISLE", "ISLE", ("ISLES",)),
    ("JUNCTION", "JCT", ("JCTION", "JCTN", "JUNCTN", "JUNCTON")),
    ("JUNCTIONS", "JCTS", ("JCTNS",)),
    ("KEY", "KY", ()),
    ("KEYS", "KYS", ()),
    ("KNOLL", "KNL", ("KNOL",)),
    ("KNOLLS", "KNLS", ()),
    ("LAKE", "LK", ()),
    ("LAKES", "LKS", ()),
    ("LAND", "LAND", ()),
    ("LANDING", "LNDG", ("LNDNG",)),
    ("LANE", "LN", ()),
    ("LIGHT", "LGT", ()),
    ("LIGHTS", "LGTS", ()),
    ("LOAF", "LF", ()),
    ("LOCK", "LCK", ()),
    ("LOCKS", "LCKS", ()),
    ("LODGE", "LDG", ("LDGE", "LODG")),
    ("LOOP", "LOOP", ("LOOPS",)),
    ("MALL", "MALL", ()),
    ("MANOR", "MNR", ()),
    ("MANORS", "MNRS", ()),
    ("MEADOW", "MDW", ()),
    ("MEADOWS", "MDWS", ("MEDOWS",)),
    ("MEWS", "MEWS", ()),
    ("MILL", "ML", ()),
    ("MILLS", "MLS", ()),
    ("MISSION", "MSN", ("MISSN", "MSSN")),
    ("MOTORWAY", "MTWY", ()),
    ("MOUNT", "MT", ("MNT",)),
    ("MOUNTAIN", "MTN", ("MNTAIN", "MNTN", "MOUNTIN", "MTIN")),
    ("MOUNTAINS", "MTNS", ("MNTNS",)),
    ("NECK", "NCK", ()),
    ("ORCHARD", "ORCH", ("ORCHRD",)),
    ("OVAL", "OVAL", ("OVL",)),
    ("OVERPASS", "OPAS", ()),
    ("PARK", "PARK", ("PRK",)),
    ("PARKS", "PARK", ()),
    ("PARKWAY", "PKWY", ("PARKWY", "PKWAY", "PKY")),
    ("PARKWAYS", "PKWY", ("PKWYS",)),
    ("PASS", "PASS", ()),
    ("PASSAGE", "PSGE", ()),
    ("PATH", "PATH", ("PATHS",)),
    ("PIKE", "PIKE", ("PIKES",)),
    ("PINE", "PNE", ()),
    ("PINES", "PNES", ()),
    ("PLACE", "PL", ()),
    ("PLAIN", "PLN", ()),
    ("PLAINS", "PLNS", ()),
    ("PLAZA", "PLZ", ("PLZA",)),
    ("POINT", "PT", ()),
    ("POINTS", "PTS", ()),
    ("PORT", "PRT", ()),
    ("PORTS", "PRTS", ()),
    ("PRAIRIE", "PR", ("PRR",)),
    ("RADIAL", "RADL", ("RAD", "RADIEL")),
    ("RAMP", "RAMP", ()),
    ("RANCH", "RNCH", ("RANCHES", "RNCHS")),
    ("RAPID", "RPD", ()),
    ("RAPIDS", "RPDS", ()),
    ("REST", "RST", ()),
    ("RIDGE", "RDG", ("RDGE",)),
    ("RIDGES", "RDGS", ()),
    ("RIVER", "RIV", ("RVR", "RIVR")),
    ("ROAD", "RD", ()),
    ("ROADS", "RDS", ()),
    ("ROUTE", "RTE", ()),
    ("ROW", "ROW", ()),
    ("RUE", "RUE", ()),
    ("RUN", "RUN", ()),
    ("SHOAL", "SHL", ()),
    ("SHOALS", "SHLS", ()),
    ("SHORE", "SHR", ("SHOAR",)),
    ("SHORES", "SHRS", ("SHOARS",)),
    ("SKYWAY", "SKWY", ()),
    ("SPRING", "SPG", ("SPNG", "SPRNG")),
    ("SPRINGS", "SPGS", ("SPNGS", "SPRNGS")),
    ("SPUR", "SPUR", ()),
    ("SPURS", "SPUR", ()),
    ("SQUARE", "SQ", ("SQR", "SQRE", "SQU")),
    ("SQUARES", "SQS", ("SQRS",)),
    ("STATION", "STA", ("STATN", "STN")),
    ("STRAVENUE", "STRA", ("STRAV", "STRAVEN", "STRAVN", "STRVN", "STRVNUE")),
    ("STREAM", "STRM", ("STREME",)),
    ("STREET", "ST", ("STRT", "STR")),
    ("STREETS", "STS", ()),
    ("SUMMIT", "SMT", ("SUMIT", "SUMITT")),
    ("TERRACE", "TER", ("TERR",)),
    ("THROUGHWAY", "TRWY", ()),
    ("TRACE", "TRCE", ("TRACES",)),
    ("TRACK", "TRAK", ("TRACKS", "TRK", "TRKS")),
    ("TRAFFICWAY", "TRFY", ()),
    ("TRAIL", "TRL", ("TRAILS", "TRLS")),
    ("TRAILER", "TRLR", ("TRLRS",)),
    ("TUNNEL", "TUNL", ("TUNEL", "TUNLS", "TUNNELS", "TUNNL")),
    ("TURNPIKE", "TPKE", ("TRNPK", "TURNPK")),
    ("UNDERPASS", "UPAS", ()),
    ("UNION", "UN", ()),
    ("UNIONS", "UNS", ()),
    ("VALLEY", "VLY", ("VALLY", "VLLY")),
    ("VALLEYS", "VLYS", ()),
    ("VIADUCT", "VIA", ("VDCT", "VIADCT")),
    ("VIEW", "VW", ()),
    ("VIEWS", "VWS", ()),
    ("VILLAGE", "VLG", ("VILL", "VILLAG", "VILLG", "VILLIAGE")),
    ("VILLAGES", "VLGS", ()),
    ("VILLE", "VL", ()),
    ("VISTA", "VIS", ("VIST", "VST", "VSTA")),
    ("WALK", "WALK", ()),
    ("WALKS", "WALK", ()),
    ("WALL", "WALL", ()),
    ("WAY", "WAY", ("WY",)),
    ("WAYS", "WAYS", ()),
    ("WELL", "WL", ()),
    ("WELLS", "WLS", ()),
)

# Appendix C2: (secondary unit designator, USPS standard abbreviation).
_C2: tuple[tuple[str, str], ...] = (
    ("APARTMENT", "APT"),
    ("BASEMENT", "BSMT"),
    ("BUILDING", "BLDG"),
    ("DEPARTMENT", "DEPT"),
    ("FLOOR", "FL"),
    ("FRONT", "FRNT"),
    ("HANGAR", "HNGR"),
    ("KEY", "KEY"),
    ("LOBBY", "LBBY"),
    ("LOT", "LOT"),
    ("LOWER", "LOWR"),
    ("OFFICE", "OFC"),
    ("PENTHOUSE", "PH"),
    ("PIER", "PIER"),
    ("REAR", "REAR"),
    ("ROOM", "RM"),
    ("SIDE", "SIDE"),
    ("SLIP", "SLIP"),
    ("SPACE", "SPC"),
    ("STOP", "STOP"),
    ("SUITE", "STE"),
    ("TRAILER", "TRLR"),
    ("UNIT", "UNIT"),
    ("UPPER", "UPPR"),
)

# Section 233: directionals, spelled and abbreviated.
_DIRECTIONS: tuple[tuple[str, str], ...] = (
    ("NORTH", "N"),
    ("SOUTH", "S"),
    ("EAST", "E"),
    ("WEST", "W"),
    ("NORTHEAST", "NE"),
    ("NORTHWEST", "NW"),
    ("SOUTHEAST", "SE"),
    ("SOUTHWEST", "SW"),
)


def _suffixes() -> dict[str, str]:
    table: dict[str, str] = {}
    for primary, standard, forms in _C1:
        for form in (primary, *forms):
            table.setdefault(form, standard)
    # A standard abbreviation always means itself (MDW is MEADOW, not MEADOWS).
    table.update({standard: standard for _, standard, _ in _C1})
    return table


#: Street suffix (any form USPS lists) -> USPS standard abbreviation.
SUFFIXES: dict[str, str] = _suffixes()

#: Secondary unit designator (name or abbreviation, or ``#``) -> abbreviation.
UNITS: dict[str, str] = {
    **dict(_C2),
    **{abbr: abbr for _, abbr in _C2},
    "#": "#",
}

#: Directional (spelled, abbreviated, or two words: ``NORTH EAST``) -> abbreviation.
DIRECTIONALS: dict[str, str] = {
    **dict(_DIRECTIONS),
    **{abbr: abbr for _, abbr in _DIRECTIONS},
    **{f"{name[:5]} {name[5:]}": abbr for name, abbr in _DIRECTIONS if len(abbr) == 2},
}


def _key(word: str) -> str:
    return " ".join(word.replace(".", " ").split()).upper()


def suffix(word: str) -> str | None:
    """Return the USPS standard abbreviation for a street suffix, else ``None``."""
    return SUFFIXES.get(_key(word))


def unit(word: str) -> str | None:
    """Return the USPS abbreviation for a secondary unit designator, else ``None``."""
    return UNITS.get(_key(word))


def directional(word: str) -> str | None:
    """Return the USPS abbreviation for a directional (``N.E.`` too), else ``None``."""
    key = _key(word)
    return DIRECTIONALS.get(key) or DIRECTIONALS.get(key.replace(" ", ""))


def _alternation(words: list[str]) -> str:
    ordered = sorted(words, key=lambda w: (-len(w), w))
    return "|".join(re.escape(word) for word in ordered)


@cache
def suffix_pattern() -> str:
    """Return a word-bounded regex alternation of every suffix form, longest first.

    Compile it (or embed it) with `re.IGNORECASE`.
    """
    return rf"\b(?:{_alternation(list(SUFFIXES))})\b"


@cache
def unit_pattern() -> str:
    """Return a regex alternation of every unit designator, longest first, and ``#``.

    The words are word-bounded; ``#`` needs no boundary. Use with `re.IGNORECASE`.
    """
    words = [word for word in UNITS if word != "#"]
    return rf"(?:\b(?:{_alternation(words)})\b|\#)"
