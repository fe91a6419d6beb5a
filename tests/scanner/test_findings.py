"""Findings: keyed fingerprints, distinct records, strongest rule per record."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.findings import MAX_LOCATIONS, FileFindings, fingerprint


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
