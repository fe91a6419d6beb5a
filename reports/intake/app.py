"""The intake's HTTP face: a Starlette app over one `Intake` (see `ftiscan.reports.protocol`).

`create_app` maps the protocol's endpoints onto the service and nothing more: the
service verifies, stores and signs; this module reads bodies within their limit,
applies the rates, checks the admin credential and turns `IntakeError` into the
protocol's refusal ``{"error": code, "reason": text}`` with the code's status.

Counsel reaches the admin endpoints with ``Authorization: Bearer <credential>``
(compared in constant time; an agent key is never an admin credential). A browser
cannot send a Bearer header, so the fleet page also takes a **login link**:
``ftiscan intake fleet-link`` (or ``POST /v1/admin/fleet-link``) mints a one-time,
short-lived ticket ``/fleet/login?ticket=T``; opening it sets an HttpOnly session
cookie for the fleet page only (read-only: no state-changing endpoint takes the
cookie, so there is nothing to forge across sites) and redirects to ``/fleet``.
Tickets and sessions are HMACs under keys derived from the admin credential, so
several intake processes behind a load balancer accept each other's sessions; a
ticket is spent once per process (a short lifetime bounds the rest).

Reports are rated per agent key, by the key id the envelope names (claimed, not yet
verified: the check must come before the work). A report whose signature then fails
gives its token back, and the sender's address is charged instead, so that a flood of
envelopes naming another agent's key id cannot slow that agent down.

Nothing here logs a query string (tickets travel in one) or a request body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ftiscan.reports.intake.fleet_html import CSP, render_fleet_html
from ftiscan.reports.intake.limits import (
    BodyTooLarge,
    Rate,
    Rates,
    read_limited,
    retry_after,
)
from ftiscan.reports.intake.service import IntakeError
from ftiscan.reports.protocol import ERRORS, REPORT_CONTENT_TYPE, Enrolment
from ftiscan.scanner.errors import FtiscanError

__all__ = [
    "DEFAULT_AGENT_RATE",
    "DEFAULT_ENROLL_RATE",
    "DEFAULT_MAX_BODY",
    "SESSION_COOKIE",
    "UNPROVEN",
    "IntakeService",
    "Settings",
    "create_app",
    "mint_ticket",
]

log = logging.getLogger("ftiscan.intake")

DEFAULT_MAX_BODY = 8 * 1024 * 1024  # a report with thousands of findings stays well below
DEFAULT_AGENT_RATE = Rate(10.0, 20.0)
DEFAULT_ENROLL_RATE = Rate(2.0, 20.0)  # one office behind one NAT enrols many laptops
MAX_SMALL_BODY = 64 * 1024  # enrolment, tokens: a few hundred bytes each
MAX_TOKENS = 10_000
SESSION_COOKIE = "ftiscan_fleet"
#: Refusals that leave open whose report it was (the signature was not verified).
UNPROVEN = frozenset(
    {"not-envelope", "not-canonical", "bad-base64", "payload-type", "unknown-key", "bad-signature"}
)
TICKET_TTL = 300.0
SESSION_TTL = 8 * 3600.0


class IntakeService(Protocol):
    """What the app needs of `ftiscan.reports.intake.service.Intake`."""

    intake_key_pem: str
    intake_key_id: str

    def check(self) -> None: ...
    def enroll(
        self, token: str, public_key_pem: str, host_id: str, host: dict[str, str]
    ) -> Enrolment: ...
    def accept(self, envelope: bytes) -> tuple[bool, bytes]: ...
    def issue_tokens(self, count: int, ttl_seconds: float) -> tuple[list[str], str]: ...
    def import_inventory(self, csv_text: str) -> int: ...
    def fleet(self, stale_hours: float = 24.0) -> dict[str, Any]: ...
    def inventory_status(self, since: str | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Settings:
    """How the app limits and authenticates; `ftiscan intake serve` fills it in."""

    max_body: int = DEFAULT_MAX_BODY
    agent_rate: Rate = DEFAULT_AGENT_RATE
    enroll_rate: Rate = DEFAULT_ENROLL_RATE
    admin_credential: str | None = None  # None: every admin endpoint answers 401
    tls: bool = True  # the session cookie is Secure, and HSTS is sent
    stale_hours: float = 24.0


class Refusal(Exception):
    """A protocol refusal raised inside an endpoint."""

    def __init__(self, code: str, reason: str, retry: float | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.retry = code, reason, retry


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return Response(body, status, media_type="application/json")


def refusal(code: str, reason: str, retry: float | None = None) -> Response:
    """The protocol's refusal body with the code's status (and Retry-After)."""
    response = _json({"error": code, "reason": reason}, ERRORS[code])
    if retry is not None:
        response.headers["Retry-After"] = retry_after(retry)
    return response


# --- login tickets and sessions -------------------------------------------------


def _derived(credential: str, purpose: str) -> bytes:
    return hmac.new(credential.encode("utf-8"), purpose.encode("ascii"), hashlib.sha256).digest()


def _token(key: bytes, kind: str, ttl: float, now: float) -> str:
    expires = int(now + ttl)
    nonce = secrets.token_hex(16)
    mac = hmac.new(key, f"{kind}.{expires}.{nonce}".encode("ascii"), hashlib.sha256).hexdigest()
    return f"v1.{expires}.{nonce}.{mac}"


def _check_token(key: bytes, kind: str, value: str, now: float) -> str | None:
    """The token's nonce when ``value`` is a valid, unexpired token of ``kind``."""
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != "v1" or not parts[1].isdigit():
        return None
    _, expires, nonce, mac = parts
    want = hmac.new(key, f"{kind}.{expires}.{nonce}".encode("ascii"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, mac) or int(expires) < now:
        return None
    return nonce


def mint_ticket(credential: str, ttl: float = TICKET_TTL, now: float | None = None) -> str:
    """A one-time fleet-page login ticket (for ``/fleet/login?ticket=``)."""
    return _token(_derived(credential, "fleet-ticket"), "ticket", ttl, now or time.time())


@dataclass
class _Admin:
    credential: str | None
    _spent: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bearer_ok(self, request: Request) -> bool:
        if self.credential is None:
            return False
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return False
        return hmac.compare_digest(given.strip().encode("utf-8"), self.credential.encode("utf-8"))

    def require(self, request: Request) -> None:
        if self.credential is None:
            raise Refusal("unauthorized", "no admin credential is configured on this intake")
        if not self.bearer_ok(request):
            raise Refusal("unauthorized", "this endpoint needs the admin credential (Bearer)")

    def spend_ticket(self, ticket: str) -> bool:
        if self.credential is None:
            return False
        now = time.time()
        nonce = _check_token(_derived(self.credential, "fleet-ticket"), "ticket", ticket, now)
        if nonce is None:
            return False
        with self._lock:
            for old in [n for n, exp in self._spent.items() if exp < now]:
                del self._spent[old]
            if nonce in self._spent:
                return False
            self._spent[nonce] = now + TICKET_TTL + 60
        return True

    def new_session(self) -> str:
        assert self.credential is not None
        return _token(
            _derived(self.credential, "fleet-session"), "session", SESSION_TTL, time.time()
        )

    def session_ok(self, request: Request) -> bool:
        value = request.cookies.get(SESSION_COOKIE)
        if self.credential is None or not value:
            return False
        key = _derived(self.credential, "fleet-session")
        return _check_token(key, "session", value, time.time()) is not None


# --- the app ----------------------------------------------------------------------


def _declared_length(request: Request) -> int | None:
    text = request.headers.get("content-length")
    if text is None:
        return None
    if not text.isdigit():
        raise Refusal("bad-request", "Content-Length is not a number")
    return int(text)


async def _body(request: Request, limit: int) -> bytes:
    try:
        return await read_limited(request.stream(), limit, _declared_length(request))
    except BodyTooLarge as exc:
        raise Refusal("too-large", str(exc)) from None


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested past the decoder's limit
        raise Refusal("bad-request", f"the {what} body is not JSON") from None
    if not isinstance(data, dict):
        raise Refusal("bad-request", f"the {what} body is not a JSON object")
    return data


def _signer(body: bytes) -> str | None:
    """The key id an envelope claims (for its rate bucket); None if it names none.
    Claimed, not verified: `Intake.accept` verifies."""
    try:
        data = json.loads(body)
        keyid = data["signatures"][0]["keyid"]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    return keyid if isinstance(keyid, str) and len(keyid) <= 128 else None


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(intake: IntakeService, settings: Settings | None = None) -> Starlette:
    """The ASGI app serving ``intake`` with ``settings`` (limits, admin credential)."""
    config = settings or Settings()
    admin = _Admin(config.admin_credential)
    agent_rates = Rates(config.agent_rate)
    enroll_rates = Rates(config.enroll_rate)

    def guarded(endpoint: Endpoint) -> Endpoint:
        async def run(request: Request) -> Response:
            started = time.monotonic()
            try:
                response = await endpoint(request)
            except Refusal as exc:
                response = refusal(exc.code, exc.reason, exc.retry)
            except IntakeError as exc:
                response = refusal(exc.code, exc.reason, exc.retry_after)
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                response = refusal(
                    "unavailable", "the intake could not complete the request; try again later"
                )
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers["X-Content-Type-Options"] = "nosniff"
            if config.tls:
                response.headers["Strict-Transport-Security"] = "max-age=31536000"
            log.info(
                "%s %s %d %.1fms %s",
                request.method,
                request.url.path,
                response.status_code,
                (time.monotonic() - started) * 1000,
                _client(request),
            )
            return response

        return run

    async def health(request: Request) -> Response:
        """``ok`` only when the database answers (a load balancer's probe)."""
        await anyio.to_thread.run_sync(intake.check)
        return _json({"status": "ok"})

    async def intake_key(request: Request) -> Response:
        return _json({"intake_key": intake.intake_key_pem, "intake_key_id": intake.intake_key_id})

    async def enroll(request: Request) -> Response:
        wait = enroll_rates.take(_client(request))
        if wait is not None:
            raise Refusal("rate-limited", "too many enrolments from this address", wait)
        data = _json_object(await _body(request, MAX_SMALL_BODY), "enrolment")
        token, public_key, host_id = data.get("token"), data.get("public_key"), data.get("host_id")
        host = data.get("host", {})
        for name, value in (("token", token), ("public_key", public_key), ("host_id", host_id)):
            if not isinstance(value, str) or not value:
                raise Refusal("bad-request", f"enrolment needs {name} as a non-empty string")
        if not isinstance(host, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in host.items()
        ):
            raise Refusal("bad-request", "enrolment host is an object of strings")
        assert isinstance(token, str)
        assert isinstance(public_key, str)
        assert isinstance(host_id, str)
        enrolment = await anyio.to_thread.run_sync(intake.enroll, token, public_key, host_id, host)
        return _json(enrolment.as_dict(), 201)

    async def reports(request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != REPORT_CONTENT_TYPE:
            raise Refusal("bad-request", f"a report is sent as {REPORT_CONTENT_TYPE}")
        body = await _body(request, config.max_body)
        signer = _signer(body)
        wait = agent_rates.take(signer if signer is not None else "addr:" + _client(request))
        if wait is not None:
            raise Refusal("rate-limited", "too many reports from this agent; slow down", wait)
        try:
            stored, receipt = await anyio.to_thread.run_sync(intake.accept, body)
        except IntakeError as exc:
            if signer is not None and exc.code in UNPROVEN:
                # Not that agent's report: give its token back and charge the sender's
                # address, so that forged key ids cannot drain a real agent's bucket.
                agent_rates.refund(signer)
                wait = agent_rates.take("addr:" + _client(request))
                if wait is not None:
                    raise Refusal(
                        "rate-limited", "too many refused reports from this address", wait
                    ) from None
            raise
        return Response(receipt, 201 if stored else 200, media_type=REPORT_CONTENT_TYPE)

    async def tokens(request: Request) -> Response:
        admin.require(request)
        data = _json_object(await _body(request, MAX_SMALL_BODY), "tokens")
        count, ttl = data.get("count", 1), data.get("ttl", 7 * 86400)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_TOKENS:
            raise Refusal("bad-request", f"count is a whole number from 1 to {MAX_TOKENS}")
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not ttl > 0:
            raise Refusal("bad-request", "ttl is a positive number of seconds")
        issued, expires = await anyio.to_thread.run_sync(intake.issue_tokens, count, float(ttl))
        return _json({"tokens": issued, "expires": expires}, 201)

    async def inventory(request: Request) -> Response:
        admin.require(request)
        body = await _body(request, config.max_body)
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Refusal("bad-request", "the inventory is not UTF-8 text") from None
        try:
            listed = await anyio.to_thread.run_sync(intake.import_inventory, text)
        except IntakeError:
            raise
        except FtiscanError as exc:
            raise Refusal("bad-request", f"inventory: {exc}") from None
        return _json({"hosts": listed})

    def _stale_hours(request: Request) -> float:
        text = request.query_params.get("stale_hours")
        if text is None:
            return config.stale_hours
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 < value < 1e6:
            raise Refusal("bad-request", "stale_hours is a positive number of hours")
        return value

    async def fleet_json(request: Request) -> Response:
        admin.require(request)
        data = await anyio.to_thread.run_sync(intake.fleet, _stale_hours(request))
        return _json(data)

    async def fleet_page(request: Request) -> Response:
        if not (admin.bearer_ok(request) or admin.session_ok(request)):
            raise Refusal(
                "unauthorized",
                "open a login link from 'ftiscan intake fleet-link', or send the admin credential",
            )
        hours = _stale_hours(request)
        data = await anyio.to_thread.run_sync(intake.fleet, hours)
        status = await anyio.to_thread.run_sync(intake.inventory_status, None)
        page = render_fleet_html(data, status)
        return Response(
            page,
            200,
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": CSP,
                "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY",
            },
        )

    async def fleet_login(request: Request) -> Response:
        ticket = request.query_params.get("ticket", "")
        if not admin.spend_ticket(ticket):
            raise Refusal("unauthorized", "this login link is unknown, used or expired")
        response = RedirectResponse("/fleet", 303, headers={"Referrer-Policy": "no-referrer"})
        response.set_cookie(
            SESSION_COOKIE,
            admin.new_session(),
            max_age=int(SESSION_TTL),
            path="/fleet",
            secure=config.tls,
            httponly=True,
            samesite="lax",
        )
        return response

    async def fleet_link(request: Request) -> Response:
        admin.require(request)
        assert admin.credential is not None
        ticket = mint_ticket(admin.credential)
        expires = datetime.fromtimestamp(time.time() + TICKET_TTL, UTC)
        return _json(
            {
                "link": f"/fleet/login?ticket={ticket}",
                "expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            201,
        )

    routes = [
        Route("/v1/health", guarded(health), methods=["GET"]),
        Route("/v1/intake-key", guarded(intake_key), methods=["GET"]),
        Route("/v1/enroll", guarded(enroll), methods=["POST"]),
        Route("/v1/reports", guarded(reports), methods=["POST"]),
        Route("/v1/admin/tokens", guarded(tokens), methods=["POST"]),
        Route("/v1/admin/inventory", guarded(inventory), methods=["PUT"]),
        Route("/v1/admin/fleet-link", guarded(fleet_link), methods=["POST"]),
        Route("/v1/fleet", guarded(fleet_json), methods=["GET"]),
        Route("/fleet", guarded(fleet_page), methods=["GET"]),
        Route("/fleet/login", guarded(fleet_login), methods=["GET"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "bad-request")
        reason = f"{request.method} {request.url.path}: {exc.detail}"
        return _json({"error": code, "reason": reason}, exc.status_code)

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})
