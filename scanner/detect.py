"""Match signatures against text: TINs (pattern + validator + context) and provenance.

A `Hit` keeps the compact value only in memory, for keyed fingerprints and distinct
counts; nothing here is ever written out. Context words raise a hit's score but never
create a hit on their own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress, repeat
from operator import eq, itemgetter, methodcaller
from typing import Any

from ftiscan.scanner import _regex
from ftiscan.scanner.literals import LiteralScan
from ftiscan.scanner.literals import re2 as _re2
from ftiscan.scanner.packs import NINE_DIGIT_VALIDATORS, PackSet, Signature
from ftiscan.scanner.prefilter import DENSE_AFTER as _DENSE_AFTER
from ftiscan.scanner.prefilter import TinPrefilter
from ftiscan.scanner.validators import ein as _ein
from ftiscan.scanner.validators import itin as _itin
from ftiscan.scanner.validators import ssn as _ssn

_parser: Any = _regex.parser
_compiler: Any = _regex.compiler
_ASCII = [chr(code) for code in range(128)]

_MASK = str.maketrans("0123456789", "**********")
_COMPACT = str.maketrans("", "", "- ")
_START, _END, _RAW = itemgetter(0), itemgetter(1), itemgetter(2)  # of a `Span`

# --- digit runs: where a nine-digit TIN can be -----------------------------------------
#
# A *run* is a maximal stretch of digits, dashes and spaces. A validator of
# `NINE_DIGIT_VALIDATORS` accepts only text made of nine digits plus dashes and spaces,
# so every accepted match lies inside one run that holds at least nine digits. When a
# pattern can consume nothing but digits, dashes and spaces (`run_local_width` checks
# its source), every match it can make, accepted or not, lies inside one run, so
# matches in one run never hide matches in another: running the pattern on each run
# that holds nine digits (with the ``behind`` characters before it visible to
# look-behinds and the ``ahead`` characters after it to look-aheads) yields exactly
# the accepted matches of running it over the whole text. The runs, each with that
# context, are joined by newlines (which no such pattern consumes) and searched in
# one call per pattern. Most text has no such run at all, which one C-level translate
# and find establishes.

# A maximal run holding nine digits: the first character has no run character before
# it (checked after consuming it, so that the search skips to run characters in C).
_RUN = re.compile(
    r"[\d -](?<![\d -].)(?:(?<=\d)[ -]*(?:\d[ -]*){8}|(?<!\d)[ -]*(?:\d[ -]*){9})[\d -]*"
)
_NINE = b"0" * 9
_SHAPE = bytes(0x30 if 0x30 <= b <= 0x39 else 0x78 for b in range(256))  # digit -> "0"
_DIGIT_SHAPE = bytes(0x30 if 0x30 <= b <= 0x39 else b for b in range(256))  # others kept
_RUN_SHAPE = bytes(0x30 if 0x30 <= b <= 0x39 or b in b" -" else 0x78 for b in range(256))
_RUN_STRETCH = re.compile(rb"(000000000+)")  # in `_RUN_SHAPE`: runs of 9+ characters
_GROUP = re.compile(rb"0+")
_NINE_DIGITS = re.compile(rb"000000000+")  # a literal prefix: searched fast in C
_SEPARATORS = re.compile(rb"[ -]*")
_RUN_TAIL = re.compile(rb"[0-9 -]*")
_DENSE = 400  # fewer than one stretch of nine digits per this many bytes: locate each
_QUANT = re.compile(r"\{(?:(\d+)(?:,(\d*))?|,(\d+))\}")
_MEMBER_CHARS = frozenset("0123456789- ")

# What a run's shape (digits as "0", dashes and spaces kept) allows: bit `_DIGITS9` when
# it holds nine digits, bit `_GROUPS9` when consecutive whole digit groups of it (a
# group is a maximal stretch of digits) hold nine digits together. A pattern whose
# matches never have a digit just before or after them (`whole_groups`) can make a
# nine-digit match only in a run of the second kind: "2024-01-31 12" (groups 4, 2, 2,
# 2) holds ten digits but no nine-digit match of such a pattern. Shapes repeat (dates,
# times, fixed-width numbers), so they are classified once per process.
_DIGITS9 = 1
_GROUPS9 = 2
_SHAPE_CACHE_MAX = 8192
_SHAPE_KEY_MAX = 64
_shape_flags: dict[bytes, int] = {}


def _classify(shape: bytes) -> int:
    """`_DIGITS9` / `_GROUPS9` bits of one run's shape (see above)."""
    groups = [end - start for start, end in (m.span() for m in _GROUP.finditer(shape))]
    if sum(groups) < 9:
        return 0
    total = low = 0
    for size in groups:  # two pointers: consecutive groups summing to exactly 9
        total += size
        while total > 9:
            total -= groups[low]
            low += 1
        if total == 9:
            return _DIGITS9 | _GROUPS9
    return _DIGITS9


def _flags_of(shape: bytes) -> int:
    flags = _classify(shape)
    if len(shape) <= _SHAPE_KEY_MAX:
        if len(_shape_flags) >= _SHAPE_CACHE_MAX:
            _shape_flags.clear()  # text whose shapes do not repeat: start over
        _shape_flags[shape] = flags
    return flags


class _NotLocal(Exception):
    """A pattern or a match falls outside what `run_local_width` guarantees."""


def _ascii_runs(data: bytes, shape: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(runs holding nine digits, runs holding nine digits in whole groups) of ASCII text.

    ``shape`` is ``data`` with dashes and spaces deleted and digits made "0": each
    maximal stretch of "0" in it is the digits of one run, so the stretches of nine
    are the runs wanted. When they are few (usual in prose and logs), each is located
    in ``data`` by counting dashes and spaces in C (`_locate`); when they are many
    (tables of dates and times), every run of nine or more characters is listed by one
    split and classified by its shape (`_split_runs`).
    """
    if len(data) < _DENSE * shape.count(_NINE):
        return _split_runs(data)
    if _RUN9_FINDITER is not None:
        return _re2_runs(data)
    digits: list[tuple[int, int]] = []
    groups: list[tuple[int, int]] = []
    at = 0  # data offset
    kept = 0  # characters other than dashes and spaces in data[:at]
    for match in _NINE_DIGITS.finditer(shape):
        target = match.start()
        while kept < target:  # advance to the target-th character that is kept
            ahead = at + (target - kept)
            kept += ahead - at - data.count(b" ", at, ahead) - data.count(b"-", at, ahead)
            at = ahead
        lead = _SEPARATORS.match(data, at)  # always matches (a starred class)
        assert lead is not None
        first = lead.end()  # the run's first digit
        low = first
        while low and data[low - 1] in (0x20, 0x2D):  # dashes and spaces before it
            low -= 1
        tail = _RUN_TAIL.match(data, first)
        assert tail is not None
        high = tail.end()
        kept += high - at - data.count(b" ", at, high) - data.count(b"-", at, high)
        at = high
        digits.append((low, high))
        key = data[low:high].translate(_DIGIT_SHAPE)
        flags = _shape_flags.get(key)
        if flags is None:
            flags = _flags_of(key)
        if flags & _GROUPS9:
            groups.append((low, high))
    return digits, groups


def _re2_runs(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """`_ascii_runs` for text with few runs, by RE2 (one pass of its DFA, about three
    times faster than locating each run from ``shape``): `_RUN9` matches exactly the
    maximal runs that hold nine digits (see there); their shapes are classified
    through the shape cache."""
    assert _RUN9_FINDITER is not None
    digits = [match.span() for match in _RUN9_FINDITER(data)]
    groups = []
    for low, high in digits:
        key = data[low:high].translate(_DIGIT_SHAPE)
        flags = _shape_flags.get(key)
        if flags is None:
            flags = _flags_of(key)
        if flags & _GROUPS9:
            groups.append((low, high))
    return digits, groups


def _split_runs(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """`_ascii_runs` for text with many runs: in ``data`` with every run character made
    "0" one split (a literal search in C) cuts out the runs of nine or more characters;
    their shapes are cut from ``data`` with digits made "0" by C-level maps, looked up in
    the shape cache, and only the runs that qualify become spans."""
    pieces = _RUN_STRETCH.split(data.translate(_RUN_SHAPE))
    if len(pieces) == 1:
        return [], []
    ends = list(accumulate(map(len, pieces)))
    lows, highs = ends[0:-1:2], ends[1::2]
    shapes = list(map(data.translate(_DIGIT_SHAPE).__getitem__, map(slice, lows, highs)))
    known = list(map(_shape_flags.get, shapes))
    for index in [i for i, f in enumerate(known) if f is None]:
        found = _shape_flags.get(shapes[index])  # classified at an earlier index
        known[index] = _flags_of(shapes[index]) if found is None else found
    flags: list[int] = known  # type: ignore[assignment] # every None was replaced above
    spans = list(zip(lows, highs, strict=True))
    digits = list(compress(spans, flags))
    groups = list(compress(spans, map((_GROUPS9).__and__, flags)))
    return digits, groups


# The maximal runs holding nine digits, on ASCII bytes. A match starts at the first
# position from which nine digits follow with only dashes and spaces between them, which
# is the first character of a run holding nine digits (runs are separated by characters
# the pattern does not consume), and the greedy tail takes the rest of the run. Without
# look-arounds, so that RE2 answers it in one pass; Python's engine would try it at every
# digit (ten times slower than locating runs from their shape), so it is used only with
# RE2.
_RUN9 = rb"(?:[ -]*[0-9]){9}[0-9 -]*"
_RUN9_FINDITER: Callable[[bytes], Iterator[Any]] | None = (
    None if _re2 is None else _re2.compile(_RUN9).finditer
)

# A run holding nine digits in consecutive whole groups (`_GROUPS9`), in text with
# digits made "0" (`_DIGIT_SHAPE`): nine digits with only dashes and spaces between
# them and no digit just before or after. Without look-arounds, so that RE2 (a DFA, in
# one pass) can answer it.
_GROUPS9_TEXT = rb"(?:^|[^0])0(?:[ -]*0){8}(?:[^0]|$)"
_GROUPS9_SEARCH = (
    re.compile(_GROUPS9_TEXT) if _re2 is None else _re2.compile(_GROUPS9_TEXT)
).search


def may_hold_tin(text: str) -> bool:
    """Whether ``text`` has a run of digits, dashes and spaces holding nine digits
    (without listing the runs: one translate and find on ASCII text)."""
    if text.isascii():
        return _NINE in text.encode("ascii").translate(_SHAPE, b"- ")
    return _RUN.search(text) is not None


def ascii_runs(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(`digit_runs`, `group_runs`) of ASCII text given as bytes; a caller may first
    overwrite parts of it with a byte that is not a run character, to leave them out."""
    shape = data.translate(_SHAPE, b"- ")
    if _NINE not in shape:
        return [], []
    return _ascii_runs(data, shape)


def digit_runs(text: str) -> list[tuple[int, int]]:
    """Spans of the maximal runs of digits, dashes and spaces holding 9+ digits."""
    return _runs(text)[0]


def group_runs(text: str) -> list[tuple[int, int]]:
    """The `digit_runs` in which consecutive whole digit groups hold nine digits.

    On text that is not ASCII this is `digit_runs` (a superset, which is exact too).
    """
    return _runs(text)[1]


def _runs(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    if text.isascii():  # byte offsets are character offsets; bytes regexes run faster
        data = text.encode("ascii")
        shape = data.translate(_SHAPE, b"- ")
        if _NINE not in shape:
            return [], []
        return _ascii_runs(data, shape)
    runs = [match.span() for match in _RUN.finditer(text)]
    return runs, runs


def _quantifier(src: str, i: int, bounded: bool) -> tuple[int, int]:
    """Skip a quantifier at ``src[i]``: (next index, max repeat; -1 when unbounded)."""
    most = 1
    if i < len(src) and src[i] in "?*+":
        most = 1 if src[i] == "?" else -1
        i += 1
    elif i < len(src) and src[i] == "{":
        match = _QUANT.match(src, i)
        if match is None:
            raise _NotLocal  # a literal "{"
        low, high, only_high = match.groups()
        if only_high is not None:
            most = int(only_high)
        elif high is None:
            most = int(low)
        else:
            most = int(high) if high else -1
        i = match.end()
    else:
        return i, 1
    if bounded and most < 0:
        raise _NotLocal
    if i < len(src) and src[i] in "?+":  # lazy or possessive
        i += 1
    return i, most


def _member_class(src: str, i: int) -> int:
    """Skip a character class at ``src[i] == "["`` holding only digits, "-" and " "."""
    j = i + 1
    if src[j] in "^]":
        raise _NotLocal
    while src[j] != "]":
        if src[j] == "\\":
            escape = src[j + 1]
            j += 2
            if escape == "d":
                continue
            if escape not in "- ":
                raise _NotLocal
            low = escape
        elif src[j] == "[":
            raise _NotLocal
        else:
            low = src[j]
            j += 1
        if src[j] == "-" and src[j + 1] != "]":
            high = src[j + 1]
            if not ("0" <= low <= high <= "9"):
                raise _NotLocal
            j += 2
        elif low not in _MEMBER_CHARS:
            raise _NotLocal
    return j + 1


def _skip_class(src: str, j: int) -> int:
    """Skip any character class at ``src[j] == "["``."""
    j += 1
    if src[j] == "^":
        j += 1
    if src[j] == "]":
        j += 1
    while src[j] != "]":
        j += 2 if src[j] == "\\" else 1
    return j + 1


def _lookaround(src: str, j: int) -> tuple[int, int]:
    """Skip a look-around body of bounded width: (index after its ")", width).

    Only characters, classes and escapes, with bounded quantifiers and alternatives:
    no groups, anchors, word boundaries or back-references.
    """
    widest = width = 0
    while True:
        c = src[j]
        if c == ")":
            return j + 1, max(widest, width)
        if c == "|":
            widest, width, j = max(widest, width), 0, j + 1
            continue
        if c == "\\":
            if src[j + 1] in "bBAZ123456789":
                raise _NotLocal
            j += 2
        elif c == "[":
            j = _skip_class(src, j)
        elif c in "()^$?*+{}":
            raise _NotLocal
        else:
            j += 1
        j, most = _quantifier(src, j, bounded=True)
        width += most


def _local(src: str, i: int, depth: int, reach: list[int]) -> int:
    """Check a (sub)pattern from ``src[i]``; return the index of its end.

    ``reach`` collects the widest look-behind and look-ahead seen: [behind, ahead].
    """
    while i < len(src):
        c = src[i]
        if c == ")":
            if not depth:
                raise _NotLocal
            return i
        if c == "|":
            i += 1
            continue
        if src.startswith(("(?<!", "(?<="), i):
            i, width = _lookaround(src, i + 4)
            reach[0] = max(reach[0], width)
            continue
        if src.startswith(("(?!", "(?="), i):
            i, width = _lookaround(src, i + 3)
            reach[1] = max(reach[1], width)
            continue
        if c == "(":
            if src.startswith("(?", i) and not src.startswith("(?:", i):
                raise _NotLocal  # flags, named groups, comments, atomic groups
            start = i + 3 if src.startswith("(?:", i) else i + 1
            i = _local(src, start, depth + 1, reach) + 1
        elif c == "\\":
            escape = src[i + 1 : i + 2]
            if escape == "d" or escape in ("-", " "):
                i += 2
            elif escape in "123456789" and not src[i + 2 : i + 3].isdigit():
                i += 2  # a back-reference to a group of run characters
            else:
                raise _NotLocal
        elif c == "[":
            i = _member_class(src, i)
        elif c in _MEMBER_CHARS:
            i += 1
        else:
            raise _NotLocal
        i, _ = _quantifier(src, i, bounded=False)
    if depth:
        raise _NotLocal
    return i


def run_reach(pattern: re.Pattern[str]) -> tuple[int, int] | None:
    """(look-behind, look-ahead) widths of ``pattern`` when its matches stay in runs.

    None unless everything the pattern consumes is a digit (``\\d``, ``[0-9]``), a
    dash or a space, its look-arounds have a bounded width, and it has no anchors,
    word boundaries, or flags other than the default ones. The check is
    conservative: None only costs speed.

    >>> run_reach(re.compile(r"(?<![\\d-])\\d{3}-\\d{2}-\\d{4}(?![\\d-])"))
    (1, 1)
    >>> run_reach(re.compile(r"\\b\\d{9}\\b")) is None
    True
    """
    if pattern.flags & ~(re.UNICODE | re.ASCII):
        return None
    reach = [0, 0]
    try:
        _local(pattern.pattern, 0, 0, reach)
    except (_NotLocal, IndexError):
        return None
    if max(reach) > _MAX_REACH:
        return None
    return reach[0], reach[1]


def _blocks_digit(item: Any, flags: int, behind: bool) -> bool:
    """Whether the zero-width ``item`` fails wherever a digit stands just before
    (``behind``) or just after the position it is tried at."""
    const = _parser
    op, av = item
    if op is not const.ASSERT_NOT:
        return False
    direction, body = av
    if (direction < 0) != behind:
        return False
    if behind and body.getwidth() != (1, 1):
        return False
    matcher = _compiler.compile(body, flags)
    # Run-local look-arounds (`run_reach`) have no anchors or groups: a body that
    # matches a lone digit also matches at a digit followed by anything.
    test = matcher.fullmatch if behind else matcher.match
    return all(test(digit) for digit in "0123456789")


def whole_groups(pattern: re.Pattern[str]) -> bool:
    """Whether no match of ``pattern`` can have a digit just before or just after it.

    True when a top-level negative look-behind of width one before the first
    consuming item and a negative look-ahead after the last both refuse a digit: the
    digits of every match are then whole digit groups of its run. Call only for
    patterns that `run_reach` accepts.

    >>> whole_groups(re.compile(r"(?<![\\d-])\\d{3}-\\d{2}-\\d{4}(?![\\d-])"))
    True
    >>> whole_groups(re.compile(r"(?<!\\d[ -])\\d{9}(?![\\d-])"))
    False
    """
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        flags = parsed.state.flags
        items = list(parsed)
        zero = (_parser.ASSERT, _parser.ASSERT_NOT, _parser.AT)
        lead = []
        for item in items:
            if item[0] not in zero:
                break
            lead.append(item)
        tail = []
        for item in reversed(items):
            if item[0] not in zero:
                break
            tail.append(item)
        if len(lead) == len(items):
            return False  # nothing consumed
        return any(_blocks_digit(item, flags, True) for item in lead) and any(
            _blocks_digit(item, flags, False) for item in tail
        )
    except (AttributeError, TypeError, ValueError, IndexError, re.error):
        return False  # a parser this code does not know: use the wider runs


Span = tuple[int, int, str]
"""(start, end, text) of the matched group."""


_MAX_REACH = 9  # runs are 9+ characters apart: only the first and last piece are clipped


@dataclass(slots=True)
class _Joined:
    """The runs of one text, each with its context, joined by newlines."""

    text: str
    runs: list[tuple[int, int]]
    starts: list[int]  # per run: where it starts in ``text`` of the joined form
    bases: list[int]  # per run: offset in the joined text minus offset in the original
    data: bytes | None = None  # ``text`` as ASCII bytes, once encoded (`Detector._may_match`)


def _join_runs(text: str, runs: list[tuple[int, int]], reach: tuple[int, int]) -> _Joined:
    behind, ahead = reach
    los = [start - behind for start, _ in runs]
    his = [end + ahead for _, end in runs]
    los[0] = max(0, los[0])
    his[-1] = min(len(text), his[-1])
    pieces = [text[lo:hi] for lo, hi in zip(los, his, strict=True)]
    offsets = [0, *accumulate(len(piece) + 1 for piece in pieces)]
    bases = [offset - lo for offset, lo in zip(offsets, los, strict=False)]
    starts = [start + base for (start, _), base in zip(runs, bases, strict=True)]
    return _Joined("\n".join(pieces), runs, starts, bases)


def _in_runs(pattern: re.Pattern[str], group: int, joined: _Joined) -> list[Span]:
    """The matches of ``pattern`` that start inside the runs (see the section comment)."""
    out = []
    starts, bases, runs = joined.starts, joined.bases, joined.runs
    for match in pattern.finditer(joined.text):
        at = match.start()
        if match.end() == at:
            raise _NotLocal  # empty matches interact with the search position
        index = bisect_right(starts, at) - 1
        if index < 0:
            continue  # in the look-behind context before the first run
        base = bases[index]
        if at - base >= runs[index][1]:
            continue  # in the look-ahead context after a run
        begin, finish = match.span(group)
        out.append((begin - base, finish - base, match.group(group)))
    return out


# A run can hold a match that a nine-digit validator accepts only if nine consecutive
# digits of it are accepted: its `WINDOW` (the accepted numbers as a regex, dashes and
# spaces allowed after each digit) matches in the run. The runs of a text are joined by
# newlines (which a window does not consume, so each match lies in one run) and split
# at the windows, in C: the newlines before each window tell its run (C-level maps, no
# Python step per window), and only those runs are searched by the signatures. In logs,
# where most nine-digit runs are numbers no rule allows, a few per cent are left. A
# search finds a window wherever one starts, so the runs kept are all that hold one.
# Only on ASCII runs: there the windows accept exactly the digits the checks accept.
_WINDOWS: dict[str, Callable[[bytes], list[bytes]]] = {
    name: re.compile(b"(?:" + module.WINDOW + b")").split
    for name, module in (("ssn", _ssn), ("itin", _itin), ("ein", _ein))
}
_NEWLINES = methodcaller("count", b"\n")
_PARTS = {"ssn": _ssn.PARTS, "itin": _itin.PARTS, "ein": _ein.PARTS}  # see `TinPrefilter`


@lru_cache(maxsize=8)
def _prefilter(signatures: tuple[tuple[re.Pattern[str], str], ...]) -> TinPrefilter:
    """The `TinPrefilter` of (pattern, validator name) pairs, built once per process
    for the same signatures (a scan builds its context more than once)."""
    return TinPrefilter([(pattern, _PARTS[name]) for pattern, name in signatures])


def _with_window(
    text: str, runs: list[tuple[int, int]], split: Callable[[bytes], list[bytes]]
) -> list[tuple[int, int]]:
    """The ``runs`` of ``text`` in which a `_WINDOWS` pattern (its ``split``) matches;
    all of them when one is not ASCII."""
    joined = "\n".join(map(text.__getitem__, map(slice, *zip(*runs, strict=True))))
    if not joined.isascii():
        return runs
    gaps = split(joined.encode("ascii"))  # the text between windows
    if len(gaps) == 1:
        return []
    # The run of the k-th window: the newlines in the gaps before it.
    found = sorted(set(accumulate(map(_NEWLINES, gaps[:-1]))))
    return list(map(runs.__getitem__, found))


def _scores(sig: Signature, words: tuple[str, ...], text: str, spans: list[Span]) -> list[int]:
    """The score of each of ``sig``'s ``spans``: boosted when one of the context
    ``words`` stands in the characters before it."""
    boosted = min(100, sig.score + sig.boost)
    out = []
    for start, _, _ in spans:
        before = text[max(0, start - sig.before_chars) : start].lower()
        out.append(boosted if any(map(before.__contains__, words)) else sig.score)
    return out


def _anywhere(data: bytes) -> bool:
    """The shape search of a signature the prefilter does not know: it may match."""
    return True


def _everywhere(pattern: re.Pattern[str], group: int, text: str) -> list[Span]:
    return [(*match.span(group), match.group(group)) for match in pattern.finditer(text)]


def mask(text: str) -> str:
    """Shape only: every digit becomes ``*``; separators stay."""
    return text.translate(_MASK)


@dataclass(slots=True)
class Hit:
    """One validated match. ``value`` is the compact identifier (memory only)."""

    sig: Signature
    start: int
    end: int
    value: str
    score: int
    masked: str
    bare: bool


# --- literal prefixes: where a marking or field pattern can start ---------------------
#
# Provenance patterns are long alternations (often case-insensitive) that the regex
# engine tries at every position of a block. Each pattern is parsed once into the
# set of (lower-case) strings of up to `_PREFIX` characters that every match starts
# with; on ASCII text (where ``str.lower`` keeps offsets) `str.find` lists the few
# places where they occur, and ``pattern.match`` is tried only there, in order, as
# ``finditer`` would (look-behinds still see the text before each place). Anything
# the parser does not know makes the pattern run over the whole text, as before.

_PREFIX = 6  # longer prefixes start fewer places: "ret" is in "retry", "return" is rarer
_SHORT_TEXT = 4096  # shorter texts look keywords up without a memo
_MAX_PREFIXES = 256
_MAX_PREFIX_SCANS = 64  # scans kept, one per set of prefixes present


def _ascii_chars(state: Any, item: Any, flags: int) -> set[str]:
    """The ASCII characters (lower-cased) that the one-character ``item`` matches."""
    single = _compiler.compile(_parser.SubPattern(state, [item]), flags)
    return {ch.lower() for ch in _ASCII if single.fullmatch(ch)}


def _prefixes(state: Any, items: Iterable[Any], flags: int) -> tuple[set[str], bool]:
    """(prefixes every match of ``items`` starts with, whether they are whole matches)."""
    const = _parser  # opcodes live in the parser's namespace
    result = {""}
    for op, av in items:
        if op in (const.AT, const.ASSERT, const.ASSERT_NOT):
            continue  # zero width
        if op in (const.LITERAL, const.IN):
            step, whole = _ascii_chars(state, (op, av), flags), True
        elif op is const.SUBPATTERN:
            _, add, remove, sub = av
            step, whole = _prefixes(state, sub, (flags | add) & ~remove)
        elif op is const.BRANCH:
            step, whole = set(), True
            for alternative in av[1]:
                more, complete = _prefixes(state, alternative, flags)
                step |= more
                whole = whole and complete
        elif op in (const.MAX_REPEAT, const.MIN_REPEAT, const.POSSESSIVE_REPEAT) and av[0]:
            step, whole = _prefixes(state, av[2], flags)
            whole = whole and av[0] == av[1] == 1
        else:
            return result, False  # anything else ends what is known
        if not step:
            return set(), True  # no ASCII text can match here
        result = {(head + tail)[:_PREFIX] for head in result for tail in step}
        if len(result) > _MAX_PREFIXES:
            raise _NotLocal
        if not whole or min(map(len, result)) >= _PREFIX:
            return result, False
    return result, True


def literal_prefixes(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Lower-case strings one of which starts every match of ``pattern`` on ASCII text.

    None when no useful set is known (a match could start anywhere).

    >>> sorted(literal_prefixes(re.compile(r"(?i)\\bDLN\\b|document")))
    ['dln', 'docume']
    >>> literal_prefixes(re.compile(r"\\s*x")) is None
    True
    """
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        found, _ = _prefixes(parsed.state, parsed, parsed.state.flags)
    except (_NotLocal, AttributeError, TypeError, ValueError, re.error):
        return None  # a parser this code does not know: run the pattern everywhere
    if "" in found:
        return None
    return frozenset(found)


def _matches_at(pattern: re.Pattern[str], text: str, places: list[int]) -> list[re.Match[str]]:
    """``pattern.finditer(text)`` when every match starts at one of ``places`` (sorted)."""
    out = []
    pos = 0
    for at in places:
        if at < pos:
            continue
        match = pattern.match(text, at)
        if match is None:
            continue
        if match.end() == at:
            raise _NotLocal  # empty matches interact with the search position
        out.append(match)
        pos = match.end()
    return out


def keyword_groups(keywords: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(guard, keywords) pairs covering ``keywords``, each guard a substring of every
    keyword of its group, so that a text without the guard holds none of them: one
    search rules out a group (a search costs about the same whatever the needle's
    length, and less the longer it is). Greedy: the guard shared by most keywords
    (then the longest) first; a keyword sharing none is its own guard.

    >>> keyword_groups(["tax period", "taxprd", "dln", "name ctrl", "name control"])[:2]
    (('name c', ('name control', 'name ctrl')), ('tax', ('tax period', 'taxprd')))
    """
    left = sorted(set(keywords))
    groups: list[tuple[str, tuple[str, ...]]] = []
    while left:
        best: tuple[int, int, str] | None = None
        for guard in sorted(
            {k[i:j] for k in left for i in range(len(k)) for j in range(i + 3, len(k) + 1)}
        ):
            covered = sum(guard in k for k in left)
            if covered >= 2 and (best is None or (covered, len(guard)) > best[:2]):
                best = (covered, len(guard), guard)
        if best is None:
            groups.extend((k, (k,)) for k in left)
            break
        members = tuple(k for k in left if best[2] in k)
        groups.append((best[2], members))
        left = [k for k in left if k not in members]
    return tuple(groups)


def _guards(keywords: tuple[str, ...], prefixes: frozenset[str] | None) -> tuple[str, ...]:
    """Literals one of which stands wherever a provenance signature can match: its
    keywords (`Detector.provenance` needs one), or the literal prefixes its matches
    start with (``prefixes``: needed as well) when those are rarer by chance: none is
    all digits ("6103" stands inside numbers) and the shortest is longer.

    >>> _guards(("6103",), frozenset({"irc", "26 u"}))
    ('26 u', 'irc')
    >>> _guards(("name control",), frozenset({"name"}))
    ('name control',)
    """
    if not keywords:
        return ()  # a signature without keywords matches nothing

    def rarity(literals: Iterable[str]) -> int:
        return min(0 if literal.isdigit() else len(literal) for literal in literals)

    if prefixes and rarity(prefixes) > rarity(keywords):
        return tuple(sorted(prefixes))
    return keywords


# Text a search for a word passes over in the time a hit takes to look for it in its
# window (a step in Python): the words are looked up in the whole text from one hit
# per this many characters.
_WORD_CHARS = 256


class Detector:
    """Compiled view of a pack set, ready to run over many texts."""

    def __init__(self, packs: PackSet) -> None:
        self.packs = packs
        self.threshold = packs.threshold
        self.tin_sigs = packs.of_kind("tin")
        self._tin_plan = tuple((sig, self._run_reach(sig)) for sig in self.tin_sigs)
        self._grouped = frozenset(
            sig.id
            for sig, reach in self._tin_plan
            if reach is not None and sig.group == 0 and whole_groups(sig.pattern)  # type: ignore[arg-type] # reach implies a pattern
        )
        self._prefilter = self._tin_prefilter()
        self.provenance_sigs = packs.of_kind("marking") + packs.of_kind("irs-field")
        self.headers = packs.of_kind("header")
        identifier_words = [w for s in self.headers if s.entity == "identifier" for w in s.words]
        self.identifier_words = tuple(sorted(set(identifier_words), key=len, reverse=True))
        keywords = {kw for sig in self.provenance_sigs for kw in sig.keywords}
        self._provenance_plan = tuple(
            (sig, literal_prefixes(sig.pattern) if sig.pattern is not None else None)
            for sig in self.provenance_sigs
        )
        self._provenance_keywords = tuple(sorted(keywords))
        self._keyword_groups = keyword_groups(keywords)
        # In long ASCII text one pass finds the keywords present, and one more the
        # places where the patterns of the signatures they name can start.
        self._keyword_scan = LiteralScan(keywords)
        # One pass tells which keywords and which pattern prefixes occur at all.
        known = [prefixes for _, prefixes in self._provenance_plan if prefixes is not None]
        self._literal_scan = LiteralScan(set(keywords).union(*known))
        self._prefix_scans: dict[frozenset[str], LiteralScan] = {}
        self._runs_only: tuple[object, bool] = ((), False)  # (plan, answer): see `runs_only`
        # The runs of the last text searched: a table batch is searched twice (all
        # columns, then an identifier column's first runs) and the runs are the same.
        self._runs_memo: tuple[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]] | None
        self._runs_memo = None
        self._quiet: dict[bool, Callable[[bytes], object]] = {}  # see `may_hold_anything`
        self._guarded: Any = None  # see `_guarded_runs`
        self._shape_search: dict[str, Callable[[bytes], bool]] = {}  # see `_may_match`

    # -- TINs ---------------------------------------------------------------------------

    @staticmethod
    def _run_reach(sig: Signature) -> tuple[int, int] | None:
        """Look-around widths for matching ``sig`` run by run, or None (whole text)."""
        if sig.pattern is None or sig.validator_name not in NINE_DIGIT_VALIDATORS:
            return None
        return run_reach(sig.pattern)

    def _tin_prefilter(self) -> TinPrefilter | None:
        """One RE2 pass that lists the runs where a TIN signature can match, when every
        signature is matched run by run in whole digit groups with a validator whose
        accepted numbers are known (`TinPrefilter`); None otherwise (or without RE2)."""
        if _re2 is None or not self.tin_sigs:
            return None
        if any(
            sig.id not in self._grouped or sig.validator_name not in _PARTS for sig in self.tin_sigs
        ):
            return None
        return _prefilter(tuple((sig.pattern, sig.validator_name) for sig in self.tin_sigs))

    def candidate_runs(self, data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Runs of ASCII text (as bytes) to give `tins` as ``runs``: those where a
        signature can match (`TinPrefilter`), else every run (`ascii_runs`). A caller
        may first overwrite parts of ``data`` with a byte that is no run character."""
        runs = None if self._prefilter is None else self._prefilter.runs(data)
        if runs is None:  # no prefilter, or candidates so dense that listing all is faster
            return ascii_runs(data)
        return runs, runs

    def run_local(self) -> tuple[str, ...]:
        """Ids of the TIN signatures matched run by run (the fast path)."""
        return tuple(sig.id for sig, reach in self._tin_plan if reach is not None)

    @property
    def runs_only(self) -> bool:
        """Whether every TIN signature is matched run by run, so that a ``keep`` filter
        given to `tins` decides exactly where hits can be."""
        plan = self._tin_plan
        if self._runs_only[0] is not plan:
            self._runs_only = (plan, all(reach is not None for _, reach in plan))
        return self._runs_only[1]

    def may_hold_hit(self, text: str, line_starts: bool = True) -> bool:
        """Whether `tins` can find anything in ``text`` (False: it finds nothing). One
        pass over the text: the runs the signatures need are not listed. With
        ``line_starts=False``, False means that it finds nothing but in runs that start
        a line (where a table's first cells are); True may still be such a hit."""
        if not self.runs_only:
            return True  # some signature searches the whole text
        if not text.isascii():
            return may_hold_tin(text)
        if self._prefilter is not None:
            return self._prefilter.any(text.encode("ascii"), line_starts)
        if all(sig.id in self._grouped for sig in self.tin_sigs):
            return _GROUPS9_SEARCH(text.encode("ascii").translate(_DIGIT_SHAPE)) is not None
        return may_hold_tin(text)

    def may_hold_anything(self, text: str, line_starts: bool = True) -> bool:
        """Whether `provenance` or `tins` can find anything in ``text`` (False: neither
        finds anything; ``line_starts`` as for `may_hold_hit`). In ASCII text one RE2
        pass looks for both: the TIN prefilter's numbers, or a literal one of which
        stands wherever a marking or IRS field can match (`_guards`). A table's rows
        hold keywords by chance ("6103" among its numbers): the pass that lists them
        and the TIN pass, one after the other, cost twice as much."""
        search = self._quiet.get(line_starts)
        if search is None:
            search = self._quiet[line_starts] = self._quiet_search(line_starts)
        if text.isascii() and self._prefilter is not None and self.runs_only:
            return search(text.encode("ascii")) is not None
        return self.may_hold_provenance(text) or self.may_hold_hit(text, line_starts)

    def _quiet_search(self, line_starts: bool) -> Callable[[bytes], object]:
        pieces = []
        guards = self._guard_alternation()
        if guards is not None:
            pieces.append(b"(?i:" + guards + b")")
        prefilter = self._prefilter
        if prefilter is not None and not prefilter.empty:
            pieces.append(prefilter.source if line_starts else prefilter.inner_source)
        if not pieces or _re2 is None:
            return lambda data: None
        search: Callable[[bytes], object] = _re2.compile(b"|".join(pieces)).search
        return search

    def _guard_alternation(self) -> bytes | None:
        """The ASCII `_guards` of the provenance signatures as a regex, None if none."""
        guards = {g for sig, p in self._provenance_plan for g in _guards(sig.keywords, p)}
        ascii_guards = sorted(g for g in guards if g.isascii())
        if not ascii_guards:
            return None
        return "|".join(re.escape(g) for g in ascii_guards).encode("ascii")

    def _guarded_runs(self, text: str) -> bool | None:
        """The runs of long ASCII ``text`` for `tins` (kept for it, `_runs_memo`), found
        by one pass that also tells whether a `_guards` literal occurs (without which
        `provenance` finds nothing): that answer, or None when it is not known."""
        if self._prefilter is None or self._prefilter.empty or not self.runs_only:
            return None
        if self._guarded is None:
            guards = self._guard_alternation()
            if guards is None:  # no provenance signature can match ASCII text
                self._guarded = lambda data, pos=0: None
            else:
                source = b"(?i:(" + guards + b"))|" + self._prefilter.source
                self._guarded = _re2.compile(source).search
        data = text.encode("ascii")
        runs, met = self._prefilter.runs_and_literal(data, self._guarded)
        if runs is None:  # dense: every run, as `candidate_runs` gives them
            self._runs_memo = (text, ascii_runs(data))
            return True if met else None
        self._runs_memo = (text, (runs, runs))
        return met

    def _runs_of(self, text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        memo = self._runs_memo
        if memo is not None and memo[0] is text:
            return memo[1]
        runs = self.candidate_runs(text.encode("ascii")) if text.isascii() else _runs(text)
        self._runs_memo = (text, runs)
        return runs

    def tins(
        self,
        text: str,
        only: Signature | None = None,
        keep: Callable[[list[tuple[int, int]]], list[tuple[int, int]]] | None = None,
        runs: tuple[list[tuple[int, int]], list[tuple[int, int]]] | None = None,
    ) -> list[Hit]:
        """Every TIN-shaped match that its validator accepts, with its context score.

        Where signatures overlap (an ITIN also has the SSN shape; a local pack may
        refine a built-in one) a span is reported once, by the highest score.
        ``only`` runs a single signature (its examples are tested that way).
        ``keep`` filters the digit runs (spans, in order) searched by the signatures
        matched run by run: hits in the runs it drops are not looked for (matches in
        one run never affect another); other signatures still search all of ``text``.
        ``runs`` gives those runs instead of finding them: (`digit_runs`, `group_runs`)
        of ``text``, or of ``text`` with parts left out (`candidate_runs`); either may
        leave out runs where no signature can match.
        """
        best: dict[int, Hit] = {}
        lowered: str | None = None
        # The context words of each signature that occur in the text at all, when it
        # has a hit per `_WORD_CHARS` of text or more (a table of TINs): a table's
        # rows hold none, so its hits then look for none of them.
        occurring: dict[tuple[str, ...], tuple[str, ...]] = {}
        joined: dict[tuple[tuple[int, int], bool, str], _Joined] = {}
        kept: dict[bool, list[tuple[int, int]]] = {}  # runs searched, by `_grouped`
        accepted: dict[tuple[bool, str], list[tuple[int, int]]] = {}  # see `_WINDOWS`
        plan = self._tin_plan if only is None else ((only, self._run_reach(only)),)
        if only is None and self.runs_only:
            if runs is None:
                runs = self._runs_of(text)
            if not runs[0]:
                return []  # no run holds nine digits: no signature can match
        for sig, reach in plan:
            pattern, check = sig.pattern, sig.validator
            assert pattern is not None
            assert check is not None
            spans: list[Span] | None = None
            if reach is not None:
                if runs is None:  # ``only``: a signature the prefilter may not know
                    runs = self._runs_of(text) if only is None else _runs(text)
                grouped = sig.id in self._grouped
                if grouped not in kept:
                    these = runs[1] if grouped else runs[0]
                    kept[grouped] = keep(these) if keep is not None and these else these
                these = kept[grouped]
                # Among dense runs (a table of TINs) most hold a window: the patterns
                # themselves sort them out faster than a window search would.
                sparse = len(these) <= _DENSE_AFTER or len(these) * _DENSE < len(text)
                windows = _WINDOWS.get(sig.validator_name) if these and sparse else None
                if windows is not None:
                    wanted = (grouped, sig.validator_name)
                    if wanted not in accepted:
                        accepted[wanted] = _with_window(text, these, windows)
                    these = accepted[wanted]
                if not these:
                    spans = []
                else:
                    key = (reach, grouped, sig.validator_name if windows is not None else "")
                    if key not in joined:
                        joined[key] = _join_runs(text, these, reach)
                    if not self._may_match(sig, joined[key]):
                        spans = []
                    else:
                        try:
                            spans = _in_runs(pattern, sig.group, joined[key])
                        except _NotLocal:
                            spans = None
            if spans is None:
                spans = _everywhere(pattern, sig.group, text)
            valid = list(compress(spans, map(check, map(_RAW, spans))))
            if not valid:
                continue
            words = occurring.get(sig.context_words) if sig.context_words else ()
            if words is None:
                words = sig.context_words
                if len(spans) * _WORD_CHARS > len(text):
                    if lowered is None:
                        lowered = text.lower()
                    words = tuple(filter(lowered.__contains__, words))
                occurring[sig.context_words] = words
            scores = _scores(sig, words, text, valid) if words else repeat(sig.score)
            # The hits of this signature, made by C-level maps (a table's column of TINs).
            raws = list(map(_RAW, valid))
            compacts = list(map(str.translate, raws, repeat(_COMPACT)))
            hits = map(
                Hit,
                repeat(sig),
                map(_START, valid),
                map(_END, valid),
                compacts,
                scores,
                map(str.translate, raws, repeat(_MASK)),
                map(eq, map(len, raws), map(len, compacts)),
            )
            if not best:
                best.update(zip(map(_START, valid), hits, strict=True))
                continue
            for hit in hits:
                seen = best.get(hit.start)
                if seen is None or seen.score < hit.score:
                    best[hit.start] = hit
        return [best[start] for start in sorted(best)]

    def _may_match(self, sig: Signature, runs: _Joined) -> bool:
        """False when ``sig`` matches nothing its validator accepts in ``runs``: its own
        `TinPrefilter` (the accepted numbers in the shapes of its pattern, one RE2
        pass) finds nothing there. A table's TIN column holds one shape (dashed, say):
        the other signatures' patterns are not run over its rows."""
        search = self._shape_search.get(sig.id)
        if search is None:
            known = sig.id in self._grouped and sig.validator_name in _PARTS
            if self._prefilter is None or not known or sig.pattern is None:
                search = _anywhere
            else:
                search = _prefilter(((sig.pattern, sig.validator_name),)).any
            self._shape_search[sig.id] = search
        if search is _anywhere:
            return True
        if runs.data is None:
            if not runs.text.isascii():
                return True
            runs.data = runs.text.encode("ascii")
        return bool(search(runs.data))

    def after_identifier_word(self, text: str, start: int, span: int = 30) -> bool:
        """True when an invoice/order/account word stands just before ``start``."""
        before = text[max(0, start - span) : start].lower()
        return any(map(before.__contains__, self.identifier_words))

    # -- markings and IRS fields --------------------------------------------------------

    def provenance(self, text: str, tins_next: bool = False) -> list[Hit]:
        """Markings and IRS record fields in ``text`` (keyword prefilter, then pattern).
        ``tins_next``: `tins` of the same text follows, so one pass finds its runs and
        tells whether a marking can be there at all (`_guarded_runs`): a log holds
        keywords by chance ("6103" in its numbers) but seldom what a marking starts
        with, and the pass that lists keywords is not made."""
        if len(text) >= _SHORT_TEXT and text.isascii():
            if tins_next and self._guarded_runs(text) is False:
                return []
            return self._provenance_ascii(text)
        lowered = text.lower()
        if len(text) < _SHORT_TEXT:
            if not any(map(lowered.__contains__, self._provenance_keywords)):
                return []  # the usual case for a line
            present = set(filter(lowered.__contains__, self._provenance_keywords))
        else:
            # Each keyword group is ruled out by one search for its guard.
            present = set()
            for guard, members in self._keyword_groups:
                if guard in lowered:
                    present.update(filter(lowered.__contains__, members))
            if not present:
                return []
        hits: list[Hit] = []
        for sig, _ in self._provenance_plan:
            if not present.isdisjoint(sig.keywords):
                assert sig.pattern is not None  # guaranteed by the schema
                self._provenance_hits(sig, sig.pattern.finditer(text), hits)
        return hits

    def may_hold_provenance(self, text: str) -> bool:
        """Whether ``text`` holds a keyword of a marking or IRS field signature (without
        which `provenance` finds nothing)."""
        if text.isascii():
            return self._keyword_scan.any(text.encode("ascii"))
        lowered = text.lower()
        return any(map(lowered.__contains__, self._provenance_keywords))

    def _provenance_ascii(self, text: str) -> list[Hit]:
        """`provenance` of long ASCII text: the keywords and pattern prefixes present
        (one pass, `LiteralScan.present`), then, for the signatures whose keyword and
        one of whose prefixes occur, the places where those prefixes start (one more
        pass, `LiteralScan.starts`): a keyword met by chance ("6103" in a number) costs
        no second pass unless a prefix ("sectio", "irc") is there too."""
        data = text.encode("ascii")
        present = self._literal_scan.present(data)
        if not present:
            return []
        wanted = tuple(
            index
            for index, (sig, prefixes) in enumerate(self._provenance_plan)
            if any(keyword in present for keyword in sig.keywords)
            and (prefixes is None or not present.isdisjoint(prefixes))
        )
        if not wanted:
            return []
        starting = frozenset().union(
            *(present & p for _, p in map(self._provenance_plan.__getitem__, wanted) if p)
        )
        scan = self._prefix_scans.get(starting)
        if scan is None:
            if len(self._prefix_scans) >= _MAX_PREFIX_SCANS:
                self._prefix_scans.clear()  # text whose prefixes do not repeat: start over
            scan = LiteralScan(starting)
            self._prefix_scans[starting] = scan
        places_of = scan.starts(data) if scan.literals else {}
        hits: list[Hit] = []
        for index in wanted:
            sig, prefixes = self._provenance_plan[index]
            assert sig.pattern is not None  # guaranteed by the schema
            matches: Iterable[re.Match[str]] | None = None
            if prefixes is not None:
                places = sorted({at for prefix in prefixes for at in places_of.get(prefix, ())})
                try:
                    matches = _matches_at(sig.pattern, text, places)
                except _NotLocal:
                    matches = None
            if matches is None:
                matches = sig.pattern.finditer(text)
            self._provenance_hits(sig, matches, hits)
        return hits

    @staticmethod
    def _provenance_hits(sig: Signature, matches: Iterable[re.Match[str]], hits: list[Hit]) -> None:
        for match in matches:
            raw = match.group(sig.group)
            if sig.validator is not None and not sig.validator(raw):
                continue
            start, end = match.span(sig.group)
            hits.append(Hit(sig, start, end, "", sig.score, "", bare=False))

    # -- headers ------------------------------------------------------------------------

    def header_roles(self, header: tuple[str, ...]) -> dict[int, str]:
        """Column index -> entity named by its header cell (``tin``, ``name``, ...)."""
        priority = (
            *("identifier", "tin", "irs-field", "first-name", "last-name", "name"),
            *("street", "city", "state", "zip"),
        )
        roles: dict[int, str] = {}
        for index, cell in enumerate(header):
            norm = " ".join(cell.lower().replace("_", " ").replace("-", " ").split())
            norm = norm.strip(" :.")
            if not norm:
                continue
            tokens = set(norm.split())
            found: set[str] = set()
            for sig in self.headers:
                for word in sig.words:
                    if norm == word or (" " in word and word in norm) or word in tokens:
                        found.add(sig.entity)
                        break
            for entity in priority:
                if entity in found:
                    roles[index] = entity
                    break
        return roles
