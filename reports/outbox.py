"""The agent's outbox: every signed report that counsel has not yet given a receipt for.

There is no second copy of a report to lose or to fall out of step: the outbox is
*derived* from the agent's journal and the receipts beside it. Layout under the
state folder (``STATE``), per agent key id::

    STATE/chain/<key id>/<seq, 12 digits>.dsse.json             the reports (agent/journal.py),
                                                                 durable before anything else
    STATE/receipts/<key id>/<seq, 12 digits>.receipt.dsse.json  the intake's signed receipt,
                                                                 stored only once it verifies
    STATE/outbox/<key id>/delivery.json                          delivery state (derived)

* A report is **pending** (in the outbox) while it has no stored receipt. A receipt is
  stored (`ftiscan.reports.store.write_durable`: fsync, atomic rename) only after
  `ftiscan.reports.receipt.verify_receipt` accepts it against the pinned intake key:
  signed by that key, naming that very envelope (its digest), this agent's key and the
  report's sequence. So a stored receipt is a verified one, and a report leaves the
  outbox at that moment and no other; the depth is the number of pending reports.
* ``delivery.json`` holds, for pending reports only: attempts, the next try (Unix
  time), the last error code and its text, and the code of a permanent refusal. It is
  written atomically but is only bookkeeping: losing or corrupting it loses no report
  (every report is then simply due again, and the intake answers a resend with the
  same receipt).

One submitter at a time sends an outbox (`Outbox.sending`, an OS file lock on
``STATE/outbox/<key id>/.lock``, released by the OS when the holder dies): the daemon
and a manual ``ftiscan submit`` take turns instead of racing over the delivery state.

`Outbox.pending` checks the existence of receipt files, not their signatures (each was
verified before it was stored); `Outbox.audit` verifies all of them again.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ftiscan.reports.protocol import Receipt
from ftiscan.reports.receipt import ReceiptError, verify_receipt
from ftiscan.reports.store import write_durable

__all__ = ["Delivery", "Outbox"]

_REPORT = re.compile(r"^(\d{12})\.dsse\.json$")
_RECEIPT = re.compile(r"^(\d{12})\.receipt\.dsse\.json$")
DELIVERY_VERSION = 1


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the agent knows about sending one pending report."""

    attempts: int = 0
    next_try: float = 0.0  # Unix time; 0: due now
    last_error: str | None = None  # an `ftiscan.reports.protocol.ERRORS` code, or the
    # client's own: "unreachable", "tls", "receipt:<reason>", "http-<status>"
    detail: str = ""
    refused: str | None = None  # the code of a permanent refusal; not retried

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _delivery_of(value: Any) -> Delivery | None:
    if not isinstance(value, dict):
        return None
    try:
        return Delivery(
            attempts=int(value.get("attempts", 0)),
            next_try=float(value.get("next_try", 0.0)),
            last_error=None if value.get("last_error") is None else str(value["last_error"]),
            detail=str(value.get("detail", "")),
            refused=None if value.get("refused") is None else str(value["refused"]),
        )
    except (TypeError, ValueError):
        return None


class Outbox:
    """The pending reports of agent key ``key_id`` under ``state_dir`` (see the module
    docstring). Cheap to make; reads the folders on each call, so that the daemon and
    ``ftiscan submit`` see each other's receipts."""

    def __init__(self, state_dir: Path, key_id: str) -> None:
        self.state_dir = state_dir
        self.key_id = key_id
        self.chain_dir = state_dir / "chain" / key_id
        self.receipt_dir = state_dir / "receipts" / key_id
        self.delivery_path = state_dir / "outbox" / key_id / "delivery.json"

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """Hold the outbox's send lock (waits for another submitter's turn to end)."""
        folder = self.delivery_path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(folder / ".lock", "a+b") as handle:
            _lock(handle.fileno())
            try:
                yield
            finally:
                _unlock(handle.fileno())

    # -- what is there ------------------------------------------------------------

    def sequences(self) -> list[int]:
        """Every report in the chain, ascending."""
        return _numbers(self.chain_dir, _REPORT)

    def delivered(self) -> set[int]:
        """Sequences with a stored (verified) receipt."""
        return set(_numbers(self.receipt_dir, _RECEIPT))

    def pending(self) -> list[int]:
        """Reports without a stored receipt, in sequence order (refused ones included)."""
        done = self.delivered()
        return [n for n in self.sequences() if n not in done]

    def depth(self) -> int:
        """How many reports are pending."""
        return len(self.pending())

    def report_path(self, sequence: int) -> Path:
        return self.chain_dir / f"{sequence:012d}.dsse.json"

    def receipt_path(self, sequence: int) -> Path:
        return self.receipt_dir / f"{sequence:012d}.receipt.dsse.json"

    def envelope(self, sequence: int) -> bytes:
        """The report's envelope bytes exactly as signed."""
        return self.report_path(sequence).read_bytes()

    def receipt(self, sequence: int) -> bytes | None:
        """The stored receipt of a delivered report, or None."""
        try:
            return self.receipt_path(sequence).read_bytes()
        except FileNotFoundError:
            return None

    # -- receipts -----------------------------------------------------------------

    def accept_receipt(
        self, sequence: int, data: bytes, intake_key: Ed25519PublicKey
    ) -> tuple[Receipt, bool]:
        """Verify ``data`` as the receipt of report ``sequence`` and store it durably;
        return (receipt, stored now). A receipt stored before is kept (the first one
        that verified wins; the intake answers a resend with the same one). Raises
        `ReceiptError` (the report stays pending) or FileNotFoundError (no such report).
        """
        envelope = self.envelope(sequence)
        receipt = verify_receipt(data, intake_key, envelope, self.key_id, sequence)
        existing = self.receipt(sequence)
        if existing is not None:
            with contextlib.suppress(ReceiptError):
                return verify_receipt(existing, intake_key, envelope, self.key_id, sequence), False
        write_durable(self.receipt_path(sequence), data)
        self.forget(sequence)
        return receipt, True

    def audit(self, intake_key: Ed25519PublicKey) -> dict[int, str]:
        """Verify every stored receipt again; sequence -> reason for each that fails
        (a receipt without its report, one changed on disk, or by another key)."""
        bad: dict[int, str] = {}
        for sequence in sorted(self.delivered()):
            try:
                envelope = self.envelope(sequence)
                data = self.receipt_path(sequence).read_bytes()
                verify_receipt(data, intake_key, envelope, self.key_id, sequence)
            except FileNotFoundError:
                bad[sequence] = "no-report"
            except ReceiptError as exc:
                bad[sequence] = exc.reason
        return bad

    # -- delivery state -------------------------------------------------------------

    def deliveries(self) -> dict[int, Delivery]:
        """Delivery state of pending reports; an unreadable file counts as empty."""
        try:
            data = json.loads(self.delivery_path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("reports"), dict):
            return {}
        out: dict[int, Delivery] = {}
        for key, value in data["reports"].items():
            delivery = _delivery_of(value)
            if isinstance(key, str) and key.isdigit() and delivery is not None:
                out[int(key)] = delivery
        return out

    def delivery(self, sequence: int) -> Delivery:
        return self.deliveries().get(sequence, Delivery())

    def _save(self, deliveries: dict[int, Delivery]) -> None:
        done = self.delivered()
        kept = {str(n): d.as_dict() for n, d in sorted(deliveries.items()) if n not in done}
        body = json.dumps({"version": DELIVERY_VERSION, "reports": kept}, sort_keys=True)
        self.delivery_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_durable(self.delivery_path, body.encode("utf-8") + b"\n", mode=0o600)

    def record_retry(self, sequence: int, code: str, detail: str, next_try: float) -> Delivery:
        """One more failed attempt that may succeed later; due again at ``next_try``."""
        deliveries = self.deliveries()
        old = deliveries.get(sequence, Delivery())
        new = Delivery(old.attempts + 1, next_try, code, detail, None)
        deliveries[sequence] = new
        self._save(deliveries)
        return new

    def record_refusal(self, sequence: int, code: str, detail: str) -> Delivery:
        """A permanent refusal: the report stays pending, marked, and is not retried."""
        deliveries = self.deliveries()
        old = deliveries.get(sequence, Delivery())
        new = Delivery(old.attempts + 1, 0.0, code, detail, code)
        deliveries[sequence] = new
        self._save(deliveries)
        return new

    def clear_refusals(self) -> list[int]:
        """Make refused reports due again (after the cause was fixed); their sequences."""
        deliveries = self.deliveries()
        cleared = sorted(n for n, d in deliveries.items() if d.refused is not None)
        for n in cleared:
            deliveries[n] = replace(deliveries[n], refused=None, next_try=0.0)
        if cleared:
            self._save(deliveries)
        return cleared

    def clear_backoff(self) -> None:
        """Make every pending report due now (an operator's explicit ``submit``)."""
        deliveries = self.deliveries()
        if any(d.next_try for d in deliveries.values()):
            self._save({n: replace(d, next_try=0.0) for n, d in deliveries.items()})

    def forget(self, sequence: int) -> None:
        """Drop the delivery state of a report (once its receipt is stored)."""
        deliveries = self.deliveries()
        if sequence in deliveries:
            del deliveries[sequence]
            self._save(deliveries)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after 10 s: keep waiting
                continue

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _numbers(folder: Path, pattern: re.Pattern[str]) -> list[int]:
    try:
        names = [p.name for p in folder.iterdir()]
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for name in names if (m := pattern.match(name)))
