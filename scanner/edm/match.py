"""EDM lookups: candidate tuples from a table row or a prose window, checked against
a loaded index.

A candidate is normalised exactly as `edm build` normalised the list
(`ftiscan.scanner.edm.normalize`), then looked up combination by combination, the
cheap gate first:

* ``tin+zip5``: a TIN-shaped value whose 24-bit ``tin`` bucket is filled, and whose
  pair with a ZIP of the same row (or within 300 characters in prose) is in the pair
  table. A TIN bucket alone yields nothing: it only corroborates.
* ``name+street+zip5``: a name and a ZIP that pass the ``name+zip5`` gate, then the
  street lines before that ZIP. Streets are parsed (usaddress, about 80 us) only for
  the names and ZIPs that pass the gate: for a stranger, 1 in 20.

Nothing to find is cheap: a row or text without a ZIP-shaped token returns at once,
since every hit needs a ZIP. A row or window that hits both combinations yields one
hit per person: each TIN hit takes the nearest name hit with it.

`EdmHit.record` holds the normalised TIN or ``NAME|STREET|ZIP5``: the caller turns it
into a keyed fingerprint and drops it. It is left out of the hit's ``repr``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ftiscan.scanner import address, names
from ftiscan.scanner.edm import normalize
from ftiscan.scanner.edm.index import EdmIndex, combo_message

__all__ = ["MAX_CANDIDATES", "EdmHit", "EdmMatcher"]

#: Names, streets, ZIPs and TINs taken from one row or window, at most (each).
MAX_CANDIDATES = 8
#: Prose: how far after a street (its end to the ZIP's start) a ZIP may be.
STREET_TO_ZIP = 120
#: Prose: how far from a ZIP a TIN may be, on either side.
TIN_TO_ZIP = 300
#: Prose: how far before a ZIP a name may start, or after it a name may end.
NAME_BEFORE_ZIP, NAME_AFTER_ZIP = 400, 160

_ZIP_AT_END = re.compile(r"(?<![\d-])(\d{5})(?:-\d{4})?\s*$")
_ZIP_IN_TEXT = re.compile(r"(?<![\d-])(\d{5})(?:-\d{4})?(?![\d-])")
_TIN_IN = re.compile(r"(?<![\d-])(\d{3}([- ]?)\d{2}\2\d{4}|\d{2}-\d{7})(?![\d-])")
# A street-name word: letters, or an ordinal (5th, 21ST).
_NAME_WORD = r"(?:[^\W\d_]|\d{1,3}(?:st|nd|rd|th)\b)"
_STREETISH = re.compile(
    rf"\s*(?:\d{{1,6}}[A-Za-z]?(?:[-/]\d{{1,4}}[A-Za-z]?)?\s+{_NAME_WORD}"
    r"|p\.?\s*o\.?\s*box\b|box\s+\d)",
    re.IGNORECASE,
)
_HOUSE_START = re.compile(rf"(?<![\w#/-])\d{{1,6}}[A-Za-z]?\s+{_NAME_WORD}", re.IGNORECASE)
_INITIAL = re.compile(r"\s*[^\W\d_]\.?\s*")
# `names.find_names` stops a name at an initial with a period ("Maria L. Ortega" gives
# nothing): the period is blanked (same length, so offsets hold) before it looks.
_INITIAL_DOT = re.compile(r"(?<![\w.])([A-Z])\.(?=\s+[^\W\d_])")
# ... and at a lower-case particle ("Maria de la Cruz"): it is capitalised, in place.
_PROSE_PARTICLE = re.compile(r"(?<=[^\W\d_] )(?:de|la|del|der|van|von|da|di|du|le)(?= [^\W\d_])")
# ... and reads "DE LA CRUZ, MARIA" as "DE LA CRUZ": the given name after the comma.
_COMMA_GIVEN = re.compile(r",\s*[^\W\d_][\w'’-]*(?:\s+[^\W\d_]\b\.?)?")
# `names.is_person_name` refuses "Ortega, Maria L Jr" and "De la Cruz, Maria": the
# suffix goes and particles are capitalised before it looks.
_NAME_SUFFIX = re.compile(r"[\s,]+(?:jr|sr|ii|iii|iv)\.?(?=[\s,]|$)", re.IGNORECASE)
_PARTICLE = re.compile(r"\b(?:de|la|del|der|van|von|da|di|du|le|st)\b")
_NAME_PART = re.compile(r"[^\W\d_][^\W\d_'’.-]*(?:['’-][^\W\d_]+)*\.?")
_NOT_NAME = names.NOT_NAME_WORDS | names.BUSINESS_WORDS
# The first word of a prose name and the space after it, when two more words follow.
_SECOND_WORD = re.compile(r"\S+\s+(?=\S+\s+\S)")

# Header-recognition roles (`Detector.header_roles`) and `edm build` roles -> field.
_ROLES = {
    "tin": "tin",
    "name": "name",
    "first-name": "first",
    "first": "first",
    "middle": "middle",
    "last-name": "last",
    "last": "last",
    "street": "street",
    "zip": "zip",
}


@dataclass(frozen=True, slots=True)
class EdmHit:
    """One listed record seen in a row or window.

    ``record`` is the normalised TIN (``tin+zip5``) or ``NAME|STREET|ZIP5``
    (``name+street+zip5``), for a keyed fingerprint; never log it. ``start`` is the
    text offset (prose) or column index (rows) of the TIN or name. ``strength`` is
    the number of keyed hash bits that agreed (gate and table for ``tin+zip5``).
    """

    combo: str
    record: str = field(repr=False)
    start: int
    strength: int


class EdmMatcher:
    """Looks candidate tuples up in one loaded `EdmIndex`."""

    def __init__(self, index: EdmIndex) -> None:
        self.index = index
        self._tin_strength = index.bits("tin") + index.bits("tin+zip5")
        self._name_strength = index.bits("name+street+zip5")

    # --- lookups ------------------------------------------------------------------------

    def tin_listed(self, tin: str) -> bool:
        """Whether a normalised TIN's 24-bit bucket is filled: corroboration only
        (1 in 53 valid TINs shares each bucket), never a hit."""
        return ("tin", tin) in self.index

    def _tin_hit(self, tin: str, zips: Sequence[str], start: int) -> EdmHit | None:
        if not self.tin_listed(tin):
            return None
        for zip5 in zips:
            if ("tin+zip5", combo_message(tin, zip5)) in self.index:
                return EdmHit("tin+zip5", tin, start, self._tin_strength)
        return None

    def _gate(self, name: str, zip5: str) -> bool:
        return ("name+zip5", combo_message(name, zip5)) in self.index

    def _name_hit(self, name: str, street: str, zip5: str, start: int) -> EdmHit | None:
        record = combo_message(name, street, zip5)
        if ("name+street+zip5", record) in self.index:
            return EdmHit("name+street+zip5", record, start, self._name_strength)
        return None

    # --- table rows ---------------------------------------------------------------------

    def row(self, cells: Sequence[str], roles: Mapping[int, str]) -> list[EdmHit]:
        """Hits in one table row; ``roles`` (column -> role from header recognition)
        may be empty: then cells are recognised by shape."""
        fields = _fields(roles, len(cells))
        zips = _row_zips(cells, fields)
        if not zips:
            return []
        zip_values = list(dict.fromkeys(z for _, z in zips))
        tin_hits = []
        for col, tin in _row_tins(cells, fields):
            hit = self._tin_hit(tin, zip_values, col)
            if hit is not None:
                tin_hits.append(hit)
        name_hits: list[EdmHit] = []
        gated = [
            (col, name, zip5)
            for col, name in _row_names(cells, fields)
            for zip5 in zip_values
            if self._gate(name, zip5)
        ]
        if gated:
            streets = _row_streets(cells, fields)
            for col, name, zip5 in gated:
                for street in streets:
                    hit = self._name_hit(name, street, zip5, col)
                    if hit is not None:
                        name_hits.append(hit)
                        break
        return _merge(tin_hits, name_hits)

    # --- prose --------------------------------------------------------------------------

    def text(self, text: str) -> list[EdmHit]:
        """Hits in a prose window: names, streets and ZIPs near each other, TINs near
        a ZIP."""
        zips = [
            (m.start(), m.end(), z)
            for m in _ZIP_IN_TEXT.finditer(text)
            if (z := normalize.zip5(m.group(1))) is not None
        ]
        if not zips:
            return []
        tin_hits = []
        seen_tins: set[str] = set()
        for m in _TIN_IN.finditer(text):
            tin = normalize.tin(m.group(1))
            if tin is None or tin in seen_tins:
                continue
            near = [
                z for s, e, z in zips if s - m.end() <= TIN_TO_ZIP and m.start() - e <= TIN_TO_ZIP
            ]
            hit = self._tin_hit(tin, list(dict.fromkeys(near)), m.start())
            if hit is not None:
                seen_tins.add(tin)
                tin_hits.append(hit)
        name_hits = []
        seen: set[str] = set()
        for start, end, name in _prose_names(text):
            for z_start, z_end, zip5 in zips:
                before = 0 <= z_start - end <= NAME_BEFORE_ZIP
                after = 0 <= start - z_end <= NAME_AFTER_ZIP
                if not (before or after) or not self._gate(name, zip5):
                    continue
                floor = end if before else 0
                for street in _streets_before(text, max(floor, z_start - 200), z_start, z_end):
                    hit = self._name_hit(name, street, zip5, start)
                    if hit is not None and hit.record not in seen:
                        seen.add(hit.record)
                        name_hits.append(hit)
                        break
        return _merge(tin_hits, name_hits)


def _prose_names(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name key) of the names `names.find_names` sees, and of their
    ``LAST, FIRST`` long forms."""
    found = []
    shaped = _PROSE_PARTICLE.sub(lambda m: m.group(0).title(), _INITIAL_DOT.sub(r"\1 ", text))
    for start, end in names.find_names(shaped):
        ends = [end]
        given = _COMMA_GIVEN.match(text, end)
        if given is not None:
            ends.append(given.end())
        # A capitalised word may open the sentence before the name ("Called Maria
        # Smith-Jones at ..."): the name is also read without it.
        second = _SECOND_WORD.match(text, start, end)
        starts = [start] if second is None else [start, second.end()]
        for begin in starts:
            for stop in ends:
                found += [(begin, stop, key) for key in normalize.name_keys(text[begin:stop])]
    return found


def _name_part(cell: str) -> bool:
    """A first- or last-name cell: one to three capitalised words (particles may be lower
    case). Unlike `names.is_single_name_word`, a state's name may be one (Virginia)."""
    words = cell.split()
    if not 1 <= len(words) <= 3 or len(cell) > 40:
        return False
    for word in words:
        bare = word.rstrip(".").lower()
        if not _NAME_PART.fullmatch(word) or bare in _NOT_NAME:
            return False
        if not word[0].isupper() and not _PARTICLE.fullmatch(word):
            return False
    return any(len(word) > 1 for word in words)


def _name_shaped(cell: str) -> bool:
    if cell.islower():  # "maria ortega": shape rules want capitals
        cell = cell.title()
    plain = _NAME_SUFFIX.sub("", cell)
    if names.is_person_name(plain, street_elsewhere=True):
        return True
    if not _PARTICLE.search(plain):
        return False
    capitalised = _PARTICLE.sub(lambda m: m.group(0).title(), plain)
    dropped = " ".join(_PARTICLE.sub(" ", plain).split())
    return any(names.is_person_name(x, street_elsewhere=True) for x in (capitalised, dropped))


def _fields(roles: Mapping[int, str], width: int) -> dict[str, list[int]]:
    """Field -> its columns; a second given-name column is the middle name."""
    out: dict[str, list[int]] = {}
    for col in sorted(roles):
        if col >= width:
            continue
        name = _ROLES.get(roles[col])
        if name == "first" and out.get("first"):
            name = "middle"
        if name is not None:
            out.setdefault(name, []).append(col)
    return out


def _row_zips(cells: Sequence[str], fields: Mapping[str, list[int]]) -> list[tuple[int, str]]:
    found = []
    for col in fields.get("zip", ()):
        zip5 = normalize.zip5(cells[col], column=True)
        if zip5 is not None:
            found.append((col, zip5))
    if found:
        return found
    skip = set(fields.get("tin", ()))
    for col, cell in enumerate(cells):
        if col in skip or len(cell) > 400:
            continue
        m = _ZIP_AT_END.search(cell)
        if m is not None and (zip5 := normalize.zip5(m.group(1))) is not None:
            found.append((col, zip5))
            if len(found) >= MAX_CANDIDATES:
                break
    return found


def _row_tins(cells: Sequence[str], fields: Mapping[str, list[int]]) -> list[tuple[int, str]]:
    found: dict[str, int] = {}
    role_cols = fields.get("tin", ())
    for col in role_cols:
        tin = normalize.tin(cells[col], column=True)
        if tin is not None:
            found.setdefault(tin, col)
    skip = set(role_cols) | set(fields.get("zip", ()))
    for col, cell in enumerate(cells):
        if col in skip or len(cell) > 400:
            continue
        for m in _TIN_IN.finditer(cell):
            tin = normalize.tin(m.group(1))
            if tin is not None:
                found.setdefault(tin, col)
    return [(col, tin) for tin, col in list(found.items())[:MAX_CANDIDATES]]


def _row_names(cells: Sequence[str], fields: Mapping[str, list[int]]) -> list[tuple[int, str]]:
    found: dict[str, int] = {}
    for col in fields.get("name", ()):
        for key in normalize.name_keys(cells[col]):
            found.setdefault(key, col)
    firsts, lasts = fields.get("first", ()), fields.get("last", ())
    if firsts and lasts:
        middle = " ".join(cells[c] for c in fields.get("middle", ()))
        parts = normalize.name_key_parts(cells[firsts[0]], middle, cells[lasts[0]])
        if parts is not None:
            found.setdefault(parts, min(firsts[0], lasts[0]))
    if not found:
        _shaped_names(cells, fields, found)
    return [(col, key) for key, col in list(found.items())[:MAX_CANDIDATES]]


def _shaped_names(
    cells: Sequence[str], fields: Mapping[str, list[int]], found: dict[str, int]
) -> None:
    """Names by shape: a cell holding a whole name, or adjacent first/last cells."""
    taken = {c for cols in fields.values() for c in cols}
    part = [col not in taken and _name_part(cell) for col, cell in enumerate(cells)]
    for col, cell in enumerate(cells):
        if col in taken or not cell or cell[0].isdigit():
            continue
        if _name_shaped(cell):
            for key in normalize.name_keys(cell):
                found.setdefault(key, col)
        if part[col]:
            after = col + 1
            if after < len(cells) and _INITIAL.fullmatch(cells[after]):
                after += 1
            if after < len(cells) and part[after]:
                pair = normalize.name_key_parts(cell, "", cells[after])
                if pair is not None:
                    found.setdefault(pair, col)


def _row_streets(cells: Sequence[str], fields: Mapping[str, list[int]]) -> list[str]:
    cols = fields.get("street") or [
        col
        for col, cell in enumerate(cells)
        if len(cell) <= normalize.MAX_STREET_CHARS and _STREETISH.match(cell)
    ]
    keys = (normalize.street_key(cells[col]) for col in cols[:MAX_CANDIDATES])
    return list(dict.fromkeys(key for key in keys if key is not None))


def _streets_before(text: str, lo: int, zip_start: int, zip_end: int) -> list[str]:
    """Street keys of the lines that start between ``lo`` and the ZIP and run into it:
    the scanner's street spans, and every house number there, parsed up to the ZIP."""
    starts = {lo + s for s, _ in address.find_streets(text[lo:zip_start])}
    starts.update(m.start() for m in _HOUSE_START.finditer(text, lo, zip_start))
    keys = []
    for start in sorted(starts)[:MAX_CANDIDATES]:
        key = normalize.street_key(text[start:zip_end])
        if key is not None:
            keys.append(key)
    return list(dict.fromkeys(keys))


def _merge(tin_hits: list[EdmHit], name_hits: list[EdmHit]) -> list[EdmHit]:
    """One hit per person: each TIN hit drops the nearest name hit (same row or window)."""
    left = list(name_hits)
    for hit in tin_hits:
        if not left:
            break
        nearest = min(left, key=lambda other: abs(other.start - hit.start))
        left.remove(nearest)
    return sorted(tin_hits + left, key=lambda hit: (hit.start, hit.combo))
