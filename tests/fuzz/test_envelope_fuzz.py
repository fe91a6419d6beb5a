"""Damaged and hostile signed reports: `dsse.verify`, `canonical.parse`, `verify_reports`.

The seed is a real report (a scan of synthetic files, `tests.intake._served.templates`)
signed by the agent's own `Journal`. The properties: a damaged envelope never verifies
unless its bytes are the original, and every refusal is a `VerifyError` or a
`FileResult` with one of the documented reason codes, never another exception; any
bytes given to `parse` are a value or a `CanonicalError`, and a value it returns writes
back canonically; a payload damaged and then signed by the trusted key (a broken or
malicious agent) is refused with ``payload``, ``schema`` or ``chain-key``, or accepted.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import example, given
from hypothesis import strategies as st

from ftiscan.reports import dsse
from ftiscan.reports.canonical import CanonicalError, canonical_bytes, parse
from ftiscan.reports.verify import verify_reports
from tests.fuzz._guard import no_hang
from tests.fuzz._mutate import Blob, Edit, apply, edits, text_edits
from tests.fuzz._profile import fuzz_settings
from tests.intake._served import Agent

ENVELOPE_REASONS = {
    "not-envelope",
    "bad-base64",
    "not-canonical",
    "payload-type",
    "unknown-key",
    "bad-signature",
}
"""`dsse.VerifyError.reason` codes."""
FILE_REASONS = ENVELOPE_REASONS | {"payload", "schema", "chain-key"}


class _Signed:
    """One agent key and the envelope of one real report it signed."""

    def __init__(self) -> None:
        self.agent = Agent(Path(mkdtemp(prefix="ftiscan-fuzz-")), "ws-fuzz.example")
        self.envelope = Blob(self.agent.sign("critical"))
        self.payload: dict[str, Any] = json.loads(parse_payload(self.envelope))

    @property
    def keys(self) -> dict[str, Ed25519PublicKey]:
        return {self.agent.key_id: self.agent.key.public_key()}

    @property
    def private(self) -> Ed25519PrivateKey:
        return self.agent.key


def parse_payload(envelope: bytes) -> bytes:
    return base64.b64decode(json.loads(envelope)["payload"])


@cache
def _signed() -> _Signed:
    return _Signed()


@pytest.fixture(scope="module")
def signed() -> _Signed:
    return _signed()


def _verify_file(data: bytes, keys: dict[str, Ed25519PublicKey]) -> tuple[bool, str]:
    with no_hang():
        outcome = verify_reports([("r.json", data)], keys)
    (result,) = outcome.files
    assert result.ok or result.reason in FILE_REASONS, result.reason
    return result.ok, result.reason


@fuzz_settings(3)
@given(edits())
def test_fuzz_damaged_envelope_never_verifies(signed: _Signed, changes: list[Edit]) -> None:
    """Bytes flipped, set, inserted, cut or repeated in a signed report: refused with a
    reason code by `dsse.verify` and by `verify_reports`, unless nothing changed."""
    data = apply(signed.envelope, changes)
    ok, _ = _verify_file(data, signed.keys)
    assert ok == (data == signed.envelope)
    error: dsse.VerifyError | None = None
    try:
        dsse.verify(data, signed.keys)
    except dsse.VerifyError as exc:
        error = exc
    assert (error is None) == (data == signed.envelope)
    if error is not None:
        assert error.reason in ENVELOPE_REASONS


_ENVELOPES = st.fixed_dictionaries(
    {},
    optional={
        "payload": st.one_of(st.text(max_size=20), st.integers(), st.none()),
        "payloadType": st.one_of(st.just(dsse.PAYLOAD_TYPE), st.text(max_size=20)),
        "signatures": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "keyid": st.one_of(st.text(max_size=70), st.integers()),
                        "sig": st.text(max_size=90),
                    },
                ),
                max_size=2,
            ),
            st.text(max_size=5),
        ),
    },
)


@fuzz_settings(2)
@given(_ENVELOPES)
@example({"payload": "", "payloadType": "\ud800", "signatures": [{"keyid": "a", "sig": ""}]})
def test_fuzz_envelope_shapes_are_refused_with_a_code(signed: _Signed, value: Any) -> None:
    """Objects shaped almost like an envelope (missing, extra or mistyped fields, a
    lone surrogate as the payload type) are a VerifyError with a reason code."""
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(dsse.VerifyError) as caught:
        dsse.verify(data, signed.keys)
    assert caught.value.reason in ENVELOPE_REASONS


_HOSTILE_JSON = (
    b"1" * 5000,  # int() refuses more than 4300 digits with a plain ValueError
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'"\\ud800"',
    b'{"k":"\\udfff"}',
    b'["\\ud83d\\ude00"]',
)


@fuzz_settings(3)
@given(st.one_of(st.binary(max_size=512), st.sampled_from(_HOSTILE_JSON)), text_edits())
def test_fuzz_parse_gives_a_value_or_canonical_error(raw: bytes, changes: list[Edit]) -> None:
    """Any bytes are a value or a CanonicalError (also when int() or the JSON decoder
    would raise ValueError or RecursionError), and a value writes back canonically."""
    for data in (raw, apply(raw, changes)):
        try:
            with no_hang():
                value = parse(data)
        except CanonicalError:
            continue
        try:
            again = canonical_bytes(value)
        except CanonicalError as exc:
            refused = str(exc)
        else:
            assert parse(again) == value
            continue
        assert refused == "nested too deeply"


@pytest.mark.parametrize("data", _HOSTILE_JSON[:3], ids=["digits", "arrays", "objects"])
def test_parse_hostile_json_is_a_canonical_error(signed: _Signed, data: bytes) -> None:
    """Found by the fuzz run: 5000 digits escaped `parse` as ValueError and deep nesting
    as RecursionError, and so did `dsse.verify` and `ftiscan verify` on such a file."""
    with pytest.raises(CanonicalError, match=r"integer outside|nested too deeply"):
        parse(data)
    with pytest.raises(dsse.VerifyError) as caught:
        dsse.verify(data, signed.keys)
    assert caught.value.reason == "not-envelope"
    assert _verify_file(data, signed.keys) == (False, "not-envelope")


def test_parse_lone_surrogate_is_a_canonical_error() -> None:
    """Found by the fuzz run: an escaped lone surrogate parsed into a string that no
    canonical writer (and no database) can encode; a surrogate pair is a character."""
    with pytest.raises(CanonicalError, match=r"\$: lone surrogate at index 0"):
        parse(b'"\\ud800"')
    with pytest.raises(CanonicalError, match=r"\$\.k: lone surrogate"):
        parse(b'{"k":"\\udfff"}')
    assert parse(b'["\\ud83d\\ude00"]') == ["\U0001f600"]


# --- payloads signed by the trusted key ------------------------------------------------

_JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**60), 2**60),
        st.text(max_size=12),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            out += _paths(item, (*prefix, index))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    value[head] = _replace(value[head], tuple(rest), new)
    return value


def _resign(signed: _Signed, payload_bytes: bytes) -> bytes:
    return dsse.sign(payload_bytes, signed.private)


@fuzz_settings(3)
@given(st.data())
def test_fuzz_resigned_payload_field_is_refused_or_accepted(
    signed: _Signed, data: st.DataObject
) -> None:
    """A report whose field (anywhere in it) is replaced by another JSON value, then
    signed by the trusted key: accepted, or refused with ``payload``/``schema``/
    ``chain-key``, never an exception."""
    payload = json.loads(json.dumps(signed.payload))
    path = data.draw(st.sampled_from(_paths(payload)), label="field")
    payload = _replace(payload, path, data.draw(_JSON_VALUES, label="value"))
    try:
        body = canonical_bytes(payload)
    except CanonicalError:
        return
    ok, reason = _verify_file(_resign(signed, body), signed.keys)
    assert ok or reason in {"payload", "schema", "chain-key"}


@fuzz_settings(2)
@given(text_edits())
def test_fuzz_resigned_payload_bytes_are_refused_or_accepted(
    signed: _Signed, changes: list[Edit]
) -> None:
    """A report's payload bytes damaged with JSON tokens, then signed by the trusted
    key: accepted, or refused with ``payload``/``schema``/``chain-key``."""
    body = apply(parse_payload(signed.envelope), changes)
    ok, reason = _verify_file(_resign(signed, body), signed.keys)
    assert ok or reason in {"payload", "schema", "chain-key"}
