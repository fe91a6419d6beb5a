"""Enrol, submit and bundle end to end: the spawned CLI against the spawned intake over
TLS with a test CA, on loopback. Every report is delivered exactly once, through
outages and kills, and leaves the outbox only with a receipt that verifies."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.submit_harness import Agent, Intake, Tls, make_tls

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def intake(tmp_path: Path, tls: Tls) -> Iterator[Intake]:
    served = Intake(tmp_path / "intake", tls).start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    return Agent(tmp_path / "agent")


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# -- enrolment --------------------------------------------------------------------------


def test_enroll_pins_the_intake_key_and_the_token_is_single_use(
    intake: Intake, agent: Agent, tmp_path: Path
) -> None:
    """Enrolment stores the intake's key (0600) and shows its id as `intake key` does;
    the same token for another agent is refused with the intake's exact reason."""
    token = intake.token()
    done = agent.run("enroll", intake.url, "--token", token, "--ca", str(intake.tls.ca))
    assert done.returncode == 0, done.stderr
    kid = intake.key_id()
    pinned = agent.pinned()
    assert pinned["intake_key_id"] == kid
    assert pinned["url"] == intake.url
    assert pinned["ca"] == str(intake.tls.ca.resolve())
    assert (agent.keys / "intake.json").stat().st_mode & 0o777 == 0o600
    lines = _lines(done.stdout)
    assert lines[0] == (
        f"enrolled agent key {pinned['agent']} as host {pinned['host_id']} with {intake.url}"
    )
    assert lines[1] == f"intake key id (fingerprint): {kid}"
    assert "ftiscan intake key" in lines[2]
    other = Agent(tmp_path / "other")
    again = other.run("enroll", intake.url, "--token", token, "--ca", str(intake.tls.ca))
    assert again.returncode == 2
    assert again.stderr == (
        f"ftiscan: error: intake {intake.url}: enrolment refused: bad-token: "
        "the enrolment token was already used\n"
    )
    assert not (other.keys / "intake.json").exists()


def test_enroll_with_a_wrong_fingerprint_leaves_the_token_unused(
    intake: Intake, agent: Agent
) -> None:
    """--expect-fingerprint refuses another intake key before the token is spent."""
    token = intake.token()
    kid = intake.key_id()
    wrong = "ab" * 32
    done = agent.run(
        "enroll", intake.url, "--token", token, "--ca", str(intake.tls.ca),
        "--expect-fingerprint", wrong,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"ftiscan: error: intake {intake.url}: its key id is {kid}, not the expected "
        f"{wrong}; not enrolled (the token was not used)\n"
    )
    grouped = " ".join(kid[i : i + 4] for i in range(0, 64, 4))
    done = agent.run(
        "enroll", intake.url, "--token", token, "--ca", str(intake.tls.ca),
        "--expect-fingerprint", grouped, "--host-id", "laptop-17.example.gov",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert agent.pinned()["host_id"] == "laptop-17.example.gov"


def test_enroll_stores_the_issued_fleet_key_and_never_replaces_another(
    tmp_path: Path, tls: Tls
) -> None:
    """The fleet key counsel issues lands in fleet.key (0600); an agent holding a
    different one refuses to replace it and stays unenrolled."""
    fleet = tmp_path / "fleet.key"
    fleet.write_text("ab" * 32 + "\n")
    fleet.chmod(0o600)
    served = Intake(tmp_path / "intake", tls, "--fleet-key", str(fleet)).start()
    try:
        agent = Agent(tmp_path / "agent")
        done = agent.enroll(served)
        assert done.returncode == 0, done.stderr
        stored = agent.keys / "fleet.key"
        assert stored.read_text() == "ab" * 32 + "\n"
        assert stored.stat().st_mode & 0o777 == 0o600
        assert f"fleet key stored in {stored}" in done.stdout
        assert agent.enroll(served).stdout.count(f"fleet key unchanged ({stored})") == 1
        other = Agent(tmp_path / "other")
        other.keys.mkdir(parents=True)
        (other.keys / "fleet.key").write_text("cd" * 32 + "\n")
        (other.keys / "fleet.key").chmod(0o600)
        done = other.enroll(served)
        assert done.returncode == 2
        assert done.stderr.startswith(
            f"ftiscan: error: {other.keys / 'fleet.key'} holds another fleet key than the "
            "intake issues; it was not replaced"
        )
        assert (other.keys / "fleet.key").read_text() == "cd" * 32 + "\n"
        assert not (other.keys / "intake.json").exists()
    finally:
        served.stop()


def test_wrong_ca_is_a_clear_certificate_error(intake: Intake, agent: Agent) -> None:
    """A certificate that does not chain to --ca is said in one line, without a traceback,
    by enroll and by submit."""
    token = intake.token()
    done = agent.run("enroll", intake.url, "--token", token, "--ca", str(intake.tls.other_ca))
    assert done.returncode == 2
    assert done.stderr == (
        f"ftiscan: error: intake {intake.url}: certificate verify failed: "
        "unable to get local issuer certificate\n"
    )
    assert agent.enroll(intake).returncode == 0
    agent.scan()
    done = agent.run("submit", "--ca", str(intake.tls.other_ca))
    assert done.returncode == 2
    assert done.stderr == (
        f"ftiscan: error: intake {intake.url}: certificate verify failed: "
        "unable to get local issuer certificate\n"
    )
    assert agent.receipts() == {}


def test_http_and_enrolment_are_required(agent: Agent) -> None:
    """Plain http needs the explicit opt-in and a loopback address; submit needs an
    enrolment."""
    done = agent.run("enroll", "http://127.0.0.1:9", "--token", "t")
    assert (done.returncode, done.stderr) == (
        2,
        "ftiscan: error: intake URL 'http://127.0.0.1:9': plain http, without TLS; give "
        "--allow-http (loopback only, for tests) or use https\n",
    )
    done = agent.run("enroll", "http://intake.example.gov", "--token", "t", "--allow-http")
    assert done.returncode == 2
    assert "plain http is allowed only to a loopback address; use https" in done.stderr
    done = agent.run("submit")
    assert done.returncode == 2
    assert done.stderr.startswith("ftiscan: error: not enrolled (")


# -- submission -------------------------------------------------------------------------


def test_submit_delivers_every_report_once_through_an_outage(
    intake: Intake, agent: Agent, tmp_path: Path
) -> None:
    """Intake down: reports stay; submit --wait retries until it is back; each sequence
    is stored once, byte for byte, and the agent holds the intake's very receipts."""
    assert agent.enroll(intake).returncode == 0
    agent.scan(3)
    intake.stop()
    done = agent.run("submit", "--once")
    assert done.returncode == 1
    assert _lines(done.stderr) == [
        "report 1: connection refused; next try in " + done.stderr.split("next try in ")[1].strip()
    ]
    assert done.stdout == "0 delivered now; 3 in the outbox\n"
    waiting = agent.popen("submit", "--wait", "--backoff-cap", "0.5", "--max-wait", "120")
    try:
        assert waiting.stderr is not None
        first = waiting.stderr.readline()  # it tried and failed at least once while down
        assert first.startswith("report 1: connection refused; next try in ")
        intake.start()
        out, err = waiting.communicate(timeout=150)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, err
    delivered = [line for line in _lines(out) if "delivered" in line and "receipt" in line]
    assert [line.split(":")[0] for line in delivered] == ["report 1", "report 2", "report 3"]
    assert _lines(out)[-1] == "3 delivered now; 0 in the outbox"
    stored = intake.export(tmp_path / "export")
    assert stored["reports"] == agent.chain()
    assert stored["receipts"] == agent.receipts()
    done = agent.run("submit")
    assert (done.returncode, done.stdout) == (0, "0 delivered now; 0 in the outbox\n")


def test_submit_killed_mid_send_then_resent_is_stored_once(
    intake: Intake, agent: Agent, tmp_path: Path
) -> None:
    """kill -9 after the request went out: the report stays pending; the resend gets the
    intake's same receipt, and the intake holds the report once."""
    assert agent.enroll(intake).returncode == 0
    agent.scan(2)
    done = agent.run("submit", extra_env={"FTISCAN_CRASH_AT": "submit-sent"})
    assert done.returncode == -signal.SIGKILL
    assert agent.receipts() == {}
    done = agent.run("submit", extra_env={"FTISCAN_CRASH_AT": "submit-answered"})
    assert done.returncode == -signal.SIGKILL
    assert agent.receipts() == {}
    done = agent.run("submit")
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    assert re.fullmatch(
        r"report 1: delivered \(already held by the intake\), receipt \S+", lines[0]
    )
    assert re.fullmatch(r"report 2: delivered, receipt \S+", lines[1])
    stored = intake.export(tmp_path / "export")
    assert stored["reports"] == agent.chain()
    assert stored["receipts"] == agent.receipts()
    assert sorted(stored["reports"]) == [1, 2]


def test_submit_honours_retry_after_when_rate_limited(tmp_path: Path, tls: Tls) -> None:
    """Past the intake's per-agent burst, 429 with Retry-After: the agent waits at least
    that long (more than its backoff cap) and delivers every report once."""
    served = Intake(tmp_path / "intake", tls, "--rate", "1/s").start()
    try:
        agent = Agent(tmp_path / "agent")
        assert agent.enroll(served).returncode == 0
        agent.scan()
        agent.copies(13)
        done = agent.run("submit", "--wait", "--backoff-cap", "0.2", "--max-wait", "120")
        assert done.returncode == 0, done.stderr
        limited = [x for x in _lines(done.stderr) if "the intake answered 429 rate-limited" in x]
        assert limited
        waits = [float(x.split("next try in ")[1].removesuffix(" s")) for x in limited]
        assert min(waits) >= 1.0  # Retry-After (whole seconds, at least 1), not the 0.2 s cap
        assert _lines(done.stdout)[-1] == "14 delivered now; 0 in the outbox"
        stored = served.export(tmp_path / "export")
        assert stored["reports"] == agent.chain()
        assert sorted(stored["reports"]) == list(range(1, 15))
    finally:
        served.stop()


def test_a_receipt_that_does_not_verify_leaves_the_report_pending(
    intake: Intake, agent: Agent
) -> None:
    """Receipts signed by another key than the pinned one are refused: nothing leaves
    the outbox until one verifies."""
    assert agent.enroll(intake).returncode == 0
    agent.scan()
    record = agent.pinned()
    other = Agent(agent.base.parent / "impostor")
    assert other.run("key", "export").returncode == 0
    impostor_pem = (other.keys / "agent.pub").read_text()
    done = other.run("key", "export")
    impostor_id = done.stderr.strip().split("key id: ")[1]
    (agent.keys / "intake.json").write_text(
        json.dumps({**record, "intake_key": impostor_pem, "intake_key_id": impostor_id})
    )
    done = agent.run("submit")
    assert done.returncode == 1
    assert _lines(done.stderr)[0].startswith(
        "report 1: the intake's receipt does not verify (unknown-key: "
    )
    assert agent.receipts() == {}
    (agent.keys / "intake.json").write_text(json.dumps(record))
    done = agent.run("submit")
    assert done.returncode == 0, done.stderr
    assert sorted(agent.receipts()) == [1]


def test_a_permanent_refusal_is_said_exactly_and_kept(intake: Intake, agent: Agent) -> None:
    """A different report under a used sequence number (the agent lost its state) is a
    replay: said once with the intake's code, kept in the outbox marked, not resent."""
    assert agent.enroll(intake).returncode == 0
    agent.scan()
    assert agent.run("submit").returncode == 0
    for path in [*(agent.state / "chain").rglob("*.json"), *(agent.state / "receipts").rglob("*")]:
        if path.is_file():
            path.unlink()
    agent.scan()
    done = agent.run("submit")
    assert done.returncode == 1
    lines = _lines(done.stdout)
    assert lines[0].startswith("report 1: refused by the intake: replay: ")
    assert lines[1] == "0 delivered now; 1 in the outbox (0 pending, 1 refused: 1)"
    done = agent.run("submit")
    assert (done.returncode, done.stdout) == (1, lines[1] + "\n")
    done = agent.run("submit", "--retry-refused")
    assert _lines(done.stdout)[0].startswith("report 1: refused by the intake: replay: ")


# -- offline bundle ---------------------------------------------------------------------


def test_bundle_import_and_receipts_back(intake: Intake, agent: Agent, tmp_path: Path) -> None:
    """bundle -> intake import -> receipts back with submit --receipts; a tampered
    receipts file is refused and the report stays pending."""
    assert agent.enroll(intake).returncode == 0
    agent.scan()
    agent.copies(2)
    assert agent.run("submit").returncode == 0
    agent.copies(2)
    bundle = tmp_path / "usb" / "laptop.bundle"
    done = agent.run("bundle", "-o", str(bundle))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("bundled 2 report(s) (sequences 4-5) of agent key ")
    receipts = tmp_path / "usb" / "receipts.json"
    done = intake.cli("import", str(bundle), "--receipts", str(receipts))
    assert done.returncode == 0, done.stderr + done.stdout
    good = receipts.read_text()
    entries = json.loads(good)["receipts"]
    tampered = dict(entries[1])
    sig_at = tampered["receipt"].index('"sig":"') + 7
    flipped = "B" if tampered["receipt"][sig_at] == "A" else "A"
    tampered["receipt"] = tampered["receipt"][:sig_at] + flipped + tampered["receipt"][sig_at + 1 :]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"receipts": [tampered]}))
    done = agent.run("submit", "--receipts", str(bad))
    assert done.returncode == 1
    assert done.stderr.startswith("report 5: receipt refused: bad-signature: ")
    assert sorted(agent.receipts()) == [1, 2, 3]
    done = agent.run("submit", "--receipts", str(receipts))
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout) == [
        "report 4: receipt stored",
        "report 5: receipt stored",
        "2 receipt(s) stored; 0 report(s) in the outbox",
    ]
    assert sorted(agent.receipts()) == [1, 2, 3, 4, 5]
    done = agent.run("bundle", "-o", str(tmp_path / "empty.bundle"))
    assert done.returncode == 1
    assert done.stderr == "nothing to bundle: the outbox is empty (--all: every report)\n"
    done = agent.run("bundle", "-o", str(tmp_path / "all.bundle"), "--all")
    assert done.stdout.startswith("bundled 5 report(s) (sequences 1-5)")
    done = intake.cli("import", str(tmp_path / "all.bundle"))
    assert done.returncode == 0, done.stderr
    assert os.path.getsize(tmp_path / "all.bundle") > 0
