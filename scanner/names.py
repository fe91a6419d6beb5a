"""Person names: shape rules for table cells and prose windows.

A person name is two to four capitalised words (``Maria L. Ortega``, ``ORTEGA MARIA``)
or ``Last, First [M]``. Business words (LLC, Inc, Department ...), street suffixes,
and words that open sentences or name institutions are not names. No name list is
used: the tool must not depend on whose names are common.
"""

from __future__ import annotations

import re

from ftiscan.scanner.literals import re2
from ftiscan.scanner.validators import states, usps

BUSINESS_WORDS = frozenset(
    """
    llc inc inc. corp corp. corporation co co. company companies ltd ltd. llp lp plc pc pllc
    group holdings partners associates services service supply supplies solutions systems
    industries international enterprises bank trust fund foundation university college
    school hospital clinic church department dept agency office bureau county city state
    district council commission center centre store shop market restaurant cafe hotel motors
    logistics consulting technologies technology labs laboratory mfg manufacturing
    distributors wholesale
    """.split()  # noqa: SIM905 -- a word list reads best as one string
)

NOT_NAME_WORDS = frozenset(
    """
    the a an and or of for to in on at by with from dear re subject date total amount
    internal revenue service irs united states social security number numbers taxpayer
    taxpayers federal tax information return returns form forms schedule notice page january
    february march july september october november december monday
    tuesday wednesday thursday friday saturday sunday mr mrs ms dr jr sr ii iii iv street
    avenue road drive lane court boulevard suite apartment unit box po phone fax email name
    address city zip ssn tin itin ein record records file report memo letter section invoice
    order account customer client total balance due paid please thank thanks regards
    sincerely attn attention dept office true false none null yes no
    """.split()  # noqa: SIM905 -- a word list reads best as one string
)

_LETTER_WORDS = re.compile(r"[^\W\d_]+\.?")  # a word may end with one "."
_TOKEN = re.compile(r"^[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*\.?$")
_INITIAL = re.compile(r"^[^\W\d_]\.?$")

# Prose: capitalised word sequences (Unicode upper-case initials via a class of
# Latin-1/Latin Extended capitals; ASCII covers most).
_CAPITAL = "[A-ZÀ-ÖØ-ÞĀ-Ž]"
_CAP = rf"{_CAPITAL}[^\W\d_]*(?:['’-][^\W\d_]+)*"
_PROSE_NAME = re.compile(
    rf"(?<![\w])(?:{_CAP}|[A-Z]\.)(?:\s+(?:{_CAP}|[A-Z]\.)){{1,3}}(?![\w])"
    rf"|(?<![\w]){_CAP},\s*{_CAP}(?:\s+[A-Z]\.?)?(?![\w])"
)


# What every match of `_PROSE_NAME` holds: a capital not after a word character,
# the rest of its word, then whitespace (or a comma) and another capital. Its first
# item is a character class, so the search skips to capitals in C, where the full
# pattern (look-behind first) is tried at every position: 2 us per 400-character
# window of a log instead of 17, and most windows (timestamps, "INFO") have none.
_NAME_HINT = re.compile(rf"{_CAPITAL}(?<!\w.){_CAP[len(_CAPITAL) :]}\.?(?:\s+|,\s*){_CAPITAL}")


def _word_ok(token: str) -> bool:
    bare = token.rstrip(".").lower()
    return bool(_TOKEN.match(token)) and bare not in BUSINESS_WORDS and bare not in NOT_NAME_WORDS


def is_person_name(cell: str, *, street_elsewhere: bool = False) -> bool:
    """A table cell holding one person's name (not a business, street or place).

    A last word that is a USPS street suffix (``Hill``, ``Lane``, ``Park``) makes the
    cell a street name, unless the row holds its street in another cell
    (``street_elsewhere``): then ``Daniel R Hill`` is a person.

    >>> is_person_name("Daniel R Hill"), is_person_name("Daniel R Hill", street_elsewhere=True)
    (False, True)
    """
    text = cell.strip()
    if not text or len(text) > 80 or any(ch.isdigit() for ch in text):
        return False
    if "," in text:
        last, _, first = text.partition(",")
        parts = last.split() + first.split()
        if not last.strip() or not first.strip():
            return False
    else:
        parts = text.split()
    if not 2 <= len(parts) <= 4:
        return False
    initials = 0
    for token in parts:
        if not token[0].isupper():
            return False
        if _INITIAL.match(token):
            initials += 1
            continue
        if not _word_ok(token):
            return False
    if initials >= len(parts) - 1:
        return False
    last_word = parts[-1].rstrip(".").upper()
    return street_elsewhere or "," in text or not usps.suffix(last_word)


def is_single_name_word(cell: str) -> bool:
    """A cell holding one capitalised name word (a first or last name column)."""
    text = cell.strip()
    return (
        2 <= len(text) <= 40
        and " " not in text
        and text[0].isupper()
        and _word_ok(text)
        and states.normalize(text) is None
    )


_BUSINESS_ALTERNATION = "|".join(
    sorted({re.escape(w.rstrip(".")) for w in BUSINESS_WORDS}, key=len, reverse=True)
)
_BUSINESS_WORD = re.compile(r"(?<![^\W\d_])(?:" + _BUSINESS_ALTERNATION + r")(?![^\W\d_])")
# In ASCII text, the same search by RE2 (no look-behind: a bound is matched instead).
_BUSINESS_WORD_ASCII = (
    None
    if re2 is None
    else re2.compile(r"(?:^|[^a-z])(?:" + _BUSINESS_ALTERNATION + r")(?:[^a-z]|$)")
)


def may_hold_business_name(text: str) -> bool:
    r"""False when no cell of ``text`` (cells joined by any character that is no
    letter) is a business name (`is_business_name`): no word of the text is a
    business word. One search for a column of names.

    >>> may_hold_business_name("Ann Lee\nBob Ray"), may_hold_business_name("Ann\nAcme Co.")
    (False, True)
    """
    lowered = text.lower()
    if _BUSINESS_WORD_ASCII is not None and lowered.isascii():
        return _BUSINESS_WORD_ASCII.search(lowered) is not None
    return _BUSINESS_WORD.search(lowered) is not None


def is_business_name(cell: str) -> bool:
    """Two or more words, one of them a business word (``Acme Supply LLC``).

    A single word is never enough: ``CO`` is Colorado as often as "company".
    """
    words = _LETTER_WORDS.findall(cell.lower())
    if len(words) < 2:
        return False
    if not BUSINESS_WORDS.isdisjoint(words):
        return True
    return any(word[:-1] in BUSINESS_WORDS for word in words if word.endswith("."))


def find_names(text: str) -> list[tuple[int, int]]:
    """Spans of person-name-shaped word runs in prose.

    A capitalised sequence is cut at words that cannot be part of a name ("Dear",
    "Street", "LLC"); each remaining run of two or more name words is a name.
    """
    if _NAME_HINT.search(text) is None:
        return []  # no two capitalised words in a row: no name (`_NAME_HINT`)
    return _name_spans(text)


def _name_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _PROSE_NAME.finditer(text):
        run_start = run_end = -1
        words = 0
        for word in re.finditer(r"[^\s,]+", match.group(0)):
            token = word.group(0)
            if _INITIAL.match(token) or _word_ok(token):
                if run_start < 0:
                    run_start = match.start() + word.start()
                run_end = match.start() + word.end()
                words += 0 if _INITIAL.match(token) else 1
                continue
            if words >= 2:
                spans.append((run_start, run_end))
            run_start, words = -1, 0
        if words >= 2:
            spans.append((run_start, run_end))
    return spans


def normalize_name(text: str) -> str:
    """Order-free comparable form: upper-case words without initials, sorted."""
    words = re.findall(r"[^\W\d_]+", text.upper())
    return " ".join(sorted(w for w in words if len(w) > 1))
