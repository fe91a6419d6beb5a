"""Read ftiscan reports (plain JSON or DSSE envelope) and score them against ground truth.

Shared by the end-to-end tests and ``bench/run.py``. Only the report contract of
DESIGN.md is assumed: ``findings`` with ``path``, optional ``member``, ``rule``,
``severity`` and ``records``. Signatures are not checked here (that is
``ftiscan verify``'s job); the payload is only decoded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.synthetic.home import SEVERITIES, GroundTruth, MemberTruth, severity_rank

__all__ = [
    "MemberMiss",
    "Score",
    "file_severities",
    "load_report",
    "member_misses",
    "member_severities",
    "relative_path",
    "scan_report",
    "score",
]

PAYLOAD_TYPE = "application/vnd.ftiscan.report+json"


def scan_report(root: Path, key: bytes) -> dict[str, Any]:
    """The report payload (no chain, unsigned) of an in-process scan of ``root`` with the
    built-in packs and fingerprint ``key``, made as ``ftiscan scan`` makes it: self-test
    (which must pass), scan, `build_report` with the default options."""
    from ftiscan.reports.report import build_report
    from ftiscan.scanner import selftest
    from ftiscan.scanner.engine import Context, ScanOptions, roots_of, run_scan
    from ftiscan.scanner.model import Limits
    from ftiscan.scanner.packs import load_packs
    from ftiscan.scanner.walk import WalkOptions

    packs = load_packs()
    limits = Limits()
    options = ScanOptions(
        roots=roots_of([root]),
        pack_sources=packs.sources,
        key=key,
        walk=WalkOptions(max_file_bytes=limits.max_file_bytes),  # as the CLI sets it
        limits=limits,
        jobs=1,
    )
    check = selftest.run(Context(options, packs))
    assert check.passed, check.failures
    result = run_scan(options, packs=packs)
    return build_report(
        roots=options.roots,
        findings=result.findings,
        coverage=result.coverage.as_dict(),
        started=result.started,
        ended=result.ended,
        tool_version="0.1.0",
        packs=packs.describe(),
        selftest=check.as_dict(),
        options=options.described(),
    )


def load_report(path: Path) -> dict[str, Any]:
    """The report object from ``path``: plain JSON, or the payload of a DSSE envelope.

    Raises ValueError if the file is neither or the object has no ``findings`` list.
    """
    obj = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    if "payload" in obj and "payloadType" in obj:
        if obj["payloadType"] != PAYLOAD_TYPE:
            raise ValueError(f"{path}: payloadType {obj['payloadType']!r}, want {PAYLOAD_TYPE!r}")
        obj = json.loads(base64.b64decode(obj["payload"], validate=True))
        if not isinstance(obj, dict):
            raise ValueError(f"{path}: DSSE payload is not a JSON object")
    if not isinstance(obj.get("findings"), list):
        raise ValueError(f"{path}: report has no 'findings' list")
    return obj


def relative_path(finding_path: str, scan_root: Path, tree_root: Path) -> str | None:
    """A finding's path relative to ``tree_root`` (POSIX), or None if outside it.

    Findings carry an absolute path or one relative to the scanned root, which may be a
    subfolder of the tree whose truth we hold.
    """
    tree = tree_root.resolve()
    candidate = Path(finding_path)
    options = [candidate] if candidate.is_absolute() else [scan_root / candidate, tree / candidate]
    for option in options:
        try:
            return option.resolve().relative_to(tree).as_posix()
        except ValueError:
            continue
    return None


def file_severities(
    report: dict[str, Any], scan_root: Path, tree_root: Path
) -> dict[str, tuple[str, int]]:
    """Per file (relative to ``tree_root``): the highest severity of its findings and
    the records of the findings at that severity (archive members roll up to the file)."""
    out: dict[str, tuple[str, int]] = {}
    for finding in report["findings"]:
        rel = relative_path(str(finding["path"]), scan_root, tree_root)
        if rel is None:
            continue
        severity = str(finding["severity"])
        if severity not in SEVERITIES:
            raise ValueError(f"finding for {rel}: unknown severity {severity!r}")
        records = int(finding.get("records") or 0)
        old = out.get(rel)
        if old is None or severity_rank(severity) > severity_rank(old[0]):
            out[rel] = (severity, records)
        elif severity == old[0]:
            out[rel] = (severity, old[1] + records)
    return out


def member_severities(
    report: dict[str, Any], scan_root: Path, tree_root: Path
) -> dict[tuple[str, str], tuple[str, int]]:
    """Per (file relative to ``tree_root``, member): the highest severity of its findings
    and the records of the findings at that severity. The member is the finding's
    ``member``, ``""`` for a finding without one (the file's own content)."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for finding in report["findings"]:
        rel = relative_path(str(finding["path"]), scan_root, tree_root)
        if rel is None:
            continue
        key = (rel, str(finding.get("member") or ""))
        severity = str(finding["severity"])
        if severity not in SEVERITIES:
            raise ValueError(f"finding for {rel}: unknown severity {severity!r}")
        records = int(finding.get("records") or 0)
        old = out.get(key)
        if old is None or severity_rank(severity) > severity_rank(old[0]):
            out[key] = (severity, records)
        elif severity == old[0]:
            out[key] = (severity, old[1] + records)
    return out


@dataclass(frozen=True, slots=True)
class MemberMiss:
    """One container member a scan got wrong: what the truth says and what was found
    (``got`` is None for no finding); ``expected`` is None for a member the truth does
    not list (filler, which must have no finding)."""

    path: str
    member: str
    expected: MemberTruth | None
    got: tuple[str, int] | None

    def __str__(self) -> str:
        want = (
            "no finding"
            if self.expected is None
            else f"{self.expected.severity} {self.expected.records} records"
            if self.expected.kind == "positive"
            else f"at most {self.expected.max_severity or 'no finding'}"
        )
        got = "no finding" if self.got is None else f"{self.got[0]} {self.got[1]} records"
        return f"{self.path} [{self.member or '(file itself)'}]: expected {want}, got {got}"


def member_misses(
    truth: GroundTruth,
    members: dict[tuple[str, str], tuple[str, int]],
    only: Iterable[str] | None = None,
) -> list[MemberMiss]:
    """Exact per-member check of every container the truth lists members for (``only``
    limits to those files): positive members at their exact severity and records, trap
    members at most their max_severity, and no finding on any member not listed."""
    scope = set(only) if only is not None else set(truth.files)
    misses: list[MemberMiss] = []
    for rel in sorted(scope):
        expected_file = truth.files.get(rel)
        if expected_file is None or not expected_file.members:
            continue
        for member, expected in sorted(expected_file.members.items()):
            got = members.get((rel, member))
            if expected.kind == "positive":
                if got != (expected.severity, expected.records):
                    misses.append(MemberMiss(rel, member, expected, got))
            elif severity_rank(got[0] if got else None) > severity_rank(expected.max_severity):
                misses.append(MemberMiss(rel, member, expected, got))
        for (path, member), got in sorted(members.items()):
            if path == rel and member not in expected_file.members:
                misses.append(MemberMiss(rel, member, None, got))
    return misses


@dataclass(slots=True)
class Score:
    """File-level detection quality for ``severity >= high``."""

    true_positives: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)
    severity_exact: int = 0
    records_exact: int = 0
    records_mismatch: list[str] = field(default_factory=list)
    trap_violations: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = len(self.true_positives) + len(self.false_positives)
        return len(self.true_positives) / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = len(self.true_positives) + len(self.false_negatives)
        return len(self.true_positives) / wanted if wanted else 1.0


def score(
    truth: GroundTruth,
    severities: dict[str, tuple[str, int]],
    only: Iterable[str] | None = None,
) -> Score:
    """Compare per-file severities with the truth; ``only`` limits to those paths
    (for a scan of a subtree). Files the truth does not list must have no finding."""
    scope = set(truth.files) | set(severities) if only is None else set(only)
    result = Score()
    high = severity_rank("high")
    for rel in sorted(scope):
        expected = truth.files.get(rel)
        got_severity, got_records = severities.get(rel, (None, 0))
        got = severity_rank(got_severity)
        if expected is not None and expected.kind == "positive":
            if got >= high:
                result.true_positives.append(rel)
            else:
                result.false_negatives.append(rel)
            if got_severity == expected.severity:
                result.severity_exact += 1
                if got_records == expected.records:
                    result.records_exact += 1
                else:
                    result.records_mismatch.append(rel)
            continue
        if got >= high:
            result.false_positives.append(rel)
        allowed = severity_rank(None if expected is None else expected.max_severity)
        if got > allowed:
            result.trap_violations.append(rel)
    return result
