"""Serving the intake app with uvicorn: TLS by default, the bound port announced,
graceful shutdown on SIGTERM or SIGINT.

`serve` binds the listening socket itself (so that port 0 can be announced as the
port the kernel chose, on standard error and in ``port_file``), loads the certificate
chain and key up front (a wrong file is a clear error, not a traceback from deep
inside the server), then runs uvicorn on that socket until a signal arrives. On
SIGTERM uvicorn stops accepting, lets the requests in flight finish (at most
``graceful`` seconds), and `serve` returns normally: the caller closes the store.

Plain http is refused except on a loopback address with ``insecure_loopback`` (tests,
or a TLS-terminating proxy on the same machine): agents send reports and enrolment
tokens, which must not cross a network in the clear.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from ftiscan.reports.store import write_durable
from ftiscan.scanner.errors import FtiscanError

__all__ = ["Listen", "ServeError", "check_listen", "serve"]

log = logging.getLogger("ftiscan.intake")


class ServeError(FtiscanError):
    """The intake cannot serve as asked (plain http off loopback, a bad certificate,
    an address in use)."""


@dataclass(frozen=True, slots=True)
class Listen:
    """Where and how to serve."""

    host: str = "127.0.0.1"
    port: int = 8443
    tls_cert: Path | None = None  # PEM: the server certificate, then its intermediates
    tls_key: Path | None = None
    insecure_loopback: bool = False
    port_file: Path | None = None
    graceful: float = 10.0  # seconds the requests in flight get at shutdown

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert is not None else "http"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("10.1.2.3"), is_loopback("intake.example.gov")
    (False, False, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(listen: Listen) -> ssl.SSLContext | None:
    """Refuse what must not be served; load the TLS chain (returned, for its checks)."""
    if (listen.tls_cert is None) != (listen.tls_key is None):
        raise ServeError("give both --tls-cert and --tls-key")
    if listen.tls_cert is None or listen.tls_key is None:
        if not listen.insecure_loopback:
            raise ServeError(
                "refusing to serve without TLS: give --tls-cert and --tls-key "
                "(or --insecure-loopback on a loopback address, for tests)"
            )
        if not is_loopback(listen.host):
            raise ServeError(
                f"refusing plain http on {listen.host}: --insecure-loopback serves only on "
                "a loopback address (127.0.0.1, ::1)"
            )
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(listen.tls_cert, listen.tls_key)
    except FileNotFoundError as exc:
        raise ServeError(f"{exc.filename}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise ServeError(
            f"{listen.tls_cert}, {listen.tls_key}: not a PEM certificate chain and its "
            f"private key ({exc.strerror or exc})"
        ) from None
    return context


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server, announcing the bound address once it accepts."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._announce()


def _quiet(sig: int, frame: FrameType | None) -> None:
    """Where uvicorn's re-raised SIGTERM lands after the graceful shutdown."""


def serve(app: Any, listen: Listen, *, log_level: str = "info") -> None:
    """Serve ``app`` as ``listen`` says until SIGTERM or SIGINT; return after the
    requests in flight are done. Raises `ServeError` before serving anything."""
    check_listen(listen)
    sock = _bind(listen.host, listen.port)
    port = sock.getsockname()[1]
    url = _url(listen.scheme, listen.host, port)

    def announce() -> None:
        if listen.port_file is not None:
            write_durable(listen.port_file, f"{port}\n".encode("ascii"))
        print(f"listening on {url}", file=sys.stderr, flush=True)
        log.info("intake serving on %s (pid %d)", url, os.getpid())

    config = uvicorn.Config(
        app,
        ssl_certfile=str(listen.tls_cert) if listen.tls_cert else None,
        ssl_keyfile=str(listen.tls_key) if listen.tls_key else None,
        lifespan="off",
        access_log=False,  # the app logs requests without query strings (login tickets)
        log_config=None,
        log_level=log_level,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=int(listen.graceful),
        timeout_keep_alive=15,
        h11_max_incomplete_event_size=64 * 1024,
    )
    previous = {sig: signal.signal(sig, _quiet) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _Server(config, announce).run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    log.info("intake stopped")
