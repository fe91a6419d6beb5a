"""EDM lookups: exact hits on reformatted copies, none on strangers or look-alikes."""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.reports.dsse import key_id
from ftiscan.scanner.edm import match, normalize
from ftiscan.scanner.edm.build import EdmBuilder
from ftiscan.scanner.edm.index import combo_message, load_index
from ftiscan.scanner.edm.match import EdmHit, EdmMatcher
from tests.synthetic.edm import TRAPS, Disclosed, disclosed_list, lookalikes, stranger_list
from tests.synthetic.people import dashed, spaced


@dataclass
class World:
    matcher: EdmMatcher = field(repr=False)
    listed: list[Disclosed] = field(repr=False)
    strangers: list[Disclosed] = field(repr=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """An index of 400 synthetic people and 400 strangers who share no TIN or address."""
    rng = random.Random(31)
    listed = disclosed_list(rng, 400)
    strangers = stranger_list(rng, 400, listed)
    key, signer = secrets.token_bytes(32), Ed25519PrivateKey.generate()
    builder = EdmBuilder(key)
    for p in listed:
        builder.add(
            tin=p.tin, first=p.first, middle=p.middle, last=p.last, street=p.street, zip=p.zip
        )
    path: Path = tmp_path_factory.mktemp("edm") / "fti.edm"
    path.write_bytes(builder.to_bytes(signer))
    public = signer.public_key()
    index = load_index(path, key, {key_id(public): public})
    return World(EdmMatcher(index), listed, strangers)


def _ascii(text: str) -> str:
    table = str.maketrans({"ß": "ss", "Ø": "O", "ø": "o"})
    decomposed = unicodedata.normalize("NFKD", text.translate(table))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _record(p: Disclosed) -> str:
    name = normalize.name_key_parts(p.first, p.middle, p.last)
    street = normalize.street_key(p.street)
    assert name is not None
    assert street is not None
    return combo_message(name, street, p.zip5)


def _initial(p: Disclosed) -> str:
    return f"{p.middle[0]}." if p.middle else ""


Row = tuple[list[str], dict[int, str]]
# Each layout: (person, rng) -> (cells, roles), and the combination it must hit.
LAYOUTS: dict[str, tuple[Callable[[Disclosed, random.Random], Row], str]] = {
    "roster with header": (
        lambda p, r: (
            [dashed(p.tin), p.full_name, p.street, p.unit, p.city, p.state, p.zip],
            {0: "tin", 1: "name", 2: "street", 4: "city", 5: "state", 6: "zip"},
        ),
        "tin+zip5",
    ),
    "headerless, LAST, FIRST, bare TIN, suffix respelled, # unit": (
        lambda p, r: (
            [
                f"{p.last}, {p.first} {p.middle}".strip(),
                p.tin,
                p.street_as(spelled=not p.spelled, directional_spelled=True),
                p.unit_as("#"),
                p.city,
                p.state,
                p.zip,
            ],
            {},
        ),
        "tin+zip5",
    ),
    "TIN and ZIP only, spaced TIN": (lambda p, r: ([spaced(p.tin), p.zip5], {}), "tin+zip5"),
    "mail merge, no TIN, upper case ASCII, Unit N": (
        lambda p, r: (
            [
                p.zip5,
                _ascii(p.full_name).upper(),
                "(555) 555-0100",
                p.street_as(spelled=True, directional_spelled=True).upper(),
                p.unit_as("Unit"),
                p.city,
                p.state,
            ],
            {0: "zip", 1: "name", 3: "street", 5: "city", 6: "state"},
        ),
        "name+street+zip5",
    ),
    "headerless first, last, one-line address": (
        lambda p, r: ([p.first, p.last, p.one_line()], {}),
        "name+street+zip5",
    ),
    "first/middle/last columns, ZIP+4 in its own column": (
        lambda p, r: (
            [p.first, _initial(p), p.last, p.street, p.unit, p.zip],
            {0: "first-name", 1: "first-name", 2: "last-name", 3: "street", 5: "zip"},
        ),
        "name+street+zip5",
    ),
    "lower case, name last-first without comma": (
        lambda p, r: ([f"{p.last} {p.first}".lower(), p.street.lower(), p.zip5], {}),
        "name+street+zip5",
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_edm_row_reformatted_copies_hit_exactly_once(world: World, layout: str) -> None:
    """Every listed person, in every layout, gives exactly one hit of the right form."""
    render, combo = LAYOUTS[layout]
    rng = random.Random(4)
    wrong = []
    for n, person in enumerate(world.listed):
        cells, roles = render(person, rng)
        hits = world.matcher.row(cells, roles)
        expected = person.tin if combo == "tin+zip5" else _record(person)
        if [(h.combo, h.record) for h in hits] != [(combo, expected)]:
            wrong.append(n)
    assert wrong == [], f"{len(wrong)} of {len(world.listed)} rows without exactly one hit"


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_edm_row_strangers_never_hit(world: World, layout: str) -> None:
    """Strangers (no shared TIN or address) in every layout give no hit at all."""
    render, _ = LAYOUTS[layout]
    rng = random.Random(5)
    hits = sum(len(world.matcher.row(*render(p, rng))) for p in world.strangers)
    assert hits == 0


@pytest.mark.parametrize("trap", [t for t in TRAPS if t != "strangers-only"])
def test_edm_row_lookalikes_never_hit(world: World, trap: str) -> None:
    """Rows sharing a weaker combination with the list (a name elsewhere, an address with
    another name, a listed ZIP beside a stranger's TIN ...) give no hit."""
    rng = random.Random(6)
    roles = {0: "tin", 1: "name", 2: "street", 4: "city", 5: "state", 6: "zip"}
    total = 0
    for _, row in lookalikes(trap, world.listed, world.strangers, rng, 200):
        cells = [dashed(row.tin), row.full_name, row.street, row.unit, row.city, row.state, row.zip]
        total += len(world.matcher.row(cells, roles))
        total += len(world.matcher.row(cells[1:], {}))
    assert total == 0


def test_edm_row_tin_without_zip_or_with_another_zip_is_no_hit(world: World) -> None:
    """A listed TIN alone, or with a ZIP that is not its own, only passes the gate."""
    person, stranger = world.listed[0], world.strangers[0]
    assert world.matcher.tin_listed(person.tin)
    assert world.matcher.row([dashed(person.tin), person.full_name], {}) == []
    other_zip = stranger.zip5 if stranger.zip5 != person.zip5 else "10001"
    assert world.matcher.row([dashed(person.tin), other_zip], {}) == []


def test_edm_row_two_people_two_hits(world: World) -> None:
    """A joint row (two listed TINs, one ZIP) is two people; a repeated TIN is one."""
    a, b = world.listed[1], world.listed[2]
    both = world.matcher.row([dashed(a.tin), dashed(b.tin), a.zip5, b.zip5], {})
    assert sorted(h.record for h in both) == sorted([a.tin, b.tin])
    again = world.matcher.row([a.tin, dashed(a.tin), a.zip5], {})
    assert [h.record for h in again] == [a.tin]


def test_edm_row_tin_and_name_of_one_person_is_one_hit(world: World) -> None:
    """TIN + ZIP and name + street + ZIP of one person in one row: one hit, the TIN form,
    at the TIN's column."""
    p = world.listed[3]
    hits = world.matcher.row([p.full_name, p.street, p.zip, dashed(p.tin)], {})
    assert [(h.combo, h.record, h.start) for h in hits] == [("tin+zip5", p.tin, 3)]
    assert hits[0].strength == 24 + 32


def test_edm_row_without_zip_is_cheap(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row without a ZIP-shaped token returns at once: no name or street is parsed."""

    def boom(_: str) -> None:
        raise AssertionError("parsed a street for a row without a ZIP")

    monkeypatch.setattr(normalize, "street_key", boom)
    monkeypatch.setattr(normalize, "name_key", boom)
    monkeypatch.setattr(normalize, "name_keys", boom)
    p = world.listed[4]
    assert world.matcher.row([p.full_name, dashed(p.tin), p.street, p.city, p.state], {}) == []
    assert world.matcher.row([], {}) == []
    assert world.matcher.text(f"{p.full_name}, {p.street}, {p.city}") == []


# --- prose ---------------------------------------------------------------------------------


def _memo(p: Disclosed, rng: random.Random) -> str:
    middle = _initial(p) if rng.random() < 0.5 else ""
    name = " ".join(x for x in (p.first, middle, p.last) if x)
    street = p.street_as(spelled=rng.random() < 0.5, directional_spelled=rng.random() < 0.5)
    addr = p.one_line(street=street, zip_code=p.zip5)
    return f"On Monday I spoke with {name} at {addr} about the notice, and will call back."


def _label(p: Disclosed, rng: random.Random) -> str:
    given = " ".join(x for x in (p.first, p.middle[:1]) if x)
    street = " ".join(x for x in (p.street_as(spelled=False), p.unit) if x)
    return _ascii(f"{p.last}, {given}\n{street}\n{p.city} {p.state} {p.zip}".upper())


def _letter(p: Disclosed, rng: random.Random) -> str:
    return (
        f"Re: taxpayer {dashed(p.tin)}.\nPlease write to {p.full_name}, {p.one_line()}.\nThank you."
    )


def _call_note(p: Disclosed, rng: random.Random) -> str:
    """A sentence that opens with a capitalised verb just before the name."""
    return f"Called {p.first} {p.last} at {p.one_line(zip_code=p.zip5)} about the notice."


PROSE: dict[str, tuple[Callable[[Disclosed, random.Random], str], str]] = {
    "memo": (_memo, "name+street+zip5"),
    "call note": (_call_note, "name+street+zip5"),
    "label": (_label, "name+street+zip5"),
    "letter with TIN": (_letter, "tin+zip5"),
}


@pytest.mark.parametrize("kind", list(PROSE))
def test_edm_text_finds_each_listed_person_once(world: World, kind: str) -> None:
    """Memo sentences, mailing labels and letters give one hit per listed person, and
    none for strangers."""
    render, combo = PROSE[kind]
    rng = random.Random(8)
    wrong = []
    for n, p in enumerate(world.listed[:150]):
        # Names of five or more words ("Maria L. Van der Berg") are not prose names.
        if kind in ("memo", "call note") and len(p.last.split()) > 1:
            continue
        hits = world.matcher.text(render(p, rng))
        expected = p.tin if combo == "tin+zip5" else _record(p)
        if [(h.combo, h.record) for h in hits] != [(combo, expected)]:
            wrong.append(n)
    assert wrong == [], f"{len(wrong)} texts without exactly one hit"
    assert sum(len(world.matcher.text(render(p, rng))) for p in world.strangers[:150]) == 0


def test_edm_text_several_people_in_one_text(world: World) -> None:
    """A text with several listed people among strangers gives one hit for each listed."""
    rng = random.Random(9)
    people = world.listed[10:20] + world.strangers[10:20]
    rng.shuffle(people)
    text = "\n\n".join(_label(p, rng) for p in people)
    hits = world.matcher.text(text)
    assert sorted(h.record for h in hits) == sorted(_record(p) for p in world.listed[10:20])
    assert [h.start for h in hits] == sorted(h.start for h in hits)


def test_edm_text_tin_far_from_zip_is_no_hit(world: World) -> None:
    """A TIN counts only within 300 characters of the ZIP."""
    p = world.listed[30]
    filler = " lorem" * 80
    assert world.matcher.text(f"{dashed(p.tin)} {filler} {p.zip5}") == []
    assert len(world.matcher.text(f"{dashed(p.tin)} {filler[:200]} {p.zip5}")) == 1


def test_edm_hit_repr_hides_the_record() -> None:
    """A hit's repr (test failures, logs) never shows its record."""
    hit = EdmHit("name+street+zip5", "SECRET NAME|12 SECRET|62701", 3, 64)
    assert "SECRET" not in repr(hit)
    assert "62701" not in repr(hit)


def test_edm_row_fields_second_given_name_is_middle() -> None:
    """Two given-name columns: the second is the middle name."""
    fields = match._fields({0: "first-name", 1: "first-name", 2: "last-name", 9: "zip"}, 3)
    assert fields == {"first": [0], "middle": [1], "last": [2]}


def test_edm_shaped_names() -> None:
    """Name cells with suffixes and particles are names; cities and streets are not."""
    cells: Sequence[str] = ("Ortega, Maria L Jr", "De la Cruz, Maria", "Maria de la Cruz")
    assert all(match._name_shaped(c) for c in cells)
    assert not match._name_shaped("Springfield")
    assert not match._name_shaped("12 Oak St")
