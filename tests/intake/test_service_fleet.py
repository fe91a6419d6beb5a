"""The fleet view's data and fleet completeness, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ftiscan.reports.intake.service import Intake, IntakeError
from tests.intake.conftest import (
    EDM_DIGEST,
    NEW_PACK_DIGEST,
    PACK_DIGEST,
    SyntheticAgent,
    enroll_agent,
    finding,
    hex64,
)

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.fixture
def clocked(db_url: str, intake_key: Path) -> Iterator[tuple[Intake, list[float]]]:
    """An intake whose clock the test sets."""
    now = [T0]
    service = Intake.open(db_url, intake_key, clock=lambda: now[0])
    yield service, now
    service.close()


def test_fleet_empty(intake: Intake) -> None:
    """No agent: no hosts, zero totals."""
    got = intake.fleet()
    assert got["hosts"] == []
    assert got["correlation"] == []
    assert got["stale_hours"] == 24.0
    assert got["totals"] == {"hosts": 0, "holding": 0, "clean": 0, "stale": 0, "with_gaps": 0}


def test_fleet_holdings_follow_sweeps_and_batches(clocked: tuple[Intake, list[float]]) -> None:
    """A sweep sets what is held; a batch adds, replaces under its roots, and removes
    what it lists as gone or cleared; a heartbeat changes nothing; a new sweep resets."""
    intake, now = clocked
    agent = enroll_agent(intake)
    fp = [hex64() for _ in range(4)]
    intake.accept(
        agent.report(
            findings=[
                finding("/home/user/a.csv", "critical", 5, [fp[0]]),
                finding("/home/user/b.csv", "high", 2, [fp[1]]),
                finding("/home/user/c.txt", "low", 1, []),
            ]
        )
    )
    host = intake.fleet()["hosts"][0]
    assert (host["highest"], host["records"], host["findings"]) == ("critical", 7, 3)
    now[0] += 60
    intake.accept(
        agent.report(
            mode="batch",
            roots=["/home/user/docs"],
            findings=[finding("/home/user/docs/d.csv", "high", 4, [fp[2]])],
            gone=[
                {
                    "path": "/home/user/a.csv",
                    "findings": 1,
                    "scanned": "2027-01-15T07:00:00Z",
                    "gone": "2027-01-15T08:00:00Z",
                }
            ],
        )
    )
    host = intake.fleet()["hosts"][0]
    assert (host["highest"], host["records"], host["findings"]) == ("high", 6, 3)
    now[0] += 60
    intake.accept(
        agent.report(
            mode="batch",
            roots=["/home/user/docs/d.csv"],
            findings=[finding("/home/user/docs/d.csv", "medium", 1, [])],
            cleared=[{"path": "/home/user/b.csv", "findings": 1}],
        )
    )
    intake.accept(agent.report(mode="heartbeat"))
    host = intake.fleet()["hosts"][0]
    assert (host["highest"], host["records"], host["findings"]) == ("medium", 0, 2)
    assert host["last_heartbeat"] == "2027-01-15T08:02:00Z"
    assert host["reports"] == 4
    intake.accept(agent.report(mode="sweep", findings=[]))
    host = intake.fleet()["hosts"][0]
    assert (host["highest"], host["records"], host["findings"]) == (None, 0, 0)
    assert intake.fleet()["totals"] == {
        "hosts": 1,
        "holding": 0,
        "clean": 1,
        "stale": 0,
        "with_gaps": 0,
    }


def test_fleet_holdings_in_chain_order_not_arrival(clocked: tuple[Intake, list[float]]) -> None:
    """A sweep that arrives late (a bundle) counts in its chain place, not its arrival."""
    intake, _ = clocked
    agent = enroll_agent(intake)
    first = agent.report(findings=[finding("/home/user/a.csv", "critical", 3)])
    second = agent.report(findings=[])
    intake.accept(second)
    intake.accept(first)
    host = intake.fleet()["hosts"][0]
    assert (host["highest"], host["records"]) == (None, 0)


def test_fleet_cli_scan_without_mode_counts_as_full(clocked: tuple[Intake, list[float]]) -> None:
    """A CLI scan report (no options.mode) is a full report."""
    intake, _ = clocked
    agent = enroll_agent(intake)
    intake.accept(agent.report(mode=None, findings=[finding("/home/user/a.csv", "high", 2)]))
    host = intake.fleet()["hosts"][0]
    assert (host["highest"], host["records"]) == ("high", 2)
    assert intake.inventory_status()["current"]["pack_digest"] == PACK_DIGEST


def test_fleet_stale_by_received_time(clocked: tuple[Intake, list[float]]) -> None:
    """A host is stale when nothing was received from it within stale_hours, or never."""
    intake, now = clocked
    quiet = enroll_agent(intake, SyntheticAgent("quiet.example.gov"))
    busy = enroll_agent(intake, SyntheticAgent("busy.example.gov"))
    enroll_agent(intake, SyntheticAgent("never.example.gov"))
    intake.accept(quiet.report(mode="heartbeat"))
    now[0] += 25 * 3600
    intake.accept(busy.report(mode="heartbeat", started=T0 - 30 * 3600))  # skewed clock
    got = intake.fleet(stale_hours=24)
    assert [(h["host_id"], h["stale"]) for h in got["hosts"]] == [
        ("busy.example.gov", False),
        ("never.example.gov", True),
        ("quiet.example.gov", True),
    ]
    assert got["totals"]["stale"] == 2
    assert got["generated"] == "2027-01-16T09:00:00Z"
    assert [h["stale"] for h in intake.fleet(stale_hours=26)["hosts"]] == [False, True, False]
    never = got["hosts"][1]
    assert never["last_report"] is None
    assert never["highest"] is None
    assert never["chain"] == {"first": 0, "last": 0, "gaps": [], "forks": 0}


def test_fleet_correlation_counts_machines_holding_now(intake: Intake) -> None:
    """A fingerprint held now on two or more machines is listed, most machines first."""
    shared, pair, alone, removed = hex64(), hex64(), hex64(), hex64()
    agents = [enroll_agent(intake, SyntheticAgent(f"h{n}.example.gov")) for n in range(3)]
    intake.accept(agents[0].report(findings=[finding("/a", fingerprints=[shared, pair, alone])]))
    intake.accept(agents[1].report(findings=[finding("/b", fingerprints=[shared, pair])]))
    intake.accept(agents[2].report(findings=[finding("/c", fingerprints=[shared, removed])]))
    intake.accept(agents[0].report(findings=[finding("/d", fingerprints=[removed])]))
    intake.accept(agents[0].report(findings=[finding("/a", fingerprints=[shared, pair, alone])]))
    got = intake.fleet()["correlation"]
    assert got == [
        {"fingerprint": shared, "machines": 3},
        {"fingerprint": pair, "machines": 2},
    ]
    assert intake.fleet()["totals"]["holding"] == 3


def test_fleet_rekeyed_host_uses_the_new_key(intake: Intake) -> None:
    """A host with two keys is one host; its holdings come from the key heard from last."""
    old = enroll_agent(intake, SyntheticAgent("laptop.example.gov"))
    new = enroll_agent(intake, SyntheticAgent("laptop.example.gov"))
    intake.accept(old.report(findings=[finding("/a", "critical", 9)]))
    intake.accept(new.report(findings=[]))
    hosts = intake.fleet()["hosts"]
    assert len(hosts) == 1
    assert sorted(hosts[0]["agents"]) == sorted([old.key_id, new.key_id])
    assert (hosts[0]["highest"], hosts[0]["reports"]) == (None, 2)


def test_fleet_reports_gaps_and_digests(intake: Intake) -> None:
    """The chain shows gaps; the host shows the pack and index digests of its last report."""
    agent = enroll_agent(intake)
    envelopes = [agent.report(edm_digest=EDM_DIGEST) for _ in range(3)]
    intake.accept(envelopes[0])
    intake.accept(envelopes[2])
    got = intake.fleet()
    host = got["hosts"][0]
    assert host["chain"]["gaps"] == [[2, 2]]
    assert (host["pack_digest"], host["edm_digest"]) == (PACK_DIGEST, EDM_DIGEST)
    assert got["totals"]["with_gaps"] == 1


def test_fleet_bad_stale_hours(intake: Intake) -> None:
    with pytest.raises(IntakeError) as caught:
        intake.fleet(stale_hours=0)
    assert (caught.value.code, caught.value.reason) == (
        "bad-request",
        "stale_hours must be more than 0",
    )


def test_inventory_import_counts_and_replaces(intake: Intake) -> None:
    """The host_id column, in lower case, blank lines skipped, duplicates once; a new
    import replaces the old list."""
    text = "\ufeffHost_ID,owner\nLaptop-1.example.gov,a\n\nlaptop-1.example.gov,b\nws-2,c\n"
    assert intake.import_inventory(text) == 2
    assert intake.inventory_status()["never_enrolled"] == ["laptop-1.example.gov", "ws-2"]
    assert intake.import_inventory("host_id\nws-3\n") == 1
    assert intake.inventory_status()["inventory"] == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "inventory: empty; expected a header with host_id"),
        ("name,owner\na,b\n", "inventory line 1: no host_id column (columns: name, owner)"),
        ("owner,host_id\na\n", "inventory line 2: no host_id value"),
        (
            "host_id\nbad host\n",
            "inventory line 2: host_id must be 1-253 printable characters without spaces or "
            "slashes",
        ),
    ],
)
def test_inventory_import_bad_csv(intake: Intake, text: str, reason: str) -> None:
    """A bad inventory is refused with the line and why; the old one stays."""
    intake.import_inventory("host_id\nkept\n")
    with pytest.raises(IntakeError) as caught:
        intake.import_inventory(text)
    assert (caught.value.code, caught.value.reason) == ("bad-request", reason)
    assert intake.inventory_status()["inventory"] == 1


def test_inventory_status_lists_what_a_court_asks(clocked: tuple[Intake, list[float]]) -> None:
    """Never enrolled, never reported, and outdated (no full scan since the date with
    the current pack and index), with the reason; current is the newest seen, or set."""
    intake, now = clocked
    intake.import_inventory(
        "host_id\ncurrent.gov\nold-pack.gov\nonly-beats.gov\nsilent.gov\nmissing.gov\nlate.gov\n"
    )
    agents = {
        name: enroll_agent(intake, SyntheticAgent(name))
        for name in ("current.gov", "old-pack.gov", "only-beats.gov", "silent.gov", "late.gov")
    }
    enroll_agent(intake, SyntheticAgent("not-in-inventory.gov"))
    intake.accept(agents["late.gov"].report())
    now[0] += 86400
    intake.accept(agents["old-pack.gov"].report())
    intake.accept(agents["only-beats.gov"].report(mode="heartbeat"))
    now[0] += 60
    intake.accept(agents["current.gov"].report(pack_digest=NEW_PACK_DIGEST))
    got = intake.inventory_status(since="2027-01-16T00:00:00Z")
    assert got == {
        "inventory": 6,
        "never_enrolled": ["missing.gov"],
        "never_reported": ["silent.gov"],
        "outdated": [
            {
                "host_id": "late.gov",
                "reason": "no full scan received since 2027-01-16T00:00:00Z "
                "(last 2027-01-15T08:00:00Z)",
            },
            {
                "host_id": "old-pack.gov",
                "reason": "no full scan with the current pack 222222222222 and index none; "
                "the last one (2027-01-16T08:00:00Z) had pack 111111111111 and index none",
            },
            {
                "host_id": "only-beats.gov",
                "reason": "no full scan (sweep or scan) stored, only heartbeats or batches",
            },
        ],
        "current": {"pack_digest": NEW_PACK_DIGEST, "edm_digest": None},
        "since": "2027-01-16T00:00:00Z",
    }
    intake.set_current(PACK_DIGEST, None)
    got = intake.inventory_status()
    assert [o["host_id"] for o in got["outdated"]] == ["current.gov", "only-beats.gov"]
    assert got["current"] == {"pack_digest": PACK_DIGEST, "edm_digest": None}
    assert got["since"] is None
    intake.set_current(None, None)
    assert intake.inventory_status()["current"]["pack_digest"] == NEW_PACK_DIGEST


def test_inventory_status_bad_since_and_digest(intake: Intake) -> None:
    with pytest.raises(IntakeError) as caught:
        intake.inventory_status(since="last tuesday")
    assert caught.value.reason == "since: expected an ISO 8601 time such as 2026-12-01T00:00:00Z"
    with pytest.raises(IntakeError) as caught:
        intake.set_current("md5:abc", None)
    assert caught.value.reason == "pack_digest must be sha256:<64 hex digits> or null"
