"""The intake over HTTPS: the real ``ftiscan intake serve`` on loopback, a test CA,
real agents' reports; every protocol status and refusal code as an agent meets it."""

from __future__ import annotations

import base64
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.intake.app import SESSION_COOKIE, mint_ticket
from ftiscan.reports.protocol import ERRORS, RECEIPT_TYPE
from ftiscan.reports.receipt import verify_receipt
from tests.intake._served import Agent, Answer, Intake, Tls, make_tls, new_intake, payload_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, tls: Tls) -> Iterator[Intake]:
    """One intake for the tests that do not depend on each other's state."""
    intake = new_intake(tmp_path_factory.mktemp("intake"), tls, "--max-body", "256K").start()
    yield intake
    assert intake.stop() == 0, intake.log()


def _refused(answer: Answer, code: str) -> None:
    assert answer.status == ERRORS[code], answer.body
    data = json.loads(answer.body)
    assert data["error"] == code
    assert isinstance(data["reason"], str)
    assert data["reason"]


def test_app_enrol_submit_resend_gets_the_same_receipt(served: Intake, tmp_path: Path) -> None:
    """Enrolment pins the intake key; a report is stored once (201), and a resend is
    answered 200 with byte-identical receipt that verifies against that key."""
    client = served.client()
    assert client.call("GET", "/v1/health").json() == {"status": "ok"}
    published = client.call("GET", "/v1/intake-key").json()
    agent = Agent(tmp_path, "laptop-1.example.gov")
    enrolled = agent.enroll(client, served.tokens()[0])
    assert enrolled.status == 201, enrolled.body
    enrolment = enrolled.json()
    assert enrolment["agent"] == agent.key_id
    assert enrolment["host_id"] == "laptop-1.example.gov"
    assert enrolment["intake_key"] == published["intake_key"]
    assert enrolment["intake_key_id"] == published["intake_key_id"]
    envelope = agent.sign("critical")
    first = agent.submit(client, envelope)
    assert first.status == 201, first.body
    assert first.headers["content-type"] == "application/json"
    again = agent.submit(client, envelope)
    assert again.status == 200
    assert again.body == first.body
    key = load_pem_public_key(published["intake_key"].encode("ascii"))
    receipt = verify_receipt(first.body, key, envelope, agent.key_id, 1)  # type: ignore[arg-type]
    assert receipt.report_digest == dsse.digest(envelope)
    second = agent.sign("clean")
    assert agent.submit(client, second).status == 201


def _tamper_signature(envelope: bytes) -> bytes:
    data = json.loads(envelope)
    sig = bytearray(base64.b64decode(data["signatures"][0]["sig"]))
    sig[0] ^= 1
    data["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode("ascii")
    return canonical_bytes(data)


def test_app_refuses_each_bad_report_with_its_code(served: Intake, tmp_path: Path) -> None:
    """Each refusal arrives as {"error", "reason"} with the protocol's status."""
    client = served.client()
    agent = Agent(tmp_path / "a", "laptop-2.example.gov")
    assert agent.enroll(client, served.tokens()[0]).status == 201
    first = agent.sign("clean")
    assert agent.submit(client, first).status == 201

    stranger = Agent(tmp_path / "b", "stranger.example.gov")
    answer = stranger.submit(client, stranger.sign("clean"))
    _refused(answer, "unknown-key")

    answer = agent.submit(client, _tamper_signature(agent.sign("clean")))
    _refused(answer, "bad-signature")

    answer = client.call("POST", "/v1/reports", b"[1, 2]")
    _refused(answer, "not-envelope")

    pretty = json.dumps(json.loads(first), indent=1).encode("utf-8")
    _refused(agent.submit(client, pretty), "not-canonical")

    loose = json.loads(first)
    loose["payload"] = loose["payload"].rstrip("=") + "!"
    _refused(agent.submit(client, canonical_bytes(loose)), "bad-base64")

    receipt_typed = dsse.sign(b"{}", agent.key, RECEIPT_TYPE)
    _refused(agent.submit(client, receipt_typed), "payload-type")

    not_a_report = dsse.sign(canonical_bytes({"id": "x"}), agent.key)
    _refused(agent.submit(client, not_a_report), "schema")

    other_chain = payload_of("clean", agent.host_id)
    other_chain["chain"] = {"key_id": "ab" * 32, "sequence": 1, "previous": None}
    signed = dsse.sign(canonical_bytes(other_chain), agent.key)
    _refused(agent.submit(client, signed), "chain-key")

    replay = payload_of("clean", agent.host_id)
    replay["chain"] = {"key_id": agent.key_id, "sequence": 1, "previous": None}
    signed = dsse.sign(canonical_bytes(replay), agent.key)
    _refused(agent.submit(client, signed), "replay")

    fork = payload_of("clean", agent.host_id)
    fork["chain"] = {"key_id": agent.key_id, "sequence": 2, "previous": "sha256:" + "0" * 64}
    signed = dsse.sign(canonical_bytes(fork), agent.key)
    _refused(agent.submit(client, signed), "fork")

    answer = client.call("POST", "/v1/reports", first, headers={"Content-Type": "text/plain"})
    _refused(answer, "bad-request")


def test_app_refuses_bad_enrolments(served: Intake, tmp_path: Path) -> None:
    """A used, unknown or malformed enrolment is refused; the key is not enrolled."""
    client = served.client()
    token = served.tokens()[0]
    agent = Agent(tmp_path / "a", "laptop-3.example.gov")
    assert agent.enroll(client, token).status == 201
    again = Agent(tmp_path / "b", "laptop-4.example.gov")
    _refused(again.enroll(client, token), "bad-token")
    _refused(again.enroll(client, "not-a-token"), "bad-token")
    missing = again.enrolment(served.tokens()[0])
    del missing["host_id"]
    _refused(client.post_json("/v1/enroll", missing), "bad-request")
    answer = client.call("POST", "/v1/enroll", b"{not json")
    _refused(answer, "bad-request")
    _refused(again.submit(client, again.sign()), "unknown-key")


def test_app_admin_endpoints_need_the_admin_credential(served: Intake, tmp_path: Path) -> None:
    """No credential, a wrong one, or an agent's key as Bearer: 401 on every admin endpoint."""
    client = served.client()
    agent = Agent(tmp_path, "laptop-5.example.gov")
    assert agent.enroll(client, served.tokens()[0]).status == 201
    pem = agent.enrolment("x")["public_key"]
    wrong = [None, "wrong-credential", agent.key_id, served.admin[:-1], served.admin + "x"]
    calls = [
        ("POST", "/v1/admin/tokens", b'{"count": 1, "ttl": 60}'),
        ("PUT", "/v1/admin/inventory", b"host_id\nx\n"),
        ("GET", "/v1/fleet", None),
        ("GET", "/fleet", None),
        ("POST", "/v1/admin/fleet-link", b"{}"),
    ]
    for method, path, body in calls:
        for credential in wrong:
            answer = client.call(method, path, body, admin=credential)
            _refused(answer, "unauthorized")
        answer = client.call(method, path, body, headers={"Authorization": pem.splitlines()[1]})
        _refused(answer, "unauthorized")
    ok = client.call(
        "PUT", "/v1/admin/inventory", b"host_id\nlaptop-5.example.gov\n", admin=served.admin
    )
    assert (ok.status, ok.json()) == (200, {"hosts": 1})
    fleet = client.call("GET", "/v1/fleet", admin=served.admin)
    assert fleet.status == 200
    assert "laptop-5.example.gov" in [h["host_id"] for h in fleet.json()["hosts"]]
    bad = client.post_json("/v1/admin/tokens", {"count": 0}, admin=served.admin)
    _refused(bad, "bad-request")


def test_app_body_limit_refuses_large_bodies_declared_or_streamed(served: Intake) -> None:
    """A body over --max-body is 413, whether its Content-Length says so or a chunked
    body only passes the limit while it streams."""
    client = served.client()
    big = b"x" * (256 * 1024 + 1)
    answer = client.call("POST", "/v1/reports", big)
    _refused(answer, "too-large")
    conn = client.connection()
    try:
        chunks = iter([b"{" + b" " * 65536] * 5)
        conn.request(
            "POST",
            "/v1/reports",
            body=chunks,
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"] == "too-large"
    finally:
        conn.close()
    assert client.call("GET", "/v1/health").status == 200


def test_app_unknown_paths_and_methods_answer_json(served: Intake) -> None:
    """An unknown endpoint is 404, a wrong method 405, both in the refusal shape."""
    client = served.client()
    answer = client.call("GET", "/v1/nothing")
    assert (answer.status, answer.json()["error"]) == (404, "not-found")
    answer = client.call("GET", "/v1/reports")
    assert (answer.status, answer.json()["error"]) == (405, "method-not-allowed")


def test_app_rate_limits_per_agent_key_and_enrolments_per_address(tmp_path: Path, tls: Tls) -> None:
    """Past the burst an agent gets 429 with Retry-After; another agent is not slowed;
    enrolments from one address have their own bucket; forged envelopes naming an
    agent's key id are charged to the sending address, not to that agent."""
    intake = new_intake(tmp_path / "i", tls, "--rate", "1/min", "--enroll-rate", "1/min").start()
    try:
        client = intake.client()
        tokens = intake.tokens(11)
        fast, calm = (
            Agent(tmp_path / "a", "fast.example.gov"),
            Agent(tmp_path / "b", "calm.example.gov"),
        )
        assert fast.enroll(client, tokens[0]).status == 201
        assert calm.enroll(client, tokens[1]).status == 201
        statuses = [fast.submit(client, fast.sign()).status for _ in range(10)]
        assert statuses == [201] * 10
        limited = fast.submit(client, fast.sign())
        _refused(limited, "rate-limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert calm.submit(client, calm.sign()).status == 201
        enrolled = [
            Agent(tmp_path / f"e{n}", f"e{n}.example.gov").enroll(client, tokens[2 + n]).status
            for n in range(9)
        ]
        assert enrolled[:8] == [201] * 8  # two enrolments above used the burst's first two
        assert enrolled[8] == 429
        forged = _tamper_signature(calm.sign())  # calm's key id, not calm's signature
        answers = [calm.submit(client, forged) for _ in range(10)]
        assert [a.json()["error"] for a in answers] == ["bad-signature"] * 10
        _refused(calm.submit(client, forged), "rate-limited")  # the address pays
        honest = calm.journal.path_of(2).read_bytes()
        assert calm.submit(client, honest).status == 201  # calm's bucket is untouched
    finally:
        assert intake.stop() == 0, intake.log()


def test_app_serves_the_chain_and_a_client_with_another_ca_fails(served: Intake) -> None:
    """The server presents its certificate and the intermediate: a client that trusts
    only the root verifies it; one with another CA fails certificate verification."""
    assert served.tls is not None
    context = served.tls.client()
    with (
        socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as conn,
    ):
        peer = conn.getpeercert()
    subject = dict(pair[0] for pair in peer["subject"])
    issuer = dict(pair[0] for pair in peer["issuer"])
    assert subject["commonName"] == "intake.test"
    assert issuer["commonName"] == "ftiscan test intermediate"  # sent by the server
    other = served.client(served.tls.other_ca)
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        other.call("GET", "/v1/health")


def test_app_login_link_works_once_and_its_cookie_opens_only_the_fleet_page(
    served: Intake,
) -> None:
    """A ticket from ``mint_ticket`` (as ``ftiscan intake fleet-link`` makes) is
    exchanged once for an HttpOnly, Secure cookie that opens /fleet, not the admin API."""
    client = served.client()
    ticket = mint_ticket(served.admin)
    login = client.call("GET", f"/fleet/login?ticket={ticket}")
    assert login.status == 303
    assert login.headers["location"] == "/fleet"
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=v1.")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/fleet"):
        assert attribute in cookie
    session = {"Cookie": cookie.split(";", 1)[0]}
    page = client.call("GET", "/fleet", headers=session)
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    _refused(client.call("GET", "/v1/fleet", headers=session), "unauthorized")
    _refused(client.call("GET", f"/fleet/login?ticket={ticket}"), "unauthorized")
    _refused(client.call("GET", "/fleet/login?ticket=v1.1.2.3"), "unauthorized")
    expired = mint_ticket(served.admin, ttl=-10)
    _refused(client.call("GET", f"/fleet/login?ticket={expired}"), "unauthorized")
    forged = mint_ticket("another-credential-entirely")
    _refused(client.call("GET", f"/fleet/login?ticket={forged}"), "unauthorized")


def test_app_two_intakes_on_one_postgresql_database_store_once(
    pg_url: str, tmp_path: Path, tls: Tls
) -> None:
    """Two intake processes on one PostgreSQL database (as behind a load balancer):
    a report stored through one is a resend through the other, with the same receipt,
    and a session cookie from one opens the other's fleet page."""
    one = new_intake(tmp_path / "one", tls, db=pg_url).start()
    two = new_intake(tmp_path / "two", tls, db=pg_url)
    two.admin = one.admin
    two.credential.write_text(one.admin + "\n", encoding="ascii")
    two.credential.chmod(0o600)
    (tmp_path / "two" / "intake.key").write_bytes(one.key.read_bytes())
    (tmp_path / "two" / "intake.key").chmod(0o600)
    two.start()
    try:
        agent = Agent(tmp_path / "a", "pg.example.gov")
        assert agent.enroll(two.client(), one.tokens()[0]).status == 201
        envelope = agent.sign("critical")
        first = agent.submit(one.client(), envelope)
        assert first.status == 201, first.body
        again = agent.submit(two.client(), envelope)
        assert (again.status, again.body) == (200, first.body)
        login = one.client().call("GET", f"/fleet/login?ticket={mint_ticket(one.admin)}")
        session = {"Cookie": login.headers["set-cookie"].split(";", 1)[0]}
        page = two.client().call("GET", "/fleet", headers=session)
        assert page.status == 200
        assert b'data-host="pg.example.gov" data-highest="critical" data-records="3"' in page.body
    finally:
        assert two.stop() == 0, two.log()
        assert one.stop() == 0, one.log()


def test_app_answers_unavailable_when_the_database_is_gone(
    pg_server: str, pg_url: str, tmp_path: Path, tls: Tls
) -> None:
    """With its database gone, the intake says 503 unavailable (with Retry-After) to
    the health probe and to a report, which the agent then keeps and sends again."""
    import psycopg

    intake = new_intake(tmp_path / "i", tls, db=pg_url).start()
    try:
        client = intake.client()
        agent = Agent(tmp_path / "a", "gone.example.gov")
        assert agent.enroll(client, intake.tokens()[0]).status == 201
        assert client.call("GET", "/v1/health").status == 200
        name = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # a random hex name
        _refused(client.call("GET", "/v1/health"), "unavailable")
        answer = agent.submit(client, agent.sign())
        _refused(answer, "unavailable")
        assert int(answer.headers["retry-after"]) >= 1
    finally:
        assert intake.stop() == 0, intake.log()
