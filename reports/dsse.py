"""DSSE envelopes signed with Ed25519: the signed form of every report.

An envelope is the JSON object ``{"payload": B64, "payloadType": T, "signatures":
[{"keyid": K, "sig": B64}]}`` (DSSE v1, https://github.com/secure-systems-lab/dsse,
envelope.md and protocol.md). The signature is Ed25519 over the pre-authentication
encoding ``PAE(T, payload) = "DSSEv1" SP len(T) SP T SP len(payload) SP payload``,
lengths in bytes as ASCII decimal. ``K`` is the key id: the lowercase hex SHA-256 of
the public key's DER SubjectPublicKeyInfo (``openssl pkey -pubin -outform DER |
openssl dgst -sha256``).

ftiscan writes an envelope in exactly one byte form (canonical JSON, standard base64
with padding, no trailing newline), and `verify` accepts only that form: any changed
byte of the file, also one that a lenient JSON or base64 reader would ignore, fails.
The same check is possible with OpenSSL alone (README, "Verify with OpenSSL").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ftiscan.reports.canonical import CanonicalError, canonical_bytes, parse
from ftiscan.scanner.errors import FtiscanError

__all__ = [
    "PAYLOAD_TYPE",
    "Verified",
    "VerifyError",
    "digest",
    "key_id",
    "pae",
    "sign",
    "verify",
]

PAYLOAD_TYPE = "application/vnd.ftiscan.report+json"
_ENVELOPE_KEYS = {"payload", "payloadType", "signatures"}
_SIGNATURE_KEYS = {"keyid", "sig"}


class VerifyError(FtiscanError):
    """An envelope failed verification; ``reason`` is a short stable code
    (``not-envelope``, ``not-canonical``, ``bad-base64``, ``payload-type``,
    ``unknown-key``, ``bad-signature``, ``payload``) and the message says more."""

    exit_code = 1

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True, slots=True)
class Verified:
    """What `verify` vouches for: these payload bytes were signed by this key."""

    payload: bytes
    payload_type: str
    key_id: str
    digest: str  # sha256 of the whole envelope file, "sha256:<hex>"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding; lengths count bytes.

    >>> pae("t/é", b"{}")
    b'DSSEv1 4 t/\\xc3\\xa9 2 {}'
    """
    kind = payload_type.encode("utf-8")
    return b" ".join([b"DSSEv1", b"%d" % len(kind), kind, b"%d" % len(body), body])


def key_id(public_key: Ed25519PublicKey) -> str:
    """Lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data`` (how reports name each other in the chain)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sign(payload: bytes, private_key: Ed25519PrivateKey, payload_type: str = PAYLOAD_TYPE) -> bytes:
    """The envelope bytes for ``payload`` signed by ``private_key``."""
    signature = private_key.sign(pae(payload_type, payload))
    envelope = {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [
            {
                "keyid": key_id(private_key.public_key()),
                "sig": base64.b64encode(signature).decode("ascii"),
            }
        ],
    }
    return canonical_bytes(envelope)


def _b64(text: Any, field: str) -> bytes:
    if not isinstance(text, str):
        raise VerifyError("not-envelope", f"{field} is not a string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise VerifyError("bad-base64", f"{field} is not standard base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise VerifyError("bad-base64", f"{field} is not in canonical base64 form")
    return raw


def _structure(data: bytes) -> dict[str, Any]:
    try:
        obj = parse(data)
    except CanonicalError as exc:
        raise VerifyError("not-envelope", str(exc)) from None
    if not isinstance(obj, dict) or set(obj) != _ENVELOPE_KEYS:
        raise VerifyError(
            "not-envelope", "expected an object with payload, payloadType, signatures"
        )
    signatures = obj["signatures"]
    if not isinstance(signatures, list) or len(signatures) != 1:
        raise VerifyError("not-envelope", "expected exactly one signature")
    if not isinstance(signatures[0], dict) or set(signatures[0]) != _SIGNATURE_KEYS:
        raise VerifyError("not-envelope", "a signature is an object with keyid and sig")
    try:
        again = canonical_bytes(obj)
    except CanonicalError as exc:  # e.g. a lone surrogate written as \ud800
        raise VerifyError("not-canonical", str(exc)) from None
    if again != data:
        raise VerifyError("not-canonical", "the envelope is not in its one canonical byte form")
    return obj


def verify(
    data: bytes,
    keys: dict[str, Ed25519PublicKey],
    payload_type: str = PAYLOAD_TYPE,
) -> Verified:
    """Check the envelope ``data`` and return the payload bytes it vouches for.

    Checks: the one canonical byte form, the payload type, that the key id is one of
    ``keys`` (id -> key) and that the Ed25519 signature over the PAE is valid.
    Callers parse only ``Verified.payload``.

    Does *not* check: what the payload says (use `ftiscan.reports.schema`), its place in
    the agent's chain (`ftiscan.reports.chain`), whether the key is still enrolled or
    was revoked, or how old the report is.
    """
    obj = _structure(data)
    if obj["payloadType"] != payload_type:
        raise VerifyError("payload-type", f"expected {payload_type!r}")
    payload = _b64(obj["payload"], "payload")
    sig_entry = obj["signatures"][0]
    signature = _b64(sig_entry["sig"], "sig")
    kid = sig_entry["keyid"]
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        shown = kid[:64] if isinstance(kid, str) else type(kid).__name__
        raise VerifyError("unknown-key", f"signed by key id {shown!r}, which is not trusted")
    try:
        key.verify(signature, pae(payload_type, payload))
    except InvalidSignature:
        raise VerifyError(
            "bad-signature", f"the signature of key {kid[:16]} does not match"
        ) from None
    return Verified(payload, payload_type, kid, digest(data))
