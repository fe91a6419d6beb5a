"""Bad input to the intake gets a clear refusal (what and why), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.reports.intake.service import Intake, IntakeError, load_intake_key
from ftiscan.scanner.errors import FtiscanError
from tests.intake.conftest import SyntheticAgent, enroll_agent


@pytest.mark.parametrize(
    ("count", "ttl", "reason"),
    [
        (0, 60, "count must be an integer 1-1000"),
        (1001, 60, "count must be an integer 1-1000"),
        (True, 60, "count must be an integer 1-1000"),
        (1, "60", "ttl must be a number of seconds"),
        (1, 0, "ttl must be more than 0 and at most 3.16224e+07 s"),
    ],
)
def test_issue_tokens_bad_request(intake: Intake, count: object, ttl: object, reason: str) -> None:
    with pytest.raises(IntakeError) as caught:
        intake.issue_tokens(count, ttl)  # type: ignore[arg-type]
    assert caught.value.as_dict() == {"error": "bad-request", "reason": reason}


def test_enroll_refuses_other_key_types_and_bad_token_shapes(intake: Intake) -> None:
    """Only Ed25519 keys enrol; a token that is not a short string is bad-token."""
    agent = SyntheticAgent()
    tokens, _ = intake.issue_tokens(1, 60)
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"public_key_pem": ec_pem}, "bad-request", "public_key must be an Ed25519 key"),
        ({"public_key_pem": 7}, "bad-request", "public_key must be a PEM text"),
        ({"host": {"x" * 65: "y"}}, "bad-request", f"host field {'x' * 64!r} is too long"),
        ({"host": {"a": "\ud800"}}, "bad-request", "host holds text that is not valid Unicode"),
        ({"token": ""}, "bad-token", "the enrolment token is missing or malformed"),
        ({"token": None}, "bad-token", "the enrolment token is missing or malformed"),
    ]
    for change, code, reason in cases:
        call: dict[str, object] = {
            "token": tokens[0],
            "public_key_pem": agent.public_pem,
            "host_id": agent.host_id,
            "host": {},
            **change,
        }
        with pytest.raises(IntakeError) as caught:
            intake.enroll(**call)  # type: ignore[arg-type]
        assert (caught.value.code, caught.value.reason) == (code, reason)


def test_intake_key_file_problems(tmp_path: Path) -> None:
    """A key readable by others, not a key, or not Ed25519 is refused with the path."""
    path = tmp_path / "intake.key"
    load_intake_key(path)
    path.chmod(0o644)
    with pytest.raises(FtiscanError, match="readable by others \\(mode 0644\\); chmod 600 it"):
        load_intake_key(path)
    path.write_text("not a key")
    path.chmod(0o600)
    with pytest.raises(FtiscanError, match="not an unencrypted PEM private key"):
        load_intake_key(path)
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(FtiscanError, match="the intake key must be Ed25519"):
        load_intake_key(path)
    with pytest.raises(FtiscanError, match="cannot read the intake key"):
        load_intake_key(tmp_path)  # a folder
    assert isinstance(load_intake_key(tmp_path / "new.key"), Ed25519PrivateKey)


def test_inventory_and_fleet_argument_types(intake: Intake) -> None:
    with pytest.raises(IntakeError) as caught:
        intake.import_inventory(b"host_id\n")  # type: ignore[arg-type]
    assert caught.value.reason == "the inventory must be CSV text"
    with pytest.raises(IntakeError) as caught:
        intake.fleet(stale_hours="24")  # type: ignore[arg-type]
    assert caught.value.reason == "stale_hours must be a number"
    got = intake.inventory_status(since="2027-01-01T00:00:00")  # no zone: UTC
    assert got["since"] == "2027-01-01T00:00:00Z"


def test_postgres_connection_lost_is_unavailable_then_recovers(
    pg_url: str, pg_server: str, tmp_path: Path
) -> None:
    """The database dropping the intake's connection (a restart, a failover): that
    call answers unavailable, the next one reconnects and works."""
    import psycopg

    intake = Intake.open(pg_url, tmp_path / "intake.key")
    try:
        agent = enroll_agent(intake)
        intake.check()
        name = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        with pytest.raises(IntakeError) as caught:
            intake.accept(agent.report())
        assert (caught.value.code, caught.value.status, caught.value.retry_after) == (
            "unavailable",
            503,
            5.0,
        )
        assert intake.accept(agent.envelopes[1])[0] is True
    finally:
        intake.close()
