"""The fleet view's data: what each host holds now, its chain, staleness, correlation.

Computed in Python from the ``reports`` rows (`ftiscan.reports.intake.store`): each
report's ``holdings`` column is extracted once, when it is stored (`holdings_of`), so
that the fleet view never parses envelopes.

**What a host holds now** (``records``, ``findings``, ``highest``), the rule:

1. A host's *current agent* is the agent (key) of that host whose latest report was
   received last: a machine that was re-keyed is described by its new key's chain.
2. Walk that agent's stored reports in chain order (by sequence, not by any clock).
   A full report (mode ``sweep``, or ``scan`` for a CLI scan that names no mode)
   replaces everything held by its own findings. A ``batch`` report first drops
   every held finding whose path is one of its roots or under one, or that its
   ``coverage.gone`` or ``coverage.cleared`` names, then adds its own findings.
   A ``heartbeat`` changes nothing. Reports before the last full one are thus
   superseded; batch reports after it add to and take from it.
3. ``findings`` counts the held findings; ``records`` sums their ``records`` at
   severity high or critical (as the report's ``summary.records_high_or_critical``);
   ``highest`` is the highest severity held, ``null`` when nothing is held.

A host is **holding** when ``highest`` is high or critical, **clean** when it has a
stored report and is not holding, **stale** when no report of any mode was received
from it within ``stale_hours`` (or none ever was). Times are the intake's receive
times, so an agent's wrong clock makes it neither stale nor fresh. ``last_heartbeat``
is the receive time of its latest ``heartbeat`` report.

**Chain**: per host, over the current agent's stored sequences: ``first``, ``last``,
``gaps`` (ranges missing between stored sequences; they close when the missing
reports arrive, e.g. from an offline bundle) and ``forks`` (reports refused as a fork
or replay for the host's agents). A chain starting after 1 is not a gap (the agent
may have signed reports before it enrolled).

**Correlation**: a fingerprint (a keyed HMAC, never plaintext) that two or more
hosts hold now, by the rule above; most machines first, then by fingerprint.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

__all__ = [
    "FULL_MODES",
    "SEVERITIES",
    "AgentRow",
    "HostView",
    "ReportRow",
    "build_fleet",
    "holdings_of",
    "host_views",
    "mode_of",
]

SEVERITIES = ("info", "low", "medium", "high", "critical")
FULL_MODES = frozenset({"sweep", "scan"})
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def mode_of(payload: dict[str, Any]) -> str:
    """``scan.options.mode`` (the daemon's sweep, batch, heartbeat), ``scan`` if absent."""
    mode = payload["scan"]["options"].get("mode")
    return mode if isinstance(mode, str) and mode else "scan"


def holdings_of(payload: dict[str, Any]) -> str:
    """The ``holdings`` column of a schema-valid report: JSON of its roots, its
    findings as ``[path, member, severity, records, fingerprints]`` and the paths it
    names as gone or cleared."""
    coverage = payload["coverage"]
    removed = sorted(
        {str(item["path"]) for item in coverage.get("gone", [])}
        | {str(item["path"]) for item in coverage.get("cleared", [])}
    )
    findings = [
        [
            str(f["path"]),
            str(f.get("member", "")),
            str(f["severity"]),
            int(f["records"]),
            sorted(str(x) for x in f["fingerprints"]),
        ]
        for f in payload["findings"]
    ]
    roots = [str(root) for root in payload["scan"]["roots"]]
    return json.dumps(
        {"roots": roots, "findings": findings, "removed": removed},
        separators=(",", ":"),
        sort_keys=True,
    )


@dataclass(frozen=True, slots=True)
class AgentRow:
    key_id: str
    host_id: str
    enrolled_at: str


@dataclass(frozen=True, slots=True)
class ReportRow:
    agent: str
    sequence: int
    mode: str
    received_at: str
    received_us: int
    pack_digest: str | None
    edm_digest: str | None
    holdings: str


@dataclass(slots=True)
class HostView:
    """One host's line of the fleet view (before it becomes JSON)."""

    host_id: str
    agents: list[str]
    enrolled: str
    current: str | None = None  # the current agent
    last_report: str | None = None
    last_report_us: int | None = None
    last_heartbeat: str | None = None
    highest: str | None = None
    records: int = 0
    findings: int = 0
    reports: int = 0
    first: int = 0
    last: int = 0
    gaps: list[list[int]] = field(default_factory=list)
    forks: int = 0
    pack_digest: str | None = None
    edm_digest: str | None = None
    fingerprints: set[str] = field(default_factory=set)
    full_reports: list[ReportRow] = field(default_factory=list)  # of every agent


def _under(path: str, roots: Sequence[str]) -> bool:
    for root in roots:
        if path == root:
            return True
        base = root.rstrip("/\\")
        if path.startswith((base + "/", base + "\\")):
            return True
    return False


def _held(chain: Sequence[ReportRow]) -> list[list[Any]]:
    """The findings the host holds after ``chain`` (in sequence order)."""
    start = 0
    for index, row in enumerate(chain):
        if row.mode in FULL_MODES:
            start = index
    held: list[list[Any]] = []
    for row in chain[start:]:
        if row.mode == "heartbeat":
            continue
        data = json.loads(row.holdings)
        if row.mode in FULL_MODES:
            held = list(data["findings"])
            continue
        roots, removed = data["roots"], set(data["removed"])
        held = [f for f in held if f[0] not in removed and not _under(f[0], roots)]
        held.extend(data["findings"])
    return held


def _gaps(sequences: Sequence[int]) -> list[list[int]]:
    gaps: list[list[int]] = []
    for before, after in pairwise(sequences):
        if after > before + 1:
            gaps.append([before + 1, after - 1])
    return gaps


def host_views(
    agents: Iterable[AgentRow],
    reports: Iterable[ReportRow],
    forks: dict[str, int],
) -> list[HostView]:
    """Every host with an enrolled agent, sorted by host id (see the module rule)."""
    hosts: dict[str, HostView] = {}
    host_of: dict[str, str] = {}
    for agent in sorted(agents, key=lambda a: a.key_id):
        view = hosts.get(agent.host_id)
        if view is None:
            view = hosts[agent.host_id] = HostView(agent.host_id, [], agent.enrolled_at)
        view.agents.append(agent.key_id)
        view.enrolled = min(view.enrolled, agent.enrolled_at)
        view.forks += forks.get(agent.key_id, 0)
        host_of[agent.key_id] = agent.host_id
    by_agent: dict[str, list[ReportRow]] = defaultdict(list)
    for row in reports:
        if row.agent in host_of:
            by_agent[row.agent].append(row)
    for view in hosts.values():
        latest: ReportRow | None = None
        heartbeat: ReportRow | None = None
        for key in view.agents:
            for row in by_agent[key]:
                view.reports += 1
                if latest is None or row.received_us > latest.received_us:
                    latest = row
                if row.mode == "heartbeat" and (
                    heartbeat is None or row.received_us > heartbeat.received_us
                ):
                    heartbeat = row
                if row.mode in FULL_MODES:
                    view.full_reports.append(row)
        if heartbeat is not None:
            view.last_heartbeat = heartbeat.received_at
        if latest is None:
            continue
        view.current = latest.agent
        view.last_report, view.last_report_us = latest.received_at, latest.received_us
        chain = sorted(by_agent[latest.agent], key=lambda r: r.sequence)
        head = chain[-1]
        view.pack_digest, view.edm_digest = head.pack_digest, head.edm_digest
        sequences = [r.sequence for r in chain]
        view.first, view.last, view.gaps = sequences[0], sequences[-1], _gaps(sequences)
        held = _held(chain)
        view.findings = len(held)
        view.records = sum(int(f[3]) for f in held if f[2] in ("high", "critical"))
        ranks = [_RANK[f[2]] for f in held if f[2] in _RANK]
        view.highest = SEVERITIES[max(ranks)] if ranks else None
        view.fingerprints = {fp for f in held for fp in f[4]}
    return [hosts[name] for name in sorted(hosts)]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_fleet(views: Sequence[HostView], now_us: int, stale_hours: float) -> dict[str, Any]:
    """The fleet view's dict (the shape `Intake.fleet` documents)."""
    limit_us = now_us - int(stale_hours * 3600 * 1_000_000)
    hosts: list[dict[str, Any]] = []
    machines: dict[str, int] = defaultdict(int)
    totals = {"hosts": 0, "holding": 0, "clean": 0, "stale": 0, "with_gaps": 0}
    for view in views:
        stale = view.last_report_us is None or view.last_report_us < limit_us
        holding = view.highest in ("high", "critical")
        totals["hosts"] += 1
        totals["holding"] += holding
        totals["clean"] += view.last_report is not None and not holding
        totals["stale"] += stale
        totals["with_gaps"] += bool(view.gaps)
        for fingerprint in view.fingerprints:
            machines[fingerprint] += 1
        hosts.append(
            {
                "host_id": view.host_id,
                "agents": list(view.agents),
                "enrolled": view.enrolled,
                "last_report": view.last_report,
                "last_heartbeat": view.last_heartbeat,
                "stale": stale,
                "highest": view.highest,
                "records": view.records,
                "findings": view.findings,
                "reports": view.reports,
                "chain": {
                    "first": view.first,
                    "last": view.last,
                    "gaps": [list(g) for g in view.gaps],
                    "forks": view.forks,
                },
                "pack_digest": view.pack_digest,
                "edm_digest": view.edm_digest,
            }
        )
    correlation = [
        {"fingerprint": fp, "machines": count}
        for fp, count in sorted(machines.items(), key=lambda item: (-item[1], item[0]))
        if count >= 2
    ]
    generated = dt.datetime.fromtimestamp(now_us / 1_000_000, tz=dt.UTC)
    return {
        "generated": _iso(generated),
        "stale_hours": float(stale_hours),
        "hosts": hosts,
        "correlation": correlation,
        "totals": totals,
    }
