"""EDM normalisation: the one place where `edm build` and the scan turn text into keys.

Both sides call these functions, so a record written differently on a laptop (case,
accents, punctuation, ``St`` vs ``Street``, ``LAST, FIRST``, ZIP+4, ``Apt 4`` vs
``#4``) gives the same key as in counsel's list. Nothing here keeps what it read;
the caches hold keys of recently seen values in memory only, never on disk.

Keys (what `ftiscan.scanner.edm.index` hashes):

* TIN: nine digits, a valid SSN, ITIN or EIN (`tin`).
* ZIP5: five digits with an assigned prefix; ZIP+4 is cut to its ZIP (`zip5`).
* Name: the sorted pair (first given-name word, last surname word) (`name_key`):
  ``Maria L. Ortega``, ``ORTEGA, MARIA L``, ``Ortega Maria`` and ``Ortega, Maria
  Luisa Jr.`` all give ``MARIA ORTEGA``. Order-free and middle-name-free; titles
  (Mr, Dr), suffixes (Jr, Sr, II, III) and initials are dropped.
* Street: house number and street-name words (`street_key`): ``12 N Maple Ave Apt
  4``, ``12 north maple avenue, #4`` and ``12 Maple Av., Springfield IL 62701`` all
  give ``12 MAPLE``. Directionals, the suffix and the unit are dropped from the key
  (they are parsed, and kept in `Street.line`); words of the street name are written
  in their Publication 28 form (``Spring Hill`` -> ``SPG HL``, ``Fifth`` -> ``5TH``)
  so that spelling does not matter there either. PO boxes give ``PO BOX 12``.

Why the suffix and directionals are dropped: the street key is only ever hashed
together with the name and the ZIP, so two people collide only if they share first
and last name, house number, street name and ZIP but not the suffix or directional:
negligible. Keeping them would make every copy that drops or garbles the suffix
(``12 Maple``), or the directional, miss. Dropping parts of one parse never splits
two forms that matched, it only joins more.

Street lines are parsed with usaddress (a CRF model trained on US addresses), which
tells street name from suffix, unit and city without commas (``12 Broadway New York
NY``, ``12 Oak St Mill Valley CA``, ``12 Spring Hill``); when it cannot
(`usaddress.RepeatedLabelError`, or no house number and street name) the hand
rules of `_hand_street` apply.

>>> name_key("Ortega, María L., Jr."), name_key("MARIA ORTEGA"), name_key("Cher")
('MARIA ORTEGA', 'MARIA ORTEGA', None)
>>> street_key("12 N. Maple Avenue, Apt 4"), street_key("12 maple ave #4")
('12 MAPLE', '12 MAPLE')
>>> street_key("P.O. Box 77"), street_key("Maple Street")
('PO BOX 77', None)
>>> zip5("62701-1234"), zip5("6270"), zip5("6270", column=True)
('62701', None, '06270')
>>> fold("  Ångström's  café-au-lait ")
'ANGSTROMS CAFE AU LAIT'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import usaddress

from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import ein, itin, ssn, usps, zipcode

__all__ = [
    "NORMALIZER_VERSION",
    "Street",
    "fold",
    "name_key",
    "name_key_parts",
    "name_keys",
    "normalize_street",
    "parse_street",
    "parse_tin",
    "parse_zip5",
    "street_key",
    "tin",
    "zip5",
]

#: Bumped whenever a key changes for some input: an index records the version it was
#: built with, and an agent refuses an index built by another normaliser.
NORMALIZER_VERSION = 3  # 2: street keys from every word of the line; 3: "#" ends it

#: Longest street cell parsed (folded characters): longer cells are prose, not a line.
MAX_STREET_CHARS = 200

# Letters NFKD does not decompose into a base letter plus marks.
_SPECIAL = str.maketrans(
    {
        "ß": "SS",
        "ẞ": "SS",
        "Æ": "AE",
        "æ": "AE",
        "Œ": "OE",
        "œ": "OE",
        "Ø": "O",
        "ø": "O",
        "Ł": "L",
        "ł": "L",
        "Đ": "D",
        "đ": "D",
        "Ð": "D",
        "ð": "D",
        "Þ": "TH",
        "þ": "TH",
        "ı": "I",
    }
)
_APOSTROPHES = "'’‘ʼ`´"


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=16)
def _ascii_fold_table(keep: str) -> dict[int, str | None]:
    """`str.translate` table doing `_fold_chars` on upper-cased ASCII text."""
    table: dict[int, str | None] = {}
    for code in range(128):
        ch = chr(code)
        if ch.isalnum() or ch in keep:
            continue
        table[code] = None if ch in _APOSTROPHES else " "
    return table


def _fold_chars(text: str, keep: str = "") -> str:
    """Upper case without accents; apostrophes dropped; punctuation (but ``keep``) a space."""
    if text.isascii():
        return text.upper().translate(_ascii_fold_table(keep))  # in C: no step per character
    text = _strip_marks(_strip_marks(text).upper())
    out = []
    for ch in text.upper():
        if ch.isalnum() or ch in keep:
            out.append(ch)
        elif ch in _APOSTROPHES:
            continue
        else:
            out.append(" ")
    return "".join(out)


def fold(text: str) -> str:
    """Upper-case letters and digits without accents, words separated by one space.

    Apostrophes join (``O'Brien`` -> ``OBRIEN``); any other punctuation separates.
    """
    folded = " ".join(_fold_chars(text).split())
    # A few characters change again once folded (a decomposed capital that upper-cases
    # to letters with marks); a second pass makes `fold` idempotent.
    return folded if folded.isascii() else " ".join(_fold_chars(folded).split())


# --- TIN and ZIP ----------------------------------------------------------------------

_TIN_SHAPE = re.compile(r"\d{3}([- ]?)\d{2}\1\d{4}|\d{2}-\d{7}")
_TIN_COLUMN = re.compile(r"\d{7,9}")
_ZIP_SHAPE = re.compile(r"(\d{5})(?:(?:-| - | )\d{4})?")
_ZIP_COLUMN = re.compile(r"(\d{3,5}|\d{8,9})(?:-\d{4})?")


def _tin_digits(digits: str) -> bool:
    return (
        ssn.is_valid_digits(digits) or itin.is_valid_digits(digits) or ein.is_valid_digits(digits)
    )


def parse_tin(text: str, *, column: bool = False) -> str:
    """The nine digits of a TIN written ``NNN-NN-NNNN``, ``NNN NN NNNN``, ``NN-NNNNNNN``
    or bare; raise `InvalidFormat` / `InvalidComponent` (never quoting the value).

    In a TIN ``column``, 7 or 8 bare digits are an SSN whose leading zeros a
    spreadsheet dropped.
    """
    text = text.strip()
    if text.isascii() and _TIN_SHAPE.fullmatch(text):
        digits = text.replace("-", "").replace(" ", "")
    elif column and text.isascii() and _TIN_COLUMN.fullmatch(text):
        digits = text.zfill(9)
    else:
        raise InvalidFormat("expected 9 digits (NNN-NN-NNNN, NNN NN NNNN, NN-NNNNNNN)")
    if not _tin_digits(digits):
        raise InvalidComponent("not a valid SSN, ITIN or EIN")
    return digits


def tin(text: str, *, column: bool = False) -> str | None:
    """`parse_tin`, or ``None`` for what is not a valid TIN."""
    try:
        return parse_tin(text, column=column)
    except (InvalidFormat, InvalidComponent):
        return None


def parse_zip5(text: str, *, column: bool = False) -> str:
    """The ZIP5 of a ZIP Code or ZIP+4; raise if it is none or its prefix is unassigned.

    In a ZIP ``column``, 3-4 digits (or 8 for a ZIP+4) are a ZIP whose leading zeros a
    spreadsheet dropped, and 9 bare digits are a ZIP+4.
    """
    text = text.strip()
    match = _ZIP_SHAPE.fullmatch(text) if text.isascii() else None
    if match:
        value = match.group(1)
    elif column and text.isascii() and (match := _ZIP_COLUMN.fullmatch(text)):
        digits = match.group(1)
        value = digits.zfill(5) if len(digits) <= 5 else digits.zfill(9)[:5]
    else:
        raise InvalidFormat("expected a ZIP Code (NNNNN or NNNNN-NNNN)")
    if not zipcode.state_for_zip(value):
        raise InvalidComponent(f"ZIP prefix {value[:3]} is not assigned")
    return value


def zip5(text: str, *, column: bool = False) -> str | None:
    """`parse_zip5`, or ``None`` for what is not a ZIP Code."""
    try:
        return parse_zip5(text, column=column)
    except (InvalidFormat, InvalidComponent):
        return None


# --- names ------------------------------------------------------------------------------

_NAME_DROP = frozenset(
    """
    MR MRS MS MISS MX DR PROF REV SIR MADAM HON
    JR SR II III IV VI VII VIII 2ND 3RD 4TH ESQ MD PHD DDS DVM CPA RN
    """.split()  # noqa: SIM905 -- a word list reads best as one string
)


def _name_words(text: str) -> list[str]:
    return [w for w in fold(text).split() if len(w) > 1 and w.isalpha() and w not in _NAME_DROP]


def _pair(given: str, surname: str) -> str:
    return f"{given} {surname}" if given <= surname else f"{surname} {given}"


@lru_cache(maxsize=16384)
def name_key(text: str) -> str | None:
    """Key of a person's name in one cell: ``First [Middle] Last``, ``Last, First [M]``,
    ``LAST FIRST``; ``None`` without two name words.

    >>> name_key("Dr. José  de la Peña-Núñez III"), name_key("Peña-Núñez, José M.")
    ('JOSE NUNEZ', 'JOSE NUNEZ')
    """
    if len(text) > 120:
        return None
    head, comma, tail = text.partition(",")
    if comma:
        given = _name_words(tail)
        surname = _name_words(head)
        if given and surname:
            return _pair(given[0], surname[-1])
        if not given:  # "Maria Ortega, Jr.": the comma only set off a suffix
            text = head
    words = _name_words(text)
    return _pair(words[0], words[-1]) if len(words) >= 2 else None


def name_keys(text: str) -> list[str]:
    """`name_key` first, then the keys of the other ways a name without a comma may be
    split into surname and given names (``SMITH-JONES MARIA`` as surname first): what
    a scan tries for one cell or prose name. The index holds `name_key` only.

    >>> name_keys("Smith-Jones Maria"), name_keys("Maria Ortega")
    (['MARIA SMITH', 'JONES SMITH', 'JONES MARIA'], ['MARIA ORTEGA'])
    """
    first = name_key(text)
    if first is None or "," in text:
        return [first] if first else []
    words = _name_words(text)
    keys = [first, *(_pair(words[i + 1], words[i]) for i in range(len(words) - 1))]
    return list(dict.fromkeys(keys))


def name_key_parts(first: str, middle: str, last: str) -> str | None:
    """Key of a name given in columns; the same as `name_key` of ``Last, First Middle``.

    >>> name_key_parts("J.", "Robert", "Smith Jr") == name_key("J. Robert Smith")
    True
    """
    given = _name_words(first) or _name_words(middle)
    surname = _name_words(last)
    return _pair(given[0], surname[-1]) if given and surname else None


# --- streets ----------------------------------------------------------------------------


def _ordinal(n: int) -> str:
    ending = {1: "ST", 2: "ND", 3: "RD"}.get(n % 10, "TH") if n // 10 != 1 else "TH"
    return f"{n}{ending}"


_ORDINALS = {
    word: _ordinal(n)
    for n, word in enumerate(
        """FIRST SECOND THIRD FOURTH FIFTH SIXTH SEVENTH EIGHTH NINTH TENTH ELEVENTH TWELFTH
        THIRTEENTH FOURTEENTH FIFTEENTH SIXTEENTH SEVENTEENTH EIGHTEENTH NINETEENTH
        TWENTIETH""".split(),  # noqa: SIM905 -- a word list reads best as one string
        start=1,
    )
}
_NAME_WORD = {"SAINT": "ST", "MOUNT": "MT", "FORT": "FT", "POINT": "PT"}
_UNIT_ALONE = frozenset({"BSMT", "FRNT", "LBBY", "LOWR", "OFC", "PH", "REAR", "SIDE", "UPPR"})
_PO_BOX = re.compile(r"^(?:(?:P ?O ?|POST OFFICE )?BOX|POB) ([A-Z0-9]{1,10})\b")
_CLEAN = str.maketrans({".": None, "'": None})


def _word(word: str) -> str:
    """A street-name word in its one written form."""
    return (
        _ORDINALS.get(word)
        or _NAME_WORD.get(word)
        or usps.suffix(word)
        or usps.directional(word)
        or word
    )


def _house(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


_KEY_PUNCT = re.compile(r"[^\w ]+|_")


@dataclass(frozen=True, slots=True)
class Street:
    """A parsed street line; every part is upper case in its Publication 28 form."""

    house: str  # the house number, or the box number of a PO box
    name: tuple[str, ...] = ()
    predir: str = ""
    suffix: str = ""
    postdir: str = ""
    po_box: bool = False

    @property
    def key(self) -> str:
        """What is hashed: the house number and the core of the street name (``12
        MAPLE``), from every word of the street line whatever part the parser gave it
        (``Southwest Ridge Parkway`` may come as directional + ``Ridge`` + suffix, or as
        the name ``Southwest Ridge``): the words that are neither directionals nor
        suffixes; if there are none (``North St``, ``Spring Hill Rd``), the words but
        directionals, without trailing suffix words (``ST``, ``SPG``)."""
        if self.po_box:
            return f"PO BOX {self.house}"
        line = [w for w in (self.predir, *self.name, self.suffix, self.postdir) if w]
        words = [w for w in line if not usps.directional(w) and not usps.suffix(w)]
        if not words:
            words = [w for w in line if not usps.directional(w)] or line
            while len(words) > 1 and usps.suffix(words[-1]):
                words.pop()
        # Punctuation left inside a word ("4/" of "1/4") separates, as `fold` does.
        return " ".join(_KEY_PUNCT.sub(" ", " ".join((self.house, *words))).split())

    @property
    def line(self) -> str:
        """The whole line without its unit: ``12 N MAPLE AVE``."""
        if self.po_box:
            return self.key
        parts = (self.house, self.predir, *self.name, self.suffix, self.postdir)
        return " ".join(part for part in parts if part)


def _street_text(text: str) -> str:
    """What usaddress reads: upper case without accents, keeping ``, # -``."""
    return " ".join(_fold_chars(text.translate(_CLEAN), keep=",#-/").split())


def _from_tags(tags: dict[str, str]) -> Street | None:
    box = tags.get("USPSBoxID")
    if box is not None and "AddressNumber" not in tags:
        number = _house(box)
        return Street(number, po_box=True) if number else None
    house = _house(tags.get("AddressNumber", ""))
    if not house or not house[0].isdigit():
        return None
    words = " ".join(
        tags.get(label, "")
        for label in ("StreetNamePreModifier", "StreetNamePreType", "StreetName")
    ).split()
    if any(w.startswith("#") for w in words):
        return None  # "#12" read as a street name: the labels are off, the hand rules decide
    post = tags.get("StreetNamePostType", "").split()
    words += post[:-1]  # "RIDGE PARKWAY" as one post-type: RIDGE is a name word
    suffix = post[-1] if post else ""
    if not words and suffix:  # "12 Park": the only word is the name
        words, suffix = [suffix], ""
    name = tuple(_word(w) for w in words if _house(w))
    if not name:
        return None
    return Street(
        house,
        name,
        predir=usps.directional(tags.get("StreetNamePreDirectional", "")) or "",
        suffix=usps.suffix(suffix) or _house(suffix),
        postdir=usps.directional(tags.get("StreetNamePostDirectional", "")) or "",
    )


def _hand_street(text: str) -> Street | None:
    """Publication 28 shape rules, for what usaddress cannot label.

    House number first; the line ends at the first comma, at a unit (``#4``, ``Apt
    4``) or after the suffix (the last of a run of suffix words, so that ``Spring
    Hill Rd`` keeps ``SPRING HILL``); a directional next to the name is a directional
    unless it is the only word.
    """
    flat = " ".join(text.replace(",", " , ").split())
    box = _PO_BOX.match(flat)
    if box:
        return Street(box.group(1), po_box=True)
    tokens = flat.split()
    if not tokens or not tokens[0][0].isdigit():
        return None
    house, rest = _house(tokens[0]), tokens[1:]
    if "," in rest:
        rest = rest[: rest.index(",")]
    for i, token in enumerate(rest):
        if i > 0 and (
            token.startswith("#")
            or token in _UNIT_ALONE
            or (usps.unit(token) and i + 1 < len(rest) and any(c.isdigit() for c in rest[i + 1]))
        ):
            rest = rest[:i]
            break
    suffix = postdir = ""
    for i in range(1, len(rest)):
        if usps.suffix(rest[i]) and (i + 1 == len(rest) or not usps.suffix(rest[i + 1])):
            suffix = usps.suffix(rest[i]) or ""
            after = rest[i + 1 : i + 2]
            postdir = (usps.directional(after[0]) or "") if after else ""
            rest = rest[:i]
            break
    predir = ""
    if len(rest) >= 2 and usps.directional(rest[0]):
        predir, rest = usps.directional(rest[0]) or "", rest[1:]
    if not suffix and not postdir and len(rest) >= 2 and usps.directional(rest[-1]):
        postdir, rest = usps.directional(rest[-1]) or "", rest[:-1]
    name = tuple(_word(w) for w in rest if _house(w))
    return Street(house, name, predir, suffix, postdir) if house and name else None


@lru_cache(maxsize=16384)
def _parse_folded(text: str) -> Street | None:
    try:
        tags, _kind = usaddress.tag(text)
    except usaddress.RepeatedLabelError:
        return _hand_street(text)
    return _from_tags(dict(tags)) or _hand_street(text)


def parse_street(text: str) -> Street | None:
    """The parts of a street line (``None`` without a house number and street name, or
    a PO box). The cell may go on with a unit, a city, a state and a ZIP."""
    if len(text) > 2 * MAX_STREET_CHARS:
        return None
    folded = _street_text(text)
    if not folded or len(folded) > MAX_STREET_CHARS:
        return None
    return _parse_folded(folded)


def street_key(text: str) -> str | None:
    """Key of a street line: house number + street-name words, or ``PO BOX N``."""
    street = parse_street(text)
    return street.key if street else None


def normalize_street(text: str) -> str | None:
    """The street line in one written form, without its unit (``12 N MAPLE AVE``)."""
    street = parse_street(text)
    return street.line if street else None
