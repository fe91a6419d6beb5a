"""Receipts: the intake's signed word that it stored one report.

The intake signs a `ftiscan.reports.protocol.Receipt` as a DSSE envelope of type
`RECEIPT_TYPE` with its Ed25519 key (`sign_receipt`). The agent keeps a report in its
outbox until `verify_receipt` accepts a receipt for it: signed by the pinned intake
key, and naming that very envelope (its digest), the agent's key and the sequence.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.protocol import RECEIPT_TYPE, Receipt

__all__ = ["ReceiptError", "sign_receipt", "verify_receipt"]

_FIELDS = {
    "receipt_id": str,
    "report_id": str,
    "report_digest": str,
    "agent": str,
    "sequence": int,
    "received": str,
    "intake": str,
    "type": str,
}


class ReceiptError(dsse.VerifyError):
    """A receipt that does not vouch for the report: ``reason`` is a dsse code or
    ``not-receipt``, ``other-report``, ``other-agent``, ``other-sequence``."""


def sign_receipt(receipt: Receipt, key: Ed25519PrivateKey) -> bytes:
    """The receipt envelope bytes (canonical form) signed by the intake ``key``."""
    return dsse.sign(canonical_bytes(receipt.as_dict()), key, RECEIPT_TYPE)


def _receipt_of(payload: bytes) -> Receipt:
    try:
        data: Any = json.loads(payload)
    except ValueError:
        raise ReceiptError("not-receipt", "the payload is not JSON") from None
    if not isinstance(data, dict) or set(data) != set(_FIELDS):
        raise ReceiptError("not-receipt", "the payload does not have the receipt fields")
    for name, kind in _FIELDS.items():
        value = data[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ReceiptError("not-receipt", f"{name} is not a {kind.__name__}")
    if data["type"] != "ftiscan.receipt/v1":
        raise ReceiptError("not-receipt", "unknown receipt type")
    return Receipt(**data)


def verify_receipt(
    data: bytes,
    intake_key: Ed25519PublicKey,
    envelope: bytes,
    agent: str,
    sequence: int,
) -> Receipt:
    """Check that ``data`` is a receipt by ``intake_key`` for exactly ``envelope``
    (signed by ``agent`` as report ``sequence``); return it. Raises `ReceiptError`."""
    intake_id = dsse.key_id(intake_key)
    try:
        verified = dsse.verify(data, {intake_id: intake_key}, RECEIPT_TYPE)
    except dsse.VerifyError as exc:
        raise ReceiptError(exc.reason, exc.detail) from None
    receipt = _receipt_of(verified.payload)
    if receipt.intake != intake_id:
        raise ReceiptError("unknown-key", "the receipt names another intake key")
    if receipt.report_digest != dsse.digest(envelope):
        raise ReceiptError("other-report", "the receipt is for another envelope")
    if receipt.agent != agent:
        raise ReceiptError("other-agent", "the receipt is for another agent key")
    if receipt.sequence != sequence:
        raise ReceiptError("other-sequence", f"the receipt is for sequence {receipt.sequence}")
    return receipt
