"""SARIF 2.1.0 renderer: the report as one run of results, for code-scanning tools.

One result per finding. Its message holds a count, the rule title and masked shapes
only (the payload never holds what was matched). Its location is the file as a
``file://`` URI, with a region only for line-based locations (prose); table rows and
columns, sheets and cells, pages and archive members go into the result's
``properties`` and ``logicalLocations``. The partial fingerprint ``ftiscanRecords/v1``
is the SHA-256 (hex) of the finding's sorted keyed fingerprints joined by ``\\n``, so
the same records found again, in any file, give the same value. Files that were not
read, or read only in part, become tool execution notifications; coverage counts and
the report id go into the run's properties.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from ftiscan.reports._where import location_label, member_of

__all__ = ["LEVELS", "SARIF_SCHEMA_URI", "SECURITY_SEVERITY", "render_sarif"]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.0", "low": "3.0", "info": "0.0"}
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_ORDER = ("info", "low", "medium", "high", "critical")
_LOGICAL_KEYS = ("row", "page", "sheet", "cell")
_PROPERTY_KEYS = ("row", "column", "page", "sheet", "cell", "bytes")
_COVERAGE_KEYS = (
    "files_seen",
    "files_scanned",
    "files_skipped",
    "files_partial",
    "bytes_seen",
    "bytes_scanned",
    "skipped",
    "partial",
    "kinds",
    "not_read_unlisted",
)


def _level(severity: object) -> str:
    return LEVELS.get(str(severity), "note")


def _file_uri(path: str) -> str:
    """An absolute path (POSIX or Windows) as a ``file://`` URI; others as a relative one."""
    for flavour in (PurePosixPath, PureWindowsPath):
        pure = flavour(path)
        if pure.is_absolute():
            try:
                return pure.as_uri()
            except UnicodeEncodeError:  # a lone surrogate: keep it (as UTF-8) rather than fail
                posix = pure.as_posix()
                lead = "file://" if posix.startswith("/") else "file:///"
                return lead + quote(posix, safe="/:", errors="surrogatepass")
    return quote(path.replace("\\", "/"), safe="/", errors="surrogatepass")


def _records_digest(fingerprints: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest()


def _rules(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One rule per rule id used, at the highest severity any of its findings has."""
    severity: dict[str, str] = {}
    titles: dict[str, str] = {}
    for finding in findings:
        rule, sev = str(finding["rule"]), str(finding["severity"])
        titles.setdefault(rule, str(finding.get("title") or rule))
        if rule not in severity or _rank(sev) > _rank(severity[rule]):
            severity[rule] = sev
    return [_rule(rule, titles[rule], severity[rule]) for rule in sorted(severity)]


def _rank(severity: str) -> int:
    return _ORDER.index(severity) if severity in _ORDER else -1


def _rule(rule_id: str, title: str, severity: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "shortDescription": {"text": title},
        "defaultConfiguration": {"level": _level(severity)},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(severity, "0.0"),
            "severity": severity,
            "tags": ["security", "privacy", "fti"],
        },
    }


def _message(finding: Mapping[str, Any]) -> str:
    title = finding.get("title") or finding["rule"]
    text = f"{finding['records']} taxpayer record(s) ({title})"
    if finding.get("masked"):
        text += "; masked: " + ", ".join(str(m) for m in finding["masked"])
    if finding.get("approved_location"):
        text += "; in an approved location"
    return text


def _region(where: Mapping[str, Any]) -> dict[str, int] | None:
    line, column = where.get("line"), where.get("column")
    if not isinstance(line, int) or isinstance(line, bool) or line < 1:
        return None
    region = {"startLine": line}
    if isinstance(column, int) and not isinstance(column, bool) and column >= 1:
        region["startColumn"] = column
    return region


def _logical(where: Mapping[str, Any]) -> list[dict[str, str]]:
    """A logical location for a row, cell or page (a bare line is a region only)."""
    if not any(k in where for k in _LOGICAL_KEYS):
        return []
    kind = "cell" if "cell" in where else "page" if "page" in where else "row"
    return [{"name": location_label(where, where.get("member")), "kind": kind}]


def _location(finding: Mapping[str, Any]) -> dict[str, Any]:
    locations: Sequence[Mapping[str, Any]] = finding.get("locations") or []
    first: Mapping[str, Any] = locations[0] if locations else {}
    physical: dict[str, Any] = {"artifactLocation": {"uri": _file_uri(str(finding["path"]))}}
    region = _region(first)
    if region:
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    logical = _logical(first)
    if logical:
        location["logicalLocations"] = logical
    return location


def _result_properties(finding: Mapping[str, Any]) -> dict[str, Any]:
    locations: Sequence[Mapping[str, Any]] = finding.get("locations") or []
    first: Mapping[str, Any] = locations[0] if locations else {}
    properties: dict[str, Any] = {
        "severity": finding["severity"],
        "records": finding["records"],
        "hits": finding.get("hits", 0),
        "masked": list(finding.get("masked") or []),
        "fingerprints": list(finding.get("fingerprints") or []),
        "signatures": list(finding.get("signatures") or []),
        "locations": list(locations),
    }
    properties.update({k: first[k] for k in _PROPERTY_KEYS if k in first})
    member = member_of(finding)
    if member:
        properties["member"] = member
    if finding.get("approved_location"):
        properties["approved_location"] = True
    return properties


def _result(finding: Mapping[str, Any], rule_index: Mapping[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding["rule"],
        "ruleIndex": rule_index[str(finding["rule"])],
        "level": _level(finding["severity"]),
        "message": {"text": _message(finding)},
        "locations": [_location(finding)],
    }
    if finding.get("fingerprints"):
        result["partialFingerprints"] = {
            "ftiscanRecords/v1": _records_digest(finding["fingerprints"])
        }
    result["properties"] = _result_properties(finding)
    return result


def _notification(entry: Mapping[str, Any]) -> dict[str, Any]:
    partial = bool(entry.get("partial"))
    reason = str(entry.get("reason", ""))
    uri = _file_uri(str(entry.get("path", "")))
    member = entry.get("member")
    what = f"part {member} not read" if member else "read in part" if partial else "not read"
    properties: dict[str, Any] = {"reason": reason, "partial": partial}
    if member:
        properties["member"] = member
    return {
        "level": "note" if partial else "warning",
        "message": {"text": f"{what}: {reason}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
        "properties": properties,
    }


def _invocation(report: Mapping[str, Any]) -> dict[str, Any]:
    scan, host = report["scan"], report.get("host") or {}
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": scan["start"],
        "endTimeUtc": scan["end"],
    }
    if host.get("hostname"):
        invocation["machine"] = host["hostname"]
    if host.get("user"):
        invocation["account"] = host["user"]
    unread = report["coverage"].get("not_read") or []
    if unread:
        invocation["toolExecutionNotifications"] = [_notification(e) for e in unread]
    return invocation


def _run_properties(report: Mapping[str, Any]) -> dict[str, Any]:
    scan, summary, coverage = report["scan"], report["summary"], report["coverage"]
    properties: dict[str, Any] = {
        "report_id": report["id"],
        "report_schema": report.get("schema"),
        "verdict": summary["verdict"],
        "highest_severity": summary["highest_severity"],
        "records_high_or_critical": summary["records_high_or_critical"],
        "roots": list(scan["roots"]),
        "pack_digest": scan["pack"].get("digest"),
        "policy_digest": scan.get("policy_digest"),
        "edm_digest": scan.get("edm_digest"),
        "selftest_passed": bool((scan.get("selftest") or {}).get("passed")),
        "coverage": {k: coverage[k] for k in _COVERAGE_KEYS if k in coverage},
    }
    if isinstance(report.get("chain"), Mapping):
        properties["chain"] = dict(report["chain"])
    return properties


def _run(report: Mapping[str, Any]) -> dict[str, Any]:
    findings: Sequence[Mapping[str, Any]] = report["findings"]
    rules = _rules(findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    driver = {"name": "ftiscan", "version": str(report["scan"]["tool"]["version"]), "rules": rules}
    return {
        "tool": {"driver": driver},
        "invocations": [_invocation(report)],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index) for f in findings],
        "properties": _run_properties(report),
    }


def render_sarif(report: dict[str, Any]) -> str:
    """The report as a SARIF 2.1.0 log (JSON text) with one run."""
    log = {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [_run(report)]}
    return json.dumps(log, indent=2, ensure_ascii=False)
