"""The intake killed mid-request (kill -9) and restarted, and stopped by SIGTERM with a
request in flight: nothing stored twice, nothing acknowledged that was not stored."""

from __future__ import annotations

import http.client
import signal
import socket
import ssl
import time
from pathlib import Path

import pytest

from tests.intake._served import Agent, Intake, make_tls, new_intake

pytestmark = pytest.mark.slow


def _reports_of(intake: Intake, host_id: str) -> int:
    answer = intake.client().call("GET", "/v1/fleet", admin=intake.admin)
    assert answer.status == 200, answer.body
    hosts = {h["host_id"]: h for h in answer.json()["hosts"]}
    return int(hosts[host_id]["reports"])


def _enrolled(intake: Intake, folder: Path, host_id: str) -> Agent:
    agent = Agent(folder, host_id)
    assert agent.enroll(intake.client(), intake.tokens()[0]).status == 201
    return agent


@pytest.mark.parametrize(("point", "resend"), [("intake-stored", 201), ("intake-committed", 200)])
def test_app_killed_mid_request_stores_once_after_restart(
    tmp_path: Path, point: str, resend: int
) -> None:
    """The intake dies (SIGKILL) before it commits or after it committed but before it
    answered; the agent sees no answer, sends again to the restarted intake, and gets
    201 (it was never stored) or 200 (it was): one report either way."""
    intake = new_intake(tmp_path / "i", make_tls(tmp_path / "tls")).start()
    agent = _enrolled(intake, tmp_path / "a", "crash.example.gov")
    assert agent.submit(intake.client(), agent.sign()).status == 201
    assert intake.stop() == 0
    intake.env = {"FTISCAN_CRASH_AT": point}
    intake.start()
    envelope = agent.sign("critical")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        agent.submit(intake.client(), envelope)
    assert intake.proc is not None
    assert intake.proc.wait(timeout=30) == -signal.SIGKILL
    intake.env = {}
    intake.start()
    client = intake.client()
    first = agent.submit(client, envelope)
    assert first.status == resend, first.body
    again = agent.submit(client, envelope)
    assert (again.status, again.body) == (200, first.body)
    assert _reports_of(intake, "crash.example.gov") == 2
    assert intake.stop() == 0


def _half_request(intake: Intake, envelope: bytes) -> ssl.SSLSocket:
    """Headers and half the body of a report, the rest not sent yet."""
    assert intake.tls is not None
    raw = socket.create_connection(("127.0.0.1", intake.port), timeout=30)
    conn = intake.tls.client().wrap_socket(raw, server_hostname="127.0.0.1")
    head = (
        "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(envelope)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    conn.sendall(head + envelope[: len(envelope) // 2])
    return conn


def _status_line(conn: ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def test_app_kill_9_with_a_body_half_sent_then_resend(tmp_path: Path) -> None:
    """kill -9 while a report is half received: nothing of it is stored, and the same
    envelope sent to the restarted intake is stored once (201, then 200)."""
    intake = new_intake(tmp_path / "i", make_tls(tmp_path / "tls")).start()
    agent = _enrolled(intake, tmp_path / "a", "half.example.gov")
    envelope = agent.sign("critical")
    conn = _half_request(intake, envelope)
    try:
        assert intake.kill() == -signal.SIGKILL
    finally:
        conn.close()
    intake.start()
    client = intake.client()
    assert agent.submit(client, envelope).status == 201
    assert agent.submit(client, envelope).status == 200
    assert _reports_of(intake, "half.example.gov") == 1
    assert intake.stop() == 0


def test_app_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    """SIGTERM while a report is half received: the intake stops accepting, finishes
    that request (201 with its receipt) and exits 0."""
    intake = new_intake(tmp_path / "i", make_tls(tmp_path / "tls")).start()
    agent = _enrolled(intake, tmp_path / "a", "term.example.gov")
    envelope = agent.sign("critical")
    conn = _half_request(intake, envelope)
    try:
        assert intake.proc is not None
        intake.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while "Shutting down" not in intake.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Shutting down" in intake.log()
        conn.sendall(envelope[len(envelope) // 2 :])
        assert _status_line(conn) == b"HTTP/1.1 201 Created"
    finally:
        conn.close()
    assert intake.stop() == 0
    assert "intake stopped" in intake.log()
    intake.start()
    assert agent.submit(intake.client(), envelope).status == 200
    assert intake.stop() == 0
