"""Tests of the EDM data generator itself: the EDM suites trust its ground truth.

The copies are re-read here layout by layout (CSV rows, label blocks, JSON objects,
paragraphs, table and sheet rows), and each unit is matched against the generator's
own records: a disclosed record is present where its first and last name, house number,
street name and ZIP5 share one unit, or its TIN does. Assertion messages name files and
counts, never a generated value.
"""

from __future__ import annotations

import csv
import html
import io
import json
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.us import itin as stdnum_itin
from stdnum.us import ssn as stdnum_ssn

from ftiscan.scanner.validators import itin, ssn, usps, zipcode
from tests.synthetic.edm import (
    DIRECTIONALS,
    DISCLOSED_HEADER,
    LAYOUTS,
    MALFORMED_KINDS,
    REQUIRED_FIELDS,
    STREET_TYPES,
    TRAPS,
    Disclosed,
    EdmTruth,
    disclosed_list,
    fold,
    lookalikes,
    malformed_disclosed_csv,
    stranger_list,
    write_copies,
    write_disclosed_csv,
    write_malformed_disclosed_csv,
)
from tests.synthetic.home import secrets_in, truth_path_for

REPO = Path(__file__).resolve().parents[2]
SEED = 3


def failed(checks: dict[str, bool]) -> list[str]:
    """The names of the checks that failed: what assertions show instead of values."""
    return [name for name, ok in checks.items() if not ok]


@dataclass(frozen=True)
class World:
    root: Path
    disclosed: list[Disclosed]
    strangers: list[Disclosed]
    truth: EdmTruth


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    rng = random.Random(SEED)
    disclosed = disclosed_list(rng, 3000)
    strangers = stranger_list(rng, 600, disclosed)
    root = tmp_path_factory.mktemp("edm") / "copies"
    truth = write_copies(root, disclosed, strangers, rng, per_file=60, bulk=400)
    return World(root, disclosed, strangers, truth)


# --------------------------------------------------------------------------- reading back

_TAG = re.compile(r"<[^>]+>")
_TIN = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")
_DIRECTIONS = {fold(w) for pair in DIRECTIONALS.items() for w in pair}
_TYPES = {fold(w) for pair in STREET_TYPES.items() for w in pair}


def _flatten(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    else:
        yield str(value)


def _xml_text(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


def _sheet_rows(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        shared = [
            html.unescape(s)
            for s in re.findall(r"<si><t>(.*?)</t></si>", zf.read("xl/sharedStrings.xml").decode())
        ]
        rows = []
        for name in sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/")):
            for row in re.findall(r"<row[^>]*>(.*?)</row>", zf.read(name).decode()):
                cells = [
                    shared[int(v)] if kind else v
                    for kind, v in re.findall(r'<c r="[A-Z]+\d+"( t="s")?><v>(.*?)</v></c>', row)
                ]
                rows.append(" | ".join(cells))
    return rows


def units(path: Path, layout: str) -> list[str]:
    """The file's text in the units one record occupies: rows, blocks, objects, paragraphs."""
    data = path.read_bytes()
    if layout in ("mail-merge-csv", "headerless-csv", "roster-csv"):
        return [" | ".join(row) for row in csv.reader(io.StringIO(data.decode("utf-8")))]
    if layout in ("labels-txt", "memo-txt"):
        return data.decode("utf-8").split("\n\n")
    if layout == "crm-json":
        return [" | ".join(_flatten(obj)) for obj in json.loads(data)]
    if layout == "crm-jsonl":
        return [" | ".join(_flatten(json.loads(line))) for line in data.decode().splitlines()]
    if layout == "xlsx-tin":
        return _sheet_rows(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        document = zf.read("word/document.xml").decode("utf-8")
    element = "w:p" if layout == "memo-docx" else "w:tr"
    return [_xml_text(m) for m in re.findall(rf"<{element}>(.*?)</{element}>", document)]


class Index:
    """Which people a unit of text names, by the generator's own knowledge."""

    def __init__(self, disclosed: Sequence[Disclosed], strangers: Sequence[Disclosed]) -> None:
        self.disclosed = list(disclosed)
        self.by_address = {p.address_key: i for i, p in enumerate(disclosed)}
        self.by_tin = {p.tin: i for i, p in enumerate(disclosed)}
        self.everyone = {p.address_key for p in (*disclosed, *strangers)}

    @staticmethod
    def addresses(words: list[str]) -> Iterator[tuple[str, str]]:
        """(house, street name) pairs: a number, an optional directional, a word, and a
        street suffix (so that ``Apt 4, Madison`` is no house on Madison Street)."""
        for i, word in enumerate(words):
            if word.isdigit():
                skip = int(i + 1 < len(words) and words[i + 1] in _DIRECTIONS)
                name = i + 1 + skip
                if name + 1 < len(words) and words[name + 1] in _TYPES:
                    yield word, words[name]

    def by_name_and_address(self, text: str) -> set[int]:
        """Disclosed records whose first + last name, house, street name and ZIP5 are all
        in ``text`` (in any case, accents and punctuation)."""
        words = fold(text).split()
        vocabulary = set(words)
        found = set()
        for key in self.addresses(words):
            index = self.by_address.get(key)
            if index is None:
                continue
            p = self.disclosed[index]
            name = fold(f"{p.first} {p.last}").split()
            if p.zip5 in vocabulary and all(w in vocabulary for w in name):
                found.add(index)
        return found

    def tins(self, text: str) -> set[int]:
        """Disclosed records whose TIN is in ``text`` (bare, dashed or spaced)."""
        digits = ("".join(m.group(1, 3, 4)) for m in _TIN.finditer(text))
        return {self.by_tin[d] for d in digits if d in self.by_tin}

    def people(self, text: str) -> int:
        """How many generated people (disclosed or not) ``text`` has an address of."""
        return sum(1 for key in self.addresses(fold(text).split()) if key in self.everyone)


# --------------------------------------------------------------------------- the list


def _person_problems(p: Disclosed) -> list[str]:
    return failed(
        {
            "tin-ftiscan": (itin if p.is_itin else ssn).is_valid(p.tin),
            "tin-stdnum": (stdnum_itin if p.is_itin else stdnum_ssn).is_valid(p.tin),
            "zip+4-shape": re.fullmatch(r"\d{5}-\d{4}", p.zip) is not None,
            "zip-parts": p.zip[6:] != "0000" and p.zip5[3:] != "00",
            "zip-in-state": zipcode.consistent(p.zip, p.state),
            "names": bool(p.first and p.last),
            "street": p.street.startswith(f"{p.house} "),
            "unit": p.unit == "" or re.fullmatch(r"(Apt|Unit|#) \d+[A-D]?", p.unit) is not None,
        }
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_edm_list_is_valid_and_deterministic_per_seed(seed: int) -> None:
    """Per seed the same list; TINs valid per ftiscan and stdnum, ZIPs in their state,
    TINs and house number + street name never repeat, strangers share neither."""
    rng = random.Random(seed)
    disclosed = disclosed_list(rng, 300)
    strangers = stranger_list(rng, 200, disclosed)
    same = disclosed == disclosed_list(random.Random(seed), 300)
    other = disclosed != disclosed_list(random.Random(seed + 1), 300)
    assert (same, other) == (True, True)
    everyone = [*disclosed, *strangers]
    problems = sorted({problem for p in everyone for problem in _person_problems(p)})
    assert problems == []
    for key in ("tin", "address_key"):
        distinct = len({getattr(p, key) for p in everyone})
        assert distinct == len(everyone), key


def test_edm_list_has_the_name_and_address_variety(world: World) -> None:
    """Accents, hyphens, apostrophes, suffixes, several-word names, units, directionals,
    spelled and abbreviated suffixes and ITINs all occur; names do repeat."""
    people = world.disclosed
    counts = {
        "accent": sum(
            p.full_name != p.full_name.encode("ascii", "ignore").decode() for p in people
        ),
        "hyphen": sum("-" in p.first or "-" in p.last for p in people),
        "apostrophe": sum("'" in p.last for p in people),
        "suffix": sum(bool(p.suffix) for p in people),
        "multiword": sum(" " in p.last for p in people),
        "middle-initial": sum(len(p.middle) == 1 for p in people),
        "middle-name": sum(len(p.middle) > 1 for p in people),
        "unit": sum(bool(p.unit) for p in people),
        "hash-unit": sum(p.unit_type == "#" for p in people),
        "predir": sum(bool(p.predir) for p in people),
        "postdir": sum(bool(p.postdir) for p in people),
        "spelled": sum(p.spelled for p in people),
        "itin": sum(p.is_itin for p in people),
    }
    assert all(n >= 20 for n in counts.values()), counts
    assert counts["itin"] < len(people) // 4
    names = [fold(p.short_name) for p in people]
    assert len(set(names)) < len(names)


def test_edm_street_forms_are_usps_forms() -> None:
    """Every suffix and directional, spelled or abbreviated, means what USPS says."""
    for abbr, spelled in STREET_TYPES.items():
        assert usps.suffix(abbr) == usps.suffix(spelled) == abbr.upper()
    for abbr, spelled in DIRECTIONALS.items():
        assert usps.directional(abbr) == usps.directional(spelled) == abbr
    for designator in ("Apt", "Unit", "#"):
        assert usps.unit(designator) is not None


def test_edm_disclosed_csv_round_trips(tmp_path: Path) -> None:
    """The CSV has the header, then each record on line index + 2, in UTF-8."""
    records = disclosed_list(random.Random(5), 400)
    path = tmp_path / "disclosed.csv"
    write_disclosed_csv(path, records)
    data = path.read_bytes()
    assert data.count(b"\r\n") == len(records) + 1
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")), strict=True))
    assert tuple(rows[0]) == DISCLOSED_HEADER
    same = [tuple(r) for r in rows[1:]] == [r.csv_row() for r in records]
    accents = re.search("[À-ž]", data.decode("utf-8")) is not None
    assert failed({"rows-are-records": same, "accents-kept": accents}) == []


# --------------------------------------------------------------------------- malformed


def _reject_reason(line: str) -> str | None:
    """A reference check of one physical line of counsel's CSV."""
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return "unterminated-quote"
    if len(rows) != 1 or len(rows[0]) != len(DISCLOSED_HEADER):
        return "field-count"
    row = dict(zip(DISCLOSED_HEADER, rows[0], strict=True))
    if any(not row[name].strip() for name in REQUIRED_FIELDS):
        return "empty-required-field"
    if not re.fullmatch(r"\d{9}", row["TIN"]):
        return "bad-tin-shape"
    return None


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 120))
def test_edm_malformed_lines_are_exactly_the_bad_ones(seed: int, size: int) -> None:
    """The returned lines are exactly those a strict reader rejects, each kind occurs,
    the quote left open is on the last line, and the other lines are the records."""
    records = disclosed_list(random.Random(seed), size)
    text, bad = malformed_disclosed_csv(records, random.Random(seed))
    again = (text, bad) == malformed_disclosed_csv(records, random.Random(seed))
    lines = text.split("\r\n")
    ends_in_crlf = lines[-1] == ""
    lines = lines[:-1]
    header = lines[0] == ",".join(DISCLOSED_HEADER)
    assert failed({"deterministic": again, "crlf": ends_in_crlf, "header": header}) == []
    reasons = {n: _reject_reason(line) for n, line in enumerate(lines, start=1) if n > 1}
    assert {n for n, reason in reasons.items() if reason} == set(bad)
    assert set(bad.values()) == set(MALFORMED_KINDS)
    for n, kind in bad.items():
        expected = "field-count" if kind.endswith("-fields") else kind
        assert reasons[n] == expected, (n, kind)
    assert bad[len(lines)] == "unterminated-quote"
    good = [line for n, line in enumerate(lines, start=1) if n > 1 and n not in bad]
    parsed = [tuple(next(csv.reader([line], strict=True))) for line in good]
    same = parsed == [r.csv_row() for r in records]
    assert same, "the valid lines are not the records in order"
    whole = csv.reader(io.StringIO(text, newline=""), strict=True)
    with pytest.raises(csv.Error, match="unexpected end of data"):
        for _ in whole:
            pass
    assert whole.line_num == len(lines)  # the open quote swallowed no later row


def test_edm_write_malformed_returns_the_line_numbers(tmp_path: Path) -> None:
    """The writer stores the same text and returns the bad line numbers as a set."""
    records = disclosed_list(random.Random(8), 50)
    path = tmp_path / "bad.csv"
    lines = write_malformed_disclosed_csv(path, records, random.Random(9))
    text, bad = malformed_disclosed_csv(records, random.Random(9))
    same = path.read_bytes() == text.encode("utf-8")
    assert same, "the file is not malformed_disclosed_csv's text"
    assert lines == set(bad)


# --------------------------------------------------------------------------- copies


def test_edm_copies_hold_exactly_their_truth(world: World) -> None:
    """Re-read layout by layout, each file names exactly the disclosed records its truth
    lists (by name + address, and by TIN where it shows TINs), and as many people as
    its rows; look-alikes name none."""
    index = Index(world.disclosed, world.strangers)
    for rel, entry in world.truth.files.items():
        chunks = units(world.root / rel, entry.layout)
        by_name = set().union(*(index.by_name_and_address(c) for c in chunks))
        by_tin = set().union(*(index.tins(c) for c in chunks))
        assert by_name == set(entry.indices), f"{rel}: {len(by_name)} != {entry.records}"
        assert sum(index.people(c) for c in chunks) == entry.rows, rel
        assert len(entry.indices) == entry.records, rel
        if "tin" in entry.fields and entry.kind == "positive":
            assert by_tin == by_name, rel
        else:
            assert not by_tin, rel
        # a disclosed TIN only ever stands beside its own record
        stray = [index.tins(c) - index.by_name_and_address(c) for c in chunks]
        assert not any(stray), rel
        if entry.kind == "positive":
            assert entry.records >= 1, rel
            assert not entry.trap, rel
            assert entry.rows > entry.records, f"{rel}: not diluted, or no repeats"
        else:
            assert entry.records == 0, rel
            assert entry.trap in TRAPS, rel


def test_edm_copies_cover_every_layout_and_trap(world: World) -> None:
    """Each layout has a positive and a strangers-only look-alike; every trap kind is
    written as a roster and a mail-merge sheet; the bulk list is there."""
    truth = world.truth
    positives = {f.layout for f in truth.positives().values()}
    assert positives == set(LAYOUTS) - {"roster-csv"}
    only = {f.layout for f in truth.lookalikes().values() if f.trap == "strangers-only"}
    assert only == positives
    traps = {(f.trap, f.layout) for f in truth.lookalikes().values()}
    for trap in set(TRAPS) - {"strangers-only"}:
        assert {(trap, "roster-csv"), (trap, "mail-merge-csv")} <= traps, trap
    bulk = truth.files["Documents/Outreach/full_mailing_list.csv"]
    assert (bulk.kind, bulk.records) == ("positive", 400)
    assert sorted(truth.layouts()) == sorted(LAYOUTS)
    memo = truth.files["Documents/Notes/call_notes.txt"]
    assert memo.records == 5


def test_edm_copies_are_reformatted_as_layouts_say(world: World) -> None:
    """Spot checks of each layout's shape: headers, case, ZIP form, TIN forms, units."""
    root, by_layout = world.root, {f.layout: p for p, f in world.truth.positives().items()}

    merge_text = (root / by_layout["mail-merge-csv"]).read_text(encoding="utf-8")
    merge = list(csv.DictReader(io.StringIO(merge_text)))
    assert {"Full Name", "Address Line 1", "Postal Code"} <= set(merge[0])
    spelled = set(STREET_TYPES.values()) | set(DIRECTIONALS.values())
    assert all(set(row["Address Line 1"].split()[1:]) & spelled for row in merge)
    assert not any(set(row["Address Line 1"].split()) & set(DIRECTIONALS) for row in merge)
    assert all(re.fullmatch(r"\d{5}", row["Postal Code"]) for row in merge)
    assert all(re.fullmatch(r"(Unit \w+|#\w+)?", row["Address Line 2"]) for row in merge)
    assert any(row["Address Line 2"].startswith("#") for row in merge)

    labels = (root / by_layout["labels-txt"]).read_text(encoding="ascii")
    blocks = [block.split("\n") for block in labels.strip().split("\n\n")]
    checks = {
        "upper": labels == labels.upper(),
        "three-lines": all(len(b) == 3 for b in blocks),
        "last-first": all(re.fullmatch(r"[A-Z' -]+, [A-Z -]+", b[0]) for b in blocks),
        "city-st-zip+4": all(re.fullmatch(r"[A-Z ]+ [A-Z]{2} \d{5}-\d{4}", b[-1]) for b in blocks),
    }
    assert failed(checks) == []

    crm = json.loads((root / by_layout["crm-json"]).read_text(encoding="utf-8"))
    assert set(crm[0]["address"]) == {"line1", "line2", "city", "region", "postal"}
    assert {"firstName", "lastName"} <= set(crm[0])
    cases = {("upper" if c["firstName"].isupper() else "lower" if c["firstName"].islower()
              else "title") for c in crm}  # fmt: skip
    assert cases == {"upper", "lower", "title"}

    sheet = _sheet_rows((root / by_layout["xlsx-tin"]).read_bytes())
    tins = [row.split(" | ")[0] for row in sheet[1:] if " | " in row]
    shapes = {re.sub(r"\d", "N", t) for t in tins}
    assert {"NNNNNNNNN", "NNN-NN-NNNN", "NNN NN NNNN"} <= shapes
    book = (root / by_layout["xlsx-tin"]).read_bytes()
    with zipfile.ZipFile(io.BytesIO(book)) as zf:
        sheet1 = zf.read("xl/worksheets/sheet1.xml").decode()
    numeric = re.search(r'<c r="A\d+"><v>\d{9}</v></c>', sheet1) is not None
    assert numeric, "no TIN stored as a number"

    headerless = (root / by_layout["headerless-csv"]).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(headerless)))
    checks = {
        "last-comma-first": all(", " in row[0] for row in rows),
        "bare-tin": all(re.fullmatch(r"\d{9}", row[1]) for row in rows),
        "zip+4": all(re.fullmatch(r"\d{5}-\d{4}", row[-1]) for row in rows),
    }
    assert failed(checks) == []


def test_edm_strangers_and_lookalikes_differ_as_claimed(world: World) -> None:
    """Strangers share no TIN and no name + street + ZIP5 with the list; each look-alike
    shares what its kind says and differs where it must."""
    disclosed, strangers = world.disclosed, world.strangers
    tins = {p.tin for p in disclosed}
    keys = {(fold(p.short_name), p.address_key, p.zip5) for p in disclosed}
    addresses = {p.address_key for p in disclosed}
    shared = {
        "tin": sum(s.tin in tins for s in strangers),
        "name+street+zip5": sum(
            (fold(s.short_name), s.address_key, s.zip5) in keys for s in strangers
        ),
        "house+street": sum(s.address_key in addresses for s in strangers),
    }
    assert shared == dict.fromkeys(shared, 0)
    rng = random.Random(1)
    problems: set[str] = set()
    for trap in sorted(set(TRAPS) - {"strangers-only"}):
        pairs = lookalikes(trap, disclosed, strangers, rng, 200)
        assert len(pairs) == 200, trap
        for person, row in pairs:
            place = (row.address_key, row.unit, row.city, row.zip)
            checks = {
                "stranger-tin": row.tin not in tins,
                "name": is_same_name(person, row)
                == (trap in ("same-name-elsewhere", "same-name-street-other-city")),
                "address": (place == (person.address_key, person.unit, person.city, person.zip))
                == trap.startswith("same-address"),
                "zip-in-state": zipcode.consistent(row.zip, row.state),
            }
            if trap == "same-address-other-name":
                checks["other-last"] = fold(row.last) != fold(person.last)
            if trap == "same-address-household":
                checks["same-last"] = (row.last, row.suffix) == (person.last, "")
            if trap == "same-name-street-other-city":
                checks["same-street"] = row.street == person.street
                checks["other-zip3"] = row.zip[:3] != person.zip[:3]
            if trap == "disclosed-zip-random-tin":
                checks["same-zip+4"] = (row.city, row.state, row.zip) == (
                    person.city, person.state, person.zip
                )  # fmt: skip
            if trap in ("same-name-elsewhere", "disclosed-zip-random-tin"):
                checks["address-not-disclosed"] = row.address_key not in addresses
            problems.update(f"{trap}: {name}" for name in failed(checks))
    assert sorted(problems) == []
    with pytest.raises(ValueError, match="unknown look-alike"):
        lookalikes("strangers-only", disclosed, strangers, rng, 1)


def is_same_name(a: Disclosed, b: Disclosed) -> bool:
    """First and last name equal after folding."""
    return (fold(a.first), fold(a.last)) == (fold(b.first), fold(b.last))


def test_edm_copies_are_deterministic_and_truth_sits_outside(tmp_path: Path) -> None:
    """The same seed writes the same bytes and truth; another seed other data. The truth
    lies beside the tree, round-trips and holds no record value; inside is refused."""
    trees = {}
    for name, seed in (("a", 4), ("b", 4), ("c", 5)):
        rng = random.Random(seed)
        disclosed = disclosed_list(rng, 200)
        strangers = stranger_list(rng, 100, disclosed)
        root = tmp_path / name / "copies"
        truth = write_copies(root, disclosed, strangers, rng, per_file=20)
        files = {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }
        trees[name] = (files, truth_path_for(root).read_bytes())
        assert EdmTruth.load(truth_path_for(root)) == truth
        assert truth_path_for(root).parent == root.parent
        secrets = [s for p in (*disclosed, *strangers) for s in p.secrets()]
        leaked = len(secrets_in(trees[name][1].decode("utf-8"), secrets))
        assert leaked == 0, "the truth file holds record values"
        assert set(files) == set(truth.files)
    same, other = trees["a"] == trees["b"], trees["a"][0] != trees["c"][0]
    assert failed({"same-seed-same-bytes": same, "other-seed-other-data": other}) == []
    rng = random.Random(1)
    people = disclosed_list(rng, 10)
    with pytest.raises(ValueError, match="outside the scanned tree"):
        write_copies(tmp_path / "d", people, people, rng, truth_path=tmp_path / "d" / "t.json")


def test_edm_cli_prints_counts_only(tmp_path: Path) -> None:
    """`python -m tests.synthetic.edm OUT` writes list, malformed list, copies and truth,
    prints no value; a rerun replaces its own output; a foreign folder is refused."""
    out = tmp_path / "edm"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "tests.synthetic.edm", str(out), "--records", "2000",
             "--seed", "1", "--bulk", "100"],
            cwd=REPO, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        rows = list(csv.reader(io.StringIO((out / "disclosed.csv").read_text("utf-8"))))
        assert len(rows) == 2001
        secrets = [v for row in rows[1:] for v in (row[0], f"{row[1]} {row[3]}", row[5])]
        leaked = len(secrets_in(done.stdout + done.stderr, secrets))
        assert leaked == 0, "the CLI printed record values"
        assert "2000 disclosed records" in done.stdout
    truth = EdmTruth.load(out / "copies.truth.json")
    assert truth.disclosed == 2000
    assert len(truth.positives()) == 10
    rejected = json.loads((out / "disclosed_malformed.lines.json").read_text())["rejected"]
    assert set(rejected.values()) == set(MALFORMED_KINDS)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    refused = subprocess.run(
        [sys.executable, "-m", "tests.synthetic.edm", str(tmp_path / "other"), "--records", "10"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert (tmp_path / "other" / "keep.txt").exists()
