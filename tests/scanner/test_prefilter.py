"""The TIN prefilter: one RE2 pass lists the runs where a signature can match, and the
detector that searches only those finds exactly what the whole-text search finds."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.detect import Detector, _join_runs, group_runs
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.packs import load_packs, pack_set_from_sources
from ftiscan.scanner.prefilter import DENSE_AFTER, TinPrefilter, layouts
from ftiscan.scanner.validators import _digits, ein, itin, ssn
from tests.strategies import ein_digits, itin_digits, nine_digits, ssn_digits, tin_forms
from tests.synthetic.people import dashed, spaced

_DETECTOR = Detector(load_packs())


def _plain(detector: Detector) -> Detector:
    """The same signatures, every TIN signature searched over the whole text."""
    slow = Detector(detector.packs)
    slow._tin_plan = tuple((sig, None) for sig in slow.tin_sigs)
    return slow


_PLAIN = _plain(_DETECTOR)


def _key(detector: Detector, text: str) -> list[tuple[object, ...]]:
    return [(h.sig.id, h.start, h.end, h.value, h.score) for h in detector.tins(text)]


# Text around TINs: separators, the characters a bound looks at, other numbers.
_NOISE = st.text(alphabet="0123456789 -.x=\n", max_size=12)
_TIN = st.one_of(ssn_digits(), itin_digits(), ein_digits(), nine_digits()).flatmap(
    lambda d: st.one_of(tin_forms(d), st.just(f"{d[:2]}-{d[2:]}"))
)
_TEXT = st.lists(st.one_of(_TIN, _NOISE), max_size=12).map("".join)


def test_prefilter_builtin_detector_has_one() -> None:
    """The shipped signatures all take the prefilter (else every log pays per number)."""
    assert _DETECTOR._prefilter is not None
    assert {sig.id: layouts(sig.pattern) for sig in _DETECTOR.tin_sigs if sig.pattern} == {
        "us.ssn.dashed": {"000-00-0000"},
        "us.ssn.spaced": {"000 00 0000"},
        "us.ssn.bare": {"000000000"},
        "us.itin": {"000-00-0000", "000 00 0000", "000000000"},
        "us.ein": {"00-0000000"},
    }


@settings(max_examples=500, deadline=None)
@given(_TEXT, st.booleans())
def test_prefilter_detector_finds_what_the_whole_text_search_finds(
    text: str, context: bool
) -> None:
    """Exact: searching only the listed runs changes no hit, no score, no span."""
    text = ("SSN: " + text) if context else text
    assert _key(_DETECTOR, text) == _key(_PLAIN, text)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_prefilter_runs_are_maximal_distinct_and_in_order(text: str) -> None:
    """Each listed run is a whole run (no run character on either side) holding nine
    digits in whole groups, listed once, in order."""
    data = text.encode("ascii")
    assert _DETECTOR._prefilter is not None
    runs = _DETECTOR._prefilter.runs(data)
    assert runs is not None  # fewer than DENSE_AFTER runs: never "dense"
    assert runs == sorted(set(runs))
    whole = set(group_runs(text))
    for low, high in runs:
        assert (low, high) in whole
    assert _DETECTOR._prefilter.any(data) == bool(runs)


def test_prefilter_leaves_out_runs_no_rule_allows() -> None:
    """Area 000, 666 and 9xx SSNs (ITIN group 89), an EIN prefix 07, a ten-digit
    number, a date: no run listed; one valid number among them: its run alone."""
    area_666 = "-".join(("666", "12", "3456"))  # its nine digits pass as an EIN: not written whole
    noise = f"trace=000-12-3456 ref {area_666} id=970-89-1234 07-0000000 1234567890 2024-01-31"
    assert _DETECTOR._prefilter is not None
    assert _DETECTOR._prefilter.runs(noise.encode()) == []
    valid = dashed(valid_ssn(random.Random(3)))
    text = noise + " x " + valid + "\n" + noise
    start = text.index(valid)
    assert _DETECTOR._prefilter.runs(text.encode()) == [(start - 1, start + len(valid))]


@settings(max_examples=20, deadline=None)
@given(st.lists(ssn_digits().flatmap(tin_forms), min_size=DENSE_AFTER + 1, max_size=120))
def test_prefilter_dense_candidates_fall_back_to_every_run(tins: list[str]) -> None:
    """A table of TINs (a run every few bytes): the prefilter gives up (None) and the
    detector lists every run instead, finding the same hits."""
    text = "\n".join(f"{tin},x" for tin in tins)
    assert _DETECTOR._prefilter is not None
    assert _DETECTOR._prefilter.runs(text.encode()) is None
    hits = _DETECTOR.tins(text)
    assert _key(_DETECTOR, text) == _key(_PLAIN, text)
    assert len(hits) == len(tins)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(ssn_digits(), min_size=DENSE_AFTER + 1, max_size=100),
    st.one_of(ssn_digits(), itin_digits(), ein_digits()),
    st.integers(min_value=0),
    st.sampled_from(["bare", "spaced", "ein"]),
)
def test_dense_column_of_one_shape_still_finds_a_number_of_another(
    column: list[str], other: str, where: int, form: str
) -> None:
    """A table's TIN column in one shape (dashed) is searched by the signatures of
    other shapes only when their own RE2 pass finds their shape (`_may_match`): one
    number of another shape, anywhere in the column, is still found."""
    cells = [dashed(digits) for digits in column]
    odd = {"bare": other, "spaced": spaced(other), "ein": f"{other[:2]}-{other[2:]}"}[form]
    cells.insert(where % (len(cells) + 1), odd)
    text = "\n".join(f"row {n},{cell},x" for n, cell in enumerate(cells))
    assert _key(_DETECTOR, text) == _key(_PLAIN, text)


def test_a_shape_absent_from_the_runs_is_not_searched_for() -> None:
    cells = [dashed(valid_ssn(random.Random(seed))) for seed in range(DENSE_AFTER + 1)]
    text = "\n".join(f"{cell},x" for cell in cells)
    hits = _DETECTOR.tins(text)
    assert len(hits) == len(cells)
    assert {hit.sig.id for hit in hits} == {"us.ssn.dashed"}
    joined = _join_runs(text, group_runs(text), (1, 1))
    shown = {sig.id: _DETECTOR._may_match(sig, joined) for sig in _DETECTOR.tin_sigs}
    assert shown == {
        "us.ssn.dashed": True,
        "us.ssn.spaced": False,
        "us.ssn.bare": False,
        "us.itin": False,  # no SSN area is 9xx
        "us.ein": False,
    }


def test_prefilter_finds_runs_one_character_apart() -> None:
    """A bound character ends one candidate and starts the next: both runs listed."""
    text = b"078051120x219099999;457555462"  # the documented advertising and void numbers
    assert _DETECTOR._prefilter is not None
    assert _DETECTOR._prefilter.runs(text) == [(0, 9), (10, 19), (20, 29)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\d{3}-?\d{2}-?\d{4}", {"000-00-0000", "000-000000", "00000-0000", "000000000"}),
        (r"(?<!\d)\d{2}[- ]\d{7}(?!\d)", {"00-0000000", "00 0000000"}),
        (r"(?:\d{3}|\d{2})-\d{7}", {"00-0000000"}),  # ten digits: never nine
        (r"(\d{3})-\1-\d{3}", {"000-000-000"}),
        (r" ?\d{9}", {"000000000", " 000000000"}),
    ],
)
def test_prefilter_layouts_of_patterns(pattern: str, expected: set[str]) -> None:
    assert layouts(re.compile(pattern)) == expected


@pytest.mark.parametrize("pattern", [r"\d+", r"[\d -]{9,}", r"(?:\d[ -]?){9}\d*"])
def test_prefilter_layouts_too_involved_is_none(pattern: str) -> None:
    """Unbounded or many-shaped patterns: None (the window then allows separators
    after every digit)."""
    assert layouts(re.compile(pattern)) is None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([r"\d{3}-?\d{2}-?\d{4}", r"9\d{2}([- ]?)\d{2}\1\d{4}", r"\d{2}[- ]\d{7}"]),
       st.text(alphabet="0123456789- ", max_size=40))  # fmt: skip
def test_prefilter_layouts_hold_every_nine_digit_match(pattern: str, text: str) -> None:
    """Every nine-digit match of a pattern has one of its layouts."""
    compiled = re.compile(pattern)
    shapes = layouts(compiled)
    assert shapes is not None
    for match in compiled.finditer(text):
        shape = re.sub(r"\d", "0", match.group())
        if shape.count("0") == 9:
            assert shape in shapes


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([("ssn", ssn), ("itin", itin), ("ein", ein)]),
    nine_digits(),
    st.sampled_from(["000-00-0000", "000 00 0000", "000000000", "00-0000000", "0-00000000 "]),
    st.sampled_from(["000-00-0000", "000 00 0000", "000000000", "00-0000000"]),
)
def test_prefilter_layout_window_matches_exactly_that_layout(
    module: tuple[str, object], digits: str, layout: str, written: str
) -> None:
    """A window in a layout matches a number written in that layout when the check
    accepts it (the SSN void list is left to the check), and no other writing."""
    name, validator = module
    compiled = re.compile(_digits.window(validator.PARTS, layout))  # type: ignore[attr-defined]
    text = _write(digits, written)
    accepted = validator.is_valid_digits(digits) or (name == "ssn" and digits in ssn.VOID)  # type: ignore[attr-defined]
    assert bool(compiled.fullmatch(text.encode())) == (accepted and written == layout)


def _write(digits: str, layout: str) -> str:
    """``digits`` written in ``layout`` (digits as "0")."""
    left = iter(digits)
    return "".join(next(left) if c == "0" else c for c in layout)


def test_prefilter_window_layout_needs_its_digits() -> None:
    with pytest.raises(ValueError, match="9 digits"):
        _digits.window(ssn.PARTS, "000-00-000")


def test_prefilter_none_for_a_signature_outside_whole_groups() -> None:
    """A local pack whose TIN pattern may touch other digits: no prefilter, and the
    detector still finds what the whole-text search finds."""
    pack = b"""pack: local
version: 1
threshold: 50
signatures:
  - id: local.ssn.loose
    title: SSN anywhere in a number
    kind: tin
    entity: ssn
    score: 40
    pattern: '\\d{3}-\\d{2}-\\d{4}'
    validator: ssn
    examples:
      match: ['id {ssn}']
      no_match: ['id {ssn_area000}']
"""
    detector = Detector(pack_set_from_sources([("local.yaml", pack)]))
    assert detector._prefilter is None
    tin = dashed(valid_ssn(random.Random(4)))
    text = f"x 9{tin}0 y {tin}"  # inside a longer number, and alone
    assert _key(detector, text) == _key(_plain(detector), text)
    assert len(detector.tins(text)) == 2


def test_prefilter_without_windows_matches_nothing() -> None:
    empty = TinPrefilter([])
    text = dashed(valid_ssn(random.Random(5))).encode()
    assert not empty.any(text)
    assert empty.runs(text) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_TIN, _TEXT), min_size=1, max_size=8))
def test_prefilter_line_starts_left_out_only_there(rows: list[tuple[str, str]]) -> None:
    """``may_hold_hit(text, line_starts=False)`` is False only when every hit's run
    starts a line (a table's first column, cut off by the caller)."""
    text = "\n".join(f"{first}\x1f{rest}" for first, rest in rows)
    if _DETECTOR.may_hold_hit(text, line_starts=False):
        return
    lines = [0, *(i + 1 for i, c in enumerate(text) if c == "\n")]
    runs = group_runs(text)
    for hit in _DETECTOR.tins(text):
        run = next(r for r in runs if r[0] <= hit.start < r[1])
        assert run[0] in lines


def test_prefilter_line_starts_left_out() -> None:
    """A TIN in the first cell only: found, but ruled out with ``line_starts=False``;
    one in the second cell is not."""
    one, two = (dashed(valid_ssn(random.Random(n))) for n in (6, 7))
    first = f"{one}\x1fabc\n{two}\x1fdef"
    assert len(_DETECTOR.tins(first)) == 2
    assert not _DETECTOR.may_hold_hit(first, line_starts=False)
    second = f"x\x1f{one}\n"
    assert _DETECTOR.may_hold_hit(second, line_starts=False)


# --- one pass for TINs and provenance (`Detector.may_hold_anything`) -------------------

_MARKINGS = st.sampled_from(
    [
        "Protected by IRC 6103 - do not disclose",
        "under section 6103",
        "FEDERAL TAX INFORMATION",
        "DLN 12345",
        "MFT 30",
        "tax period 202312",
        "name control SMIT",
        "return information as defined",
        "6103",  # a keyword by chance, without the words a marking starts with
        "Birch Circle",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_TIN, _TEXT, _MARKINGS), min_size=1, max_size=8), st.booleans())
def test_may_hold_anything_is_false_only_where_nothing_is_found(
    rows: list[tuple[str, str, str]], line_starts: bool
) -> None:
    """False only when the detector finds no marking or IRS field and no TIN (but in
    runs that start a line, with ``line_starts=False``), in ASCII and other text."""
    text = "\n".join(f"{first}\x1f{rest}\x1f{mark}" for first, rest, mark in rows)
    for shown in (text, text + " é"):
        if _DETECTOR.may_hold_anything(shown, line_starts):
            continue
        assert _DETECTOR.provenance(shown) == []
        lines = [0, *(i + 1 for i, c in enumerate(shown) if c == "\n")]
        runs = group_runs(shown)
        for hit in _DETECTOR.tins(shown):
            assert not line_starts
            assert next(r for r in runs if r[0] <= hit.start < r[1])[0] in lines


def test_may_hold_anything_passes_over_keywords_met_by_chance() -> None:
    """ "6103" inside an order number is no marking: with no TIN either, one pass says
    nothing is there; a marking or a TIN in a later cell is seen."""
    tin = dashed(valid_ssn(random.Random(8)))
    quiet = "\n".join(f"{n}\x1f{n}1610300\x1fAcme Supply" for n in range(100, 140))  # ten digits
    assert not _DETECTOR.may_hold_anything(quiet)
    assert _DETECTOR.may_hold_anything(quiet + "\nx\x1fIRC 6103 confidential")
    assert _DETECTOR.may_hold_anything(quiet + f"\nx\x1f{tin}")
    assert not _DETECTOR.may_hold_anything(f"{tin}\x1fx\n" + quiet, line_starts=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TIN, _TEXT, _MARKINGS), min_size=1, max_size=40))
def test_one_pass_for_runs_and_markings_finds_what_two_find(
    rows: list[tuple[str, str, str]],
) -> None:
    """Prose whose TIN runs are found by the pass that also looks for what a marking
    starts with (``tins_next``) gets the same markings and TINs as with a pass each."""
    filler = "2025-01-02T03:04:05Z INFO request 6103 served\n" * 100  # long text
    text = filler + "\n".join(f"{first} {rest} {mark}" for first, rest, mark in rows)
    one = Detector(load_packs())
    marks = one.provenance(text, tins_next=True)
    tins = one.tins(text)
    assert _key_hits(marks) == _key_hits(_DETECTOR.provenance(text))
    assert _key_hits(tins) == _key_hits(_DETECTOR.tins(text))


def _key_hits(hits: list) -> list[tuple[str, int, int]]:
    return [(hit.sig.id, hit.start, hit.end) for hit in hits]


def test_one_pass_for_runs_and_markings_skips_keywords_met_by_chance() -> None:
    """A long log with "6103" inside its numbers and no word a marking starts with:
    the keyword set is not searched; with "IRC 6103 ... confidential" it is."""
    detector = Detector(load_packs())
    log = "2025-01-02 INFO job 16103 done in 12 ms\n" * 200
    assert detector._guarded_runs(log) is False
    marked = log + "Protected by IRC 6103 - do not disclose\n"
    assert detector._guarded_runs(marked) is True
    assert [h.sig.id for h in detector.provenance(marked, tins_next=True)] == [
        "fti.marking.irc6103-notice",
        "fti.reference.6103",
    ]
