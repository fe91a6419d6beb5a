"""Findings: keyed fingerprints, distinct records, strongest rule per record."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.findings import FileFindings, fingerprint


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
