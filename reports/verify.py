"""Verify signed reports: each envelope, its payload, and the chain they form.

For each file: the DSSE envelope (`ftiscan.reports.dsse.verify`: canonical form,
payload type, trusted key, Ed25519 signature), then the payload bytes it vouches for
(strict canonical JSON, the report schema) and that the payload's ``chain.key_id`` is
the key that signed it. Then, over all files that passed, the chain
(`ftiscan.reports.chain.check_chain`). Only verified payloads are parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import CanonicalError, parse
from ftiscan.reports.chain import Chain, Link, check_chain, link_of
from ftiscan.reports.schema import schema_errors

__all__ = ["FileResult", "Outcome", "verify_envelope", "verify_reports"]


@dataclass(slots=True)
class FileResult:
    name: str
    ok: bool
    reason: str = ""  # short code when not ok
    detail: str = ""
    key_id: str = ""
    sequence: int = 0
    report_id: str = ""
    payload: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.name, "valid": self.ok}
        if self.ok:
            out.update(key_id=self.key_id, sequence=self.sequence, report_id=self.report_id)
        else:
            out.update(reason=self.reason, detail=self.detail)
        return out


@dataclass(slots=True)
class Outcome:
    files: list[FileResult] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files) and not any(c.problems for c in self.chains)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "files": [f.as_dict() for f in self.files],
            "chains": [c.as_dict() for c in self.chains],
        }


def verify_envelope(
    name: str, data: bytes, keys: dict[str, Ed25519PublicKey]
) -> tuple[FileResult, Link | None]:
    """One file: signature, payload, schema, signer == chain key."""
    try:
        verified = dsse.verify(data, keys)
    except dsse.VerifyError as exc:
        return FileResult(name, False, exc.reason, exc.detail), None
    try:
        payload = parse(verified.payload)
    except CanonicalError as exc:
        return FileResult(name, False, "payload", str(exc)), None
    errors = schema_errors(payload)
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        return FileResult(name, False, "schema", "; ".join(errors[:3]) + more), None
    link = link_of(name, verified.key_id, verified.digest, payload)
    if link.key_id != verified.key_id:
        detail = f"signed by key {verified.key_id[:16]} but claims the chain of {link.key_id[:16]}"
        return FileResult(name, False, "chain-key", detail), None
    result = FileResult(
        name,
        True,
        key_id=verified.key_id,
        sequence=link.sequence,
        report_id=str(payload["id"]),
        payload=payload,
    )
    return result, link


def verify_reports(
    files: Sequence[tuple[str, bytes]],
    keys: dict[str, Ed25519PublicKey],
    expect_key: str | None = None,
    fleet: bool = False,
) -> Outcome:
    """Verify ``files`` (name, bytes) in the order given, then their chain."""
    outcome = Outcome()
    links: list[Link] = []
    for name, data in files:
        result, link = verify_envelope(name, data, keys)
        outcome.files.append(result)
        if link is not None:
            links.append(link)
    outcome.chains = check_chain(links, expect_key, fleet)
    return outcome
