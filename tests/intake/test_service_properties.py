"""Properties of the intake's parsers and fleet rules (Hypothesis), and one `Intake`
shared by many threads (as the HTTP app's thread pool shares it)."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.reports.intake import fleet
from ftiscan.reports.intake.service import Intake, IntakeError, _inventory_hosts
from tests.intake.conftest import SyntheticAgent, enroll_agent, finding

HOST_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.-]{0,30}", fullmatch=True)


@given(hosts=st.lists(HOST_IDS, max_size=30), extra=st.booleans())
def test_inventory_parser_round_trips_csv(hosts: list[str], extra: bool) -> None:
    """Whatever csv.writer writes, the parser reads back: the set of host ids in lower case."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["owner", "host_id"] if extra else ["host_id"])
    for host in hosts:
        writer.writerow(["someone, with a comma", host] if extra else [host])
    assert _inventory_hosts(buffer.getvalue()) == sorted({h.lower() for h in hosts})


@given(st.text(max_size=200))
def test_inventory_parser_never_crashes(text: str) -> None:
    """Any text gives a host list or a bad-request refusal, nothing else."""
    try:
        hosts = _inventory_hosts(text)
    except IntakeError as exc:
        code = exc.code
    else:
        code = "ok"
        assert hosts == sorted(set(hosts))
    assert code in ("ok", "bad-request")


@given(st.sets(st.integers(min_value=1, max_value=200), min_size=1, max_size=60))
def test_gaps_are_exactly_what_is_missing(stored: set[int]) -> None:
    """The gaps and the stored sequences together cover first..last, without overlap."""
    sequences = sorted(stored)
    gaps = fleet._gaps(sequences)
    missing = {n for low, high in gaps for n in range(low, high + 1)}
    assert missing.isdisjoint(stored)
    assert missing | stored == set(range(sequences[0], sequences[-1] + 1))
    assert all(low <= high for low, high in gaps)


@settings(max_examples=30, deadline=None)
@given(
    severities=st.lists(st.sampled_from(fleet.SEVERITIES), max_size=5),
    records=st.integers(min_value=0, max_value=50),
)
def test_holdings_of_a_sweep_match_its_summary(severities: list[str], records: int) -> None:
    """For one full report, what the host holds is what its summary says."""
    agent = SyntheticAgent()
    findings = [finding(f"/home/user/{n}.csv", s, records) for n, s in enumerate(severities)]
    payload = agent.payload(findings=findings)
    row = fleet.ReportRow(agent.key_id, 1, "sweep", "t", 1, None, None, fleet.holdings_of(payload))
    agent_row = fleet.AgentRow(agent.key_id, agent.host_id, "t")
    (view,) = fleet.host_views([agent_row], [row], {})
    assert view.records == payload["summary"]["records_high_or_critical"]
    assert view.highest == payload["summary"]["highest_severity"]
    assert view.findings == len(findings)
    assert json.loads(row.holdings)["removed"] == []


def test_intake_shared_by_threads_stores_each_once(intake: Intake) -> None:
    """Eight threads send the same 20 reports through one Intake: each stored once."""
    agents = [enroll_agent(intake, SyntheticAgent(f"t{n}.example.gov")) for n in range(2)]
    envelopes = [a.report() for a in agents for _ in range(10)]
    results: list[tuple[bool, bytes]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def send(offset: int) -> None:
        start.wait()
        for index in range(len(envelopes)):
            envelope = envelopes[(index + offset) % len(envelopes)]
            try:
                got = intake.accept(envelope)
            except BaseException as exc:  # collected and asserted on below
                with lock:
                    errors.append(exc)
            else:
                with lock:
                    results.append(got)

    threads = [threading.Thread(target=send, args=(n * 3,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(stored for stored, _ in results) == 20
    assert len({receipt for _, receipt in results}) == 20
    with intake.store.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM reports") == (20,)


def test_holdings_root_prefix_is_not_a_string_prefix(tmp_path: Path) -> None:
    """A batch of /home/user/doc does not drop what /home/user/docs holds."""
    assert fleet._under("/home/user/doc/a", ["/home/user/doc"])
    assert fleet._under("/home/user/doc", ["/home/user/doc"])
    assert not fleet._under("/home/user/docs/a", ["/home/user/doc"])
    assert fleet._under("C:\\Users\\u\\a.csv", ["C:\\Users\\u"])
