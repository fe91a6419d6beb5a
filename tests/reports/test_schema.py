"""The report schema: real reports validate, each violation is named by its path.

Identifiers are generated at run time (``valid_ssn``); no file holds an SSN-shaped
literal.
"""

from __future__ import annotations

import copy
import random
import re
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.reports import schema as schema_module
from ftiscan.reports.canonical import canonical_bytes, parse
from ftiscan.reports.report import SCHEMA_VERSION, SEVERITIES, build_report
from ftiscan.reports.schema import (
    MAX_MESSAGE,
    SCHEMA_ID,
    ReportSchemaError,
    check_payload,
    load_schema,
    schema_errors,
)
from ftiscan.scanner import findings as findings_module
from ftiscan.scanner import selftest
from ftiscan.scanner.engine import (
    MAX_LISTED_SKIPS,
)
from ftiscan.scanner.errors import FtiscanError
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.packs import PackSet, load_packs
from tests.strategies import (
    report_chains,
    report_coverages,
    report_findings,
    report_text,
    sha256_digests,
)
from tests.synthetic.home import build_home
from tests.synthetic.report import scan_report

Payload = dict[str, Any]
Mutation = Callable[[Payload], None]

DIGEST = "sha256:" + "ab" * 32
KEY_ID = "cd" * 32


@cache
def _packs() -> PackSet:
    return load_packs()


def _dashed(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def _tin(seed: int = 6103) -> str:
    """A synthetic SSN, generated now (nine digits)."""
    return valid_ssn(random.Random(seed))


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> Payload:
    """A report of a synthetic home tree, made the way ``ftiscan scan`` makes one."""
    base = tmp_path_factory.mktemp("schema")
    home = base / "home"
    build_home(home, seed=11)
    payload = scan_report(home, secrets.token_bytes(32))
    payload["chain"] = {"key_id": KEY_ID, "sequence": 1, "previous": None}
    return payload


@pytest.fixture
def report(real_report: Payload) -> Payload:
    """A copy of the real report that a test may change."""
    return copy.deepcopy(real_report)


def _paths(errors: list[str]) -> list[str]:
    return [error.split(": ", 1)[0] for error in errors]


# --- the schema itself -------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    """The shipped schema is itself a valid Draft 2020-12 schema with the published id."""
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID


def test_schema_load_returns_a_private_copy() -> None:
    """Changing what load_schema returned changes neither later copies nor validation."""
    first = load_schema()
    first["properties"].clear()
    assert "findings" in load_schema()["properties"]
    assert schema_errors({"schema": "ftiscan.report/1"}) != []


def test_schema_constants_match_the_code() -> None:
    """Schema name, severities and list bounds are the ones the engine and report use."""
    schema = load_schema()
    defs = schema["$defs"]
    assert schema["properties"]["schema"]["const"] == f"ftiscan.report/{SCHEMA_VERSION}"
    assert defs["severity"]["enum"] == list(SEVERITIES) == list(findings_module.SEVERITIES)
    assert defs["finding"]["properties"]["locations"]["maxItems"] == findings_module.MAX_LOCATIONS
    assert defs["coverage"]["properties"]["not_read"]["maxItems"] == MAX_LISTED_SKIPS
    assert {r.severity for r in findings_module.RULES.values()} <= set(SEVERITIES)


def test_schema_chain_is_required_and_fully_specified() -> None:
    """Every top-level field is required, ``chain`` too, and the chain is defined in full."""
    schema = load_schema()
    assert set(schema["properties"]) == set(schema["required"])
    assert schema["$defs"]["chain"]["required"] == ["key_id", "sequence", "previous"]


# --- real reports --------------------------------------------------------------------------


def test_schema_accepts_real_report(real_report: Payload) -> None:
    """A scan of the synthetic home tree, built as the CLI builds it, matches the schema."""
    assert real_report["summary"]["verdict"] == "found"
    assert any(f["severity"] == "critical" for f in real_report["findings"])
    assert real_report["coverage"]["not_read"], "the tree holds unreadable files"
    assert schema_errors(real_report) == []
    check_payload(real_report)


def test_schema_accepts_real_report_after_canonical_round_trip(real_report: Payload) -> None:
    """The signed bytes, parsed back as counsel parses them, still match."""
    assert schema_errors(parse(canonical_bytes(real_report))) == []


@pytest.mark.parametrize(
    "chain",
    [
        {"key_id": KEY_ID, "sequence": 1, "previous": None},
        {"key_id": KEY_ID, "sequence": 42, "previous": DIGEST},
    ],
    ids=["first", "later"],
)
def test_schema_accepts_chain_and_digests(report: Payload, chain: Payload) -> None:
    """A chain link and set policy and EDM digests are accepted."""
    report["chain"] = chain
    report["scan"]["policy_digest"] = DIGEST
    report["scan"]["edm_digest"] = DIGEST
    assert schema_errors(report) == []


# --- exact failures --------------------------------------------------------------------------


def _set(path: str, value: Any) -> Mutation:
    """Set the value at a dotted path (integers index lists)."""

    def apply(payload: Payload) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return apply


def _delete(path: str) -> Mutation:
    def apply(payload: Payload) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return apply


def _append(path: str, value: Any) -> Mutation:
    def apply(payload: Payload) -> None:
        node: Any = payload
        for part in path.split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        node.append(value)

    return apply


def _chain(**fields: Any) -> Mutation:
    return _set("chain", {"key_id": KEY_ID, "sequence": 2, "previous": DIGEST, **fields})


def _approved_critical(payload: Payload) -> None:
    finding = next(f for f in payload["findings"] if f["severity"] == "critical")
    finding["approved_location"] = True
    payload["findings"] = [finding]


CASES: list[tuple[str, Mutation, list[str], str]] = [
    (
        "huge-negative-count",
        _set("coverage.bytes_seen", -(10**100)),
        ["$.coverage.bytes_seen"],
        "is less than",
    ),
    ("non-string-date", _set("scan.start", 5), ["$.scan.start"], "of type 'string'"),
    (
        "space-separated-date",
        _set("scan.start", "2026-12-01 20:01:45"),
        ["$.scan.start", "$.scan.start"],
        "date-time",
    ),
    (
        "negative-kind-count",
        _set("coverage.kinds.utf-16", -1),
        ["$.coverage.kinds['utf-16']"],
        "minimum",
    ),
    ("float-count", _set("findings.0.records", 2.5), ["$.findings[0].records"], "integer"),
    (
        "integral-float-count",
        _set("coverage.files_seen", 3.0),
        ["$.coverage.files_seen"],
        "integer",
    ),
    (
        "negative-count",
        _set("summary.records_high_or_critical", -1),
        ["$.summary.records_high_or_critical"],
        "minimum",
    ),
    ("bool-count", _set("findings.0.hits", True), ["$.findings[0].hits"], "integer"),
    (
        "unknown-severity",
        _set("findings.0.severity", "urgent"),
        ["$.findings[0].severity"],
        "one of",
    ),
    ("unknown-verdict", _set("summary.verdict", "dirty"), ["$.summary.verdict"], "one of"),
    ("extra-top-level-key", _set("extra", 1), ["$"], "'extra'"),
    ("extra-coverage-key", _set("coverage.files_encrypted", 0), ["$.coverage"], "not allowed"),
    ("extra-finding-key", _set("findings.0.value", "x"), ["$.findings[0]"], "'value'"),
    (
        "missing-finding-field",
        _delete("findings.0.rule"),
        ["$.findings[0]"],
        "'rule' is a required",
    ),
    ("missing-coverage-field", _delete("coverage.bytes_seen"), ["$.coverage"], "'bytes_seen'"),
    ("wrong-schema-name", _set("schema", "ftiscan.report/2"), ["$.schema"], "was expected"),
    ("uppercase-uuid", _set("id", "22433F74-CB59-4E43-A92C-7E374ED9564F"), ["$.id"], "match"),
    (
        "bad-fingerprint-case",
        _set("findings.0.fingerprints.0", "AB" * 32),
        ["$.findings[0].fingerprints[0]"],
        "match",
    ),
    (
        "short-fingerprint",
        _set("findings.0.fingerprints.0", "ab" * 31),
        ["$.findings[0].fingerprints[0]"],
        "match",
    ),
    (
        "duplicate-fingerprint",
        lambda p: p["findings"][0]["fingerprints"].append(p["findings"][0]["fingerprints"][0]),
        ["$.findings[0].fingerprints"],
        "non-unique",
    ),
    (
        "masked-name",
        _append("findings.0.masked", "Avery Testwood"),
        ["$.findings[0].masked[1]"],
        "any of",
    ),
    (
        "masked-empty",
        _append("findings.0.masked", ""),
        ["$.findings[0].masked[1]", "$.findings[0].masked[1]"],
        "non-empty",
    ),
    (
        "location-line-zero",
        _set("findings.0.locations.0.line", 0),
        ["$.findings[0].locations[0].line"],
        "minimum",
    ),
    (
        "location-unknown-key",
        _set("findings.0.locations.0.offset", 3),
        ["$.findings[0].locations[0]"],
        "'offset'",
    ),
    (
        "location-bad-bytes",
        _set("findings.0.locations.0.bytes", "12"),
        ["$.findings[0].locations[0].bytes"],
        "match",
    ),
    (
        "location-empty",
        _set("findings.0.locations.0", {}),
        ["$.findings[0].locations[0]"],
        "non-empty",
    ),
    (
        "bad-pack-digest",
        _set("scan.pack.digest", "md5:" + "ab" * 16),
        ["$.scan.pack.digest"],
        "match",
    ),
    (
        "bad-policy-digest",
        _set("scan.policy_digest", "sha256:" + "AB" * 32),
        ["$.scan.policy_digest"],
        "any of",
    ),
    ("bad-edm-digest", _set("scan.edm_digest", ""), ["$.scan.edm_digest"], "any of"),
    ("missing-edm-digest", _delete("scan.edm_digest"), ["$.scan"], "'edm_digest'"),
    ("impossible-date", _set("scan.start", "2026-02-30T00:00:00Z"), ["$.scan.start"], "date-time"),
    ("local-time", _set("scan.end", "2026-02-03T10:00:00+01:00"), ["$.scan.end"], "match"),
    ("bad-skip-reason", _set("coverage.skipped.Not Read", 1), ["$.coverage.skipped"], "match"),
    (
        "string-partial",
        _append("coverage.not_read", {"path": "/x", "reason": "corrupt", "partial": "true"}),
        ["$.coverage.not_read[LAST].partial"],
        "was expected",
    ),
    ("approved-but-critical", _approved_critical, ["$.findings[0].severity"], "'info'"),
    ("chain-sequence-zero", _chain(sequence=0), ["$.chain.sequence"], "minimum"),
    ("chain-sequence-float", _chain(sequence=2.0), ["$.chain.sequence"], "integer"),
    ("chain-first-with-previous", _chain(sequence=1), ["$.chain.previous"], "'null'"),
    ("chain-later-without-previous", _chain(previous=None), ["$.chain.previous"], "'string'"),
    ("chain-bad-previous", _chain(previous="ab" * 32), ["$.chain.previous"], "match"),
    ("chain-bad-key-id", _chain(key_id="sha256:" + KEY_ID), ["$.chain.key_id"], "match"),
    ("chain-extra-key", _chain(signature="x"), ["$.chain"], "'signature'"),
    (
        "chain-missing-previous",
        lambda p: p.update(chain={"key_id": KEY_ID, "sequence": 1}),
        ["$.chain"],
        "'previous' is a required",
    ),
    ("no-chain", lambda p: p.pop("chain"), ["$"], "'chain' is a required"),
]


@pytest.mark.parametrize(
    ("mutate", "paths", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_schema_names_exact_violation(
    report: Payload, mutate: Mutation, paths: list[str], says: str
) -> None:
    """One change to a valid report gives exactly the expected error paths."""
    mutate(report)
    errors = schema_errors(report)
    last = len(report["coverage"]["not_read"]) - 1
    assert _paths(errors) == [p.replace("LAST", str(last)) for p in paths]
    assert [e for e in errors if says in e], errors


def test_schema_masked_digits_fail_without_echo(report: Payload) -> None:
    """A masked value holding a TIN fails at its path, and no message repeats its digits."""
    digits = _tin()
    report["findings"][0]["masked"].append(_dashed(digits))
    errors = schema_errors(report)
    assert set(_paths(errors)) == {"$.findings[0].masked[1]"}
    assert any("'^[^0-9]*$'" in e for e in errors)
    assert not [e for e in errors if re.search(r"[0-9]{3}", e.split("does not match")[0])]


def test_schema_tin_in_cell_fails_without_echo(report: Payload) -> None:
    """A JSON pointer naming a TIN key is refused, and the message masks the TIN."""
    digits = _tin(7)
    report["findings"][0]["locations"][0]["cell"] = f"/taxpayers/{digits}"
    errors = schema_errors(report)
    assert _paths(errors) == ["$.findings[0].locations[0].cell"]
    assert digits not in errors[0]
    assert "(digits masked)" in errors[0]


def test_schema_errors_never_echo_identifiers(report: Payload) -> None:
    """A TIN written into any string field never appears in any message."""
    digits = _tin(99)
    forms = [digits, _dashed(digits)]
    finding = report["findings"][0]
    finding["title"] = 5
    finding["rule"] = f"rule {forms[1]}"
    finding["signatures"] = [forms[0]]
    finding["fingerprints"] = [forms[1]]
    report["id"] = forms[0]
    report["scan"]["tool"]["name"] = forms[1]
    report["coverage"]["kinds"] = {forms[0]: 1}
    report[forms[1]] = {"value": forms[0]}
    errors = schema_errors(report)
    assert len(errors) >= 8
    assert [e for e in errors if any(form in e for form in forms)] == []


def test_schema_errors_bounded_for_long_values(report: Payload) -> None:
    """A long value is cut in the message, which says how long it was."""
    report["findings"][0]["title"] = "x" * 5000
    report["coverage"]["not_read"] = [{"path": "p", "reason": "r" * 300}]
    errors = schema_errors(report)
    assert _paths(errors) == ["$.coverage.not_read[0].reason", "$.findings[0].title"]
    assert "(5000 characters)" in errors[1]
    assert all(len(e.split(": ", 1)[1]) <= MAX_MESSAGE + 3 for e in errors)


def test_schema_errors_sorted_and_complete(report: Payload) -> None:
    """Every violation is listed, the root first, then by path with list items in order."""
    report["schema"] = "x"
    report["findings"] = [copy.deepcopy(report["findings"][0]) for _ in range(11)]
    report["findings"][10]["rule"] = "X"
    report["findings"][2]["rule"] = "Y"
    report["coverage"]["files_seen"] = "1"
    report["extra"] = None
    errors = schema_errors(report)
    assert _paths(errors) == [
        "$",
        "$.coverage.files_seen",
        "$.findings[2].rule",
        "$.findings[10].rule",
        "$.schema",
    ]


def test_schema_errors_on_non_object() -> None:
    """A payload that is not an object gives one error at the root, without echoing it."""
    assert schema_errors(["a"] * 100) == ["$: an array of 100 items is not of type 'object'"]


def test_schema_check_payload_raises_first_errors(report: Payload) -> None:
    """check_payload raises a ReportSchemaError naming the first five of all errors."""
    for finding in report["findings"][:7]:
        finding["severity"] = "urgent"
    with pytest.raises(ReportSchemaError, match=r"severity: .* \(and 2 more\)$") as caught:
        check_payload(report)
    assert isinstance(caught.value, FtiscanError)
    assert len(caught.value.errors) == 7
    assert str(caught.value).count("is not one of") == 5


# --- properties --------------------------------------------------------------------------------


@st.composite
def _reports(draw: st.DrawFn) -> Payload:
    started = draw(st.floats(946_684_800, 4_102_444_800))
    check = selftest.SelfTest(
        examples=draw(st.integers(0, 1000)),
        canaries=draw(st.integers(0, 100)),
        failures=tuple(draw(st.lists(st.sampled_from(["canary csv", "us.ssn match[0]"])))),
        pack_digest=draw(sha256_digests()),
    )
    host = draw(
        st.none()
        | st.fixed_dictionaries(
            {k: report_text(0) for k in ("hostname", "fqdn", "os", "os_release", "machine", "user")}
        )
    )
    payload = build_report(
        roots=[Path(p) for p in draw(st.lists(report_text(), min_size=1, max_size=3))],
        findings=draw(report_findings()),
        coverage=draw(report_coverages()),
        started=started,
        ended=started + draw(st.floats(0, 86_400 * 7)),
        tool_version=draw(st.sampled_from(["0.1.0", "0+unknown", "1.2.3.dev4+g1234abc"])),
        packs=_packs().describe(),
        selftest=check.as_dict(),
        options={
            "excludes": draw(st.lists(report_text())),
            "max_file_size": draw(st.integers(0, 2**40)),
            "one_file_system": draw(st.booleans()),
            "follow_symlinks": draw(st.booleans()),
            "approved": draw(st.lists(report_text())),
        },
        policy_digest=draw(st.none() | sha256_digests()),
        edm_digest=draw(st.none() | sha256_digests()),
        host=host,
    )
    payload["chain"] = draw(report_chains())
    return payload


@settings(deadline=None, max_examples=60)
@given(_reports())
def test_schema_accepts_any_built_report(payload: Payload) -> None:
    """build_report with generated findings, coverage and chain always matches the schema,
    and the fast validator accepts it too (so verification takes the fast path)."""
    assert schema_errors(payload) == []
    assert schema_module._fast_accepts(payload)


def test_schema_fast_path_rejects_every_violation(report: Payload) -> None:
    """The fast validator accepts the real report and rejects every mutation of the
    table above, so it can never pass what jsonschema would refuse."""
    assert schema_module._fast_accepts(report)
    for _, mutate, _, _ in CASES:
        changed = copy.deepcopy(report)
        mutate(changed)
        assert not schema_module._fast_accepts(changed)


@given(st.text(max_size=10), st.sampled_from("0123456789"), st.text(max_size=10))
def test_schema_rejects_any_digit_in_masked(before: str, digit: str, after: str) -> None:
    """A masked entry holding any digit anywhere is refused at its path."""
    finding = {
        "path": "/p",
        "rule": "fti.tin",
        "title": "t",
        "severity": "medium",
        "records": 1,
        "hits": 1,
        "locations": [{"line": 1}],
        "fingerprints": ["0" * 64],
        "masked": [before + digit + after],
        "signatures": [],
    }
    errors = schema_errors({"findings": [finding]})
    assert "$.findings[0].masked[0]" in _paths(errors)
