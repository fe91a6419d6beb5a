"""The detector's fast paths give exactly the matches of the plain regex passes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner import detect
from ftiscan.scanner.detect import (
    Detector,
    Hit,
    digit_runs,
    group_runs,
    literal_prefixes,
    run_reach,
    whole_groups,
)
from ftiscan.scanner.packs import load_packs

_RUNS = re.compile(r"[\d -][\d -]{8,}")


def _plain(detector: Detector) -> Detector:
    """The same detector with every fast path switched off."""
    slow = Detector(detector.packs)
    slow._tin_plan = tuple((sig, None) for sig in slow.tin_sigs)
    slow._provenance_plan = tuple((sig, None) for sig, _ in slow._provenance_plan)
    return slow


@pytest.fixture(scope="module")
def detectors() -> tuple[Detector, Detector]:
    fast = Detector(load_packs())
    return fast, _plain(fast)


def _key(hits: list[Hit]) -> list[tuple[object, ...]]:
    return [(h.sig.id, h.start, h.end, h.value, h.score, h.masked, h.bare) for h in hits]


def test_detector_builtin_signatures_take_the_fast_paths(
    detectors: tuple[Detector, Detector],
) -> None:
    """Every built-in TIN signature is matched run by run; every marking has prefixes."""
    fast, _ = detectors
    assert set(fast.run_local()) == {sig.id for sig in fast.tin_sigs}
    assert all(prefixes for _, prefixes in fast._provenance_plan)


@pytest.mark.parametrize(
    "pattern",
    [r"\d{3}.\d{2}", r"[ -9]{9}", r"(?i)\d{9}", r"(\d)(?=(x))", r"\d{9}(?!\d*)", r"\d{9}\b",
     r"(?P<a>\d{9})", r"[^x]{9}", r"(?<=\d{10})\d{9}", r"\d{9}(?=\s*x)"],
)  # fmt: skip
def test_run_reach_rejects_patterns_that_leave_runs(pattern: str) -> None:
    """Patterns that consume or look at more than a run's surroundings run everywhere."""
    assert run_reach(re.compile(pattern)) is None


def test_literal_prefixes_unknown_start_is_none() -> None:
    """A pattern that can start anywhere has no prefix set."""
    assert literal_prefixes(re.compile(r"\s*6103")) is None
    assert literal_prefixes(re.compile(r"(?i)§+6103")) == frozenset()


_TIN_TEXT = st.text(alphabet="0123456789" * 4 + "-  .x\n٣", max_size=300)
_WORDS = st.sampled_from(
    ["FEDERAL TAX INFORMATION", "contains Federal Tax Information", "FTI", "fti", "IRC",
     "26 U.S.C.", "§", "6103", "section", "sec.", "do not disclose", "return information",
     "DLN", "document locator no.", "MFT", "30", "tax period", "202312", "name ctrl", "SMIT",
     " ", "\n", ":", "-", "x", "1", "ſ", "İ"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_TIN_TEXT, st.booleans())
def test_detector_tins_fast_equals_plain(text: str, context: bool) -> None:
    """Run-by-run TIN matching finds what the whole-text passes find."""
    text = ("SSN " + text) if context else text
    assert _key(_DETECTOR.tins(text)) == _key(_PLAIN.tins(text))
    found = [m.span() for m in _RUNS.finditer(text)]
    digits = [s for s in found if sum(ch.isdigit() for ch in text[s[0] : s[1]]) >= 9]
    assert digit_runs(text) == digits


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, max_size=14), st.sampled_from(["", "lower", "upper"]))
def test_detector_provenance_fast_equals_plain(words: list[str], case: str) -> None:
    """Prefix-anchored marking matching finds what the whole-text passes find."""
    text = "".join(words)
    text = text.lower() if case == "lower" else text.upper() if case == "upper" else text
    assert _key(_DETECTOR.provenance(text)) == _key(_PLAIN.provenance(text))


_ASCII_TEXT = st.text(alphabet="0123456789" * 4 + "-  .x\n", max_size=300)
_GROUP_DIGITS = re.compile(r"\d+")


def _has_nine_in_groups(run: str) -> bool:
    """Consecutive whole digit groups of ``run`` hold nine digits (brute force)."""
    sizes = [len(group) for group in _GROUP_DIGITS.findall(run)]
    return any(
        sum(sizes[i:j]) == 9 for i in range(len(sizes)) for j in range(i + 1, len(sizes) + 1)
    )


@settings(max_examples=400, deadline=None)
@given(_ASCII_TEXT, st.booleans(), st.sampled_from(["dense", "re2", "located"]))
def test_detector_ascii_runs_every_way_equal_plain(text: str, context: bool, way: str) -> None:
    """On ASCII text every run finder (many runs: split; few runs: RE2, or located from
    the shape without RE2) lists the runs that hold nine digits, and of them those with
    nine digits in whole groups; matching finds what the whole-text passes find."""
    text = ("SSN " + text) if context else text
    found = [m.span() for m in _RUNS.finditer(text)]
    digits = [s for s in found if sum(ch.isdigit() for ch in text[s[0] : s[1]]) >= 9]
    groups = [s for s in digits if _has_nine_in_groups(text[s[0] : s[1]])]
    saved = detect._DENSE, detect._RUN9_FINDITER
    detect._DENSE = 10**9 if way == "dense" else 0
    if way == "located":
        detect._RUN9_FINDITER = None
    try:
        assert (digit_runs(text), group_runs(text)) == (digits, groups)
        assert _key(_DETECTOR.tins(text)) == _key(_PLAIN.tins(text))
    finally:
        detect._DENSE, detect._RUN9_FINDITER = saved


def test_detector_run_finders_without_re2_are_the_plain_regex() -> None:
    """The sparse run finder of RE2 is the one in use here (google-re2 is a dependency)."""
    assert detect._RUN9_FINDITER is not None


def test_detector_shape_cache_starts_over_when_full() -> None:
    """Shapes that never repeat do not grow the cache past its bound."""
    for width in range(9, 9 + detect._SHAPE_CACHE_MAX // 4):
        for sep in ("", " ", "-", " -"):
            group_runs("x" + "1" * 4 + sep + "2" * (width - 4) + "x")
    assert len(detect._shape_flags) <= detect._SHAPE_CACHE_MAX


@settings(max_examples=300, deadline=None)
@given(_ASCII_TEXT, st.integers(min_value=0, max_value=6))
def test_detector_keep_drops_only_the_hits_of_dropped_runs(text: str, every: int) -> None:
    """A ``keep`` filter removes exactly the hits inside the runs it drops."""
    runs = digit_runs(text)
    dropped = runs[::every] if every else []
    kept = [s for s in runs if s not in dropped]

    def keep(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [s for s in spans if s not in dropped]

    inside = [h for h in _DETECTOR.tins(text) if any(a <= h.start < b for a, b in kept)]
    assert _key(_DETECTOR.tins(text, keep=keep)) == _key(inside)


def test_detector_builtin_tins_match_whole_groups() -> None:
    """Every built-in TIN signature refuses a digit beside its match."""
    assert _DETECTOR._grouped == {sig.id for sig in _DETECTOR.tin_sigs}
    assert _DETECTOR.runs_only


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [(r"(?<!\d)\d{9}(?!\d)", True), (r"(?<![\d.-])\d{9}(?![\d.-])", True),
     (r"(?<!\d) ?\d{9} ?(?! ?\d)", True), (r"(?<!\d)(?:\d{9}|\d{3}-\d{6})(?!\d)", True),
     (r"\d{9}", False), (r"(?<!\d)\d{9}", False), (r"\d{9}(?!\d)", False),
     (r"(?<!\d[ -])\d{9}(?!\d)", False), (r"(?<![0-8])\d{9}(?!\d)", False),
     (r"(?<!\d)\d{9}(?!\d\d)", False), (r"(?<!\d)(?!\d)", False)],
)  # fmt: skip
def test_whole_groups(pattern: str, expected: bool) -> None:
    """Only a width-one look-behind and a look-ahead that both refuse digits qualify."""
    assert whole_groups(re.compile(pattern)) is expected


_DETECTOR = Detector(load_packs())
_PLAIN = _plain(_DETECTOR)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=14), st.sampled_from(["", "lower", "upper"]), st.booleans())
def test_detector_provenance_of_long_text_equals_plain(
    words: list[str], case: str, with_re2: bool
) -> None:
    """Long ASCII text takes the one-pass literal scans (RE2, or the substring search
    without it) and finds what the whole-text passes find."""
    text = "".join(words)
    text = text.lower() if case == "lower" else text.upper() if case == "upper" else text
    text = "x" * detect._SHORT_TEXT + text + " tail"
    fast = Detector(_DETECTOR.packs)
    if not with_re2:
        fast._keyword_scan = detect.LiteralScan(fast._keyword_scan.literals, use_re2=False)
        fast._literal_scan = detect.LiteralScan(fast._literal_scan.literals, use_re2=False)
    assert _key(fast.provenance(text)) == _key(_PLAIN.provenance(text))
    assert fast.may_hold_provenance(text) == any(
        keyword in text.lower() for keyword in fast._provenance_keywords
    )


@settings(max_examples=400, deadline=None)
@given(_TIN_TEXT, st.booleans())
def test_detector_may_hold_hit_is_false_only_where_tins_finds_nothing(
    text: str, context: bool
) -> None:
    """The one-pass check never rules out a text in which `tins` finds a TIN, and rules
    out every ASCII text without a run of nine digits in whole groups."""
    text = ("SSN " + text) if context else text
    if _DETECTOR.tins(text):
        assert _DETECTOR.may_hold_hit(text)
    if text.isascii() and not group_runs(text):
        assert not _DETECTOR.may_hold_hit(text)
