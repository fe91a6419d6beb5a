"""Counsel's intake: verify each report, store it once, answer with a signed receipt.

`Intake` is what the HTTP app (`ftiscan.reports.intake.app`), the bundle import and
the export share: every envelope, whether it came over HTTP or in an offline bundle,
goes through the same `Intake.accept`. The checks, in order, each with its refusal
code (`ftiscan.reports.protocol.ERRORS`):

1. the envelope (`ftiscan.reports.dsse.verify`): its one canonical byte form
   (``not-envelope``, ``not-canonical``, ``bad-base64``), its type (``payload-type``),
   an enrolled and not revoked signing key (``unknown-key``), the signature
   (``bad-signature``);
2. the payload: strict canonical JSON and the report schema (``schema``), and its
   ``chain.key_id`` is the signing key (``chain-key``);
3. its place in the agent's chain, in one database transaction: a report id stored
   before with the same bytes is a resend (``(False, the stored receipt)``), with
   other bytes a ``replay``; another report under a used (agent, sequence) is a
   ``replay``; if the report before it is stored, its digest must be this report's
   ``previous``, and if the one after it is stored, that one's ``previous`` must be
   this report's digest, else ``fork``. Reports may come out of order (an offline
   bundle filling a gap later): the gap is what is missing, and closes when it comes.

A stored report gets a receipt (`ftiscan.reports.protocol.Receipt`, signed with the
intake key by `ftiscan.reports.receipt.sign_receipt`) whose ``received`` is the
intake's clock at first storage; the receipt is stored with the report, in the same
transaction, and every resend gets exactly those bytes back.

Errors never carry plaintext: reports hold none, schema messages mask digits, and
nothing here quotes payload values.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import stat
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import CanonicalError, canonical_bytes, parse
from ftiscan.reports.intake import fleet as fleet_module
from ftiscan.reports.intake.store import Busy, Conflict, Store, Tx, Unavailable, open_store
from ftiscan.reports.protocol import ERRORS, Enrolment, Receipt
from ftiscan.reports.receipt import sign_receipt
from ftiscan.reports.schema import ReportSchemaError, check_payload
from ftiscan.reports.store import crash_point, write_durable
from ftiscan.scanner.errors import FtiscanError

__all__ = ["EXPORT_TYPE", "Accepted", "Intake", "IntakeError", "load_intake_key"]

EXPORT_TYPE = "application/vnd.ftiscan.export+json"  # the signed manifest of an export
MAX_TOKENS = 1000
MAX_TTL = 366 * 86400.0
MAX_HOST_ID = 253
MAX_HOST_FIELDS = 64
MAX_HOST_VALUE = 1024
MAX_PEM = 4096
MAX_TOKEN = 256
_ATTEMPTS = 5  # looks again after a UNIQUE conflict (another process stored it first)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_HOST_ID = re.compile(r"^[^\x00-\x20\x7f/\\]{1,253}$")


class IntakeError(FtiscanError):
    """A refusal with its protocol code; ``reason`` is human text without plaintext."""

    exit_code: ClassVar[int] = 1

    def __init__(self, code: str, reason: str, retry_after: float | None = None) -> None:
        if code not in ERRORS:  # pragma: no cover - a programming error
            raise ValueError(f"unknown intake error code {code!r}")
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.status = ERRORS[code]
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, str]:
        """The refusal body of the protocol: ``{"error": code, "reason": text}``."""
        return {"error": self.code, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Accepted:
    """What `Intake.accept_report` says about one envelope."""

    stored: bool  # stored now (False: stored before, this is a resend)
    receipt: bytes
    report_id: str
    agent: str
    sequence: int


def _now_us(clock: Callable[[], float]) -> int:
    return int(clock() * 1_000_000)


def _iso(us: int) -> str:
    moment = dt.datetime.fromtimestamp(us // 1_000_000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str, what: str) -> int:
    """Microseconds since the epoch of an ISO 8601 time (UTC if it names no zone)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise IntakeError(
            "bad-request", f"{what}: expected an ISO 8601 time such as 2026-12-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000)


def _unavailable(exc: Exception) -> IntakeError:
    if isinstance(exc, Busy):
        return IntakeError("unavailable", f"the intake database is busy: {exc}", 1.0)
    return IntakeError("unavailable", f"the intake database is unavailable: {exc}", 5.0)


def _check_private(path: Path) -> None:
    if os.name == "nt":  # pragma: no cover - ACLs, not mode bits
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise FtiscanError(
            f"{path}: the intake key is readable by others (mode {mode & 0o777:04o}); chmod 600 it"
        )


def load_intake_key(path: Path) -> Ed25519PrivateKey:
    """The intake's Ed25519 private key (PKCS#8 PEM) at ``path``, made (0600) if missing."""
    from ftiscan.agent.keys import write_private

    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with contextlib.suppress(FileExistsError):  # another process made it first
            write_private(path, pem, exclusive=True)
    try:
        _check_private(path)
        data = path.read_bytes()
    except OSError as exc:
        raise FtiscanError(f"{path}: cannot read the intake key ({exc.strerror})") from exc
    try:
        loaded = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise FtiscanError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise FtiscanError(f"{path}: the intake key must be Ed25519")
    return loaded


def _public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _signer_of(data: bytes) -> str | None:
    """The key id an envelope names (unverified: only to look up the key)."""
    try:
        obj = json.loads(data)
        kid = obj["signatures"][0]["keyid"]
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None
    return kid if isinstance(kid, str) and re.fullmatch(r"[0-9a-f]{64}", kid) else None


def _sequence_of(data: bytes) -> int | None:
    """The sequence an envelope's payload claims (unverified: for messages only)."""
    try:
        payload = json.loads(base64.b64decode(json.loads(data)["payload"], validate=True))
        sequence = payload["chain"]["sequence"]
    except (ValueError, TypeError, KeyError, binascii.Error, RecursionError):
        return None
    return sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None


class Intake:
    """Counsel's intake: verify, store once, sign receipts. Thread-safe; one per process
    (several processes may share one database)."""

    def __init__(
        self,
        store: Store,
        key: Ed25519PrivateKey,
        fleet_key: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._key = key
        self._fleet_key = fleet_key
        self._clock = clock
        self.intake_key_pem = _public_pem(key.public_key())
        self.intake_key_id = dsse.key_id(key.public_key())
        self._keys: dict[str, Ed25519PublicKey] = {}  # PEM -> key (parsing costs)
        self._keys_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        db: str,
        key_path: Path,
        *,
        fleet_key_path: Path | None = None,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> Intake:
        """The intake on ``db`` (a SQLite file path, or a ``postgresql://`` URL), signing
        with the Ed25519 key at ``key_path`` (made 0600 if missing). ``fleet_key_path``:
        the hex fleet key file counsel issues to agents at enrolment. Raises
        `IntakeError` (``unavailable``) when the database cannot be opened, and
        `FtiscanError` for a bad key file."""
        key = load_intake_key(Path(key_path))
        fleet_key = None
        if fleet_key_path is not None:
            from ftiscan.agent.keys import read_hex_key

            fleet_key = read_hex_key(Path(fleet_key_path)).hex()
        try:
            store = open_store(db, busy_timeout)
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        return cls(store, key, fleet_key, clock)

    def close(self) -> None:
        """Close the database connections; later calls answer ``unavailable``."""
        self.store.close()

    def check(self) -> None:
        """Raise `IntakeError` (``unavailable``) unless the database answers."""
        try:
            with self.store.read() as tx:
                tx.one("SELECT 1")
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc

    # --- tokens and enrolment -------------------------------------------------------
    def issue_tokens(self, count: int, ttl_seconds: float) -> tuple[list[str], str]:
        """``count`` new single-use enrolment tokens valid for ``ttl_seconds``; returns
        them and their expiry (ISO 8601). Only their SHA-256 is stored."""
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_TOKENS:
            raise IntakeError("bad-request", f"count must be an integer 1-{MAX_TOKENS}")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int | float):
            raise IntakeError("bad-request", "ttl must be a number of seconds")
        if not 0 < ttl_seconds <= MAX_TTL:
            raise IntakeError("bad-request", f"ttl must be more than 0 and at most {MAX_TTL:g} s")
        now = _now_us(self._clock)
        expires = now + int(ttl_seconds * 1_000_000)
        tokens = [secrets.token_urlsafe(32) for _ in range(count)]
        try:
            with self.store.write() as tx:
                for token in tokens:
                    tx.execute(
                        "INSERT INTO tokens (digest, created_at, expires_at, expires_us) "
                        "VALUES (?, ?, ?, ?)",
                        (_token_digest(token), _iso(now), _iso(expires), expires),
                    )
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        return tokens, _iso(expires)

    def enroll(
        self, token: str, public_key_pem: str, host_id: str, host: dict[str, str]
    ) -> Enrolment:
        """Register an agent key with a one-time token (``bad-token`` when unknown,
        used or expired; ``bad-request`` for a malformed key, host id or host). The same
        key enrolled again with a new token keeps its chain (host id and host are
        updated). Sending the very same token again with the same key (a lost answer)
        returns the enrolment again; with another key it is ``bad-token``."""
        key = _enrol_key(public_key_pem)
        host_id = _enrol_host_id(host_id)
        host_json = _enrol_host(host)
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            raise IntakeError("bad-token", "the enrolment token is missing or malformed")
        kid = dsse.key_id(key)
        pem = _public_pem(key)
        digest = _token_digest(token)
        for _ in range(_ATTEMPTS):
            now = _now_us(self._clock)
            try:
                with self.store.write() as tx:
                    self._use_token(tx, digest, kid, now)
                    agent = tx.one("SELECT revoked_at FROM agents WHERE key_id = ?", (kid,))
                    if agent is not None and agent[0] is not None:
                        raise IntakeError(
                            "unknown-key", f"key {kid[:16]} was revoked; enrol a new key"
                        )
                    if agent is None:
                        tx.execute(
                            "INSERT INTO agents (key_id, public_key, host_id, host, "
                            "enrolled_at, last_enrolled_at) VALUES (?, ?, ?, ?, ?, ?)",
                            (kid, pem, host_id, host_json, _iso(now), _iso(now)),
                        )
                    else:
                        tx.execute(
                            "UPDATE agents SET host_id = ?, host = ?, last_enrolled_at = ? "
                            "WHERE key_id = ?",
                            (host_id, host_json, _iso(now), kid),
                        )
            except Conflict:
                continue  # another process enrolled this key at this moment: look again
            except (Busy, Unavailable) as exc:
                raise _unavailable(exc) from exc
            return Enrolment(
                agent=kid,
                host_id=host_id,
                intake_key=self.intake_key_pem,
                intake_key_id=self.intake_key_id,
                fleet_key=self._fleet_key,
                enrolled=_iso(now),
            )
        raise IntakeError("unavailable", "enrolment kept conflicting; try again", 1.0)

    @staticmethod
    def _use_token(tx: Tx, digest: str, kid: str, now: int) -> None:
        row = tx.one("SELECT expires_us, used_at, used_by FROM tokens WHERE digest = ?", (digest,))
        if row is None:
            raise IntakeError("bad-token", "the enrolment token is unknown")
        expires_us, used_at, used_by = row
        if used_at is not None:
            if used_by == kid:
                return  # the same key again: its answer was lost
            raise IntakeError("bad-token", "the enrolment token was already used")
        if int(expires_us) <= now:
            raise IntakeError("bad-token", f"the enrolment token expired at {_iso(expires_us)}")
        changed = tx.execute(
            "UPDATE tokens SET used_at = ?, used_by = ? WHERE digest = ? AND used_at IS NULL",
            (_iso(now), kid, digest),
        )
        if changed != 1:  # pragma: no cover - the row lock makes this unreachable
            raise IntakeError("bad-token", "the enrolment token was already used")

    def revoke(self, key_id: str) -> bool:
        """Refuse further reports of ``key_id`` (``unknown-key``); its stored reports
        stay. False if no such agent is enrolled."""
        try:
            with self.store.write() as tx:
                changed = tx.execute(
                    "UPDATE agents SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                    (_iso(_now_us(self._clock)), key_id),
                )
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        return changed == 1

    # --- reports --------------------------------------------------------------------
    def _agent_key(self, kid: str) -> Ed25519PublicKey | None:
        try:
            with self.store.read() as tx:
                row = tx.one("SELECT public_key, revoked_at FROM agents WHERE key_id = ?", (kid,))
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        if row is None or row[1] is not None:
            return None
        pem = str(row[0])
        with self._keys_lock:
            key = self._keys.get(pem)
        if key is None:
            loaded = serialization.load_pem_public_key(pem.encode("ascii"))
            assert isinstance(loaded, Ed25519PublicKey)  # enroll stores Ed25519 keys only
            key = loaded
            with self._keys_lock:
                if len(self._keys) > 100_000:
                    self._keys.clear()
                self._keys[pem] = key
        return key

    def accept(self, envelope: bytes) -> tuple[bool, bytes]:
        """Verify ``envelope`` and store it once; return (stored now?, receipt bytes).
        A resend of a stored envelope returns (False, the same receipt bytes). Raises
        `IntakeError` with the exact refusal code."""
        done = self.accept_report(envelope)
        return done.stored, done.receipt

    def accept_report(self, envelope: bytes, source: str = "http") -> Accepted:
        """`accept` with what was accepted; ``source`` (``http``, ``bundle``) is stored."""
        data = bytes(envelope)
        kid = _signer_of(data)
        key = self._agent_key(kid) if kid is not None else None
        if kid is not None and key is None:
            stored = self._stored_exactly(data)
            if stored is not None:  # stored before the key was revoked: its receipt
                return stored
        try:
            verified = dsse.verify(data, {kid: key} if kid is not None and key else {})
        except dsse.VerifyError as exc:
            if exc.reason == "unknown-key":
                shown = kid[:16] if kid else "?"
                raise IntakeError(
                    "unknown-key", f"the signing key {shown} is not enrolled (or was revoked)"
                ) from None
            code = exc.reason if exc.reason in ERRORS else "not-envelope"
            raise IntakeError(code, exc.detail) from None
        try:
            payload = parse(verified.payload)
        except CanonicalError:
            raise IntakeError("schema", "the payload is not strict canonical JSON") from None
        try:
            check_payload(payload)
        except ReportSchemaError as exc:
            raise IntakeError("schema", str(exc)) from None
        chain = payload["chain"]
        if chain["key_id"] != verified.key_id:
            raise IntakeError(
                "chain-key",
                f"signed by key {verified.key_id[:16]} but claims the chain of "
                f"{str(chain['key_id'])[:16]}",
            )
        crash_point("intake-verified")
        for _ in range(_ATTEMPTS):
            try:
                return self._store_report(data, verified, payload, source)
            except Conflict:
                continue  # another process stored it (or its sequence) first: look again
            except (Busy, Unavailable) as exc:
                raise _unavailable(exc) from exc
        raise IntakeError("unavailable", "storing kept conflicting; send it again", 1.0)

    def _stored_exactly(self, data: bytes) -> Accepted | None:
        """The stored report whose envelope is exactly ``data``, if any."""
        try:
            with self.store.read() as tx:
                row = tx.one(
                    "SELECT envelope, receipt, report_id, agent, sequence FROM reports "
                    "WHERE digest = ?",
                    (dsse.digest(data),),
                )
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        if row is None or bytes(row[0]) != data:
            return None
        return Accepted(False, bytes(row[1]), str(row[2]), str(row[3]), int(row[4]))

    def _store_report(
        self, data: bytes, verified: dsse.Verified, payload: dict[str, Any], source: str
    ) -> Accepted:
        kid = verified.key_id
        report_id = str(payload["id"])
        sequence = int(payload["chain"]["sequence"])
        previous = payload["chain"]["previous"]
        refusal: IntakeError | None = None
        receipt = b""
        with self.store.write() as tx:
            # Serialise this agent's writers first (PostgreSQL), then look: a report
            # that another process stored a moment ago is then seen as a resend.
            if not tx.lock_agent(kid):  # pragma: no cover - enrolled a moment ago
                raise IntakeError("unknown-key", f"the signing key {kid[:16]} is not enrolled")
            row = tx.one("SELECT envelope, receipt FROM reports WHERE report_id = ?", (report_id,))
            if row is not None:
                if bytes(row[0]) == data:
                    return Accepted(False, bytes(row[1]), report_id, kid, sequence)
                refusal = IntakeError(
                    "replay", f"report id {report_id} was stored before with other bytes"
                )
            else:
                refusal = self._chain_refusal(tx, kid, sequence, previous, verified.digest)
            if refusal is not None:
                tx.execute(
                    "INSERT INTO rejections (digest, code, agent, sequence, report_id, at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        verified.digest,
                        refusal.code,
                        kid,
                        sequence,
                        report_id,
                        _iso(_now_us(self._clock)),
                    ),
                )
            else:
                receipt = self._insert(tx, data, verified, payload, source)
                crash_point("intake-stored")
        if refusal is not None:
            raise refusal
        crash_point("intake-committed")
        return Accepted(True, receipt, report_id, kid, sequence)

    @staticmethod
    def _chain_refusal(
        tx: Tx, kid: str, sequence: int, previous: str | None, digest: str
    ) -> IntakeError | None:
        rows = tx.all(
            "SELECT sequence, digest, previous FROM reports "
            "WHERE agent = ? AND sequence BETWEEN ? AND ?",
            (kid, sequence - 1, sequence + 1),
        )
        found = {int(r[0]): (str(r[1]), r[2]) for r in rows}
        if sequence in found:
            return IntakeError(
                "replay", f"sequence {sequence} of key {kid[:16]} holds another report"
            )
        before = found.get(sequence - 1)
        if before is not None and before[0] != previous:
            return IntakeError(
                "fork",
                f"sequence {sequence} names previous {_short(previous)}, but the stored "
                f"sequence {sequence - 1} is {_short(before[0])}",
            )
        after = found.get(sequence + 1)
        if after is not None and after[1] != digest:
            return IntakeError(
                "fork",
                f"the stored sequence {sequence + 1} follows {_short(after[1])}, "
                f"not this report ({_short(digest)})",
            )
        return None

    def _insert(
        self,
        tx: Tx,
        data: bytes,
        verified: dsse.Verified,
        payload: dict[str, Any],
        source: str,
    ) -> bytes:
        kid = verified.key_id
        now = _now_us(self._clock)
        chain, scan, summary = payload["chain"], payload["scan"], payload["summary"]
        receipt = sign_receipt(
            Receipt(
                receipt_id=str(uuid.uuid4()),
                report_id=str(payload["id"]),
                report_digest=verified.digest,
                agent=kid,
                sequence=int(chain["sequence"]),
                received=_iso(now),
                intake=self.intake_key_id,
            ),
            self._key,
        )
        tx.execute(
            "INSERT INTO reports (report_id, agent, sequence, digest, previous, envelope, "
            "mode, started, ended, received_at, received_us, highest, records, findings, "
            "pack_digest, edm_digest, policy_digest, holdings, receipt, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(payload["id"]),
                kid,
                int(chain["sequence"]),
                verified.digest,
                chain["previous"],
                data,
                fleet_module.mode_of(payload),
                scan["start"],
                scan["end"],
                _iso(now),
                now,
                summary["highest_severity"],
                int(summary["records_high_or_critical"]),
                len(payload["findings"]),
                scan["pack"]["digest"],
                scan["edm_digest"],
                scan["policy_digest"],
                fleet_module.holdings_of(payload),
                receipt,
                source,
            ),
        )
        fingerprints = sorted({str(fp) for f in payload["findings"] for fp in f["fingerprints"]})
        for fingerprint in fingerprints:
            tx.execute(
                "INSERT INTO fingerprints (agent, report_id, fingerprint) VALUES (?, ?, ?)",
                (kid, str(payload["id"]), fingerprint),
            )
        return receipt

    # --- inventory and fleet --------------------------------------------------------
    def import_inventory(self, csv_text: str) -> int:
        """Replace counsel's inventory with the ``host_id`` column of ``csv_text``
        (names compared in lower case, blank lines skipped); return the hosts listed."""
        hosts = _inventory_hosts(csv_text)
        now = _iso(_now_us(self._clock))
        try:
            with self.store.write() as tx:
                tx.execute("DELETE FROM inventory")
                for host in hosts:
                    tx.execute(
                        "INSERT INTO inventory (host_id, imported_at) VALUES (?, ?)", (host, now)
                    )
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        return len(hosts)

    def set_current(self, pack_digest: str | None, edm_digest: str | None) -> None:
        """Name the current signature pack and EDM index digests (``sha256:<hex>``)
        for `inventory_status`; both None: the newest seen across the fleet again."""
        for name, value in (("pack_digest", pack_digest), ("edm_digest", edm_digest)):
            if value is not None and (not isinstance(value, str) or not _DIGEST.match(value)):
                raise IntakeError("bad-request", f"{name} must be sha256:<64 hex digits> or null")
        try:
            with self.store.write() as tx:
                tx.execute("DELETE FROM meta WHERE key = ?", ("current",))
                if pack_digest is not None or edm_digest is not None:
                    value = json.dumps({"pack_digest": pack_digest, "edm_digest": edm_digest})
                    tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("current", value))
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc

    def _views(self, tx: Tx) -> list[fleet_module.HostView]:
        agents = [
            fleet_module.AgentRow(str(r[0]), str(r[1]), str(r[2]))
            for r in tx.all("SELECT key_id, host_id, enrolled_at FROM agents")
        ]
        reports = [
            fleet_module.ReportRow(
                str(r[0]), int(r[1]), str(r[2]), str(r[3]), int(r[4]), r[5], r[6], str(r[7])
            )
            for r in tx.all(
                "SELECT agent, sequence, mode, received_at, received_us, pack_digest, "
                "edm_digest, holdings FROM reports"
            )
        ]
        forks = {
            str(r[0]): int(r[1])
            for r in tx.all("SELECT agent, COUNT(*) FROM rejections GROUP BY agent")
        }
        return fleet_module.host_views(agents, reports, forks)

    def fleet(self, stale_hours: float = 24.0) -> dict[str, Any]:
        """The fleet view's data (JSON-able, no plaintext); the rule for what a host
        holds now is in `ftiscan.reports.intake.fleet`."""
        if isinstance(stale_hours, bool) or not isinstance(stale_hours, int | float):
            raise IntakeError("bad-request", "stale_hours must be a number")
        if not 0 < stale_hours <= 24 * 3660:
            raise IntakeError("bad-request", "stale_hours must be more than 0")
        try:
            with self.store.read() as tx:
                views = self._views(tx)
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        return fleet_module.build_fleet(views, _now_us(self._clock), float(stale_hours))

    def inventory_status(self, since: str | None = None) -> dict[str, Any]:
        """Fleet completeness against counsel's inventory: hosts never enrolled, never
        reported, or without a full report (sweep or scan) received since ``since``
        carrying the current pack and EDM digests (`set_current`, else those of the
        newest full report received)."""
        since_us = None if since is None else _parse_iso(since, "since")
        try:
            with self.store.read() as tx:
                inventory = [str(r[0]) for r in tx.all("SELECT host_id FROM inventory")]
                views = {v.host_id: v for v in self._views(tx)}
                meta = tx.one("SELECT value FROM meta WHERE key = ?", ("current",))
                newest = tx.one(
                    "SELECT pack_digest, edm_digest FROM reports WHERE mode IN (?, ?) "
                    "ORDER BY received_us DESC, report_id LIMIT 1",
                    tuple(sorted(fleet_module.FULL_MODES)),
                )
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        if meta is not None:
            chosen = json.loads(str(meta[0]))
            current = {"pack_digest": chosen["pack_digest"], "edm_digest": chosen["edm_digest"]}
        elif newest is not None:
            current = {"pack_digest": newest[0], "edm_digest": newest[1]}
        else:
            current = {"pack_digest": None, "edm_digest": None}
        never_enrolled: list[str] = []
        never_reported: list[str] = []
        outdated: list[dict[str, str]] = []
        for host in sorted(inventory):
            view = views.get(host)
            if view is None:
                never_enrolled.append(host)
            elif view.reports == 0:
                never_reported.append(host)
            else:
                reason = _outdated(view, current, since_us)
                if reason is not None:
                    outdated.append({"host_id": host, "reason": reason})
        return {
            "inventory": len(inventory),
            "never_enrolled": never_enrolled,
            "never_reported": never_reported,
            "outdated": outdated,
            "current": current,
            "since": None if since_us is None else _iso(since_us),
        }

    # --- bundles and export ---------------------------------------------------------
    def import_bundle(self, path: Path) -> list[dict[str, Any]]:
        """Take in an offline bundle (`ftiscan.reports.bundle`): every report goes
        through `accept_report`, exactly as over HTTP. Per report, in sequence order:
        ``{"sequence", "report_id", "status": "stored"|"duplicate"|"refused",
        "code", "reason", "receipt"}`` (``code``/``reason`` for a refusal; ``receipt``:
        the receipt envelope as text, else null). A bundle that cannot be trusted as a
        whole raises `IntakeError` (``bad-request``, or ``too-large``)."""
        from ftiscan.reports.bundle import BundleError, read_bundle

        try:
            envelopes = read_bundle(Path(path))
        except BundleError as exc:
            code = "too-large" if exc.reason in ("too-large", "zip-bomb") else "bad-request"
            raise IntakeError(
                code, f"bundle {Path(path).name}: {exc.reason}: {exc.detail}"
            ) from None
        except OSError as exc:
            raise IntakeError(
                "bad-request", f"bundle {Path(path).name}: cannot read ({exc.strerror})"
            ) from None
        results: list[dict[str, Any]] = []
        for envelope in envelopes:
            entry: dict[str, Any] = {
                "sequence": _sequence_of(envelope),
                "report_id": None,
                "status": "refused",
                "code": None,
                "reason": None,
                "receipt": None,
            }
            try:
                done = self.accept_report(envelope, source="bundle")
            except IntakeError as exc:
                entry.update(code=exc.code, reason=exc.reason)
            else:
                entry.update(
                    sequence=done.sequence,
                    report_id=done.report_id,
                    status="stored" if done.stored else "duplicate",
                    receipt=done.receipt.decode("ascii"),
                )
            results.append(entry)
        return results

    def export(self, folder: Path) -> dict[str, int]:
        """Write every stored envelope and receipt for a court, verifiable offline:

        * ``reports/<agent key id>/<sequence, 12 digits>.dsse.json``: the envelopes,
          byte for byte as received (``ftiscan verify --fleet reports/ --key
          keys/<id>.pem ...``, or OpenSSL with the README recipe);
        * ``receipts/<agent key id>/<sequence>.receipt.dsse.json``: the receipts;
        * ``keys/<agent key id>.pem``: each agent's public key; ``intake.pem``: the
          intake's (receipts and the manifest verify against it);
        * ``manifest.json`` (canonical JSON: agents, hosts, chains, every file's
          digest) and ``manifest.dsse.json``, the same signed by the intake key.

        ``folder`` must be empty or new. Returns the counts written."""
        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise IntakeError("bad-request", f"{folder}: the export folder must be empty or new")
        files: list[dict[str, Any]] = []
        agents: list[dict[str, Any]] = []
        counts = {"agents": 0, "reports": 0, "receipts": 0}

        def put(relative: str, content: bytes) -> None:
            write_durable(folder / relative, content)
            files.append({"path": relative, "digest": dsse.digest(content), "size": len(content)})

        try:
            with self.store.read() as tx:
                put("intake.pem", self.intake_key_pem.encode("ascii"))
                rows = tx.all(
                    "SELECT key_id, public_key, host_id, enrolled_at, revoked_at FROM agents "
                    "ORDER BY key_id"
                )
                for kid, pem, host_id, enrolled_at, revoked_at in rows:
                    put(f"keys/{kid}.pem", str(pem).encode("ascii"))
                    sequences: list[int] = []
                    for sequence, envelope, receipt in tx.all(
                        "SELECT sequence, envelope, receipt FROM reports WHERE agent = ? "
                        "ORDER BY sequence",
                        (kid,),
                    ):
                        name = f"{int(sequence):012d}"
                        put(f"reports/{kid}/{name}.dsse.json", bytes(envelope))
                        put(f"receipts/{kid}/{name}.receipt.dsse.json", bytes(receipt))
                        sequences.append(int(sequence))
                    counts["agents"] += 1
                    counts["reports"] += len(sequences)
                    counts["receipts"] += len(sequences)
                    agents.append(
                        {
                            "key_id": str(kid),
                            "host_id": str(host_id),
                            "enrolled": str(enrolled_at),
                            "revoked": revoked_at,
                            "public_key": f"keys/{kid}.pem",
                            "reports": len(sequences),
                            "first": sequences[0] if sequences else 0,
                            "last": sequences[-1] if sequences else 0,
                            "gaps": fleet_module._gaps(sequences),
                        }
                    )
        except (Busy, Unavailable) as exc:
            raise _unavailable(exc) from exc
        manifest = canonical_bytes(
            {
                "type": "ftiscan.intake-export/v1",
                "generated": _iso(_now_us(self._clock)),
                "intake_key_id": self.intake_key_id,
                "agents": agents,
                "files": files,
            }
        )
        write_durable(folder / "manifest.json", manifest)
        write_durable(folder / "manifest.dsse.json", dsse.sign(manifest, self._key, EXPORT_TYPE))
        return counts


def _short(digest: str | None) -> str:
    return "none" if digest is None else digest.removeprefix("sha256:")[:12]


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _enrol_key(pem: Any) -> Ed25519PublicKey:
    if not isinstance(pem, str) or not 0 < len(pem) <= MAX_PEM:
        raise IntakeError("bad-request", "public_key must be a PEM text")
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise IntakeError(
            "bad-request", "public_key is not a PEM SubjectPublicKeyInfo public key"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise IntakeError("bad-request", "public_key must be an Ed25519 key")
    return key


def _enrol_host_id(host_id: Any) -> str:
    if not isinstance(host_id, str) or not _HOST_ID.match(host_id.strip()):
        raise IntakeError(
            "bad-request",
            f"host_id must be 1-{MAX_HOST_ID} printable characters without spaces or slashes",
        )
    return host_id.strip().lower()


def _enrol_host(host: Any) -> str:
    if not isinstance(host, dict) or len(host) > MAX_HOST_FIELDS:
        raise IntakeError(
            "bad-request", f"host must be an object of at most {MAX_HOST_FIELDS} fields"
        )
    for name, value in host.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise IntakeError("bad-request", "host fields and values must be strings")
        if len(name) > 64 or len(value) > MAX_HOST_VALUE:
            raise IntakeError("bad-request", f"host field {name[:64]!r} is too long")
    try:
        return canonical_bytes(host).decode("utf-8")
    except CanonicalError:
        raise IntakeError("bad-request", "host holds text that is not valid Unicode") from None


def _inventory_hosts(csv_text: Any) -> list[str]:
    if not isinstance(csv_text, str):
        raise IntakeError("bad-request", "the inventory must be CSV text")
    reader = csv.reader(io.StringIO(csv_text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
        if header is None:
            raise IntakeError("bad-request", "inventory: empty; expected a header with host_id")
        names = [cell.strip().lower() for cell in header]
        if "host_id" not in names:
            raise IntakeError(
                "bad-request",
                f"inventory line 1: no host_id column (columns: {', '.join(names)[:200]})",
            )
        column = names.index("host_id")
        hosts: set[str] = set()
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if column >= len(row) or not row[column].strip():
                raise IntakeError(
                    "bad-request", f"inventory line {reader.line_num}: no host_id value"
                )
            value = row[column].strip()
            if not _HOST_ID.match(value):
                raise IntakeError(
                    "bad-request",
                    f"inventory line {reader.line_num}: host_id must be 1-{MAX_HOST_ID} "
                    "printable characters without spaces or slashes",
                )
            hosts.add(value.lower())
    except csv.Error as exc:
        raise IntakeError("bad-request", f"inventory line {reader.line_num}: {exc}") from None
    return sorted(hosts)


def _outdated(
    view: fleet_module.HostView, current: dict[str, str | None], since_us: int | None
) -> str | None:
    """Why a reporting host is outdated, or None when it is current."""
    full = sorted(view.full_reports, key=lambda r: r.received_us)
    if not full:
        return "no full scan (sweep or scan) stored, only heartbeats or batches"
    recent = [r for r in full if since_us is None or r.received_us >= since_us]
    if not recent:
        return f"no full scan received since {_iso(since_us or 0)} (last {full[-1].received_at})"
    for row in recent:
        if row.pack_digest == current["pack_digest"] and row.edm_digest == current["edm_digest"]:
            return None
    last = recent[-1]
    return (
        f"no full scan with the current pack {_short(current['pack_digest'])} and index "
        f"{_short(current['edm_digest'])}; the last one ({last.received_at}) had pack "
        f"{_short(last.pack_digest)} and index {_short(last.edm_digest)}"
    )
