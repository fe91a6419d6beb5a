"""Regular expressions of the nine-digit numbers a TIN validator accepts.

A hot-path check (``is_valid_digits`` of `ssn`, `itin`, `ein`) looks at nine ASCII
digits one at a time in Python. The detector asks the same question of many runs of
digits at once: a run can hold an accepted match only if nine consecutive digits of it
(with dashes and spaces between them, as matched text has) are accepted, so one pass of
a regular expression over the runs, in C, drops those that cannot before any match is
made in them. `window` builds that expression from the very tables the checks use, so
that it accepts exactly what they accept (or more, never less: the SSN void list is
left to the check).

>>> import re
>>> pattern = re.compile(window([frozenset({"12", "34"}), 2]))
>>> [bool(pattern.fullmatch(t)) for t in (b"12-99", b"3 4 0 0", b"1299", b"5599")]
[True, True, True, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

__all__ = ["Part", "window"]

Part = frozenset[str] | int
"""One part of a number: the digit strings (all of one length) it may be, or a count
of digits that may be anything."""

_SEPARATORS = b"[ -]*"  # what may stand after each digit of a matched number


@cache
def _alternatives(strings: frozenset[str], after: tuple[bytes, ...]) -> bytes:
    """A regex of ``strings`` (equal lengths) as a trie, digit ``i`` followed by
    ``after[i]``; first digits that share their rest form one character class."""
    if "" in strings:
        return b""
    rests: dict[str, set[str]] = {}
    for string in strings:
        rests.setdefault(string[0], set()).add(string[1:])
    firsts: dict[bytes, list[str]] = {}
    for first, rest in rests.items():
        firsts.setdefault(_alternatives(frozenset(rest), after[1:]), []).append(first)
    branches = sorted(
        b"[" + "".join(sorted(heads)).encode("ascii") + b"]" + after[0] + tail
        for tail, heads in firsts.items()
    )
    return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"


def _separators(layout: str | None, digits: int) -> tuple[bytes, list[bytes]]:
    """(what stands before the first digit, what stands after each digit)."""
    if layout is None:
        return b"", [_SEPARATORS] * digits
    pieces = layout.split("0")
    if len(pieces) != digits + 1 or any(piece.strip(" -") for piece in pieces):
        raise ValueError(f"a layout has {digits} digits ('0'), dashes and spaces")
    literal = [piece.encode("ascii") for piece in pieces]  # "-" and " " stand for themselves
    return literal[0], literal[1:]


def window(parts: Sequence[Part], layout: str | None = None) -> bytes:
    """A regex (bytes, no look-arounds, so RE2 can run it) matching the numbers made of
    ``parts`` in order, with dashes and spaces allowed after every digit; or, given a
    ``layout`` (the number's shape, digits written "0": ``"000-00-0000"``), exactly the
    dashes and spaces it has where it has them.

    >>> import re
    >>> dashed = re.compile(window([frozenset({"12", "34"}), 2], layout="00-00"))
    >>> [bool(dashed.fullmatch(t)) for t in (b"12-99", b"1299", b"1-299", b"56-99")]
    [True, False, False, False]
    """
    sizes = [part if isinstance(part, int) else len(next(iter(part), "")) for part in parts]
    lead, after = _separators(layout, sum(sizes))
    out = [lead]
    at = 0
    for part, size in zip(parts, sizes, strict=True):
        here = tuple(after[at : at + size])
        at += size
        if isinstance(part, int):
            if len(set(here)) == 1:
                out.append(b"(?:[0-9]" + here[0] + b"){%d}" % part)
            else:
                out.extend(b"[0-9]" + sep for sep in here)
        else:
            _check(part)
            out.append(_alternatives(part, here))
    return b"".join(out)


@cache
def _check(part: frozenset[str]) -> None:
    """Raise ValueError unless ``part`` is digit strings of one length (once per part:
    a prefilter writes each part in several layouts)."""
    if not part or any(not s.isascii() or not s.isdigit() for s in part):
        raise ValueError("parts are sets of ASCII digit strings")
    if len({len(s) for s in part}) != 1:
        raise ValueError("the strings of a part have one length")
