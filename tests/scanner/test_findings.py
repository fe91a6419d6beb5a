"""Findings: keyed fingerprints, distinct records, strongest rule per record."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.findings import (
    MAX_LOCATIONS,
    FileFindings,
    fingerprint,
    fingerprints,
    hmac_pads,
)


@given(st.binary(min_size=16, max_size=64), st.lists(st.text(min_size=1), min_size=1, max_size=6))
def test_findings_fingerprints_are_hmac_of_kind_and_value(key: bytes, values: list[str]) -> None:
    """Each record's fingerprint is HMAC-SHA-256 of "kind:value" under the key, once per
    distinct value, sorted."""
    acc = FileFindings(key)
    for value in values:
        acc.add("fti.tin", "tin", value, {"line": 1}, "***")
    [finding] = acc.findings("p", None, False)
    assert finding["fingerprints"] == sorted({fingerprint(key, "tin", v) for v in values})
    assert finding["records"] == len(set(values))
    assert finding["hits"] == len(values)


@given(st.lists(st.integers(1, 400), min_size=1, max_size=400), st.booleans())
def test_findings_keep_the_first_locations_whether_made_at_once_or_when_kept(
    lines: list[int], floored: bool
) -> None:
    """A location given as a function (made only when kept) with a floor (a position
    no later than it) keeps the same first locations and counts as one given whole."""
    whole, lazy = FileFindings(b"k" * 32), FileFindings(b"k" * 32)
    made: list[int] = []

    def where(line: int) -> dict[str, int]:
        made.append(line)
        return {"line": line, "column": 1}

    for n, line in enumerate(sorted(lines)):
        whole.add("fti.tin", "tin", str(n), {"line": line, "column": 1}, "***")
        floor = (0, "", line, 0) if floored else None
        lazy.add("fti.tin", "tin", str(n), lambda line=line: where(line), "***", floor=floor)
    assert lazy.findings("f", None, False) == whole.findings("f", None, False)
    if floored and len(lines) > 2 * MAX_LOCATIONS:
        assert len(made) < len(lines)  # the later ones were never made


@given(st.binary(min_size=1, max_size=200), st.text(max_size=8), st.lists(st.text(), max_size=8))
def test_fingerprints_by_maps_are_the_hmac_of_each_value(
    key: bytes, kind: str, values: list[str]
) -> None:
    """The HMAC written out from its padded keys is `fingerprint`, for any key length
    (beyond 64 bytes a key is hashed first)."""
    expected = [fingerprint(key, kind, value) for value in values]
    assert fingerprints(hmac_pads(key), kind, values) == expected


_RULE_IDS = ["fti.taxpayer-record", "fti.tin-name", "fti.tin", "fti.edm-record"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(_RULE_IDS),
            st.lists(st.tuples(st.integers(0, 30), st.integers(1, 300)), min_size=1, max_size=90),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_many_added_at_once_count_as_each_added_alone(
    batches: list[tuple[str, list[tuple[int, int]]]],
) -> None:
    """`add_many` of a batch (values in file order) gives the findings that `add` of
    each gives: fingerprints, strongest rule per record, hits, first locations,
    masks and signatures."""
    one, many = FileFindings(b"k" * 32), FileFindings(b"k" * 32)
    row = 0
    for rule, items in batches:
        wheres = []
        for value, step in items:
            row += step
            where = {"row": row, "column": 2}
            wheres.append(where)
            one.add(rule, "tin", str(value), dict(where), f"m{value % 3}", f"s{value % 2}")
        many.add_many(
            rule,
            "tin",
            [str(value) for value, _ in items],
            {f"m{value % 3}" for value, _ in items},
            {f"s{value % 2}" for value, _ in items},
            lambda i, wheres=wheres: dict(wheres[i]),
            (0, "", wheres[0]["row"], 0),
        )
    assert many.findings("p", None, False) == one.findings("p", None, False)
