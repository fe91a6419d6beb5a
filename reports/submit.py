"""Sending reports to counsel's intake: the HTTP client, the pinned enrolment and the
submitter that empties the outbox (`ftiscan.reports.outbox`).

* `IntakeClient` speaks `ftiscan.reports.protocol` over HTTPS with the standard
  library (`http.client`): TLS verified against the system's CAs or ``ca`` (a private
  CA's PEM file), plain http only to a loopback address and only when asked
  (``allow_http``, for tests); a timeout on connect and on each read; answers bounded
  in size. A certificate that does not verify is `SubmitError` ("intake URL:
  certificate verify failed: WHAT"); an intake that cannot be reached is
  `Unreachable` (retried).
* `Pinned` is the stored enrolment (``<key dir>/intake.json``, 0600): the intake's
  URL, its public key and key id (what receipts must be signed by), the host id, the
  CA file, and whether plain http to loopback was allowed.
* `Submitter` sends pending reports in sequence order. A report leaves the outbox only
  when its receipt verifies (`Outbox.accept_receipt`). Retries use exponential backoff
  with full jitter (``uniform(0, min(cap, base * 2**(attempts - 1)))``), and at least
  what a ``Retry-After`` header asks on 429/503 (up to `RETRY_AFTER_MAX`);
  `ftiscan.reports.protocol.retryable` decides what is retried. Any other refusal is
  permanent: the report stays in the outbox marked with the code and is said exactly
  ("report 7: refused by the intake: fork: REASON").

For the daemon: ``Submitter(outbox, pinned).step(now)`` sends what is due and returns
the seconds until it wants to run again (``math.inf``: nothing to send until a new
report); ``run(stop)`` loops on it until the event is set.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import ipaddress
import json
import math
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import CanonicalError, canonical_bytes, parse
from ftiscan.reports.outbox import Outbox
from ftiscan.reports.protocol import (
    ERRORS,
    RECEIPT_TYPE,
    REPORT_CONTENT_TYPE,
    Enrolment,
    retryable,
)
from ftiscan.reports.receipt import ReceiptError
from ftiscan.reports.store import crash_point, write_durable
from ftiscan.scanner.errors import FtiscanError

__all__ = [
    "PINNED",
    "RETRY_AFTER_MAX",
    "Answer",
    "Backoff",
    "Event",
    "IntakeClient",
    "NotStored",
    "Pinned",
    "SubmitError",
    "Submitter",
    "Unreachable",
    "import_receipts",
    "load_pinned",
    "receipts_in",
    "save_pinned",
]

PINNED = "intake.json"
RETRY_AFTER_MAX = 3600.0
MAX_ANSWER = 1 << 20  # a receipt or an error is a few hundred bytes
USER_AGENT = "ftiscan-agent"


class SubmitError(FtiscanError):
    """Submission cannot go on as configured: bad URL, CA file, certificate, enrolment."""

    exit_code = 2


class NotStored(SubmitError):
    """The outbox could not be written (a receipt, the delivery state): no space left,
    a read-only folder. Nothing is lost: the report stays pending, and a resend gets
    the intake's same receipt."""

    def __init__(self, exc: OSError) -> None:
        super().__init__(
            f"{exc.filename}: {exc.strerror}: the outbox cannot be written; "
            "its reports stay pending"
        )


class Unreachable(FtiscanError):
    """The intake could not be reached or did not answer (retried later)."""

    def __init__(self, url: str, what: str) -> None:
        super().__init__(f"intake {url}: {what}")
        self.url, self.what = url, what


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer of the intake."""

    status: int
    body: bytes
    retry_after: float | None = None

    def error(self) -> tuple[str, str]:
        """(code, reason) of a refusal: ``{"error": CODE, "reason": TEXT}``, or
        ``http-<status>`` when the body is not that."""
        try:
            data = json.loads(self.body)
        except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            reason = data.get("reason")
            return data["error"][:64], str(reason)[:500] if reason is not None else ""
        return f"http-{self.status}", ""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_http: bool = False) -> str:
    """The intake's base URL without a trailing slash; https, or http to a loopback
    address with ``allow_http``. Raises `SubmitError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SubmitError(f"intake URL {url!r}: expected https://HOST[:PORT][/PATH]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SubmitError(f"intake URL {url!r}: no query, fragment or credentials allowed")
    if parts.scheme == "http":
        if not _is_loopback(parts.hostname):
            raise SubmitError(
                f"intake URL {url!r}: plain http is allowed only to a loopback address; use https"
            )
        if not allow_http:
            raise SubmitError(
                f"intake URL {url!r}: plain http, without TLS; give --allow-http "
                "(loopback only, for tests) or use https"
            )
    try:
        _ = parts.port
    except ValueError:
        raise SubmitError(f"intake URL {url!r}: the port is not a number") from None
    return url.rstrip("/")


def tls_context(ca: Path | None) -> ssl.SSLContext:
    """Certificate and host name verification against the system's CAs, or only ``ca``."""
    try:
        return ssl.create_default_context(cafile=str(ca) if ca else None)
    except FileNotFoundError:
        raise SubmitError(f"CA file {ca}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise SubmitError(f"CA file {ca}: not a PEM certificate file ({exc})") from None


class IntakeClient:
    """HTTP(S) requests to one intake (see the module docstring). Each request uses a
    fresh connection: an agent sends a few reports a day, and a fresh connection after
    an outage needs no reconnect logic."""

    def __init__(
        self,
        url: str,
        ca: Path | None = None,
        allow_http: bool = False,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.url = check_url(url, allow_http)
        parts = urlsplit(self.url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port
        self.base_path = parts.path.rstrip("/")
        self.context = tls_context(ca) if self.https else None
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout

    def _connection(self) -> http.client.HTTPConnection:
        if self.context is not None:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.connect_timeout, context=self.context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.connect_timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> Answer:
        """One request; raises `Unreachable` (retry later) or `SubmitError` (TLS
        verification failed: retrying will not help)."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        conn = self._connection()
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(self.read_timeout)
            conn.request(method, self.base_path + path, body=body, headers=headers)
            crash_point("submit-sent")
            response = conn.getresponse()
            data = response.read(MAX_ANSWER + 1)
            if len(data) > MAX_ANSWER:
                raise Unreachable(self.url, f"answer larger than {MAX_ANSWER} bytes")
            retry_after = _retry_after(response.getheader("Retry-After"))
            return Answer(response.status, data, retry_after)
        except ssl.SSLCertVerificationError as exc:
            what = exc.verify_message or exc.reason or str(exc)
            raise SubmitError(f"intake {self.url}: certificate verify failed: {what}") from None
        except ssl.SSLError as exc:
            raise Unreachable(self.url, f"TLS failed: {exc.reason or exc}") from None
        except TimeoutError:
            raise Unreachable(self.url, "timed out") from None
        except ConnectionRefusedError:
            raise Unreachable(self.url, "connection refused") from None
        except socket.gaierror as exc:
            raise Unreachable(self.url, f"cannot resolve {self.host} ({exc.strerror})") from None
        except (http.client.HTTPException, OSError) as exc:
            what = getattr(exc, "strerror", None) or type(exc).__name__
            raise Unreachable(self.url, f"connection failed ({what})") from None
        finally:
            conn.close()

    def post_report(self, envelope: bytes) -> Answer:
        return self.request("POST", "/v1/reports", envelope, REPORT_CONTENT_TYPE)

    def post_json(self, path: str, value: Any) -> Answer:
        return self.request("POST", path, json.dumps(value).encode("utf-8"), "application/json")

    def get(self, path: str) -> Answer:
        return self.request("GET", path)


# -- the pinned enrolment -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pinned:
    """What ``ftiscan enroll`` stored: where to send, and whose receipts to trust."""

    url: str
    intake_key: str  # PEM
    intake_key_id: str
    host_id: str
    agent: str  # this agent's key id, as enrolled
    enrolled: str
    ca: str | None = None  # the CA file given at enrolment
    allow_http: bool = False

    def public_key(self) -> Ed25519PublicKey:
        return intake_public_key(self.intake_key, self.intake_key_id)

    def client(self, ca: Path | None = None, **timeouts: float) -> IntakeClient:
        """A client for the pinned URL; ``ca`` overrides the CA file of the enrolment."""
        chosen = ca if ca is not None else (Path(self.ca) if self.ca else None)
        return IntakeClient(self.url, chosen, self.allow_http, **timeouts)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def intake_public_key(pem: str, expected_id: str | None = None) -> Ed25519PublicKey:
    """The intake's Ed25519 public key from PEM, checked against its key id."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        raise SubmitError("the intake key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SubmitError(f"the intake key is not Ed25519 but {type(key).__name__}")
    if expected_id is not None and dsse.key_id(key) != expected_id:
        raise SubmitError(
            f"the intake key's id is {dsse.key_id(key)}, but {expected_id} was given for it"
        )
    return key


def pinned_from(enrolment: Enrolment, url: str, ca: Path | None, allow_http: bool) -> Pinned:
    """The record to store for an intake's enrolment answer (its key checked)."""
    intake_public_key(enrolment.intake_key, enrolment.intake_key_id)
    return Pinned(
        url=url,
        intake_key=enrolment.intake_key,
        intake_key_id=enrolment.intake_key_id,
        host_id=enrolment.host_id,
        agent=enrolment.agent,
        enrolled=enrolment.enrolled,
        ca=str(ca.resolve()) if ca else None,
        allow_http=allow_http,
    )


def load_pinned(key_dir: Path) -> Pinned | None:
    """The stored enrolment in ``key_dir``, or None when the agent never enrolled."""
    path = key_dir / PINNED
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SubmitError(f"{path}: not a readable enrolment record ({exc})") from None
    try:
        pinned = Pinned(**data)
        intake_public_key(pinned.intake_key, pinned.intake_key_id)
    except (TypeError, SubmitError) as exc:
        raise SubmitError(f"{path}: not a valid enrolment record ({exc})") from None
    return pinned


def save_pinned(key_dir: Path, pinned: Pinned) -> Path:
    """Store the enrolment (0600, atomically) and return its path."""
    path = key_dir / PINNED
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps(pinned.as_dict(), indent=2, sort_keys=True).encode("utf-8") + b"\n"
    write_durable(path, body, mode=0o600)
    return path


def parse_enrolment(answer: Answer) -> Enrolment:
    """The intake's enrolment answer, checked field by field."""
    data = answer.json()
    fields = {"agent", "host_id", "intake_key", "intake_key_id", "fleet_key", "enrolled"}
    if not isinstance(data, dict) or not fields <= set(data):
        raise SubmitError("the intake's enrolment answer does not have the enrolment fields")
    for name in fields - {"fleet_key"}:
        if not isinstance(data[name], str):
            raise SubmitError(f"the intake's enrolment answer: {name} is not a string")
    fleet = data["fleet_key"]
    if fleet is not None and not isinstance(fleet, str):
        raise SubmitError("the intake's enrolment answer: fleet_key is not a string")
    return Enrolment(**{name: data[name] for name in fields})


# -- the submitter ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
    Backoff And Jitter", 2015): attempt n waits uniform(0, min(cap, base * 2**(n-1)))."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempts: int, rng: random.Random, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(max(attempts - 1, 0), 62))
        wait = rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, RETRY_AFTER_MAX))
        return wait


@dataclass(frozen=True, slots=True)
class Event:
    """What happened to one report: ``kind`` is ``delivered``, ``duplicate`` (the
    intake had it: same receipt), ``retry``, ``refused`` or ``bad-receipt``; or, for
    `Submitter.run` (sequence 0), ``error`` (TLS verification failed: code ``tls``; the
    outbox cannot be written: code ``storage``)."""

    sequence: int
    kind: str
    code: str = ""
    detail: str = ""
    delay: float = 0.0
    receipt_id: str = ""

    def message(self) -> str:
        if self.kind in ("delivered", "duplicate"):
            again = " (already held by the intake)" if self.kind == "duplicate" else ""
            return f"report {self.sequence}: delivered{again}, receipt {self.receipt_id}"
        if self.kind == "refused":
            return f"report {self.sequence}: refused by the intake: {self.code}: {self.detail}"
        if self.kind == "bad-receipt":
            return (
                f"report {self.sequence}: the intake's receipt does not verify "
                f"({self.detail}); the report stays in the outbox"
            )
        if self.kind == "error":
            return f"{self.detail}; next try in {self.delay:.0f} s"
        return f"report {self.sequence}: {self.detail}; next try in {self.delay:.1f} s"


class Submitter:
    """Empties an `Outbox` into the pinned intake (see the module docstring).

    ``on_event`` hears of each report's outcome; ``retry_refused`` sends refused
    reports again once. Not thread-safe: one submitter per outbox and process.
    """

    def __init__(
        self,
        outbox: Outbox,
        pinned: Pinned,
        client: IntakeClient | None = None,
        backoff: Backoff | None = None,
        on_event: Callable[[Event], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if pinned.agent != outbox.key_id:
            raise SubmitError(
                f"the enrolment is for agent key {pinned.agent[:16]}, "
                f"not this agent's key {outbox.key_id[:16]}: enrol again"
            )
        self.outbox, self.pinned = outbox, pinned
        self.client = client or pinned.client()
        self.intake_key = pinned.public_key()
        self.backoff = backoff or Backoff()
        self.on_event = on_event or (lambda event: None)
        self.rng = rng or random.SystemRandom()

    def send(self, sequence: int, now: float | None = None) -> Event:
        """One attempt to deliver report ``sequence``; records the outcome. Raises
        `SubmitError` when TLS verification fails."""
        now = time.time() if now is None else now
        envelope = self.outbox.envelope(sequence)
        attempts = self.outbox.delivery(sequence).attempts + 1
        try:
            answer = self.client.post_report(envelope)
        except Unreachable as exc:
            return self._retry(sequence, attempts, now, "unreachable", exc.what, None)
        if answer.status in (200, 201):
            crash_point("submit-answered")
            try:
                receipt, _ = self.outbox.accept_receipt(sequence, answer.body, self.intake_key)
            except ReceiptError as exc:
                return self._retry(
                    sequence, attempts, now, f"receipt:{exc.reason}", str(exc), None, "bad-receipt"
                )
            kind = "delivered" if answer.status == 201 else "duplicate"
            return self._tell(Event(sequence, kind, receipt_id=receipt.receipt_id))
        code, reason = answer.error()
        if retryable(answer.status):
            detail = f"the intake answered {answer.status} {code}" + (
                f": {reason}" if reason else ""
            )
            return self._retry(sequence, attempts, now, code, detail, answer.retry_after)
        if code not in ERRORS:
            reason = reason or f"HTTP status {answer.status}"
        self.outbox.record_refusal(sequence, code, reason)
        return self._tell(Event(sequence, "refused", code, reason))

    def _retry(
        self,
        sequence: int,
        attempts: int,
        now: float,
        code: str,
        detail: str,
        retry_after: float | None,
        kind: str = "retry",
    ) -> Event:
        delay = self.backoff.delay(attempts, self.rng, retry_after)
        self.outbox.record_retry(sequence, code, detail, now + delay)
        return self._tell(Event(sequence, kind, code, detail, delay))

    def _tell(self, event: Event) -> Event:
        self.on_event(event)
        return event

    def step(self, now: float | None = None, retry_refused: bool = False) -> float:
        """Send every due report in sequence order, up to the first that must wait;
        return the seconds until the next is due (``math.inf``: none pending but
        refused ones). Refused reports are skipped (sent with ``retry_refused``)."""
        try:
            with self.outbox.sending():  # the daemon and `ftiscan submit` take turns
                return self._step(time.time() if now is None else now, retry_refused)
        except OSError as exc:  # the intake client raises Unreachable, never OSError
            raise NotStored(exc) from None

    def _step(self, now: float, retry_refused: bool) -> float:
        deliveries = self.outbox.deliveries()
        for sequence in self.outbox.pending():
            state = deliveries.get(sequence)
            if state is not None and state.refused is not None and not retry_refused:
                continue
            if state is not None and state.next_try > now:
                return state.next_try - now
            event = self.send(sequence, now)
            if event.kind in ("retry", "bad-receipt"):
                return event.delay
        return math.inf

    def run(self, stop: threading.Event, idle: float = 60.0) -> None:
        """Call `step` until ``stop`` is set, sleeping between (at most ``idle``
        seconds, so that new reports go soon). A TLS verification failure waits the
        backoff cap and is tried again: the operator may fix the certificate. So is an
        outbox that cannot be written (`NotStored`: the disk may get space again)."""
        while not stop.is_set():
            try:
                wait = self.step()
            except SubmitError as exc:
                code = "storage" if isinstance(exc, NotStored) else "tls"
                self.on_event(Event(0, "error", code, str(exc), self.backoff.cap))
                wait = self.backoff.cap
            with contextlib.suppress(OverflowError):
                stop.wait(min(wait, idle))


# -- receipts carried back by hand (``ftiscan intake import --receipts FILE``) -------

MAX_RECEIPTS_FILE = 256 << 20


def receipts_in(data: bytes) -> list[bytes]:
    """The receipt envelopes in a receipts file: ``{"receipts": [{"sequence": n,
    "receipt": TEXT}, ...]}`` as ``ftiscan intake import --receipts`` writes it, a
    list of such entries, or one receipt envelope. Any JSON string or object in it
    that is a receipt envelope counts (an object in its canonical bytes, which are the
    signed bytes: ftiscan writes envelopes only canonically). Raises `SubmitError`
    when the file is not JSON."""
    try:
        value = parse(data)
    except CanonicalError as exc:
        raise SubmitError(f"not a receipts file (JSON): {exc}") from None
    found: list[bytes] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("payloadType") == RECEIPT_TYPE:
                with contextlib.suppress(CanonicalError):
                    found.append(canonical_bytes(item))
                continue
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, str) and item.startswith("{") and RECEIPT_TYPE in item:
            with contextlib.suppress(CanonicalError, UnicodeError):
                inner = parse(item.encode("utf-8"))
                if isinstance(inner, dict) and inner.get("payloadType") == RECEIPT_TYPE:
                    found.append(item.encode("utf-8"))
    return found


def _receipt_sequence(data: bytes, intake_key: Ed25519PublicKey) -> int:
    """The sequence a receipt names, once its signature verifies."""
    try:
        verified = dsse.verify(data, {dsse.key_id(intake_key): intake_key}, RECEIPT_TYPE)
        payload = parse(verified.payload)
    except dsse.VerifyError as exc:
        raise ReceiptError(exc.reason, exc.detail) from None
    except CanonicalError:
        raise ReceiptError("not-receipt", "the payload is not JSON") from None
    sequence = payload.get("sequence") if isinstance(payload, dict) else None
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise ReceiptError("not-receipt", "the receipt names no sequence")
    return sequence


def _claimed_sequence(data: bytes) -> int | None:
    """The sequence an unverified receipt claims: only to name it in a refusal."""
    with contextlib.suppress(ValueError, TypeError, KeyError, UnicodeError):
        payload = json.loads(base64.b64decode(json.loads(data)["payload"]))
        sequence = payload["sequence"]
        if isinstance(sequence, int) and not isinstance(sequence, bool):
            return sequence
    return None


def import_receipts(
    outbox: Outbox, pinned: Pinned, data: bytes
) -> list[tuple[int | None, str, str]]:
    """Verify and store every receipt in a receipts file; per receipt (sequence or
    None, ``stored`` | ``held`` | ``refused``, reason)."""
    key = pinned.public_key()
    results: list[tuple[int | None, str, str]] = []
    for receipt in receipts_in(data):
        sequence: int | None = None
        try:
            sequence = _receipt_sequence(receipt, key)
            _, stored = outbox.accept_receipt(sequence, receipt, key)
        except ReceiptError as exc:
            results.append((sequence or _claimed_sequence(receipt), "refused", str(exc)))
        except FileNotFoundError:
            results.append((sequence, "refused", "no such report in this agent's chain"))
        else:
            results.append((sequence, "stored" if stored else "held", ""))
    return results
