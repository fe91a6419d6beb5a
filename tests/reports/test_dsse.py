"""DSSE envelopes: PAE bytes, known answers, and that no changed byte verifies."""

from __future__ import annotations

import base64
import hashlib
import json
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes

# RFC 8032, section 7.1, TEST 1 (the secret key is the RFC's published test key).
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_SIG = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
    "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
KEY = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS = {dsse.key_id(KEY.public_key()): KEY.public_key()}
PAYLOAD = canonical_bytes({"findings": [], "id": "x", "note": "é"})


def test_dsse_pae_matches_spec_vector() -> None:
    """PAE of the DSSE specification's example, and byte (not character) lengths."""
    assert (
        dsse.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert dsse.pae("é", "é".encode()) == "DSSEv1 2 é 2 é".encode()
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "


def test_dsse_ed25519_known_answer() -> None:
    """The signing primitive gives RFC 8032's signature for its test key."""
    assert KEY.sign(b"") == RFC8032_SIG


def test_dsse_envelope_known_bytes() -> None:
    """The envelope for a fixed payload and key is one exact byte string (Ed25519 is
    deterministic), with the key id being the SHA-256 of the DER public key."""
    envelope = dsse.sign(b'{"a":1}', KEY)
    kid = dsse.key_id(KEY.public_key())
    # SubjectPublicKeyInfo for Ed25519 is a fixed 12-byte DER prefix and the raw key.
    der = bytes.fromhex("302a300506032b6570032100") + KEY.public_key().public_bytes_raw()
    assert kid == hashlib.sha256(der).hexdigest()
    sig = base64.b64encode(KEY.sign(dsse.pae(dsse.PAYLOAD_TYPE, b'{"a":1}'))).decode()
    assert (
        envelope
        == (
            '{"payload":"eyJhIjoxfQ==","payloadType":"application/vnd.ftiscan.report+json",'
            f'"signatures":[{{"keyid":"{kid}","sig":"{sig}"}}]}}'
        ).encode()
    )
    assert dsse.verify(envelope, KEYS).payload == b'{"a":1}'


def test_dsse_verify_returns_payload_key_and_digest() -> None:
    """verify() returns the signed payload bytes, the key id and the file's digest."""
    envelope = dsse.sign(PAYLOAD, KEY)
    verified = dsse.verify(envelope, KEYS)
    assert verified.payload == PAYLOAD
    assert verified.key_id == next(iter(KEYS))
    assert verified.digest == dsse.digest(envelope)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e | {"payloadType": "application/json"}, "payload-type"),
        (lambda e: e | {"payload": base64.b64encode(b'{"b":2}').decode()}, "bad-signature"),
        (lambda e: e | {"payload": "not base64!"}, "bad-base64"),
        (lambda e: e | {"payload": e["payload"] + "A"}, "bad-base64"),
        (lambda e: e | {"payload": "eyJhIjoxfR=="}, "bad-base64"),  # non-zero spare bits
        (lambda e: e | {"extra": 1}, "not-envelope"),
        (lambda e: e | {"signatures": []}, "not-envelope"),
        (lambda e: e | {"signatures": e["signatures"] * 2}, "not-envelope"),
        (lambda e: e | {"signatures": [{"keyid": "ab" * 32, "sig": "AA=="}]}, "unknown-key"),
    ],
)
def test_dsse_verify_names_what_is_wrong(mutate: object, reason: str) -> None:
    """Each kind of tampering fails with its own reason code."""
    envelope = json.loads(dsse.sign(PAYLOAD, KEY))
    changed = canonical_bytes(mutate(envelope))  # type: ignore[operator]  # test table lambdas
    with pytest.raises(dsse.VerifyError) as info:
        dsse.verify(changed, KEYS)
    assert info.value.reason == reason


def test_dsse_verify_refuses_other_key_and_whitespace() -> None:
    """A signature by an untrusted key, and the same envelope with whitespace, fail."""
    with pytest.raises(dsse.VerifyError, match="unknown-key"):
        dsse.verify(dsse.sign(PAYLOAD, OTHER), KEYS)
    pretty = json.dumps(json.loads(dsse.sign(PAYLOAD, KEY)), indent=1).encode()
    with pytest.raises(dsse.VerifyError, match="not-canonical"):
        dsse.verify(pretty, KEYS)
    with pytest.raises(dsse.VerifyError, match="not-envelope"):
        dsse.verify(dsse.sign(PAYLOAD, KEY) + b"\n\xff", KEYS)


def test_dsse_every_changed_byte_fails() -> None:
    """Changing any single byte of an envelope, to any of several values, fails."""
    envelope = dsse.sign(PAYLOAD, KEY)
    rng = random.Random(4)
    for index in range(len(envelope)):
        for delta in {1, 0x20, 0x80, rng.randrange(1, 256)}:
            changed = bytearray(envelope)
            changed[index] ^= delta
            with pytest.raises(dsse.VerifyError):
                dsse.verify(bytes(changed), KEYS)


@given(st.binary(max_size=300), st.text(min_size=1, max_size=40))
def test_dsse_round_trip_any_payload(payload: bytes, payload_type: str) -> None:
    """Any payload bytes and type sign and verify back to the same bytes."""
    envelope = dsse.sign(payload, KEY, payload_type)
    assert dsse.verify(envelope, KEYS, payload_type).payload == payload
