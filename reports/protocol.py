"""The agent <-> intake protocol: what both sides of a submission agree on.

HTTP/1.1 over TLS (plain http only to a loopback address, for tests), JSON bodies.
All paths are under the intake's base URL (``https://intake.example.gov``).

Agent endpoints (no credential but the agent's key and, once, the enrolment token)

* ``POST /v1/enroll`` with ``{"token": T, "public_key": PEM, "host_id": H, "host": {...}}``
  (``public_key``: the agent's Ed25519 public key, PEM SubjectPublicKeyInfo; ``host_id``:
  how counsel's inventory names the machine, by default its FQDN in lower case; ``host``:
  the report's `host_identity`). ``201`` with `Enrolment` as JSON. A token is single-use
  and expires; the same key enrolled again with a new token keeps its chain.
* ``POST /v1/reports`` with the DSSE envelope bytes exactly as signed
  (``Content-Type: application/json``). ``201`` stored now, ``200`` the same report was
  stored before (a resend gets the *same* receipt); the body is the receipt envelope.
* ``GET /v1/intake-key``: ``{"intake_key": PEM, "intake_key_id": hex}`` (what enrolment
  pins; shown so that its fingerprint can be checked out of band).
* ``GET /v1/health``: ``{"status": "ok"}``.

Counsel endpoints (``Authorization: Bearer <admin credential>``, never an agent key)

* ``POST /v1/admin/tokens`` ``{"count": n, "ttl": seconds}`` -> ``{"tokens": [...],
  "expires": iso}``; ``PUT /v1/admin/inventory`` (CSV, column ``host_id``);
  ``GET /v1/fleet`` (JSON) and ``GET /fleet`` (HTML): the fleet view;
  ``POST /v1/admin/fleet-link`` -> a one-time ``/fleet/login?ticket=`` link (5 minutes)
  that a browser exchanges for an 8-hour HttpOnly cookie valid for ``/fleet`` only.

Every refusal is ``{"error": CODE, "reason": text}`` with one of the `ERRORS` codes.
An agent retries only what `retryable` says (the intake down, overloaded or rate
limiting); any other refusal is permanent for that envelope: the report stays in the
outbox, marked with the code, and ``ftiscan submit`` says so.

A **receipt** is a DSSE envelope of type `RECEIPT_TYPE` signed by the intake key; its
payload is `Receipt`. The agent keeps a report in its outbox until it has stored a
receipt that verifies against the pinned intake key and names that very envelope
(``report_digest``), its own key and the report's sequence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "BUNDLE_TYPE",
    "ERRORS",
    "RECEIPT_TYPE",
    "REPORT_CONTENT_TYPE",
    "Enrolment",
    "Receipt",
    "retryable",
]

RECEIPT_TYPE = "application/vnd.ftiscan.receipt+json"
BUNDLE_TYPE = "application/vnd.ftiscan.bundle+json"  # an offline bundle's signed manifest
REPORT_CONTENT_TYPE = "application/json"

# code -> HTTP status. The envelope codes are `ftiscan.reports.dsse.VerifyError.reason`.
ERRORS: dict[str, int] = {
    "not-envelope": 400,
    "not-canonical": 400,
    "bad-base64": 400,
    "payload-type": 400,
    "bad-request": 400,
    "bad-token": 403,  # enrolment token unknown, used or expired
    "unknown-key": 403,  # the signing key is not enrolled (or was revoked)
    "bad-signature": 403,
    "unauthorized": 401,  # admin endpoint without the admin credential
    "schema": 422,  # the payload is not a valid report
    "chain-key": 422,  # chain.key_id is not the signing key
    "fork": 409,  # previous digest disagrees with the stored neighbour
    "replay": 409,  # a different report under a sequence number already used
    "too-large": 413,
    "rate-limited": 429,  # with Retry-After
    "unavailable": 503,  # storage down, shutting down
    "not-found": 404,  # no such endpoint
    "method-not-allowed": 405,
}


def retryable(status: int) -> bool:
    """Whether an agent should send the same envelope again later."""
    return status in (408, 429) or status >= 500


@dataclass(frozen=True, slots=True)
class Enrolment:
    """The intake's answer to an enrolment; the agent stores it and pins the key."""

    agent: str  # the agent's key id
    host_id: str
    intake_key: str  # PEM SubjectPublicKeyInfo of the intake's Ed25519 key
    intake_key_id: str  # `ftiscan.reports.dsse.key_id` of it
    fleet_key: str | None  # hex, when counsel issues one (fingerprints, EDM)
    enrolled: str  # ISO 8601 UTC

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The payload of a receipt envelope."""

    receipt_id: str  # UUID
    report_id: str  # the report's ``id``
    report_digest: str  # ``sha256:<hex>`` of the envelope bytes received
    agent: str  # the signing agent's key id
    sequence: int  # the report's chain sequence
    received: str  # ISO 8601 UTC, when the intake first stored it
    intake: str  # the intake key id that signs this receipt
    type: str = "ftiscan.receipt/v1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
