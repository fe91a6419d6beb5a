"""Record assembly: what is a taxpayer record, how many, and what is not."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.detect import Detector
from ftiscan.scanner.engine import Context, scan_parts
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import delimited
from ftiscan.scanner.model import Limits, Location, Rows
from ftiscan.scanner.packs import load_packs
from ftiscan.scanner.records import FileScan
from tests.scanner.conftest import Outcome, dashed

Scan = Callable[[bytes], Outcome]
Make = Callable[[int], list[str]]

PEOPLE = [
    ("Maria Ortega", "412 Willow Creek Rd", "Springfield", "IL", "62704"),
    ("DAVID K CHEN", "88 N Harbor Ave Apt 4B", "Columbus", "OH", "43215"),
    ("Lopez, Ana", "1503 Elm St", "Austin", "TX", "78701"),
    ("Sam Whitfield", "27 Birch Ln # 7", "Denver", "CO", "80203"),
]


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(f'"{c}"' if "," in c else c for c in r) for r in rows).encode()


def test_records_csv_with_header_counts_distinct_people(scan_bytes: Scan, ssns: Make) -> None:
    """Rows repeating a taxpayer count once: records are people, not rows."""
    ids = ssns(4)
    rows = [["Name", "SSN", "Street", "City", "State", "ZIP"]]
    rows += [[p[0], dashed(i), *p[1:]] for p, i in zip(PEOPLE, ids, strict=True)]
    rows += rows[1:3]
    assert scan_bytes(_csv(rows)) == {"fti.taxpayer-record": ("critical", 4)}


def test_records_headerless_bare_digits_found(scan_bytes: Scan, ssns: Make) -> None:
    """A headerless CSV of name, nine bare digits and a home address is found."""
    ids = ssns(4)
    rows = [[p[0], i, *p[1:]] for p, i in zip(PEOPLE, ids, strict=True)]
    assert scan_bytes(_csv(rows)) == {"fti.taxpayer-record": ("critical", 4)}


def test_records_tin_and_name_only_is_high(scan_bytes: Scan, ssns: Make) -> None:
    """TIN + name without an address is taxpayer identity data: high."""
    ids = ssns(3)
    rows = [["Name", "SSN"]] + [[p[0], dashed(i)] for p, i in zip(PEOPLE, ids, strict=False)]
    assert scan_bytes(_csv(rows)) == {"fti.tin-name": ("high", 3)}


def test_records_tin_and_address_only_is_high(scan_bytes: Scan, ssns: Make) -> None:
    """TIN + street address without a name: high."""
    ids = ssns(3)
    rows = [["SSN", "Address", "ZIP"]]
    rows += [[dashed(i), p[1], p[4]] for p, i in zip(PEOPLE, ids, strict=False)]
    assert scan_bytes(_csv(rows)) == {"fti.tin-address": ("high", 3)}


def test_records_invoice_numbers_are_not_tins(scan_bytes: Scan, ssns: Make) -> None:
    """Nine-digit invoice numbers beside business addresses find nothing."""
    ids = ssns(4)
    rows = [["Invoice", "Customer", "Address", "City", "State", "ZIP"]]
    rows += [
        [i, "Acme Supply LLC", "200 Commerce Dr Suite 200", "Austin", "TX", "78701"] for i in ids
    ]
    assert scan_bytes(_csv(rows)) == {}


def test_records_sorted_headerless_numbers_are_not_tins(scan_bytes: Scan) -> None:
    """A headerless column of ascending nine-digit numbers is an order list."""
    start = 412_550_001
    rows = [[str(start + n * 7), p[0], *p[1:]] for n, p in enumerate(PEOPLE)]
    assert scan_bytes(_csv(rows)) == {}


def test_records_lone_dashed_ssns_are_medium(scan_bytes: Scan, ssns: Make) -> None:
    """Valid dashed SSNs with no name or address nearby: medium, counted."""
    ids = ssns(3)
    text = "def test_valid():\n" + "".join(f"    assert is_valid('{dashed(i)}')\n" for i in ids)
    assert scan_bytes(text.encode()) == {"fti.tin": ("medium", 3)}


def test_records_invalid_and_advertising_numbers_find_nothing(scan_bytes: Scan) -> None:
    """Numbers no SSN rule allows, and the Woolworth card number, are not findings."""
    advert = "078" + "-05-" + "1120"
    lines = [
        f"2026-01-0{d} worker {d}: id 000-12-345{d} 666-45-678{d} 123-00-456{d}" for d in range(9)
    ]
    lines.append(f"Example card for John Smith: {advert}")
    assert scan_bytes("\n".join(lines).encode()) == {}


def test_records_prose_window_makes_records(scan_bytes: Scan, ssns: Make) -> None:
    """Name, SSN and home address within one window of prose: critical, per person."""
    ids = ssns(2)
    text = "Notes from the call.\n"
    for p, i in zip(PEOPLE, ids, strict=False):
        text += f"Spoke to {p[0]} (SSN {dashed(i)}) who lives at {p[1]}, {p[2]}, {p[3]} {p[4]}.\n\n"
    assert scan_bytes(text.encode()) == {"fti.taxpayer-record": ("critical", 2)}


def test_records_marked_list_without_tin_is_critical(scan_bytes: Scan) -> None:
    """Name + address rows under an FTI banner are taxpayer records without any TIN."""
    rows = [["Name", "Street", "City", "State", "ZIP"]] + [list(p) for p in PEOPLE]
    data = b"FEDERAL TAX INFORMATION - DO NOT DISCLOSE\n" + _csv(rows)
    out = scan_bytes(data)
    assert out["fti.marked-name-address"] == ("critical", 4)
    assert out["fti.provenance"] == ("low", 0)


def test_records_directory_without_marking_finds_nothing(scan_bytes: Scan) -> None:
    """Names and addresses alone (a staff directory) are not taxpayer records."""
    rows = [["Name", "Street", "City", "State", "ZIP"]] + [list(p) for p in PEOPLE]
    assert scan_bytes(_csv(rows)) == {}


def test_records_legal_memo_is_info(scan_bytes: Scan) -> None:
    """A memo discussing section 6103 and return information is at most a reference."""
    text = (
        "MEMORANDUM\nRe: disclosure under section 6103.\nReturn information may be shared "
        "only as the statute allows. Judge Ann Miller asked counsel to brief the point.\n"
    )
    assert scan_bytes(text.encode()) == {"fti.reference": ("info", 0)}


def test_records_footer_marking_triggers_second_pass(scan_bytes: Scan) -> None:
    """A marking in the last line still turns the name + address rows above into records."""
    rows = [["Name", "Street", "City", "State", "ZIP"]] + [list(p) for p in PEOPLE]
    data = _csv(rows) + b"\nFEDERAL TAX INFORMATION\n"
    assert scan_bytes(data)["fti.marked-name-address"] == ("critical", 4)


def test_records_strongest_rule_wins_per_person(scan_bytes: Scan, ssns: Make) -> None:
    """A TIN seen alone and later with name and address is one critical record only."""
    (one,) = ssns(1)
    p = PEOPLE[0]
    text = f"ref {dashed(one)}\n" + "x\n" * 40
    text += f"{p[0]}, SSN {dashed(one)}, {p[1]}, {p[2]}, {p[3]} {p[4]}\n"
    assert scan_bytes(text.encode()) == {"fti.taxpayer-record": ("critical", 1)}


def test_records_marked_list_under_banner_counts_every_person(scan_bytes: Scan) -> None:
    """An FTI banner line above a headed name + address table: every distinct person counts,
    including surnames that are street suffixes and cities named "... City"."""
    rows = [
        ["Name", "Street", "City", "State", "ZIP"],
        ["Daniel R Hill", "77 Valley Street, Apt 12C", "Raleigh", "NC", "27601"],
        ["Ashley Collins", "310 Pine Pl, # 21", "Salt Lake City", "UT", "84101"],
        ["Ann Brooks", "12 Church Ct", "Kansas City", "MO", "64127"],
        *[[p[0], *p[1:]] for p in PEOPLE],
    ]
    data = b"FEDERAL TAX INFORMATION - DO NOT DISCLOSE\n" + _csv(rows)
    assert scan_bytes(data)["fti.marked-name-address"] == ("critical", 7)


def test_records_headerless_rows_with_place_words_are_people(scan_bytes: Scan, ssns: Make) -> None:
    """Church, College and City in streets and cities do not make a row a business."""
    ids = ssns(3)
    rows = [
        ["WATSON MICHELLE", ids[0], "9120 CHURCH COURT", "COLUMBUS", "OH", "43242"],
        ["KELLY BETTY", ids[1], "411 COLLEGE TER APT 3", "KANSAS CITY", "MO", "64127"],
        ["Daniel R Hill", ids[2], "77 Valley Street", "Salt Lake City", "UT", "84101"],
    ]
    assert scan_bytes(_csv(rows)) == {"fti.taxpayer-record": ("critical", 3)}


# --- identifier columns: the narrow search gives what matching every cell gives -------

_KEY = b"k" * 32
_WHERE = Location(Path("mem.csv"))


def _plain_detector(det: Detector) -> Detector:
    """The same detector with every TIN signature matched over the whole text."""
    slow = Detector(det.packs)
    slow._tin_plan = tuple((sig, None) for sig in slow.tin_sigs)
    return slow


_FAST = Detector(load_packs())
_SLOW = _plain_detector(_FAST)


def _findings(det: Detector, batches: list[Rows]) -> list[dict[str, object]]:
    scan = FileScan(det, _KEY)
    for batch in batches:
        scan.feed(batch)
    return scan.findings("mem.csv", None, approved=False)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=0, max_size=24),
    st.integers(min_value=1, max_value=12),
    st.sampled_from([1, 7, 150_000]),
    st.booleans(),
    st.sampled_from([0, 2, 5]),
    st.booleans(),
)
def test_records_identifier_columns_narrow_equals_plain(
    steps: list[int], size: int, gap: int, dashed_ids: bool, at: int, ragged: bool
) -> None:
    """Identifier columns (sorted or not, anywhere in the row, in full or short rows)
    decide later batches under another header the same way whether their digit runs
    are searched or dropped and probed."""
    base = 123_450_000
    ids = [str(base + gap * k) for k in steps]
    cells = [dashed(i) if dashed_ids and n % 3 == 0 else i for n, i in enumerate(ids)]
    person = ["Maria Ortega", "412 Willow Creek Rd", "Springfield", "IL", "62704"]
    header = ("Name", "Street", "City", "State", "ZIP")
    header = (*header[:at], "Invoice", *header[at:])
    rows = [(*person[:at], cell, *person[at:]) for cell in cells]
    if ragged:
        rows = [row[: at + 1] if n % 4 == 3 else row for n, row in enumerate(rows)]
    batches = [Rows(rows[i : i + size], 2 + i, header, _WHERE) for i in range(0, len(rows), size)]
    batches.append(Rows(list(rows), 2 + len(rows), None, _WHERE))  # no header: col 0 is data
    assert _findings(_FAST, batches) == _findings(_SLOW, batches)


@pytest.mark.parametrize("order", ["random", "ascending", "descending", "sorted-then-random",
                                   "random-then-sorted", "sparse", "repeated"])  # fmt: skip
@pytest.mark.parametrize("size", [150, 100, 40])
def test_records_long_identifier_columns_narrow_equals_plain(order: str, size: int) -> None:
    """Batches longer than the probe (64 cells, 8 runs): the probe decides as all do."""
    rng = random.Random(order)
    steps = list(range(150))
    if order == "random":
        rng.shuffle(steps)
    elif order == "descending":
        steps.reverse()
    elif order == "sorted-then-random":
        tail = steps[70:]
        rng.shuffle(tail)
        steps = steps[:70] + tail
    elif order == "random-then-sorted":
        head = steps[:5]
        rng.shuffle(head)
        steps = head + steps[5:]
    elif order == "repeated":
        steps = [n // 2 for n in steps]
    cells = [str(123_450_000 + 7 * k) for k in steps]
    if order == "sparse":
        cells = [cell if n % 20 == 0 else "n/a" for n, cell in enumerate(cells)]
    person = ("Maria Ortega", "412 Willow Creek Rd", "Springfield", "IL", "62704")
    header = ("Order No", "Name", "Street", "City", "State", "ZIP")
    rows = [(cell, *person) for cell in cells]
    batches = [Rows(rows[i : i + size], 2 + i, header, _WHERE) for i in range(0, len(rows), size)]
    batches.append(Rows(list(rows), 2 + len(rows), None, _WHERE))
    assert _FAST.header_roles(header)[0] == "identifier"
    assert _findings(_FAST, batches) == _findings(_SLOW, batches)


def _quote_free_people(count: int) -> list[list[str]]:
    """``count`` distinct synthetic people, no cell needing quotes."""
    rng = random.Random(11)
    syllables = ["Al", "Bel", "Cor", "Dan", "El", "Far", "Gil", "Hal", "Ib", "Jor", "Kel"]
    endings = ["a", "en", "ick", "o", "ston", "ley", "ard", "ine"]
    out = []
    for index in range(count):
        first = rng.choice(syllables) + rng.choice(endings)
        last = rng.choice(syllables) + rng.choice(endings) + "s"
        out.append([f"{first} {last}", f"{index + 1} Oak St", "Springfield", "IL", "62704"])
    return out


def test_records_unparsed_blocks_are_read_again_under_a_footer_marking(ctx: Context) -> None:
    """Blocks of a long quote-free table left unparsed (no TIN-shaped run, no marking)
    still count every record once a footer marking sends the file through again."""
    rows = [["Name", "Street", "City", "State", "ZIP"], *_quote_free_people(7000)]
    data = _csv(rows) + b"\nFEDERAL TAX INFORMATION\n"
    assert b'"' not in data
    first = scan_parts(ctx, io.BytesIO(data), Path("list.csv"))
    assert first.again
    second = scan_parts(ctx, io.BytesIO(data), Path("list.csv"), assume_provenance=True)
    found = {f["rule"]: (f["severity"], f["records"]) for f in second.findings}
    assert found["fti.marked-name-address"] == ("critical", 7000)
    unmarked = scan_parts(ctx, io.BytesIO(_csv(rows)), Path("list.csv"))
    assert (unmarked.findings, unmarked.again) == ([], False)


def test_records_block_without_candidates_stays_unparsed() -> None:
    """A deferred batch whose text holds no nine-digit run in whole groups and no
    provenance keyword is never split into rows; the file is marked for a second pass."""
    scan = FileScan(Detector(load_packs()), b"k" * 32)
    text = "2025-01-03 18:19:45,dev-1,21.5\n2025-01-03 18:19:46,dev-2,21.7\n"
    batch = Rows(
        None, 2, ("timestamp", "device", "temp"), Location(Path("t.csv")),
        text=text, parse=lambda: [tuple(line.split(",")) for line in text.splitlines()], count=2,
    )  # fmt: skip
    scan.feed(batch)
    assert not batch.parsed
    assert scan.unanalysed
    assert scan.findings("t.csv", None, approved=False) == []


def _deferred(text: str, header: tuple[str, ...]) -> Rows:
    rows = [tuple(line.split("\x1f")) for line in text.split("\n")]
    return Rows(
        None, 2, header, Location(Path("t.csv")), text=text, parse=lambda: rows, count=len(rows)
    )


@pytest.mark.parametrize(
    ("header", "cells", "parsed"),
    [
        # nine-digit order numbers (one holding "6103") in leading identifier columns
        (("order_id", "sku", "city", "order_date", "zip"), ("{n}", "SKU-1", "Reno", "2024-01-31", "89501"), False),  # noqa: E501
        # the same numbers in an identifier column that does not lead the row
        (("city", "order_id", "zip"), ("Reno", "{n}", "89501"), False),
        # the same numbers in a column not named for identifiers
        (("city", "note", "zip"), ("Reno", "{n}", "89501"), True),
    ],
)  # fmt: skip
def test_records_identifier_runs_leave_a_block_unparsed(
    header: tuple[str, ...], cells: tuple[str, ...], parsed: bool
) -> None:
    """Runs only in identifier columns (never reported) leave a deferred block
    unparsed; a run anywhere else gets it parsed and looked at."""
    numbers = [f"{610300000 + i:09d}" for i in range(1, 200)]
    text = "\n".join("\x1f".join(cells).replace("{n}", n) for n in numbers)
    scan = FileScan(Detector(load_packs()), b"k" * 32)
    batch = _deferred(text, header)
    scan.feed(batch)
    assert batch.parsed is parsed
    assert scan.unanalysed


# --- evidence of a whole batch by column ----------------------------------------------

_NAMES = st.sampled_from(["Ann Lee", "", "  ", "Acme Supply LLC", "Bo", "Zoë Ruiz", "Nicole Co."])
_STREETS = st.sampled_from(
    ["12 Oak St", "", "PO Box 4", "P.O. Box 9", "Main Street", "1 Main St Ste 4", "Apt 3", "9"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_NAMES, _STREETS, st.sampled_from(["Reno", "NV", "x"])), min_size=1))
def test_batch_evidence_is_each_rows_evidence(rows: list[tuple[str, str, str]]) -> None:
    """By column, a batch's evidence is what each row gives alone, or None (then each
    row is looked at alone)."""
    scan = FileScan(Detector(load_packs()), b"k" * 32)
    roles = scan._roles(("Name", "Street", "City"), Location(Path("t.csv")))
    every = scan._batch_evidence(rows, roles)
    if every is not None:
        assert every == [scan._row_evidence(row, roles) for row in rows]


def test_batch_evidence_by_column_for_an_export_of_people() -> None:
    scan = FileScan(Detector(load_packs()), b"k" * 32)
    roles = scan._roles(("Name", "SSN", "Street"), Location(Path("t.csv")))
    rows = [("Ann Lee", "x", "12 Oak St"), ("Bo Ray", "x", "PO Box 4"), ("", "x", "Elm Rd")]
    assert scan._batch_evidence(rows, roles) == [
        (True, True, False),
        (True, True, False),
        (False, False, False),
    ]
    rows.append(("Acme Supply LLC", "x", "1 Main St"))  # a business: row by row
    assert scan._batch_evidence(rows, roles) is None


# --- a table batch looked at in its raw text first ------------------------------------

_HEADERS = st.sampled_from(
    ["order_id,ssn,name,street", "id,note,amount", "ref,a,b,c", "name,ssn,street,zip"]
)
_RAW_CELLS = st.sampled_from(
    ["{tin}", '"{tin}"', "457555462", "Ann Lee", '"Lee, Ann"', '"12 Oak St"', "12 Oak St",
     "IRC 6103 confidential", '"FEDERAL TAX INFORMATION"', "6103", "78701", "", '""', '"a"b']
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    _HEADERS,
    st.lists(st.lists(_RAW_CELLS, min_size=1, max_size=5), min_size=1, max_size=30),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(0, 10**6),
)
def test_raw_first_look_changes_no_finding(
    header: str, rows: list[list[str]], end: str, seed: int
) -> None:
    """A batch ruled out by one pass over its raw text (quotes, delimiters) is one the
    full look at its text rules out too: the findings and the call for a second pass
    are those of a scan that never looks at the raw text."""
    rng = random.Random(seed)
    lines = [header] + [
        ",".join(c.replace("{tin}", dashed(valid_ssn(rng))) for c in row) for row in rows
    ]
    data = end.join(lines).encode() + end.encode()
    where = Location(Path("t.csv"))
    detector = Detector(load_packs())
    outcomes = []
    for raw_first in (True, False):
        scan = FileScan(detector, b"k" * 32)
        for item in delimited.extract(io.BytesIO(data), where, Limits(batch_rows=3)):
            if not raw_first:
                item.raw = None
            scan.feed(item)
        outcomes.append((scan.findings("t.csv", None, False), scan.needs_second_pass))
    assert outcomes[0] == outcomes[1]
