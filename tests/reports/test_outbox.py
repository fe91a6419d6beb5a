"""The outbox: derived from the journal and verified receipts; delivery state is bookkeeping."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.agent.journal import Journal
from ftiscan.reports import dsse
from ftiscan.reports.outbox import Delivery, Outbox
from ftiscan.reports.protocol import Receipt
from ftiscan.reports.receipt import ReceiptError, sign_receipt
from ftiscan.reports.submit import Answer, Backoff, Event, SubmitError, check_url

INTAKE = Ed25519PrivateKey.generate()


def _journal(state: Path, count: int) -> Journal:
    journal = Journal(state, Ed25519PrivateKey.generate())
    for n in range(count):
        journal.append({"id": str(uuid.UUID(int=n + 1)), "n": n})
    return journal


def _receipt(outbox: Outbox, sequence: int, signer: Ed25519PrivateKey = INTAKE) -> bytes:
    envelope = outbox.envelope(sequence)
    receipt = Receipt(
        receipt_id=str(uuid.uuid4()),
        report_id="r",
        report_digest=dsse.digest(envelope),
        agent=outbox.key_id,
        sequence=sequence,
        received="2026-12-02T00:00:00Z",
        intake=dsse.key_id(signer.public_key()),
    )
    return sign_receipt(receipt, signer)


def _flip_sig(data: bytes) -> bytes:
    at = data.index(b'"sig":"') + 7
    return data[:at] + (b"B" if data[at : at + 1] == b"A" else b"A") + data[at + 1 :]


def test_outbox_is_every_report_without_a_receipt(tmp_path: Path) -> None:
    """Pending = chain minus stored receipts, in sequence order; depth counts them."""
    journal = _journal(tmp_path, 4)
    outbox = Outbox(tmp_path, journal.key_id)
    assert outbox.pending() == [1, 2, 3, 4]
    receipt, stored = outbox.accept_receipt(2, _receipt(outbox, 2), INTAKE.public_key())
    assert (receipt.sequence, stored) == (2, True)
    assert outbox.pending() == [1, 3, 4]
    assert outbox.depth() == 3
    assert outbox.receipt_path(2) == tmp_path / "receipts" / journal.key_id / (
        "000000000002.receipt.dsse.json"
    )
    assert outbox.receipt(2) == outbox.receipt_path(2).read_bytes()
    assert outbox.audit(INTAKE.public_key()) == {}


def test_outbox_of_an_empty_state_folder_is_empty(tmp_path: Path) -> None:
    """No chain folder yet: nothing pending, no error."""
    outbox = Outbox(tmp_path, "a" * 64)
    assert (outbox.pending(), outbox.depth(), outbox.deliveries()) == ([], 0, {})


def test_outbox_refuses_a_receipt_that_does_not_verify(tmp_path: Path) -> None:
    """A receipt by another key, for another report, or changed, is not stored."""
    journal = _journal(tmp_path, 2)
    outbox = Outbox(tmp_path, journal.key_id)
    other = Ed25519PrivateKey.generate()
    cases = [
        (_receipt(outbox, 1, other), "unknown-key"),
        (_receipt(outbox, 2), "other-report"),
        (_flip_sig(_receipt(outbox, 1)), "bad-signature"),
    ]
    for data, reason in cases:
        with pytest.raises(ReceiptError) as caught:
            outbox.accept_receipt(1, data, INTAKE.public_key())
        assert caught.value.reason == reason
    assert outbox.pending() == [1, 2]
    assert not outbox.receipt_dir.exists()


def test_outbox_keeps_the_first_receipt(tmp_path: Path) -> None:
    """A second valid receipt for a delivered report leaves the stored one alone."""
    journal = _journal(tmp_path, 1)
    outbox = Outbox(tmp_path, journal.key_id)
    first = _receipt(outbox, 1)
    outbox.accept_receipt(1, first, INTAKE.public_key())
    _, stored = outbox.accept_receipt(1, _receipt(outbox, 1), INTAKE.public_key())
    assert not stored
    assert outbox.receipt(1) == first


def test_outbox_audit_names_a_changed_receipt(tmp_path: Path) -> None:
    """A receipt changed on disk after it was stored is named by the audit."""
    journal = _journal(tmp_path, 2)
    outbox = Outbox(tmp_path, journal.key_id)
    for n in (1, 2):
        outbox.accept_receipt(n, _receipt(outbox, n), INTAKE.public_key())
    outbox.receipt_path(2).write_bytes(outbox.receipt(1) or b"")
    assert outbox.audit(INTAKE.public_key()) == {2: "other-report"}


def test_outbox_delivery_state_is_kept_and_dropped_on_receipt(tmp_path: Path) -> None:
    """Retries count up, a refusal is marked, and a receipt removes the entry."""
    journal = _journal(tmp_path, 3)
    outbox = Outbox(tmp_path, journal.key_id)
    outbox.record_retry(1, "unreachable", "connection refused", 100.0)
    outbox.record_retry(1, "unavailable", "storage down", 200.0)
    outbox.record_refusal(2, "fork", "previous digest disagrees")
    assert outbox.delivery(1) == Delivery(2, 200.0, "unavailable", "storage down", None)
    assert outbox.delivery(2) == Delivery(1, 0.0, "fork", "previous digest disagrees", "fork")
    assert outbox.delivery(3) == Delivery()
    assert outbox.delivery_path.stat().st_mode & 0o777 == 0o600
    outbox.accept_receipt(1, _receipt(outbox, 1), INTAKE.public_key())
    assert sorted(outbox.deliveries()) == [2]
    assert outbox.clear_refusals() == [2]
    assert outbox.delivery(2).refused is None
    outbox.record_retry(3, "unreachable", "x", 50.0)
    outbox.clear_backoff()
    assert outbox.delivery(3).next_try == 0.0


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"reports": {"x": 1, "2": "no"}}'])
def test_outbox_damaged_delivery_state_loses_nothing(tmp_path: Path, content: bytes) -> None:
    """A damaged delivery file reads as empty: every report is simply due again."""
    journal = _journal(tmp_path, 2)
    outbox = Outbox(tmp_path, journal.key_id)
    outbox.delivery_path.parent.mkdir(parents=True)
    outbox.delivery_path.write_bytes(content)
    assert outbox.deliveries() == {}
    assert outbox.pending() == [1, 2]


@given(
    attempts=st.integers(1, 200), seed=st.integers(0, 2**32), after=st.none() | st.floats(0, 1e6)
)
def test_backoff_full_jitter_stays_within_its_ceiling(
    attempts: int, seed: int, after: float | None
) -> None:
    """The wait is in [0, min(cap, base * 2**(n-1))], and at least a Retry-After (capped)."""
    policy = Backoff(base=0.5, cap=30.0)
    wait = policy.delay(attempts, random.Random(seed), after)
    ceiling = min(30.0, 0.5 * 2 ** (attempts - 1))
    floor = 0.0 if after is None else min(after, 3600.0)
    assert floor <= wait <= max(ceiling, floor)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (b'{"error": "fork", "reason": "previous differs"}', 409, ("fork", "previous differs")),
        (b'{"error": "replay"}', 409, ("replay", "")),
        (b"<html>bad gateway</html>", 502, ("http-502", "")),
        (b"[1]", 400, ("http-400", "")),
    ],
)
def test_answer_error_reads_the_protocol_refusal(
    body: bytes, status: int, expected: tuple[str, str]
) -> None:
    """A refusal body gives its code and reason; anything else its HTTP status."""
    assert Answer(status, body).error() == expected


@pytest.mark.parametrize(
    ("url", "allow", "message"),
    [
        ("ftp://x", False, "expected https://HOST[:PORT][/PATH]"),
        ("https://", False, "expected https://HOST[:PORT][/PATH]"),
        ("http://intake.example.gov", True, "plain http is allowed only to a loopback address"),
        ("http://127.0.0.1:8443", False, "plain http, without TLS; give --allow-http"),
        ("https://u:p@intake.example.gov", False, "no query, fragment or credentials"),
        ("https://intake.example.gov:x", False, "the port is not a number"),
    ],
)
def test_check_url_allows_https_and_loopback_http_only(url: str, allow: bool, message: str) -> None:
    """https anywhere; http only to loopback and only when asked."""
    with pytest.raises(SubmitError, match=re.escape(message)):
        check_url(url, allow)


def test_check_url_accepts_https_and_opted_in_loopback_http() -> None:
    """The accepted forms come back without a trailing slash."""
    assert check_url("https://intake.example.gov/base/") == "https://intake.example.gov/base"
    assert check_url("http://127.0.0.1:9/", True) == "http://127.0.0.1:9"
    assert check_url("http://[::1]:9", True) == "http://[::1]:9"
    assert check_url("http://localhost:9", True) == "http://localhost:9"


def test_event_messages_say_what_happened() -> None:
    """The exact lines `ftiscan submit` prints."""
    assert Event(7, "refused", "fork", "previous differs").message() == (
        "report 7: refused by the intake: fork: previous differs"
    )
    assert Event(3, "delivered", receipt_id="r-1").message() == "report 3: delivered, receipt r-1"
    assert Event(3, "duplicate", receipt_id="r-1").message() == (
        "report 3: delivered (already held by the intake), receipt r-1"
    )
    assert Event(4, "retry", "unreachable", "connection refused", 2.25).message() == (
        "report 4: connection refused; next try in 2.2 s"
    )


def test_one_submitter_at_a_time_holds_the_outbox(tmp_path: Path) -> None:
    """A second holder of the send lock (another process: the daemon beside a manual
    `ftiscan submit`) waits until the first lets go."""
    outbox = Outbox(tmp_path, "k" * 64)
    script = (
        "import sys, time; from pathlib import Path; from ftiscan.reports.outbox import Outbox\n"
        "with Outbox(Path(sys.argv[1]), 'k' * 64).sending():\n"
        "    print('held', flush=True); time.sleep(float(sys.argv[2]))\n"
    )
    with outbox.sending():
        other = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path), "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        with pytest.raises(subprocess.TimeoutExpired):
            other.wait(timeout=1.0)  # blocked on the lock this process holds
    out, _ = other.communicate(timeout=30)
    assert other.returncode == 0
    assert out == "held\n"
