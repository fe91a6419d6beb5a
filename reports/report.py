"""The report payload: findings, coverage, host, scan identity (DESIGN.md contract).

The payload holds no plaintext of what was matched: findings carry rules, counts,
locations, masked shapes and keyed fingerprints only.
"""

from __future__ import annotations

import datetime as dt
import getpass
import platform
import socket
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
SEVERITIES = ("info", "low", "medium", "high", "critical")


def iso(timestamp: float) -> str:
    """UTC time, to the second, as RFC 3339."""
    moment = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def display_text(text: str) -> str:
    """``text`` as valid UTF-8: a path holding bytes that are not UTF-8 (decoded by
    Python with surrogate escapes) shows them as ``\\xNN``, so the report can be
    written, hashed and signed; the path stays recognisable.

    >>> display_text("data\\udcff.csv")
    'data\\\\xff.csv'
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that no file name decoding produced
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return display_text(value)
    if isinstance(value, dict):
        return {display_text(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        if _valid_strings(value):  # a finding's fingerprints: nothing to clean
            return list(value)
        return [_clean(v) for v in value]
    return value


def _valid_strings(values: list[Any]) -> bool:
    """Whether ``values`` are all strings that are valid UTF-8 (one encode for all)."""
    if not values or set(map(type, values)) != {str}:
        return False
    try:
        "".join(values).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def host_identity() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = ""
    return {
        "hostname": socket.gethostname(),
        "fqdn": socket.getfqdn(),
        "os": platform.system(),
        "os_release": platform.release(),
        "machine": platform.machine(),
        "user": user,
    }


def summary(findings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    by_severity = Counter(str(f["severity"]) for f in findings)
    files_by_severity: dict[str, set[str]] = {s: set() for s in SEVERITIES}
    records = 0
    for finding in findings:
        files_by_severity[str(finding["severity"])].add(str(finding["path"]))
        if finding["severity"] in ("high", "critical"):
            records += int(finding["records"])
    highest = next((s for s in reversed(SEVERITIES) if by_severity[s]), None)
    return {
        "findings": {s: by_severity[s] for s in SEVERITIES},
        "files": {s: len(files_by_severity[s]) for s in SEVERITIES},
        "records_high_or_critical": records,
        "highest_severity": highest,
        "verdict": "found" if highest in ("high", "critical") else "clean",
    }


def build_report(
    *,
    roots: Sequence[Path],
    findings: list[dict[str, Any]],
    coverage: dict[str, Any],
    started: float,
    ended: float,
    tool_version: str,
    packs: dict[str, Any],
    selftest: dict[str, Any],
    options: dict[str, Any],
    policy_digest: str | None = None,
    edm_digest: str | None = None,
    host: dict[str, str] | None = None,
    gone: list[dict[str, Any]] | None = None,
    cleared: list[dict[str, Any]] | None = None,
    report_id: str | None = None,
) -> dict[str, Any]:
    """Assemble the report object (unsigned payload; every string valid UTF-8).
    ``gone``: files with findings that an incremental scan no longer found;
    ``cleared``: files with findings that it read again and found none in;
    ``report_id``: the report's ``id`` when the caller chose it (default: a new UUID)."""
    if gone is not None:
        coverage = {**coverage, "gone": gone}
    if cleared is not None:
        coverage = {**coverage, "cleared": sorted(cleared, key=lambda c: str(c["path"]))}
    payload = {
        "schema": f"ftiscan.report/{SCHEMA_VERSION}",
        "id": report_id or str(uuid.uuid4()),
        "host": host if host is not None else host_identity(),
        "scan": {
            "roots": [str(root) for root in roots],
            "start": iso(started),
            "end": iso(ended),
            "duration_ms": int((ended - started) * 1000),
            "tool": {"name": "ftiscan", "version": tool_version},
            "pack": packs,
            "policy_digest": policy_digest,
            "edm_digest": edm_digest,
            "selftest": selftest,
            "options": options,
        },
        "summary": summary(findings),
        "coverage": coverage,
        "findings": findings,
    }
    return dict(_clean(payload))
