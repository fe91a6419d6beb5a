"""Where a TIN signature can match: one pass of RE2 over a text, in C.

A TIN signature of the fast path (`Detector`: its matches stay in runs of digits,
dashes and spaces, never have a digit just before or after them, and are the text its
nine-digit validator checks) can match only where nine digits the validator accepts
stand in the shape the pattern gives them: ``000-00-0000`` for ``\\d{3}-\\d{2}-\\d{4}``.
`layouts` reads those shapes off the pattern; `_digits.window` writes the accepted
numbers in each shape as a regex; `TinPrefilter` joins them into one regex for RE2,
bounded by a character that is not a digit (or the text's ends) on both sides, and
lists the runs (maximal stretches of digits, dashes and spaces) where it matches. The
signatures then search only those runs, so that a log full of numbers no rule allows
(timestamps, trace ids, SSN-shaped numbers with area 000) costs one pass and no Python
step per number.

Exact by construction: the regex matches (at least) wherever a signature's match that
its validator accepts stands, so the runs listed hold every such match. A pattern too
involved for `layouts` (or with too many shapes) is written with dashes and spaces
allowed after every digit, which is wider, never narrower. Without RE2 (a dependency;
this is the fallback) there is no prefilter and the detector lists runs as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ftiscan.scanner import _regex
from ftiscan.scanner.literals import re2 as _re2
from ftiscan.scanner.validators._digits import Part, window

__all__ = ["DENSE", "DENSE_AFTER", "MAX_LAYOUTS", "TinPrefilter", "layouts"]

_parser: Any = _regex.parser
_compiler: Any = _regex.compiler

MAX_LAYOUTS = 64  # more shapes than this: dashes and spaces anywhere instead
_MAX_REPEAT = 24  # a repeat wider than a run of nine digits with separators can be
_RUN_CHARS = "0123456789- "
_RUN_BYTES = frozenset(b"0123456789- ")
_RUN_TAIL = re.compile(rb"[0-9 -]*")
_BACK = 64  # bytes looked at per step when finding where a run starts
DENSE = 400  # bytes per run listed, at most, for `TinPrefilter.runs` to go on
DENSE_AFTER = 64  # runs listed before density is looked at


class _Involved(Exception):
    """The pattern uses something `layouts` does not follow."""


# A partial shape: its text (digits as "0") and the text each group matched.
_State = tuple[str, tuple[tuple[int, str], ...]]


def _chars(state: Any, item: Any, flags: int) -> list[str]:
    """The shapes ("0", "-", " ") of the run characters one ``item`` matches."""
    single = _compiler.compile(_parser.SubPattern(state, [item]), flags)
    matched = [c for c in _RUN_CHARS if single.fullmatch(c)]
    out = ["0"] if any(c.isdigit() for c in matched) else []
    return out + [c for c in matched if not c.isdigit()]


def _grow(states: set[_State], steps: Iterable[_State]) -> set[_State]:
    out: set[_State] = set()
    for text, groups in states:
        for more, bound in steps:
            out.add((text + more, tuple(sorted({*groups, *bound}))))
            if len(out) > MAX_LAYOUTS * 4:
                raise _Involved
    return out


def _walk(state: Any, items: Iterable[Any], flags: int, start: set[_State]) -> set[_State]:
    """The partial shapes after matching ``items`` from each of ``start``."""
    const = _parser
    states = start
    for op, av in items:
        if op in (const.AT, const.ASSERT, const.ASSERT_NOT):
            continue  # zero width: leaving it out only widens the shapes
        if op in (const.LITERAL, const.IN):
            chars = _chars(state, (op, av), flags)
            if not chars:
                return set()
            states = {(text + c, groups) for text, groups in states for c in chars}
        elif op is const.SUBPATTERN:
            group, add, remove, sub = av
            inner = (flags | add) & ~remove
            if group is None:
                states = _walk(state, sub, inner, states)
            else:
                grown: set[_State] = set()
                for text, groups in states:
                    for after, bound in _walk(state, sub, inner, {("", groups)}):
                        grown.add((text + after, tuple(sorted({*bound, (group, after)}))))
                states = grown
        elif op is const.BRANCH:
            states = set().union(*(_walk(state, alt, flags, states) for alt in av[1]))
        elif op in (const.MAX_REPEAT, const.MIN_REPEAT, const.POSSESSIVE_REPEAT):
            low, high, sub = av
            if high > _MAX_REPEAT:
                raise _Involved
            total: set[_State] = set(states) if low == 0 else set()
            current = states
            for count in range(1, high + 1):
                current = _walk(state, sub, flags, current)
                if count >= low:
                    total |= current
                if len(total) > MAX_LAYOUTS * 4:
                    raise _Involved
            states = total
        elif op is const.GROUPREF:
            states = {(text + dict(groups).get(av, ""), groups) for text, groups in states}
        else:
            raise _Involved
        if len(states) > MAX_LAYOUTS * 4:
            raise _Involved
    return states


def layouts(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The shapes (digits written "0") of the nine-digit texts ``pattern`` can match,
    or None when it is too involved to tell. Call only for patterns that consume digits,
    dashes and spaces alone (`detect.run_reach`); look-arounds are left out (which
    widens the shapes) and a back-reference repeats its group's shape.

    >>> sorted(layouts(re.compile(r"(?<![\\d-])9\\d{2}([- ]?)\\d{2}\\1\\d{4}(?![\\d-])")))
    ['000 00 0000', '000-00-0000', '000000000']
    >>> layouts(re.compile(r"\\d{3}-?\\d{2}-?\\d{4}")) == {"000-00-0000", "000-000000",
    ...     "00000-0000", "000000000"}
    True
    """
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        found = _walk(parsed.state, parsed, parsed.state.flags, {("", ())})
    except (_Involved, AttributeError, TypeError, ValueError, IndexError, re.error):
        return None
    shapes = frozenset(text for text, _ in found if text.count("0") == 9)
    return shapes if len(shapes) <= MAX_LAYOUTS else None


class TinPrefilter:
    """One RE2 regex for a set of (pattern, validator parts) pairs: the runs of a
    text where one of them can match (see the module docstring).

    >>> from ftiscan.scanner.validators import ssn
    >>> tins = TinPrefilter([(re.compile(r"(?<![\\d-])\\d{3}-\\d{2}-\\d{4}(?![\\d-])"),
    ...     ssn.PARTS)])
    >>> text = b"id 000-12-3456, ref 078-05-1120 and 1234; at 2024-01-31 12:00"
    >>> [text[a:b] for a, b in tins.runs(text)]  # the advertised Woolworth card number
    [b' 078-05-1120 ']
    >>> tins.any(b"2024-01-31 12:00:00 000-12-3456")
    False
    """

    def __init__(self, signatures: Sequence[tuple[re.Pattern[str], Sequence[Part]]]) -> None:
        if _re2 is None:  # pragma: no cover - google-re2 is a dependency
            raise RuntimeError("the TIN prefilter needs google-re2")
        windows: dict[bytes, None] = {}
        for pattern, parts in signatures:
            shapes = layouts(pattern)
            if shapes is None:
                windows[window(parts)] = None
            else:
                windows.update(dict.fromkeys(window(parts, shape) for shape in sorted(shapes)))
        body = b"|".join(b"(?:" + w + b")" for w in windows)
        self.source = b"(?:^|[^0-9])(?:" + body + b")(?:[^0-9]|$)"
        # The same but for numbers that start a line (a table's first cells).
        self.inner_source = b"[^0-9\n](?:" + body + b")(?:[^0-9]|$)"
        self.empty = not windows
        self._search: Any = _re2.compile(self.source).search if windows else _nowhere
        self._search_inner: Any = _re2.compile(self.inner_source).search if windows else _nowhere

    def any(self, data: bytes, line_starts: bool = True) -> bool:
        """Whether one of the signatures can match in ``data`` (ASCII bytes); with
        ``line_starts=False`` leaving out matches whose run starts a line.

        >>> from ftiscan.scanner.validators import ssn
        >>> tins = TinPrefilter([(re.compile(r"(?<!\\d)\\d{9}(?!\\d)"), ssn.PARTS)])
        >>> tins.any(b"078051120,x"), tins.any(b"078051120,x", line_starts=False)
        (True, False)
        """
        if line_starts:
            return self._search(data) is not None
        return self._search_inner(data) is not None

    def runs(self, data: bytes) -> list[tuple[int, int]] | None:
        """The maximal runs of digits, dashes and spaces of ``data`` (ASCII bytes) in
        which one of the signatures can match, in order, each once; None when they
        are dense (more than one per `DENSE` bytes after the first `DENSE_AFTER`): a
        table of TINs, where each search call costs more than listing every run in C
        (`detect.ascii_runs`) and letting the signatures sort them out."""
        return self.runs_and_literal(data, None)[0]

    def runs_and_literal(
        self, data: bytes, search: Any
    ) -> tuple[list[tuple[int, int]] | None, bool]:
        """`runs`, and whether ``search`` met a literal: ``search`` finds this
        prefilter's pattern or, as its group 1, one of some literals; after the first
        literal the pattern alone is searched for. Without ``search`` (None) no
        literal is looked for. With dense runs (None), False means unknown.

        >>> from ftiscan.scanner.validators import ssn
        >>> tins = TinPrefilter([(re.compile(r"(?<!\\d)\\d{9}(?!\\d)"), ssn.PARTS)])
        >>> both = _re2.compile(b"(?i:(irc))|" + tins.source).search
        >>> tins.runs_and_literal(b"IRC 078051120 x", both)
        ([(3, 14)], True)
        >>> tins.runs_and_literal(b"078051120", both)
        ([(0, 9)], False)
        """
        looking = search is not None
        if search is None:
            search = self._search
        met = False
        out: list[tuple[int, int]] = []
        pos = 0
        while (match := search(data, pos)) is not None:
            if len(out) >= DENSE_AFTER and pos < DENSE * len(out):
                return None, met
            if looking and match.start(1) >= 0:
                # No number's match starts before the literal (the leftmost is found).
                looking, met, pos, search = False, True, match.start(1), self._search
                continue
            start, end = match.span()
            # the bound before the digits, when it is no run character, is not in the run
            low = start + 1 if data[start] not in _RUN_BYTES else _run_start(data, start, pos)
            high = _run_end(data, end - 1)  # the bound after the digits is not a digit
            out.append((low, high))
            pos = high  # a character that is no run character: the next bound (or the end)
        return out, met


def _nowhere(data: bytes, pos: int = 0) -> None:
    """The search of a prefilter without signatures: nothing matches."""


def _run_end(data: bytes, at: int) -> int:
    """Where the run holding ``data[at]`` ends (``at`` when it is no run character)."""
    run = _RUN_TAIL.match(data, at)
    assert run is not None  # a starred class always matches
    return run.end()


def _run_start(data: bytes, at: int, floor: int) -> int:
    """Where the run holding ``data[at]`` starts (not before ``floor``, where the
    previous run ended)."""
    while at > floor:
        low = max(floor, at - _BACK)
        piece = data[low:at][::-1]
        run = _RUN_TAIL.match(piece)
        assert run is not None  # a starred class always matches
        step = run.end()
        if step < len(piece):
            return at - step
        at = low
    return floor
