"""EDM normalisation: one key per record however it is written; never raises."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.edm import normalize
from ftiscan.scanner.edm.normalize import (
    fold,
    name_key,
    name_key_parts,
    normalize_street,
    parse_tin,
    parse_zip5,
    street_key,
    tin,
    zip5,
)
from ftiscan.scanner.errors import InvalidComponent, InvalidFormat
from ftiscan.scanner.validators import usps
from tests.strategies import ein_digits, itin_digits, ssn_digits, tin_forms
from tests.synthetic.people import (
    ACCENTED_FIRST_NAMES,
    ACCENTED_LAST_NAMES,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_NAMES,
    People,
)

# --- fold -----------------------------------------------------------------------------


@given(st.text(max_size=200))
def test_edm_fold_idempotent_and_total(text: str) -> None:
    """`fold` never raises and folding twice changes nothing."""
    once = fold(text)
    assert fold(once) == once
    assert once == once.strip()
    assert "  " not in once


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Núñez-Groß", "NUNEZ GROSS"),
        ("O'Brien", "OBRIEN"),
        ("O’Brien", "OBRIEN"),
        ("Østergaard, Søren", "OSTERGAARD SOREN"),
        ("  a\tb\n", "A B"),
    ],
)
def test_edm_fold_accents_apostrophes_punctuation(text: str, folded: str) -> None:
    """Accents and apostrophes go, other punctuation separates words."""
    assert fold(text) == folded


# --- TIN and ZIP ----------------------------------------------------------------------


@given(
    st.one_of(ssn_digits(), itin_digits(), ein_digits()).flatmap(
        lambda d: st.tuples(st.just(d), tin_forms(d))
    )
)
def test_edm_tin_every_written_form_gives_the_digits(pair: tuple[str, str]) -> None:
    """Bare, dashed and spaced forms of a valid SSN, ITIN or EIN give its nine digits."""
    digits, written = pair
    assert tin(written) == digits
    assert tin(f"  {written} ") == digits


def test_edm_tin_refusals_name_the_reason() -> None:
    """A TIN is refused with expected-versus-seen, never quoting the value."""
    with pytest.raises(InvalidFormat, match=r"^expected 9 digits"):
        parse_tin("12345678")
    with pytest.raises(InvalidComponent, match=r"^not a valid SSN, ITIN or EIN$"):
        parse_tin("000000000")
    assert tin("12345678") is None
    assert tin("1234 5678 9") is None


def test_edm_tin_column_restores_dropped_zeros() -> None:
    """In a TIN column, 7-8 bare digits are an SSN whose leading zeros were dropped."""
    digits = People(seed=3).tin()
    short = digits.lstrip("0")
    expected = digits if len(short) >= 7 else None
    assert tin(short, column=True) == expected
    assert tin("0" + digits, column=True) is None


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("62701", False, "62701"),
        ("62701-1234", False, "62701"),
        ("62701 1234", False, "62701"),
        (" 62701 ", False, "62701"),
        ("627011234", False, None),
        ("627011234", True, "62701"),
        ("2134", False, None),
        ("2134", True, "02134"),
        ("21341234", True, "02134"),
        ("00012", False, None),  # prefix 000 is not assigned
        ("6270", True, "06270"),
        ("ABCDE", True, None),
    ],
)
def test_edm_zip5_forms(text: str, column: bool, expected: str | None) -> None:
    """ZIP and ZIP+4 give the ZIP5; a ZIP column forgives dropped leading zeros."""
    assert zip5(text, column=column) == expected


def test_edm_zip5_refusal_reasons() -> None:
    """A ZIP is refused with the failing part."""
    with pytest.raises(InvalidFormat, match=r"^expected a ZIP Code"):
        parse_zip5("6270")
    with pytest.raises(InvalidComponent, match=r"^ZIP prefix 000 is not assigned$"):
        parse_zip5("00012")


# --- names ----------------------------------------------------------------------------

_WORDS = FIRST_NAMES + LAST_NAMES + ACCENTED_FIRST_NAMES + ACCENTED_LAST_NAMES
_word = st.sampled_from(_WORDS)
_middle = st.one_of(st.just(""), st.sampled_from("ABCDEFGHJKLMNPRSTW"), _word)
_suffix = st.sampled_from(["", "Jr", "Jr.", "Sr", "II", "III", "IV"])


def _case(text: str, mode: int) -> str:
    return text if mode == 0 else text.upper() if mode == 1 else text.lower()


@given(_word, _middle, _word, _suffix, st.integers(0, 2), st.booleans())
@settings(max_examples=300)
def test_edm_name_key_order_case_accents_middle_suffix_free(
    first: str, middle: str, last: str, suffix: str, mode: int, dot: bool
) -> None:
    """First Middle Last, First M. Last, LAST, FIRST, Last, First M, LAST FIRST, any case,
    with or without accents and suffix, all give the key of the columns."""
    expected = name_key_parts(first, middle, last)
    assert expected is not None
    initial = f"{middle[:1]}{'.' if dot else ''}" if middle else ""
    tail = f" {suffix}" if suffix else ""
    forms = [
        f"{first} {middle} {last}{tail}",
        f"{first} {initial} {last}",
        f"{last}, {first}",
        f"{last}, {first} {initial}{tail}",
        f"{last}{tail}, {first} {middle}",
        f"{last} {first}",
        f"{first} {last}, {suffix}" if suffix else f"{first} {last}",
    ]
    for form in forms:
        assert name_key(_case(form, mode)) == expected
        assert name_key(fold(form)) == expected or "," in form
    assert name_key(expected) == expected  # idempotent


@given(st.text(max_size=150))
def test_edm_name_key_total_and_idempotent(text: str) -> None:
    """`name_key` never raises; a key is its own key."""
    key = name_key(text)
    if key is not None:
        assert name_key(key) == key
        assert key == fold(key)


def test_edm_name_key_needs_two_name_words() -> None:
    """A single word, initials only or titles only make no key."""
    assert name_key("Cher") is None
    assert name_key("J. R.") is None
    assert name_key("Mr. Jr.") is None
    assert name_key_parts("", "", "Ortega") is None


# --- streets --------------------------------------------------------------------------

_SUFFIX_FORMS = {abbr: sorted({primary, abbr, *forms}) for primary, abbr, forms in usps._C1}
_DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West", "NE": "Northeast"}


@st.composite
def _street_parts(draw: st.DrawFn) -> tuple[str, str, str, str, str]:
    house = str(draw(st.integers(1, 99999)))
    predir = draw(st.sampled_from(["", *_DIRECTIONS]))
    name = draw(st.sampled_from(STREET_NAMES))
    suffix = draw(st.sampled_from(sorted(_SUFFIX_FORMS)))
    unit = draw(st.sampled_from(["", "Apt 4", "APT 4B", "#12", "# 7", "Unit 3", "Apt. 210"]))
    return house, predir, name, suffix, unit


@given(_street_parts(), st.integers(0, 2), st.data())
@settings(max_examples=300, deadline=None)
def test_edm_street_key_insensitive_to_spelling(
    parts: tuple[str, str, str, str, str], mode: int, data: st.DataObject
) -> None:
    """Suffix in any Publication 28 form, directional spelled or not, any unit form, case,
    periods and a city/state/ZIP after it: one key. The canonical line re-parses to it."""
    house, predir, name, suffix, unit = parts
    reference = street_key(" ".join(x for x in (house, predir, name, suffix) if x))
    assert reference is not None
    form = data.draw(st.sampled_from(_SUFFIX_FORMS[suffix]))
    spelled = _DIRECTIONS.get(predir, "") if data.draw(st.booleans()) else predir
    line = " ".join(x for x in (house, spelled, name, form.title()) if x)
    variants = [
        line,
        f"{line}.",
        f"{line} {unit}".strip(),
        f"{line}, {unit}".rstrip(", "),
        f"{line}, Springfield, IL 62701",
        f"{line} {unit} Springfield IL 62701-1234",
    ]
    for variant in variants:
        assert street_key(_case(variant, mode)) == reference
    canonical = normalize_street(line)
    assert canonical is not None
    assert street_key(canonical) == reference
    assert normalize_street(canonical) == canonical


@given(st.text(max_size=250))
@settings(deadline=None)
def test_edm_street_key_total(text: str) -> None:
    """`street_key` never raises on arbitrary text."""
    key = street_key(text)
    assert key is None or key == fold(key)


@given(st.text(alphabet=st.sampled_from(list("0123456789 ,#-./'ABCDNSEWTabcdnsewt")), max_size=60))
@settings(deadline=None)
def test_edm_street_key_total_on_address_like_text(text: str) -> None:
    """Digits, units, directionals and punctuation in any order never raise either."""
    street_key(text)
    street_key(f"12 {text}")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("12 N. Maple Avenue, Apt 4", "12 MAPLE"),
        ("12 maple ave #4", "12 MAPLE"),
        ("12 Maple", "12 MAPLE"),
        ("12 Spring Hill Rd", "12 SPG"),
        ("12 Spring Hill", "12 SPG"),
        ("12 Fifth Ave", "12 5TH"),
        ("12 5th Avenue", "12 5TH"),
        ("12 Saint Charles Ave", "12 CHARLES"),
        ("12 St Charles Avenue", "12 CHARLES"),
        ("9535 SW Ridge Parkway", "9535 RDG"),
        ("9535 Southwest Ridge Parkway", "9535 RDG"),
        ("12 North St", "12 ST"),
        ("12 N Street", "12 ST"),
        ("12 Broadway New York NY 10001", "12 BROADWAY"),
        ("12 Oak St Mill Valley CA 94941", "12 OAK"),
        ("P.O. Box 77", "PO BOX 77"),
        ("PO BOX 77", "PO BOX 77"),
        ("Post Office Box 77", "PO BOX 77"),
        ("Maple Street", None),
        ("Apt 4", None),
        ("", None),
    ],
)
def test_edm_street_key_table(line: str, key: str | None) -> None:
    """Street keys: house number and core street name; suffix, directional, unit gone."""
    assert street_key(line) == key


def test_edm_street_hand_rules_cover_repeated_labels() -> None:
    """A line usaddress cannot label (two units) falls back to the hand rules."""
    assert street_key("12 Main St Apt 4 Apt 5") == "12 MAIN"
    assert normalize._hand_street("12 N MAIN ST SW") == normalize.Street(
        "12", ("MAIN",), "N", "ST", "SW"
    )
    assert normalize._hand_street("BOX 12") == normalize.Street("12", po_box=True)
    assert normalize._hand_street("MAIN ST") is None


def test_edm_street_keys_of_generated_people_are_stable() -> None:
    """Every generated street line keeps its key with unit and city/state/ZIP after it."""
    people = People(seed=21).taxpayers(300)
    for person in people:
        key = street_key(person.street)
        assert key is not None
        assert street_key(person.full_address()) == key
        assert street_key(person.address_line(" ").upper()) == key


def test_edm_long_street_cells_are_not_lines() -> None:
    """A cell far longer than a street line is prose: no key, and no parser call."""
    rng = random.Random(2)
    text = "12 Oak St " + " ".join(rng.choice(["word", "more"]) for _ in range(200))
    assert street_key(text) is None
