"""The intake service on both backends: enrolment, accept, receipts, refusals."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.intake.service import Intake, IntakeError
from ftiscan.reports.receipt import verify_receipt
from tests.intake.conftest import SyntheticAgent, enroll_agent, finding


def _intake_public(intake: Intake) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(intake.intake_key_pem.encode("ascii"))
    assert isinstance(key, Ed25519PublicKey)
    return key


def _digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _refused(intake: Intake, envelope: bytes) -> IntakeError:
    with pytest.raises(IntakeError) as caught:
        intake.accept(envelope)
    return caught.value


def test_intake_key_made_0600_and_reused(intake_key: Path, db_url: str) -> None:
    """The intake key is made private on first open and the same key is used again."""
    first = Intake.open(db_url, intake_key)
    first.close()
    assert intake_key.stat().st_mode & 0o777 == 0o600
    again = Intake.open(db_url, intake_key)
    try:
        assert again.intake_key_id == first.intake_key_id
        assert again.intake_key_id == dsse.key_id(_intake_public(again))
    finally:
        again.close()


def test_intake_enroll_returns_the_enrolment(intake: Intake, tmp_path: Path) -> None:
    """Enrolment names the agent, the host id (lower case) and the intake key."""
    agent = SyntheticAgent("Laptop-7.Example.gov")
    tokens, expires = intake.issue_tokens(2, 600)
    assert len(tokens) == 2
    assert len(set(tokens)) == 2
    assert expires.endswith("Z")
    got = intake.enroll(tokens[0], agent.public_pem, agent.host_id, {"fqdn": agent.host_id})
    assert got.agent == agent.key_id
    assert got.host_id == "laptop-7.example.gov"
    assert got.intake_key == intake.intake_key_pem
    assert got.intake_key_id == intake.intake_key_id
    assert got.fleet_key is None
    assert set(got.as_dict()) == {
        "agent",
        "host_id",
        "intake_key",
        "intake_key_id",
        "fleet_key",
        "enrolled",
    }


def test_intake_enroll_issues_the_fleet_key(db_url: str, intake_key: Path, tmp_path: Path) -> None:
    """With a fleet key file, enrolment hands its hex to the agent."""
    fleet = tmp_path / "fleet.key"
    fleet.write_text("ab" * 32 + "\n")
    fleet.chmod(0o600)
    service = Intake.open(db_url, intake_key, fleet_key_path=fleet)
    try:
        tokens, _ = service.issue_tokens(1, 60)
        agent = SyntheticAgent()
        got = service.enroll(tokens[0], agent.public_pem, agent.host_id, {})
        assert got.fleet_key == "ab" * 32
    finally:
        service.close()


def test_intake_tokens_single_use_and_expiring(db_url: str, intake_key: Path) -> None:
    """A token works once (again only for the key that used it); expired or unknown: bad-token."""
    now = [1_800_000_000.0]
    service = Intake.open(db_url, intake_key, clock=lambda: now[0])
    try:
        tokens, expires = service.issue_tokens(2, 60)
        assert expires == "2027-01-15T08:01:00Z"
        one, other = SyntheticAgent(), SyntheticAgent()
        service.enroll(tokens[0], one.public_pem, one.host_id, {})
        again = service.enroll(tokens[0], one.public_pem, one.host_id, {})  # a lost answer
        assert again.agent == one.key_id
        with pytest.raises(IntakeError) as caught:
            service.enroll(tokens[0], other.public_pem, other.host_id, {})
        assert (caught.value.code, caught.value.status) == ("bad-token", 403)
        assert caught.value.reason == "the enrolment token was already used"
        with pytest.raises(IntakeError) as caught:
            service.enroll("not-a-token", other.public_pem, other.host_id, {})
        assert caught.value.reason == "the enrolment token is unknown"
        now[0] += 61
        with pytest.raises(IntakeError) as caught:
            service.enroll(tokens[1], other.public_pem, other.host_id, {})
        assert caught.value.reason == "the enrolment token expired at 2027-01-15T08:01:00Z"
    finally:
        service.close()


def test_intake_tokens_stored_only_as_digests(tmp_path: Path, intake_key: Path) -> None:
    """The database holds no token, only its SHA-256."""
    db = tmp_path / "intake.db"
    service = Intake.open(str(db), intake_key)
    tokens, _ = service.issue_tokens(3, 60)
    service.close()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("intake.db*"))
    assert _digest_of(tokens[0]).encode() in raw
    assert not any(token.encode() in raw for token in tokens)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"public_key_pem": "nope"}, "public_key is not a PEM SubjectPublicKeyInfo public key"),
        ({"host_id": ""}, "host_id must be 1-253 printable characters without spaces or slashes"),
        (
            {"host_id": "a b"},
            "host_id must be 1-253 printable characters without spaces or slashes",
        ),
        ({"host": {"fqdn": 3}}, "host fields and values must be strings"),
        ({"host": []}, "host must be an object of at most 64 fields"),
    ],
)
def test_intake_enroll_bad_request(intake: Intake, args: dict[str, object], reason: str) -> None:
    """A malformed key, host id or host is refused with bad-request, and the token kept."""
    agent = SyntheticAgent()
    tokens, _ = intake.issue_tokens(1, 60)
    call: dict[str, object] = {
        "token": tokens[0],
        "public_key_pem": agent.public_pem,
        "host_id": agent.host_id,
        "host": {},
        **args,
    }
    with pytest.raises(IntakeError) as caught:
        intake.enroll(**call)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.status, caught.value.reason) == (
        "bad-request",
        400,
        reason,
    )
    assert intake.enroll(tokens[0], agent.public_pem, agent.host_id, {}).agent == agent.key_id


def test_intake_accept_stores_once_with_a_receipt(intake: Intake) -> None:
    """A report is stored once; its receipt verifies; a resend gets the same bytes."""
    agent = enroll_agent(intake)
    envelope = agent.report(findings=[finding("/home/user/a.csv")])
    stored, receipt = intake.accept(envelope)
    assert stored is True
    got = verify_receipt(receipt, _intake_public(intake), envelope, agent.key_id, 1)
    assert got.report_digest == dsse.digest(envelope)
    assert got.intake == intake.intake_key_id
    again, receipt_again = intake.accept(envelope)
    assert (again, receipt_again) == (False, receipt)
    assert intake.fleet()["hosts"][0]["reports"] == 1


def test_intake_accept_refuses_unknown_key(intake: Intake) -> None:
    """A report signed by a key never enrolled is refused: unknown-key, 403."""
    stranger = SyntheticAgent()
    error = _refused(intake, stranger.report())
    assert (error.code, error.status) == ("unknown-key", 403)
    assert (
        error.reason == f"the signing key {stranger.key_id[:16]} is not enrolled (or was revoked)"
    )


def test_intake_accept_refuses_revoked_key(intake: Intake) -> None:
    """After revoke, the key's new reports are refused (a resend of a stored one still
    gets its receipt) and it cannot enrol again."""
    agent = enroll_agent(intake)
    _, receipt = intake.accept(agent.report())
    assert intake.revoke(agent.key_id) is True
    assert intake.accept(agent.envelopes[1]) == (False, receipt)  # a resend still gets it
    assert intake.revoke(agent.key_id) is False
    assert _refused(intake, agent.report()).code == "unknown-key"
    tokens, _ = intake.issue_tokens(1, 60)
    with pytest.raises(IntakeError) as caught:
        intake.enroll(tokens[0], agent.public_pem, agent.host_id, {})
    assert caught.value.code == "unknown-key"


def test_intake_accept_refuses_tampered_report(intake: Intake) -> None:
    """A changed payload fails the signature; a changed byte form is not canonical."""
    agent = enroll_agent(intake)
    envelope = agent.report(findings=[finding("/home/user/a.csv", records=3)])
    obj = json.loads(envelope)
    payload = json.loads(base64.b64decode(obj["payload"]))
    payload["findings"][0]["records"] = 2
    obj["payload"] = base64.b64encode(canonical_bytes(payload)).decode("ascii")
    error = _refused(intake, canonical_bytes(obj))
    assert (error.code, error.status) == ("bad-signature", 403)
    error = _refused(intake, envelope + b"\n")
    assert (error.code, error.status) == ("not-canonical", 400)
    assert _refused(intake, b"{not json").code == "not-envelope"
    assert _refused(intake, b"").code == "not-envelope"
    receipt_type = dsse.sign(b"{}", agent.key, "application/vnd.ftiscan.receipt+json")
    assert _refused(intake, receipt_type).code == "payload-type"


def test_intake_accept_refuses_schema_and_chain_key(intake: Intake) -> None:
    """A payload that is not a report is schema (422); another chain's key is chain-key."""
    agent = enroll_agent(intake)
    error = _refused(intake, dsse.sign(b'{"schema":"ftiscan.report/1"}', agent.key))
    assert (error.code, error.status) == ("schema", 422)
    assert "'chain' is a required property" in error.reason
    error = _refused(intake, dsse.sign(b'{"a":1.5}', agent.key))
    assert error.reason == "the payload is not strict canonical JSON"
    other = SyntheticAgent()
    payload = agent.payload()
    payload["chain"] = {"key_id": other.key_id, "sequence": 1, "previous": None}
    error = _refused(intake, dsse.sign(canonical_bytes(payload), agent.key))
    assert (error.code, error.status) == ("chain-key", 422)
    assert error.reason == (
        f"signed by key {agent.key_id[:16]} but claims the chain of {other.key_id[:16]}"
    )


def test_intake_accept_refuses_replayed_sequence(intake: Intake) -> None:
    """Another report under a used sequence is a replay (409); the first stays."""
    agent = enroll_agent(intake)
    first = agent.report()
    intake.accept(first)
    second = agent.sign(agent.payload(), 1, None)
    error = _refused(intake, second)
    assert (error.code, error.status) == ("replay", 409)
    assert error.reason == f"sequence 1 of key {agent.key_id[:16]} holds another report"
    assert intake.accept(first)[0] is False


def test_intake_accept_refuses_report_id_reused(intake: Intake) -> None:
    """A report id stored before, in other bytes, is a replay."""
    agent = enroll_agent(intake)
    payload = agent.payload()
    envelope = agent.sign(payload, 1, None)
    intake.accept(envelope)
    again = agent.sign(
        {**payload, "scan": {**payload["scan"], "duration_ms": 7}}, 2, dsse.digest(envelope)
    )
    error = _refused(intake, again)
    assert error.code == "replay"
    assert error.reason == f"report id {payload['id']} was stored before with other bytes"


def test_intake_accept_refuses_forks(intake: Intake) -> None:
    """A report that does not follow the stored one before it, or that the stored
    one after it does not follow, is a fork (409); both are counted in the fleet."""
    agent = enroll_agent(intake)
    one, two, three = agent.report(), agent.report(), agent.report()
    intake.accept(one)
    intake.accept(three)
    wrong_previous = agent.sign(agent.payload(), 2, "sha256:" + "0" * 64)
    error = _refused(intake, wrong_previous)
    assert (error.code, error.status) == ("fork", 409)
    assert error.reason == (
        f"sequence 2 names previous 000000000000, but the stored sequence 1 is "
        f"{dsse.digest(one)[7:19]}"
    )
    other_two = agent.sign(
        agent.payload(), 2, dsse.digest(one)
    )  # right previous, but 3 follows two
    error = _refused(intake, other_two)
    assert error.code == "fork"
    assert error.reason == (
        f"the stored sequence 3 follows {dsse.digest(two)[7:19]}, "
        f"not this report ({dsse.digest(other_two)[7:19]})"
    )
    assert intake.accept(two)[0] is True
    host = intake.fleet()["hosts"][0]
    assert host["chain"] == {"first": 1, "last": 3, "gaps": [], "forks": 2}


def test_intake_accept_out_of_order_records_then_closes_gap(intake: Intake) -> None:
    """Reports may come out of order: the gap shows until the missing ones arrive."""
    agent = enroll_agent(intake)
    envelopes = [agent.report() for _ in range(6)]
    for index in (0, 4, 5):
        assert intake.accept(envelopes[index])[0] is True
    chain = intake.fleet()["hosts"][0]["chain"]
    assert chain == {"first": 1, "last": 6, "gaps": [[2, 4]], "forks": 0}
    intake.accept(envelopes[2])
    assert intake.fleet()["hosts"][0]["chain"]["gaps"] == [[2, 2], [4, 4]]
    intake.accept(envelopes[1])
    intake.accept(envelopes[3])
    assert intake.fleet()["hosts"][0]["chain"]["gaps"] == []


def test_intake_reenrolled_key_keeps_its_chain(intake: Intake) -> None:
    """The same key enrolled again (new token, new host name) goes on with its chain."""
    agent = enroll_agent(intake)
    intake.accept(agent.report())
    tokens, _ = intake.issue_tokens(1, 60)
    intake.enroll(tokens[0], agent.public_pem, "renamed.example.gov", {})
    assert intake.accept(agent.report())[0] is True
    error = _refused(intake, agent.sign(agent.payload(), 3, None))
    assert error.code == "schema"  # a later sequence must name its previous report
    hosts = intake.fleet()["hosts"]
    assert [(h["host_id"], h["reports"]) for h in hosts] == [("renamed.example.gov", 2)]


def test_intake_clock_skew_is_accepted(intake: Intake) -> None:
    """A report whose own times are hours off is accepted; the fleet uses received times."""
    agent = enroll_agent(intake)
    intake.accept(agent.report(started=0.0, mode="heartbeat"))  # the agent thinks it is 1970
    host = intake.fleet(stale_hours=1)["hosts"][0]
    assert host["stale"] is False
    assert host["last_heartbeat"] == host["last_report"]
    assert host["last_report"] >= "2026"
    future = SyntheticAgent("future.example.gov")
    enroll_agent(intake, future)
    intake.accept(future.report(started=4_000_000_000.0))  # the year 2096
    assert intake.fleet()["totals"]["stale"] == 0
