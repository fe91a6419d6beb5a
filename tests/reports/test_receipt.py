"""Receipts: signed by the intake, naming exactly one envelope of one agent."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.reports import dsse
from ftiscan.reports.protocol import Receipt
from ftiscan.reports.receipt import ReceiptError, sign_receipt, verify_receipt

ENVELOPE = dsse.sign(b'{"id":"r1"}', Ed25519PrivateKey.generate())


def _receipt(signer: Ed25519PrivateKey, **change: object) -> Receipt:
    fields: dict[str, object] = {
        "receipt_id": "00000000-0000-4000-8000-000000000001",
        "report_id": "r1",
        "report_digest": dsse.digest(ENVELOPE),
        "agent": "a" * 64,
        "sequence": 7,
        "received": "2026-12-02T00:00:00Z",
        "intake": dsse.key_id(signer.public_key()),
        **change,
    }
    return Receipt(**fields)  # type: ignore[arg-type]


def test_a_receipt_for_the_envelope_verifies() -> None:
    intake = Ed25519PrivateKey.generate()
    data = sign_receipt(_receipt(intake), intake)
    got = verify_receipt(data, intake.public_key(), ENVELOPE, "a" * 64, 7)
    assert got.sequence == 7
    assert got.report_digest == dsse.digest(ENVELOPE)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"report_digest": "sha256:" + "0" * 64}, "other-report"),
        ({"agent": "b" * 64}, "other-agent"),
        ({"sequence": 8}, "other-sequence"),
        ({"intake": "c" * 64}, "unknown-key"),
    ],
)
def test_a_receipt_for_something_else_is_refused(change: dict[str, object], reason: str) -> None:
    intake = Ed25519PrivateKey.generate()
    data = sign_receipt(_receipt(intake, **change), intake)
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(data, intake.public_key(), ENVELOPE, "a" * 64, 7)
    assert caught.value.reason == reason


def test_a_receipt_by_another_key_or_changed_is_refused() -> None:
    intake, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    data = sign_receipt(_receipt(other), other)
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(data, intake.public_key(), ENVELOPE, "a" * 64, 7)
    assert caught.value.reason == "unknown-key"
    good = sign_receipt(_receipt(intake), intake)
    tampered = good.replace(b'"sig":"', b'"sig":"A', 1)
    with pytest.raises(ReceiptError):
        verify_receipt(tampered, intake.public_key(), ENVELOPE, "a" * 64, 7)
    report = dsse.sign(b"{}", intake)  # a report envelope is not a receipt
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(report, intake.public_key(), ENVELOPE, "a" * 64, 7)
    assert caught.value.reason == "payload-type"
