"""Synthetic data for exact data match (EDM): a disclosed list, reformatted copies, truth.

Counsel holds the list the IRS disclosed; ``ftiscan edm build`` indexes it and
``ftiscan scan --edm`` must find copies of its records however they were reformatted.
This module makes such a list and such copies, with exact ground truth. Nobody is real:
names are random combinations of common names, TINs follow the issuing rules, cities
are real city / state / ZIP-prefix triples with made-up house numbers and ZIP+4s.

* ``disclosed_list(rng, n)``: the list; ``stranger_list(rng, n, disclosed)``: people
  who are not on it (no shared TIN, no shared house number + street name).
* ``write_disclosed_csv(path, records)``: counsel's CSV (header ``DISCLOSED_HEADER``,
  TIN as nine digits, UTF-8, CRLF); ``write_malformed_disclosed_csv`` writes the same
  records plus injected bad rows and returns their exact 1-based line numbers.
* ``write_copies(root, disclosed, strangers, rng)``: parts of the list in every
  reformatting of ``LAYOUTS``, each diluted among strangers, plus look-alike files of
  the kinds in ``TRAPS`` (truth 0); the truth goes to ``truth_path_for(root)``, beside
  ``root`` and outside the scanned tree, as in ``tests.synthetic.home``.

What counts as a copy: a file holds disclosed record R if some row, block or sentence
carries R's first and last name with R's house number, street name and ZIP5 (any
spelling of suffix, directional and unit; any case, accents and punctuation), or R's
TIN beside R's name. ``records`` in the truth is the number of distinct such R. The
look-alikes share weaker combinations with the list (a name, an address, a ZIP beside
a TIN) and must give no EDM hit; other signatures may still flag them (they hold
valid TINs, names and addresses).

``python -m tests.synthetic.edm OUT_DIR --records 50000 --seed 1`` writes
``OUT_DIR/disclosed.csv``, ``OUT_DIR/disclosed_malformed.csv`` (with
``disclosed_malformed.lines.json``), ``OUT_DIR/copies/`` and ``OUT_DIR/copies.truth.json``
and prints counts only. Nothing generated here is ever committed.

>>> import random
>>> people = disclosed_list(random.Random(1), 50)
>>> people == disclosed_list(random.Random(1), 50)
True
>>> all(is_valid_tin(p.tin) for p in people)
True
>>> len({p.address_key for p in people})
50
>>> fold("O’Neil-Núñez, José L.")
'oneil nunez jose l'
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ftiscan.scanner.validators.states import NAMES as STATE_NAMES
from tests.synthetic import formats
from tests.synthetic.home import LOREM, truth_path_for
from tests.synthetic.people import (
    ACCENTED_FIRST_NAMES,
    ACCENTED_LAST_NAMES,
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_NAMES,
    Taxpayer,
    dashed,
    is_valid_tin,
    spaced,
)

__all__ = [
    "DIRECTIONALS",
    "DISCLOSED_HEADER",
    "LAYOUTS",
    "MALFORMED_KINDS",
    "REQUIRED_FIELDS",
    "STREET_TYPES",
    "TRAPS",
    "Disclosed",
    "EdmFile",
    "EdmTruth",
    "disclosed_list",
    "fold",
    "lookalikes",
    "main",
    "malformed_disclosed_csv",
    "stranger_list",
    "write_copies",
    "write_disclosed_csv",
    "write_malformed_disclosed_csv",
]

#: Counsel's CSV columns, in order. MIDDLE, SUFFIX and UNIT may be empty.
DISCLOSED_HEADER: tuple[str, ...] = (
    "TIN", "FIRST", "MIDDLE", "LAST", "SUFFIX", "STREET", "UNIT", "CITY", "STATE", "ZIP",
)  # fmt: skip
REQUIRED_FIELDS: tuple[str, ...] = ("TIN", "FIRST", "LAST", "STREET", "CITY", "STATE", "ZIP")

#: USPS Publication 28 suffixes used here: standard abbreviation -> spelled out.
STREET_TYPES: dict[str, str] = {
    "St": "Street", "Ave": "Avenue", "Rd": "Road", "Dr": "Drive", "Ln": "Lane",
    "Ct": "Court", "Blvd": "Boulevard", "Way": "Way", "Pl": "Place", "Ter": "Terrace",
    "Cir": "Circle", "Pkwy": "Parkway", "Trl": "Trail",
}  # fmt: skip
#: USPS Publication 28 directionals: abbreviation -> spelled out.
DIRECTIONALS: dict[str, str] = {
    "N": "North", "S": "South", "E": "East", "W": "West",
    "NE": "Northeast", "NW": "Northwest", "SE": "Southeast", "SW": "Southwest",
}  # fmt: skip

#: Layouts of the copies: what each file looks like (see ``write_copies``).
LAYOUTS: dict[str, str] = {
    "mail-merge-csv": "mail-merge sheet: other column order and headers (Full Name, "
    "Address Line 1/2, Postal Code), suffix and directional spelled out, unit as Unit N "
    "or #N, ZIP5, no TIN",
    "labels-txt": "mailing labels: 3-line upper-case ASCII blocks LAST, FIRST M / street "
    "and unit / CITY ST ZIP+4, no TIN",
    "crm-json": "CRM export: JSON array, first/last names, nested address {line1, line2, "
    "city, region, postal}, mixed case, no TIN",
    "crm-jsonl": "CRM activity log: JSON Lines, name as Last, First M, one-line address "
    "with the state spelled out and ZIP5, no TIN",
    "memo-txt": "call notes: prose naming people with their one-line addresses, no TIN",
    "memo-docx": "call notes as a Word document (paragraphs), no TIN",
    "xlsx-tin": "workbook: TIN (dashed, bare, spaced or a number), name, address columns",
    "docx-table": "Word letter with a table: name, dashed TIN, one-line address with ZIP+4",
    "headerless-csv": "CSV without header: Last, First M; bare TIN; street; unit; city; "
    "state; ZIP+4",
    "roster-csv": "CSV with header TIN, Name, Street, Unit, City, State, ZIP (look-alikes)",
}
_FIELDS: dict[str, tuple[str, ...]] = {
    "mail-merge-csv": ("name", "street", "unit", "city", "state", "zip5"),
    "labels-txt": ("name", "street", "unit", "city", "state", "zip+4"),
    "crm-json": ("name", "street", "unit", "city", "state", "zip5", "zip+4"),
    "crm-jsonl": ("name", "street", "unit", "city", "state", "zip5"),
    "memo-txt": ("name", "street", "unit", "city", "state", "zip5"),
    "memo-docx": ("name", "street", "unit", "city", "state", "zip5"),
    "xlsx-tin": ("tin", "name", "street", "unit", "city", "state", "zip5", "zip+4"),
    "docx-table": ("tin", "name", "street", "unit", "city", "state", "zip+4"),
    "headerless-csv": ("tin", "name", "street", "unit", "city", "state", "zip+4"),
    "roster-csv": ("tin", "name", "street", "unit", "city", "state", "zip+4"),
}

#: Look-alike kinds (truth 0): what the rows share with the disclosed list.
TRAPS: dict[str, str] = {
    "strangers-only": "a layout of the copies holding only strangers",
    "same-name-elsewhere": "a disclosed person's full name, a stranger's TIN and address",
    "same-address-other-name": "a disclosed address (with unit and ZIP+4), a stranger's "
    "TIN and a name sharing neither first nor last name",
    "same-address-household": "a disclosed address and last name, another first name, "
    "a stranger's TIN",
    "same-name-street-other-city": "a disclosed name and street line in another city "
    "and ZIP, a stranger's TIN",
    "disclosed-zip-random-tin": "a disclosed city, state and ZIP+4 beside a stranger's "
    "valid TIN, name and street",
}

#: What ``malformed_disclosed_csv`` injects, one kind per bad line.
MALFORMED_KINDS: tuple[str, ...] = (
    "too-few-fields",
    "too-many-fields",
    "bad-tin-shape",
    "empty-required-field",
    "unterminated-quote",
)

Kind = Literal["positive", "lookalike"]

# --------------------------------------------------------------------------- names

_HYPHENATED_FIRST = ("Mary-Kate", "Jean-Luc", "Anne-Marie", "Mary-Jo", "Jo-Ann", "Billy-Ray")
_APOSTROPHE_LAST = ("O'Neil", "O'Brien", "O'Connor", "D'Angelo", "O'Malley", "D'Souza")
_MULTIWORD_LAST = ("De la Cruz", "Van Dyke", "Del Rio", "Mac Donald", "Van der Berg")
_SUFFIXES = ("Jr", "Sr", "II", "III", "IV")
_ORDINAL_STREETS = tuple(
    f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
    for n in range(1, 13)
)
_STREETS = STREET_NAMES + _ORDINAL_STREETS
_MAX_PEOPLE = 400_000  # house numbers 1-9899 x 72 street names, kept sparse

_TRANSLIT = str.maketrans({"ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE"})
_APOSTROPHES = str.maketrans("", "", "'’ʼ`")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _ascii(text: str) -> str:
    """``text`` without diacritics (``Núñez`` -> ``Nunez``, ``Østergaard`` -> ``Ostergaard``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """A reference normal form for comparing names and addresses: no accents, case or
    apostrophes, other punctuation as single spaces. Not the scanner's normaliser."""
    plain = _ascii(text).casefold().translate(_APOSTROPHES)
    return " ".join(_NON_ALNUM.sub(" ", plain).split())


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True, repr=False)
class Disclosed:
    """One synthetic person as the disclosed list holds them (strangers share the shape).

    ``tin`` is nine digits (an SSN, or an ITIN if it starts with 9). The street is kept
    in parts: ``house`` number, optional ``predir``/``postdir`` (USPS abbreviations),
    ``street_name`` and ``street_type`` (USPS abbreviation); ``spelled`` says whether the
    list spells the type out (``Street``) or abbreviates it (``St``). The unit is
    ``unit_type`` (``Apt``, ``Unit`` or ``#``) and ``unit_id``, both empty for most.
    ``zip`` is always ZIP+4 (``NNNNN-NNNN``) and its prefix belongs to ``state``.
    Its ``repr`` shows no value (test failures print reprs).
    """

    tin: str
    first: str
    middle: str
    last: str
    suffix: str
    house: str
    predir: str
    street_name: str
    street_type: str
    postdir: str
    spelled: bool
    unit_type: str
    unit_id: str
    city: str
    state: str
    zip: str

    def __repr__(self) -> str:
        kind = "ITIN" if self.is_itin else "SSN"
        return f"Disclosed(<{kind} ***-**-****, name and address masked>)"

    @property
    def is_itin(self) -> bool:
        """True if the TIN is an ITIN rather than an SSN."""
        return self.tin.startswith("9")

    @property
    def zip5(self) -> str:
        """The five-digit ZIP Code."""
        return self.zip[:5]

    @property
    def street(self) -> str:
        """The street line as the list writes it: ``1423 N Maple Street``."""
        return self.street_as(spelled=self.spelled)

    @property
    def unit(self) -> str:
        """The unit as the list writes it (``Apt 4B``, ``Unit 12``, ``# 7``), or ``""``."""
        return f"{self.unit_type} {self.unit_id}" if self.unit_type else ""

    @property
    def full_name(self) -> str:
        """First, middle, last and suffix, as far as present."""
        return " ".join(p for p in (self.first, self.middle, self.last, self.suffix) if p)

    @property
    def short_name(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"

    @property
    def address_key(self) -> tuple[str, str]:
        """(house number, folded street name): unique among all generated people."""
        return self.house, fold(self.street_name)

    def street_as(self, *, spelled: bool, directional_spelled: bool = False) -> str:
        """The street line with the type (and directionals) spelled out or abbreviated."""

        def direction(abbr: str) -> str:
            return DIRECTIONALS[abbr] if directional_spelled and abbr else abbr

        kind = STREET_TYPES[self.street_type] if spelled else self.street_type
        parts = (self.house, direction(self.predir), self.street_name, kind)
        return " ".join(p for p in (*parts, direction(self.postdir)) if p)

    def unit_as(self, designator: str | None = None) -> str:
        """The unit with another designator (``"Unit"`` -> ``Unit 4B``, ``"#"`` -> ``#4B``)."""
        if not self.unit_type:
            return ""
        if designator is None:
            return self.unit
        return f"#{self.unit_id}" if designator == "#" else f"{designator} {self.unit_id}"

    def one_line(self, *, street: str | None = None, zip_code: str | None = None) -> str:
        """``street[, unit], City, ST ZIP`` (street and ZIP as given, else as listed)."""
        line = street if street is not None else self.street
        unit = f", {self.unit}" if self.unit else ""
        return f"{line}{unit}, {self.city}, {self.state} {zip_code or self.zip}"

    def csv_row(self) -> tuple[str, ...]:
        """The row of counsel's CSV, in ``DISCLOSED_HEADER`` order."""
        return (
            self.tin,
            self.first,
            self.middle,
            self.last,
            self.suffix,
            self.street,
            self.unit,
            self.city,
            self.state,
            self.zip,
        )

    def taxpayer(self) -> Taxpayer:
        """The same person as a ``tests.synthetic.people.Taxpayer`` (suffix after last)."""
        last = f"{self.last} {self.suffix}" if self.suffix else self.last
        return Taxpayer(
            self.first,
            self.middle,
            last,
            self.tin,
            self.street,
            self.unit,
            self.city,
            self.state,
            self.zip,
        )

    def secrets(self) -> list[str]:
        """Values a report must never show: TIN (bare and dashed), names, street line."""
        return [self.tin, dashed(self.tin), self.full_name, self.short_name, self.street]


class _Population:
    """Draws people with TINs and address keys never used before (``used_*``)."""

    def __init__(self, rng: random.Random, itin_share: float) -> None:
        self.rng = rng
        self.itin_share = itin_share
        self.used_tins: set[str] = set()
        self.used_addresses: set[tuple[str, str]] = set()

    def tin(self) -> str:
        rng = self.rng
        itin = rng.random() < self.itin_share
        while True:
            if itin:
                digits = f"9{rng.randint(0, 99):02d}{rng.randint(70, 88)}{rng.randint(1, 9999):04d}"
            else:
                area = rng.randint(1, 899)
                digits = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
            if digits not in self.used_tins and is_valid_tin(digits):
                self.used_tins.add(digits)
                return digits

    def name(self) -> tuple[str, str, str, str]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            first = rng.choice(ACCENTED_FIRST_NAMES)
        elif roll < 0.13:
            first = rng.choice(_HYPHENATED_FIRST)
        else:
            first = rng.choice(FIRST_NAMES)
        roll = rng.random()
        if roll < 0.08:
            last = rng.choice(ACCENTED_LAST_NAMES)
        elif roll < 0.13:
            last = rng.choice(_APOSTROPHE_LAST)
        elif roll < 0.19:
            last = "-".join(rng.sample(LAST_NAMES, 2))
        elif roll < 0.22:
            last = rng.choice(_MULTIWORD_LAST)
        else:
            last = rng.choice(LAST_NAMES)
        roll = rng.random()
        if roll < 0.35:
            middle = ""
        elif roll < 0.75:
            middle = rng.choice("ABCDEFGHJKLMNPRSTW")
        else:
            middle = rng.choice(FIRST_NAMES + ACCENTED_FIRST_NAMES[:4])
        suffix = rng.choice(_SUFFIXES) if rng.random() < 0.07 else ""
        return first, middle, last, suffix

    def street(self) -> tuple[str, str, str, str, str, bool]:
        """(house, predir, street name, type, postdir, spelled), unused house + name."""
        rng = self.rng
        while True:
            house = str(
                rng.choice((rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 9899)))
            )
            name = rng.choice(_STREETS)
            if (house, fold(name)) not in self.used_addresses:
                self.used_addresses.add((house, fold(name)))
                break
        roll = rng.random()
        predir = rng.choice(tuple(DIRECTIONALS)) if roll < 0.2 else ""
        postdir = rng.choice(tuple(DIRECTIONALS)) if 0.2 <= roll < 0.25 else ""
        kind = rng.choice(tuple(STREET_TYPES))
        return house, predir, name, kind, postdir, rng.random() < 0.5

    def unit(self) -> tuple[str, str]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.72:
            return "", ""
        if roll < 0.86:
            return "Apt", f"{rng.randint(1, 30)}{rng.choice('ABCD')}"
        if roll < 0.92:
            return "Apt", str(rng.randint(1, 450))
        if roll < 0.97:
            return "Unit", str(rng.randint(1, 60))
        return "#", str(rng.randint(1, 40))

    def place(self) -> tuple[str, str, str]:
        rng = self.rng
        city = rng.choice(CITIES)
        return (
            city.name,
            city.state,
            f"{city.zip3}{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}",
        )

    def person(self) -> Disclosed:
        first, middle, last, suffix = self.name()
        tin = self.tin()
        house, predir, name, kind, postdir, spelled = self.street()
        unit_type, unit_id = self.unit()
        city, state, zip_code = self.place()
        return Disclosed(
            tin,
            first,
            middle,
            last,
            suffix,
            house,
            predir,
            name,
            kind,
            postdir,
            spelled,
            unit_type,
            unit_id,
            city,
            state,
            zip_code,
        )


def _check_size(n: int) -> None:
    if not 0 <= n <= _MAX_PEOPLE:
        raise ValueError(f"expected 0 to {_MAX_PEOPLE} people, got {n}")


def disclosed_list(rng: random.Random, n: int, *, itin_share: float = 0.1) -> list[Disclosed]:
    """``n`` synthetic taxpayers with distinct TINs and distinct house number + street
    name; names repeat (as real names do). Deterministic for the state of ``rng``."""
    _check_size(n)
    population = _Population(rng, itin_share)
    return [population.person() for _ in range(n)]


def stranger_list(
    rng: random.Random, n: int, disclosed: Sequence[Disclosed], *, itin_share: float = 0.1
) -> list[Disclosed]:
    """``n`` people not on ``disclosed``: no TIN and no house number + street name in
    common with it (or each other). Their names may match a disclosed name by chance."""
    _check_size(n + len(disclosed))
    population = _Population(rng, itin_share)
    population.used_tins.update(p.tin for p in disclosed)
    population.used_addresses.update(p.address_key for p in disclosed)
    return [population.person() for _ in range(n)]


# --------------------------------------------------------------------------- counsel's CSV


def _csv_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_disclosed_csv(path: Path, records: Sequence[Disclosed]) -> None:
    """Counsel's CSV: ``DISCLOSED_HEADER`` then one line per record (UTF-8, CRLF);
    record ``i`` (0-based) is on line ``i + 2``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = _csv_text([DISCLOSED_HEADER, *(r.csv_row() for r in records)])
    Path(path).write_bytes(text.encode("utf-8"))


def _quoted_all(row: Sequence[str]) -> str:
    return ",".join('"' + value.replace('"', '""') + '"' for value in row) + "\r\n"


def malformed_disclosed_csv(
    records: Sequence[Disclosed], rng: random.Random
) -> tuple[str, dict[int, str]]:
    """Counsel's CSV with bad rows injected: the text and ``{line: kind}`` of the bad
    lines (1-based, header = line 1; kinds from ``MALFORMED_KINDS``).

    Every record is written once, valid, in order (some rows with every field quoted,
    which is valid CSV); each bad row is a damaged copy of a random record, so a builder
    that rejects exactly the bad lines indexes exactly ``records``. The unterminated
    quote is on the last line, so that it swallows no valid row. No valid row spans two
    lines.
    """
    if not records:
        raise ValueError("need at least one record to damage")
    bad_rows: list[tuple[str, str]] = []
    tin_at = DISCLOSED_HEADER.index("TIN")
    for kind in MALFORMED_KINDS[:-1]:
        for _ in range(rng.randint(2, 3)):
            row = list(rng.choice(records).csv_row())
            if kind == "too-few-fields":
                del row[rng.randrange(len(row))]
            elif kind == "too-many-fields":
                row.insert(rng.randrange(len(row) + 1), rng.choice(("", "extra", "N")))
            elif kind == "bad-tin-shape":
                digits = row[tin_at]
                row[tin_at] = rng.choice(
                    (
                        digits[:8],
                        digits + str(rng.randint(0, 9)),
                        digits[:4] + "O" + digits[5:],
                        f"{digits[:3]}_{digits[3:5]}_{digits[5:]}",
                        f"{digits[:3]}-{digits[3:5]}-{digits[5:]}0",
                    )
                )
            else:
                required = rng.choice(REQUIRED_FIELDS)
                row[DISCLOSED_HEADER.index(required)] = rng.choice(("", "  "))
            bad_rows.append((kind, _csv_text([row])))
    good = [
        _quoted_all(r.csv_row()) if rng.random() < 0.05 else _csv_text([r.csv_row()])
        for r in records
    ]
    lines: list[tuple[str, str]] = [("", text) for text in good]  # (bad kind or "", text)
    for kind, text in bad_rows:
        lines.insert(rng.randrange(len(lines) + 1), (kind, text))
    last = list(rng.choice(records).csv_row())
    last[DISCLOSED_HEADER.index("LAST")] = '"' + last[DISCLOSED_HEADER.index("LAST")]
    lines.append(("unterminated-quote", ",".join(last) + "\r\n"))  # the quote never closes
    bad = {number: kind for number, (kind, _) in enumerate(lines, start=2) if kind}
    return _csv_text([DISCLOSED_HEADER]) + "".join(text for _, text in lines), bad


def write_malformed_disclosed_csv(
    path: Path, records: Sequence[Disclosed], rng: random.Random
) -> set[int]:
    """Write ``malformed_disclosed_csv(records, rng)`` to ``path``; return the 1-based
    line numbers a builder must reject (every other data line is a valid record)."""
    text, bad = malformed_disclosed_csv(records, rng)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(text.encode("utf-8"))
    return set(bad)


# --------------------------------------------------------------------------- truth


@dataclass(frozen=True, slots=True)
class EdmFile:
    """What a correct EDM scan says about one file of the copies.

    ``records`` is the exact number of distinct disclosed records in the file (0 for
    look-alikes); ``indices`` are their 0-based positions in the disclosed list (line
    ``index + 2`` of ``disclosed.csv``). ``rows`` counts the people in the file,
    strangers and repeats included. ``fields`` are the parts shown (``tin``, ``name``,
    ``street``, ``unit``, ``city``, ``state``, ``zip5``, ``zip+4``).
    """

    kind: Kind
    layout: str
    trap: str  # a TRAPS key for look-alikes, "" for positives
    records: int
    rows: int
    fields: tuple[str, ...]
    indices: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The JSON object stored in the truth file."""
        return {
            "kind": self.kind,
            "layout": self.layout,
            "trap": self.trap,
            "records": self.records,
            "rows": self.rows,
            "fields": list(self.fields),
            "indices": list(self.indices),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> EdmFile:
        """Inverse of ``as_json``."""
        kind = obj["kind"]
        if kind not in ("positive", "lookalike"):
            raise ValueError(f"kind must be positive or lookalike, got {kind!r}")
        return cls(
            kind,
            obj["layout"],
            obj["trap"],
            int(obj["records"]),
            int(obj["rows"]),
            tuple(obj["fields"]),
            tuple(int(i) for i in obj["indices"]),
        )


@dataclass(slots=True)
class EdmTruth:
    """Every file of a copies tree (POSIX paths relative to its root) and the list size."""

    disclosed: int
    files: dict[str, EdmFile] = field(default_factory=dict)

    def positives(self) -> dict[str, EdmFile]:
        """Files holding disclosed records, by relative path."""
        return {p: f for p, f in self.files.items() if f.kind == "positive"}

    def lookalikes(self) -> dict[str, EdmFile]:
        """Files that must give no EDM hit, by relative path."""
        return {p: f for p, f in self.files.items() if f.kind == "lookalike"}

    def layouts(self) -> dict[str, list[str]]:
        """Layout -> the relative paths written in it, sorted."""
        out: dict[str, list[str]] = {}
        for path in sorted(self.files):
            out.setdefault(self.files[path].layout, []).append(path)
        return out

    def to_json(self) -> dict[str, Any]:
        """The truth file's JSON object (no record values, only counts and indices)."""
        return {
            "disclosed": self.disclosed,
            "files": {p: self.files[p].as_json() for p in sorted(self.files)},
        }

    def write(self, path: Path) -> None:
        """Write the truth file (UTF-8, sorted keys, atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n", "utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> EdmTruth:
        """Read a truth file written by ``write``."""
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
        files = {p: EdmFile.from_json(f) for p, f in obj["files"].items()}
        return cls(int(obj["disclosed"]), files)


# --------------------------------------------------------------------------- layouts


def _cased(text: str, mode: int) -> str:
    return text if mode == 0 else text.upper() if mode == 1 else text.lower()


def _middle_initial(p: Disclosed, dot: bool) -> str:
    return f"{p.middle[0]}{'.' if dot else ''}" if p.middle else ""


def _mail_merge(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    table: list[Sequence[object]] = [
        ("Postal Code", "Full Name", "Phone", "Address Line 1", "Address Line 2", "City", "State")
    ]
    for p in rows:
        middle = p.middle if len(p.middle) > 1 else _middle_initial(p, dot=True)
        name = " ".join(x for x in (p.first, middle, p.last, p.suffix) if x).replace("'", "’")
        table.append(
            (
                p.zip5,
                name,
                f"(555) 555-01{rng.randint(0, 99):02d}",
                p.street_as(spelled=True, directional_spelled=True),
                p.unit_as(rng.choice(("Unit", "#"))),
                p.city,
                p.state,
            )
        )
    return _csv_text(table).encode("utf-8")


def _labels(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    blocks = []
    for p in rows:
        given = " ".join(x for x in (p.first, _middle_initial(p, dot=False), p.suffix) if x)
        street = " ".join(x for x in (p.street_as(spelled=False), p.unit) if x)
        blocks.append(f"{p.last}, {given}\n{street}\n{p.city} {p.state} {p.zip}".upper())
    return _ascii("\n\n".join(blocks) + "\n").encode("ascii")


def _crm_json(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    contacts = []
    for number, p in enumerate(rows, start=1):
        mode = rng.choice((0, 0, 1, 2))
        last = f"{p.last} {p.suffix}." if p.suffix in ("Jr", "Sr") else f"{p.last} {p.suffix}"
        contacts.append(
            {
                "id": f"C{rng.randint(10_000, 99_999)}-{number}",
                "firstName": _cased(p.first, mode),
                "lastName": _cased(last.strip(), mode),
                "status": rng.choice(("active", "inactive", "prospect")),
                "address": {
                    "line1": _cased(p.street, mode),
                    "line2": _cased(p.unit, mode),
                    "city": _cased(p.city, mode),
                    "region": p.state,
                    "postal": p.zip if rng.random() < 0.5 else p.zip5,
                },
                "tags": rng.sample(("newsletter", "outreach", "vip", "mailing", "q3"), 2),
            }
        )
    return json.dumps(contacts, indent=2, ensure_ascii=False).encode("utf-8")


def _crm_jsonl(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    lines = []
    for p in rows:
        given = " ".join(x for x in (p.first, _middle_initial(p, dot=False)) if x)
        street = p.street_as(spelled=rng.random() < 0.5)
        unit = f" {p.unit}" if p.unit else ""
        event = {
            "ts": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:30:00Z",
            "event": rng.choice(("contact.updated", "mail.sent", "call.logged")),
            "name": f"{p.last}, {given}" + (f" {p.suffix}" if p.suffix else ""),
            "address": f"{street}{unit}, {p.city}, {STATE_NAMES[p.state]} {p.zip5}",
        }
        lines.append(json.dumps(event, ensure_ascii=False) + "\n")
    return "".join(lines).encode("utf-8")


_MEMO_TEMPLATES = (
    "On {day} I spoke with {name} at {addr} about the notice, and promised a call back.",
    "{name}, who lives at {addr}, called to ask whether the letter had been sent.",
    "The letter to {name} at {addr} came back marked undeliverable; it goes to the file.",
    "Field visit: {name}, {addr}. Nobody answered and a door hanger was left.",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def _memo_paragraphs(rows: Sequence[Disclosed], rng: random.Random) -> list[str]:
    paragraphs = ["CALL NOTES - OUTREACH UNIT", "Notes from this week's calls and visits."]
    for p in rows:
        middle = _middle_initial(p, dot=True) if rng.random() < 0.5 else ""
        name = " ".join(x for x in (p.first, middle, p.last) if x)
        if p.suffix:
            name += f" {p.suffix}."
        street = p.street_as(spelled=rng.random() < 0.6, directional_spelled=rng.random() < 0.5)
        addr = p.one_line(street=street, zip_code=p.zip5)
        template = rng.choice(_MEMO_TEMPLATES)
        paragraphs.append(template.format(day=rng.choice(_DAYS), name=name, addr=addr))
        paragraphs.append(" ".join(rng.choice(LOREM) for _ in range(40)).capitalize() + ".")
    paragraphs.append("Next review at the end of the month.")
    return paragraphs


def _memo_txt(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    return ("\n\n".join(_memo_paragraphs(rows, rng)) + "\n").encode("utf-8")


def _memo_docx(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    return formats.docx(_memo_paragraphs(rows, rng))


def _tin_as(tin: str, rng: random.Random) -> str | int:
    style = rng.randrange(4)
    if style == 0:
        return dashed(tin)
    if style == 1:
        return spaced(tin)
    if style == 2 and tin[0] != "0":
        return int(tin)  # Excel turned the column into numbers (no leading zero lost)
    return tin


def _xlsx(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    sheet: list[Sequence[formats.Cell]] = [
        ("Taxpayer ID", "Name", "Street Address", "Apt/Unit", "City", "ST", "ZIP")
    ]
    sheet += [
        (
            _tin_as(p.tin, rng),
            p.full_name,
            p.street,
            p.unit,
            p.city,
            p.state,
            p.zip if rng.random() < 0.5 else p.zip5,
        )
        for p in rows
    ]
    summary: list[Sequence[formats.Cell]] = [
        ("Prepared by", "Reconciliation unit"),
        ("Rows", len(rows)),
    ]
    return formats.xlsx({"Reconciliation": sheet, "Summary": summary})


def _docx_table(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    table: list[Sequence[formats.Cell]] = [("Taxpayer", "SSN/ITIN", "Mailing address")]
    table += [(p.full_name, dashed(p.tin), p.one_line()) for p in rows]
    letter = [
        "Department of Revenue - Review Unit",
        "The accounts below were matched against the state file and need a second look.",
    ]
    return formats.docx(letter, [table])


def _headerless(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    table = []
    for p in rows:
        given = " ".join(x for x in (p.first, p.middle, p.suffix) if x)
        table.append((f"{p.last}, {given}", p.tin, p.street, p.unit, p.city, p.state, p.zip))
    return _csv_text(table).encode("utf-8")


def _roster(rows: Sequence[Disclosed], rng: random.Random) -> bytes:
    table: list[Sequence[str]] = [("TIN", "Name", "Street", "Unit", "City", "State", "ZIP")]
    table += [(dashed(p.tin), p.full_name, p.street, p.unit, p.city, p.state, p.zip) for p in rows]
    return _csv_text(table).encode("utf-8")


_Render = Callable[[Sequence[Disclosed], random.Random], bytes]
_RENDER: dict[str, _Render] = {
    "mail-merge-csv": _mail_merge,
    "labels-txt": _labels,
    "crm-json": _crm_json,
    "crm-jsonl": _crm_jsonl,
    "memo-txt": _memo_txt,
    "memo-docx": _memo_docx,
    "xlsx-tin": _xlsx,
    "docx-table": _docx_table,
    "headerless-csv": _headerless,
    "roster-csv": _roster,
}
_POSITIVE_PATHS: dict[str, str] = {
    "mail-merge-csv": "Documents/Outreach/mail_merge_2025.csv",
    "labels-txt": "Documents/Outreach/mailing_labels.txt",
    "crm-json": "Downloads/crm_contacts_export.json",
    "crm-jsonl": "Downloads/crm_activity.jsonl",
    "memo-txt": "Documents/Notes/call_notes.txt",
    "memo-docx": "Documents/Notes/call_notes.docx",
    "xlsx-tin": "Documents/Reconciliation/taxpayer_reconciliation.xlsx",
    "docx-table": "Documents/Letters/review_table.docx",
    "headerless-csv": "Desktop/export_partial.csv",
}
_TRAP_PATHS: dict[str, str] = {
    "same-name-elsewhere": "Documents/Outreach/namesakes",
    "same-address-other-name": "Documents/Outreach/new_residents",
    "same-address-household": "Documents/Outreach/household_members",
    "same-name-street-other-city": "Documents/Outreach/other_city_namesakes",
    "disclosed-zip-random-tin": "Documents/Finance/zip_tin_list",
}
_TRAP_LAYOUTS: dict[str, str] = {"roster-csv": "", "mail-merge-csv": "_mailmerge"}


# --------------------------------------------------------------------------- copies


_ADDRESS_FIELDS = (
    "house", "predir", "street_name", "street_type", "postdir", "spelled", "unit_type",
    "unit_id", "city", "state", "zip",
)  # fmt: skip


def _other_name(
    person: Disclosed, strangers: Sequence[Disclosed], rng: random.Random, *, keep_last: bool
) -> Disclosed:
    """A stranger whose first name (and, unless ``keep_last``, last name) differs from
    ``person``'s after folding; with ``keep_last`` given ``person``'s last name.

    No given name of one may be a given name of the other: "Ana Maria Ortega" at Maria
    Ortega's address may be Maria going by her middle name, which exact data match
    rightly takes for her (it tries each given name with the surname)."""
    given = {fold(person.first), fold(person.middle)} - {""}
    for _ in range(1000):
        stranger = rng.choice(strangers)
        if given & ({fold(stranger.first), fold(stranger.middle)} - {""}):
            continue
        if keep_last:
            return replace(stranger, last=person.last, suffix="")
        if fold(stranger.last) != fold(person.last):
            return stranger
    raise ValueError("no stranger with another name: pass more strangers")


def lookalikes(
    trap: str,
    disclosed: Sequence[Disclosed],
    strangers: Sequence[Disclosed],
    rng: random.Random,
    count: int,
) -> list[tuple[Disclosed, Disclosed]]:
    """``count`` look-alikes of kind ``trap`` (a ``TRAPS`` key other than
    ``strangers-only``), each as (the disclosed person it imitates, the look-alike).

    A look-alike always has a stranger's TIN; what else it takes from the disclosed
    person is what ``TRAPS`` says, the rest comes from the stranger.
    """
    if trap not in TRAPS or trap == "strangers-only":
        raise ValueError(f"unknown look-alike kind {trap!r}")
    people = list(strangers)
    out = []
    for person in rng.sample(list(disclosed), min(count, len(disclosed))):
        stranger = rng.choice(people)
        name: dict[str, Any] = {
            "first": person.first,
            "middle": person.middle,
            "last": person.last,
            "suffix": person.suffix,
        }
        address = {f: getattr(person, f) for f in _ADDRESS_FIELDS}
        if trap == "same-name-elsewhere":
            row = replace(stranger, **name)
        elif trap in ("same-address-other-name", "same-address-household"):
            keep_last = trap == "same-address-household"
            row = replace(_other_name(person, people, rng, keep_last=keep_last), **address)
        elif trap == "same-name-street-other-city":
            city = rng.choice([c for c in CITIES if c.zip3 != person.zip[:3]])
            zip_code = f"{city.zip3}{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
            elsewhere = {
                "unit_type": "",
                "unit_id": "",
                "city": city.name,
                "state": city.state,
                "zip": zip_code,
            }
            row = replace(stranger, **{**name, **address, **elsewhere})
        else:  # disclosed-zip-random-tin
            row = replace(stranger, city=person.city, state=person.state, zip=person.zip)
        out.append((person, row))
    return out


def _record_key(p: Disclosed) -> tuple[str, str, tuple[str, str], str]:
    """What makes a copy of a record: first and last name, house + street, ZIP5."""
    return fold(p.first), fold(p.last), p.address_key, p.zip5


class _CopyWriter:
    def __init__(
        self,
        root: Path,
        disclosed: Sequence[Disclosed],
        strangers: Sequence[Disclosed],
        rng: random.Random,
    ) -> None:
        self.root = root
        self.disclosed = list(disclosed)
        self.strangers = list(strangers)
        self.rng = rng
        self.index = {p.tin: i for i, p in enumerate(disclosed)}
        self.records = {_record_key(p) for p in disclosed}
        self.truth = EdmTruth(len(disclosed))

    def some_strangers(self, count: int) -> list[Disclosed]:
        return self.rng.sample(self.strangers, min(count, len(self.strangers)))

    def write(
        self, rel: str, layout: str, rows: list[Disclosed], kind: Kind, trap: str = ""
    ) -> None:
        self.rng.shuffle(rows)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_RENDER[layout](rows, self.rng))
        found = sorted({self.index[p.tin] for p in rows if p.tin in self.index})
        if kind == "lookalike" and (found or any(_record_key(p) in self.records for p in rows)):
            raise AssertionError(f"generator bug: look-alike {rel} holds a disclosed record")
        self.truth.files[rel] = EdmFile(
            kind, layout, trap, len(found), len(rows), _FIELDS[layout], tuple(found)
        )

    def positive(self, rel: str, layout: str, count: int, strangers: int) -> None:
        """A file with ``count`` distinct disclosed records (some twice) among strangers."""
        chosen = self.rng.sample(self.disclosed, min(count, len(self.disclosed)))
        repeats = [self.rng.choice(chosen) for _ in range(max(1, count // 10))]
        self.write(rel, layout, [*chosen, *repeats, *self.some_strangers(strangers)], "positive")

    def copies(self, per_file: int, bulk: int) -> None:
        k = max(1, min(per_file, len(self.disclosed) // 2))
        dilution = k + k // 2
        memo = max(1, min(5, k))
        for layout, rel in _POSITIVE_PATHS.items():
            small = layout.startswith("memo")
            self.positive(rel, layout, memo if small else k, memo if small else dilution)
        if bulk:
            self.positive(
                "Documents/Outreach/full_mailing_list.csv",
                "mail-merge-csv",
                bulk,
                max(1, bulk // 5),
            )
        for layout, rel in _POSITIVE_PATHS.items():
            count = memo * 2 if layout.startswith("memo") else dilution
            self.write(
                f"Archive/other_program/{rel.split('/', 1)[1]}",
                layout,
                self.some_strangers(count),
                "lookalike",
                "strangers-only",
            )
        for trap, stem in _TRAP_PATHS.items():
            for layout, tail in _TRAP_LAYOUTS.items():
                pairs = lookalikes(trap, self.disclosed, self.strangers, self.rng, k)
                rows = [row for _, row in pairs] + self.some_strangers(k // 2)
                self.write(f"{stem}{tail}.csv", layout, rows, "lookalike", trap)


def write_copies(
    root: Path,
    disclosed: Sequence[Disclosed],
    strangers: Sequence[Disclosed],
    rng: random.Random,
    *,
    per_file: int = 100,
    bulk: int = 0,
    truth_path: Path | None = None,
) -> EdmTruth:
    """Write copies of parts of ``disclosed`` under ``root`` and return their truth.

    Each layout of ``LAYOUTS`` (but ``roster-csv``) gets one positive file with
    ``min(per_file, len(disclosed) // 2)`` distinct disclosed records (the memos: at
    most 5), a tenth of them repeated, among half as many strangers again; ``bulk`` > 0
    adds a mail-merge sheet of that many records. Look-alikes: every layout with
    strangers only, and each other kind of ``TRAPS`` as a roster CSV and a mail-merge
    sheet. The truth is also written to ``truth_path`` (default ``truth_path_for(root)``),
    which must lie outside ``root``. The same inputs and ``rng`` state give the same bytes.
    """
    root = Path(root)
    truth_file = Path(truth_path) if truth_path is not None else truth_path_for(root)
    if truth_file.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"truth file {truth_file} must lie outside the scanned tree {root}")
    if not disclosed or not strangers:
        raise ValueError("need at least one disclosed record and one stranger")
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    writer = _CopyWriter(root, disclosed, strangers, rng)
    writer.copies(per_file, min(bulk, len(disclosed)))
    writer.truth.write(truth_file)
    return writer.truth


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.synthetic.edm OUT_DIR [--records N] [--seed N]``: counts only."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.synthetic.edm",
        description="Write a synthetic disclosed list (OUT_DIR/disclosed.csv), a malformed "
        "copy of it, and reformatted copies with look-alikes (OUT_DIR/copies/) with their "
        "ground truth beside them (OUT_DIR/copies.truth.json). No real people.",
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--records", type=int, default=50_000, help="disclosed records")
    parser.add_argument("--strangers", type=int, default=None, help="default: records / 10")
    parser.add_argument("--per-file", type=int, default=100, help="disclosed records a file")
    parser.add_argument("--bulk", type=int, default=0, help="records in a full mailing list")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    out: Path = args.outdir
    copies = out / "copies"
    truth_file = truth_path_for(copies)
    if out.exists() and any(out.iterdir()):
        if not truth_file.exists():
            print(f"error: {out} is not empty and was not made by this tool", file=sys.stderr)
            return 2
        shutil.rmtree(copies, ignore_errors=True)  # our own earlier output
    if args.records < 2:
        print("error: --records must be at least 2", file=sys.stderr)
        return 2
    strangers_n = args.strangers if args.strangers is not None else max(200, args.records // 10)
    rng = random.Random(args.seed)
    disclosed = disclosed_list(rng, args.records)
    strangers = stranger_list(rng, strangers_n, disclosed)
    write_disclosed_csv(out / "disclosed.csv", disclosed)
    text, bad = malformed_disclosed_csv(disclosed, rng)
    (out / "disclosed_malformed.csv").write_bytes(text.encode("utf-8"))
    (out / "disclosed_malformed.lines.json").write_text(
        json.dumps({"rejected": {str(n): bad[n] for n in sorted(bad)}}, indent=1) + "\n",
        encoding="utf-8",
    )
    truth = write_copies(copies, disclosed, strangers, rng, per_file=args.per_file, bulk=args.bulk)
    positives, lookalikes = truth.positives(), truth.lookalikes()
    print(
        f"wrote {len(disclosed)} disclosed records to {out / 'disclosed.csv'} "
        f"({len(bad)} bad lines in disclosed_malformed.csv) and {len(truth.files)} files "
        f"under {copies}: {len(positives)} copies holding "
        f"{sum(f.records for f in positives.values())} records, "
        f"{len(lookalikes)} look-alikes, {len(strangers)} strangers"
    )
    print(f"ground truth: {truth_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
