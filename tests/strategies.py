"""Shared Hypothesis strategies for the test suite.

Identifiers are generated, never written down: the repository holds no SSN-shaped
literal that could have been issued.
"""

from __future__ import annotations

from hypothesis import strategies as st

DIGITS = "0123456789"


def digit_strings(size: int) -> st.SearchStrategy[str]:
    """Strings of exactly ``size`` ASCII digits."""
    return st.text(alphabet=DIGITS, min_size=size, max_size=size)


def nine_digits() -> st.SearchStrategy[str]:
    """Any 9 ASCII digits, valid as a TIN or not."""
    return digit_strings(9)


def _numbered(low: int, high: int, width: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:0{width}d}")


def ssn_digits() -> st.SearchStrategy[str]:
    """Nine digits obeying the SSA rules (area, group, serial); void numbers excluded."""
    from ftiscan.scanner.validators.ssn import VOID

    area = _numbered(1, 899, 3).filter(lambda a: a != "666")
    parts = st.tuples(area, _numbered(1, 99, 2), _numbered(1, 9999, 4))
    return parts.map("".join).filter(lambda d: d not in VOID)


def itin_digits() -> st.SearchStrategy[str]:
    """Nine digits in an IRS-issued ITIN range (50-65, 70-88, 90-92, 94-99)."""
    from ftiscan.scanner.validators.itin import GROUPS

    group = st.sampled_from(sorted(GROUPS))
    return st.tuples(digit_strings(2), group, digit_strings(4)).map(lambda p: "9" + "".join(p))


def ein_digits() -> st.SearchStrategy[str]:
    """Nine digits with a valid EIN campus prefix."""
    from ftiscan.scanner.validators.ein import PREFIXES

    return st.tuples(st.sampled_from(sorted(PREFIXES)), digit_strings(7)).map("".join)


def tin_forms(digits: str) -> st.SearchStrategy[str]:
    """The written forms of a 9-digit SSN or ITIN: bare, dashed and spaced."""
    return st.sampled_from(
        [
            digits,
            f"{digits[:3]}-{digits[3:5]}-{digits[5:]}",
            f"{digits[:3]} {digits[3:5]} {digits[5:]}",
        ]
    )


def dln_digits() -> st.SearchStrategy[str]:
    """Fourteen digits with a Julian date DLNs use (001-366 or 401-766)."""
    julian = st.one_of(_numbered(1, 366, 3), _numbered(401, 766, 3))
    return st.tuples(digit_strings(5), julian, digit_strings(6)).map("".join)


def tax_periods() -> st.SearchStrategy[str]:
    """Valid ``YYYYMM`` tax periods."""
    return st.tuples(_numbered(1900, 2099, 4), _numbered(1, 12, 2)).map("".join)


def name_controls() -> st.SearchStrategy[str]:
    """Valid name controls: 1-4 of ``A-Z0-9&-``, the first a letter or digit."""
    first = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    rest = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&-", max_size=3)
    return st.tuples(first, rest).map("".join)


def identifier_noise() -> st.SearchStrategy[str]:
    """Short strings of digits, letters, separators and odd characters."""
    return st.text(alphabet=DIGITS + " -./#&AZaz\u0663\u00e9", max_size=20)


# --- report payload parts, made by the engine's own code from generated evidence -------

COVERAGE_REASONS = (
    "permission",
    "vanished",
    "unreadable",
    "corrupt",
    "changed",
    "excluded",
    "symlink",
    "symlink:loop",
    "other-filesystem",
    "limit:size",
    "limit:bytes",
    "limit:depth",
    "limit:ratio",
    "unsupported:unknown",
    "unsupported:zip",
    "error:ValueError",
    "error:RecursionError",
)
FILE_KINDS = ("bzip2", "csv", "empty", "fixed", "gzip", "json", "jsonl", "text", "xz")


def report_text(min_size: int = 1, max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text JSON can carry (no lone surrogates): paths, member and sheet names."""
    return st.text(st.characters(codec="utf-8"), min_size=min_size, max_size=max_size)


def sha256_digests() -> st.SearchStrategy[str]:
    """``sha256:`` and 64 lowercase hex digits."""
    return st.binary(min_size=32, max_size=32).map(lambda b: "sha256:" + b.hex())


def _cells() -> st.SearchStrategy[str]:
    """A1 cell references or JSON pointers with word tokens."""
    a1 = st.tuples(
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=3),
        st.integers(1, 99_999),
    ).map(lambda p: f"{p[0]}{p[1]}")
    token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
    pointer = st.lists(token | st.integers(0, 999).map(str), min_size=1, max_size=4).map(
        lambda parts: "/" + "/".join(parts)
    )
    return a1 | pointer


@st.composite
def report_locations(draw: st.DrawFn) -> dict[str, int | str]:
    """``Location.as_dict()`` of a generated location; always a line or a row."""
    from pathlib import Path

    from ftiscan.scanner.model import Location

    ordinal = st.integers(1, 10**7)
    line = draw(st.none() | ordinal)
    row = draw(ordinal) if line is None else draw(st.none() | ordinal)
    start = draw(st.none() | st.integers(0, 10**9))
    return Location(
        Path("unused"),
        line=line,
        row=row,
        column=draw(st.none() | ordinal),
        page=draw(st.none() | ordinal),
        sheet=draw(st.none() | report_text()),
        cell=draw(st.none() | _cells()),
        member=draw(st.none() | report_text()),
        byte_start=start,
        byte_end=None if start is None else start + draw(st.integers(0, 10**6)),
    ).as_dict()


@st.composite
def report_findings(draw: st.DrawFn) -> list[dict[str, object]]:
    """Finding dicts from ``FileFindings`` (scanner/findings.py) fed generated evidence."""
    from ftiscan.scanner.detect import mask
    from ftiscan.scanner.findings import RULES, FileFindings

    key = draw(st.binary(min_size=16, max_size=32))
    signature = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", max_size=20).map(
        lambda s: "us." + s
    )
    out: list[dict[str, object]] = []
    for _ in range(draw(st.integers(0, 4))):
        acc = FileFindings(key)
        for _ in range(draw(st.integers(1, 8))):
            rule = draw(st.sampled_from(sorted(RULES)))
            where = draw(report_locations())
            sig = draw(signature)
            if rule in ("fti.provenance", "fti.reference"):
                acc.add(rule, "", "", where, "", sig)
            elif rule == "fti.marked-name-address":
                person = draw(report_text()) + "|" + draw(report_text())
                acc.add(rule, "na", person, where, "name+street")
            else:
                digits = draw(ssn_digits() | itin_digits())
                acc.add(rule, "tin", digits, where, mask(draw(tin_forms(digits))), sig)
        member = draw(st.none() | report_text())
        out.extend(acc.findings(draw(report_text()), member, draw(st.booleans())))
    return out


@st.composite
def report_coverages(draw: st.DrawFn) -> dict[str, object]:
    """``Coverage.as_dict()`` after generated skips, partial reads and file kinds."""
    from pathlib import Path

    from ftiscan.scanner.engine import Coverage

    coverage = Coverage()
    for _ in range(draw(st.integers(0, 6))):
        reason = draw(st.sampled_from(COVERAGE_REASONS))
        coverage.note(Path(draw(report_text())), reason, partial=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 3))):
        reason = draw(st.sampled_from(COVERAGE_REASONS))
        member = draw(st.sampled_from(["", "a.zip/b.csv", "attachments/x.xlsx"]))
        coverage.note_member(Path(draw(report_text())), member, reason)
    for kind in draw(st.lists(st.sampled_from(FILE_KINDS), max_size=8)):
        coverage.kinds[kind] += 1
    coverage.unlisted = draw(st.integers(0, 10**6))
    coverage.files_scanned = sum(coverage.kinds.values())
    coverage.files_seen = coverage.files_scanned + sum(coverage.skipped.values())
    coverage.bytes_scanned = draw(st.integers(0, 10**12))
    coverage.bytes_seen = coverage.bytes_scanned + draw(st.integers(0, 10**12))
    return coverage.as_dict()


@st.composite
def report_chains(draw: st.DrawFn) -> dict[str, object]:
    """A chain link: the first of a chain (no previous) or a later one."""
    key_id = draw(st.binary(min_size=32, max_size=32)).hex()
    sequence = draw(st.integers(1, 10**9))
    previous = None if sequence == 1 else draw(sha256_digests())
    return {"key_id": key_id, "sequence": sequence, "previous": previous}
