"""Seeded generator of synthetic taxpayers: nobody real, generated at test time.

Names are random combinations of common given names and surnames, so no record
describes a real person. Taxpayer identification numbers follow the issuing rules
(SSA for SSNs, IRS for ITINs) so that validators accept them; addresses use real
city / state / ZIP-prefix triples so that the "ZIP prefix matches the state" check
passes, with made-up house numbers and streets.

Nothing generated here is ever written into a committed file. SSN-shaped examples are
built at run time (a repository hook rejects dashed SSN literals in source files).

>>> people = People(seed=1)
>>> a, b = people.taxpayer(), people.taxpayer()
>>> a != b and is_valid_tin(a.ssn) and is_valid_tin(b.ssn)
True
>>> People(seed=1).taxpayer() == a
True
>>> is_valid_ssn("".join(ADVERTISING_SSNS[0]))
False
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ACCENTED_FIRST_NAMES",
    "ACCENTED_LAST_NAMES",
    "ADVERTISING_SSNS",
    "CITIES",
    "FIRST_NAMES",
    "LAST_NAMES",
    "STREET_NAMES",
    "STREET_SUFFIXES",
    "City",
    "People",
    "Taxpayer",
    "dashed",
    "invalid_tin_shapes",
    "is_valid_itin",
    "is_valid_ssn",
    "is_valid_tin",
    "spaced",
]

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy",
    "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley",
    "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah",
    "Timothy", "Stephanie", "Ronald", "Rebecca", "Edward", "Sharon", "Jason", "Laura",
    "Jeffrey", "Cynthia", "Ryan", "Kathleen", "Jacob", "Amy", "Gary", "Angela",
    "Nicholas", "Shirley", "Eric", "Brenda", "Jonathan", "Emma", "Stephen", "Olivia",
    "Larry", "Catherine", "Justin", "Virginia", "Scott", "Rachel", "Brandon", "Janet",
    "Benjamin", "Maria", "Samuel", "Heather", "Gregory", "Diane", "Alexander", "Julie",
    "Raymond", "Joyce", "Patrick", "Victoria", "Frank", "Kelly", "Dennis", "Christina",
    "Jerry", "Lauren", "Tyler", "Joan",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey",
    "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross",
    "Foster", "Jimenez",
)  # fmt: skip

# Names with letters outside ASCII that cp1252 can encode (for the cp1252 export).
ACCENTED_FIRST_NAMES: tuple[str, ...] = (
    "José", "Renée", "Zoë", "François", "Inés", "Raúl", "Chloé", "Jürgen", "Ángel",
    "Björn", "Noémie", "Joël", "Léa", "Søren", "Íñigo", "Dolores",
)  # fmt: skip
ACCENTED_LAST_NAMES: tuple[str, ...] = (
    "Müller", "Núñez", "Gómez", "Peña", "Lefèvre", "Groß", "Ibáñez", "Çelik",
    "Fernández", "Schäfer", "Šimek", "Brontë", "Østergaard", "Höglund", "Muñoz",
)  # fmt: skip

STREET_NAMES: tuple[str, ...] = (
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park",
    "Sunset", "Highland", "Ridge", "Church", "Mill", "Spring", "Lincoln", "Jefferson",
    "Walnut", "Chestnut", "Willow", "Meadow", "River", "Forest", "Franklin", "Madison",
    "Cherry", "Center", "Dogwood", "Hickory", "Magnolia", "Sycamore", "Laurel",
    "Prospect", "Valley", "Woodland", "Orchard", "Birch", "Aspen", "Juniper", "Poplar",
    "Adams", "Monroe", "Jackson", "Grant", "Harrison", "Cleveland", "Taylor", "Fairview",
    "Bayview", "Hillcrest", "Greenwood", "Brookside", "Lakeview", "Pleasant", "College",
    "School", "Academy", "Railroad", "Mulberry",
)  # fmt: skip

# USPS Publication 28 primary suffixes, as written in full and abbreviated.
STREET_SUFFIXES: tuple[str, ...] = (
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Drive", "Dr", "Lane", "Ln", "Court",
    "Ct", "Boulevard", "Blvd", "Way", "Place", "Pl", "Terrace", "Ter", "Circle", "Cir",
    "Parkway", "Pkwy", "Trail", "Trl",
)  # fmt: skip

DIRECTIONALS: tuple[str, ...] = ("N", "S", "E", "W", "NE", "NW", "SE", "SW", "North", "South")

# Streets for businesses and offices only: disjoint from STREET_NAMES, so that no
# business address in a trap file can contain a taxpayer's street line.
BUSINESS_STREETS: tuple[str, ...] = (
    "Commerce", "Industrial", "Corporate", "Enterprise", "Technology", "Executive",
    "Gateway", "Innovation", "Capitol", "Trade Center", "Business Park", "Distribution",
)  # fmt: skip
BUSINESS_NAMES: tuple[str, ...] = (
    "Acme Supply LLC", "Summit Office Products Inc", "Bluewater Logistics Co",
    "Northwind Hardware LLC", "Cascade Paper & Print", "Ironclad Fasteners Inc",
    "Prairie Electrical Supply", "Harbor Janitorial Services LLC", "Keystone Tooling Corp",
    "Redwood Catering Co", "Granite Facility Management Inc", "Silverline Couriers LLC",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class City:
    """A real city with its state and one of its real three-digit ZIP prefixes."""

    name: str
    state: str
    zip3: str


CITIES: tuple[City, ...] = (
    City("Springfield", "IL", "627"),
    City("Columbus", "OH", "432"),
    City("Austin", "TX", "787"),
    City("Denver", "CO", "802"),
    City("Portland", "OR", "972"),
    City("Albany", "NY", "122"),
    City("Madison", "WI", "537"),
    City("Raleigh", "NC", "276"),
    City("Sacramento", "CA", "958"),
    City("Phoenix", "AZ", "850"),
    City("Atlanta", "GA", "303"),
    City("Boston", "MA", "021"),
    City("Hartford", "CT", "061"),
    City("Richmond", "VA", "232"),
    City("Nashville", "TN", "372"),
    City("Minneapolis", "MN", "554"),
    City("Kansas City", "MO", "641"),
    City("Omaha", "NE", "681"),
    City("Salt Lake City", "UT", "841"),
    City("Boise", "ID", "837"),
    City("Trenton", "NJ", "086"),
    City("Burlington", "VT", "054"),
    City("Lansing", "MI", "489"),
    City("Baton Rouge", "LA", "708"),
    City("Tallahassee", "FL", "323"),
)

# Numbers the SSA voided after they were printed in advertising (wallet inserts,
# pamphlets); validators must reject them. Kept as parts: no dashed literal in source.
ADVERTISING_SSNS: tuple[tuple[str, str, str], ...] = (
    ("078", "05", "1120"),
    ("219", "09", "9999"),
    ("457", "55", "5462"),
)
_ADVERTISING = frozenset("".join(parts) for parts in ADVERTISING_SSNS)

# ITIN middle digits the IRS issues (IRS ITIN guidance); the generator uses 70-88 only.
_ITIN_GROUPS = frozenset([*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)])


def is_valid_ssn(digits: str) -> bool:
    """True if nine digits are an SSN the SSA could have issued."""
    if len(digits) != 9 or not digits.isdigit() or digits in _ADVERTISING:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return 0 < area < 900 and area != 666 and group != 0 and serial != 0


def is_valid_itin(digits: str) -> bool:
    """True if nine digits are an ITIN the IRS could have issued."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    return digits[0] == "9" and int(digits[3:5]) in _ITIN_GROUPS and int(digits[5:]) != 0


def is_valid_tin(digits: str) -> bool:
    """True if nine digits are a valid SSN or ITIN."""
    return is_valid_ssn(digits) or is_valid_itin(digits)


def dashed(digits: str) -> str:
    """``AAAGGSSSS`` as ``AAA-GG-SSSS``."""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def spaced(digits: str) -> str:
    """``AAAGGSSSS`` as ``AAA GG SSSS``."""
    return f"{digits[:3]} {digits[3:5]} {digits[5:]}"


def invalid_tin_shapes(rng: random.Random, count: int) -> list[str]:
    """Nine-digit strings that no SSN or ITIN rule allows, one of each kind in turn.

    Kinds: area 000, area 666, 9xx with a group the IRS never issues, group 00,
    serial 0000.
    """
    out: list[str] = []
    never_itin = [g for g in range(100) if g not in _ITIN_GROUPS]
    for index in range(count):
        area = rng.randint(1, 899)
        group = rng.randint(1, 99)
        serial = rng.randint(1, 9999)
        kind = index % 5
        if kind == 0:
            area = 0
        elif kind == 1:
            area = 666
        elif kind == 2:
            area = rng.randint(900, 999)
            group = rng.choice(never_itin)
        elif kind == 3:
            group = 0
        else:
            serial = 0
        digits = f"{area:03d}{group:02d}{serial:04d}"
        assert not is_valid_tin(digits)
        out.append(digits)
    return out


@dataclass(frozen=True, slots=True)
class Taxpayer:
    """One synthetic taxpayer. ``ssn`` holds nine digits: an SSN or, if it starts
    with 9, an ITIN. ``street`` excludes the unit; ``zip`` is ZIP5 or ZIP+4."""

    first: str
    middle: str
    last: str
    ssn: str
    street: str
    unit: str
    city: str
    state: str
    zip: str

    @property
    def is_itin(self) -> bool:
        """True if the TIN is an ITIN rather than an SSN."""
        return self.ssn.startswith("9")

    @property
    def full_name(self) -> str:
        """First, middle (if any) and last name."""
        return " ".join(part for part in (self.first, self.middle, self.last) if part)

    @property
    def short_name(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"

    @property
    def sorted_name(self) -> str:
        """``Last, First M.`` as in a roster."""
        if not self.middle:
            return f"{self.last}, {self.first}"
        middle = f"{self.middle}." if len(self.middle) == 1 else self.middle
        return f"{self.last}, {self.first} {middle}"

    def address_line(self, sep: str = ", ") -> str:
        """Street with its unit, if any."""
        return f"{self.street}{sep}{self.unit}" if self.unit else self.street

    def full_address(self) -> str:
        """One-line address: ``street[, unit], City, ST ZIP``."""
        return f"{self.address_line()}, {self.city}, {self.state} {self.zip}"

    def secrets(self) -> list[str]:
        """The values a report must never show: TIN, names and street line."""
        return [self.ssn, dashed(self.ssn), self.full_name, self.short_name, self.street]


class People:
    """A deterministic stream of distinct synthetic taxpayers.

    Every taxpayer from one ``People`` has its own TIN and street line; with
    ``unique_names`` (the default) also its own first + last name, so that tests can
    count taxpayers in a file by any of those values.
    """

    def __init__(self, seed: int, *, itin_share: float = 0.1, unique_names: bool = True) -> None:
        self.rng = random.Random(seed)
        self.itin_share = itin_share
        self.unique_names = unique_names
        self._tins: set[str] = set()
        self._names: set[str] = set()
        self._streets: set[str] = set()

    def reserve(self, values: Iterable[str]) -> None:
        """Mark TINs as used so that no taxpayer gets them."""
        self._tins.update(values)

    def tin(self, *, itin: bool = False) -> str:
        """A fresh valid SSN (or ITIN) as nine digits, never used before."""
        rng = self.rng
        while True:
            if itin:
                digits = f"{rng.randint(900, 999)}{rng.randint(70, 88)}{rng.randint(1, 9999):04d}"
            else:
                area = rng.randint(1, 899)
                if area == 666:
                    continue
                digits = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
            if digits not in self._tins and is_valid_tin(digits):
                self._tins.add(digits)
                return digits

    def name(self, *, accented: bool = False) -> tuple[str, str, str]:
        """A fresh (first, middle, last); middle is empty, an initial or a name."""
        rng = self.rng
        firsts = ACCENTED_FIRST_NAMES + FIRST_NAMES if accented else FIRST_NAMES
        lasts = ACCENTED_LAST_NAMES if accented else LAST_NAMES
        while True:
            first, last = rng.choice(firsts), rng.choice(lasts)
            if accented and not (first in ACCENTED_FIRST_NAMES or last in ACCENTED_LAST_NAMES):
                continue
            key = f"{first} {last}".casefold()
            if self.unique_names and key in self._names:
                continue
            self._names.add(key)
            roll = rng.random()
            if roll < 0.3:
                middle = ""
            elif roll < 0.7:
                middle = rng.choice("ABCDEFGHJKLMNPRSTW")
            else:
                middle = rng.choice(FIRST_NAMES)
            return first, middle, last

    def street(self) -> str:
        """A fresh residential street line: number, directional, name, suffix."""
        rng = self.rng
        while True:
            number = rng.choice(
                (rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 9899))
            )
            parts = [str(number)]
            if rng.random() < 0.25:
                parts.append(rng.choice(DIRECTIONALS))
            parts.append(rng.choice(STREET_NAMES))
            parts.append(rng.choice(STREET_SUFFIXES))
            line = " ".join(parts)
            if line not in self._streets:
                self._streets.add(line)
                return line

    def unit(self) -> str:
        """An apartment or unit designator, or the empty string (most addresses)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.7:
            return ""
        if roll < 0.82:
            return f"Apt {rng.randint(1, 30)}{rng.choice('ABCD')}"
        if roll < 0.9:
            return f"Apt {rng.randint(1, 450)}"
        if roll < 0.96:
            return f"Unit {rng.randint(1, 60)}"
        return f"# {rng.randint(1, 40)}"

    def place(self) -> tuple[str, str, str]:
        """(city, state, ZIP) with a ZIP whose prefix belongs to the state."""
        rng = self.rng
        city = rng.choice(CITIES)
        zip5 = f"{city.zip3}{rng.randint(1, 99):02d}"
        if rng.random() < 0.3:
            zip5 = f"{zip5}-{rng.randint(1, 9999):04d}"
        return city.name, city.state, zip5

    def taxpayer(self, *, accented: bool = False, itin: bool | None = None) -> Taxpayer:
        """A fresh taxpayer; ``itin=None`` picks an ITIN with ``itin_share`` chance."""
        if itin is None:
            itin = self.rng.random() < self.itin_share
        first, middle, last = self.name(accented=accented)
        ssn = self.tin(itin=itin)
        street, unit = self.street(), self.unit()
        city, state, zip_code = self.place()
        return Taxpayer(first, middle, last, ssn, street, unit, city, state, zip_code)

    def taxpayers(self, count: int, *, accented: bool = False) -> list[Taxpayer]:
        """``count`` fresh taxpayers."""
        return [self.taxpayer(accented=accented) for _ in range(count)]

    def business_address(self) -> tuple[str, str, str, str, str]:
        """(street, suite, city, state, ZIP) of an office: never a residential street."""
        rng = self.rng
        street = (
            f"{rng.randint(100, 9800)} {rng.choice(BUSINESS_STREETS)} "
            f"{rng.choice(('Pkwy', 'Blvd', 'Dr', 'Way', 'Ave', 'Plaza'))}"
        )
        suite = f"{rng.choice(('Suite', 'Ste', 'Room'))} {rng.randint(1, 40)}00"
        city, state, zip_code = self.place()
        return street, suite, city, state, zip_code
