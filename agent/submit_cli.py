"""``ftiscan enroll``, ``ftiscan submit`` and ``ftiscan bundle``: the agent's side of
getting its signed reports to counsel (`ftiscan.reports.outbox`, `ftiscan.reports.submit`,
`ftiscan.reports.bundle`).

Exit codes of ``submit`` and ``bundle``: 0 every report delivered (the outbox is
empty) or bundled; 1 some reports still pending or refused (``bundle``: nothing to
bundle); 2 an error (not enrolled, bad option, TLS certificate failure, unreadable file).
``enroll``: 0 enrolled, 2 not.
"""

from __future__ import annotations

import math
import socket
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.agent import keys
from ftiscan.agent.options import key_dir_option
from ftiscan.agent.paths import default_key_dir, default_state_dir
from ftiscan.reports.bundle import write_bundle
from ftiscan.reports.dsse import key_id
from ftiscan.reports.outbox import Outbox
from ftiscan.reports.report import host_identity
from ftiscan.reports.submit import (
    Backoff,
    Event,
    IntakeClient,
    Pinned,
    SubmitError,
    Submitter,
    Unreachable,
    import_receipts,
    intake_public_key,
    load_pinned,
    parse_enrolment,
    pinned_from,
    save_pinned,
)
from ftiscan.scanner.errors import FtiscanError

__all__ = ["bundle", "enroll", "submit"]

EXIT_DONE, EXIT_PENDING, EXIT_ERROR = 0, 1, 2


def _fail(message: str) -> NoReturn:
    click.echo(f"ftiscan: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _state_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--state-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of the agent's state: its chain of reports and their receipts "
        "(default: the platform's state folder; env FTISCAN_STATE_DIR).",
    )(func)


def _ca_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--ca",
        type=click.Path(dir_okay=False, path_type=Path),
        help="PEM file of the CA that signed the intake's certificate (a private CA); "
        "default: the system's CAs (enroll stores it for submit).",
    )(func)


def _agent(key_dir: Path) -> tuple[Ed25519PrivateKey, str]:
    try:
        key = keys.agent_key(key_dir)
    except FtiscanError as exc:
        _fail(str(exc))
    return key, key_id(key.public_key())


def _spans(numbers: Iterable[int]) -> str:
    """1, 2, 3, 5 -> "1-3, 5"."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(numbers):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)


def _hex(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch not in " :-")


# -- enroll -------------------------------------------------------------------------


def _store_fleet_key(key_dir: Path, value: str) -> str:
    """Put the issued fleet key where `ftiscan.agent.keys.fleet_key` reads it; never
    replace a different one. Returns what was done."""
    try:
        key = bytes.fromhex(value)
    except ValueError:
        _fail("the intake issued a fleet key that is not hex")
    if len(key) < 16:
        _fail(f"the intake issued a fleet key of {len(key)} bytes, expected at least 16")
    path = key_dir / keys.FLEET_KEY
    if path.exists():
        try:
            held = keys.read_hex_key(path)
        except FtiscanError as exc:
            _fail(f"{exc}; not replaced by the issued fleet key")
        if held != key:
            _fail(
                f"{path} holds another fleet key than the intake issues; it was not "
                "replaced (fingerprints and the EDM index depend on it): move it away "
                "and enrol again with a new token if the intake's key is the right one"
            )
        return f"fleet key unchanged ({path})"
    try:
        keys.write_private(path, key.hex().encode("ascii") + b"\n", exclusive=True)
    except FileExistsError:
        _fail(f"{path} appeared while enrolling; not replaced")
    return f"fleet key stored in {path}"


@click.command()
@click.argument("url")
@click.option("--token", required=True, help="The one-time enrolment token counsel issued.")
@click.option(
    "--host-id",
    help="How counsel's inventory names this machine (default: its FQDN, lower case).",
)
@_ca_option
@click.option(
    "--expect-fingerprint",
    metavar="HEX",
    help="The intake key id counsel gave out of band ('ftiscan intake key'); "
    "enrolment is refused, and the token not used, if the intake's key differs.",
)
@click.option(
    "--allow-http",
    is_flag=True,
    help="Allow plain http to a loopback address (tests only); never to another host.",
)
@key_dir_option
def enroll(
    url: str,
    token: str,
    host_id: str | None,
    ca: Path | None,
    expect_fingerprint: str | None,
    allow_http: bool,
    key_dir: Path | None,
) -> None:
    """Register this agent's key with counsel's intake at URL and pin the intake's key.

    Stores the enrolment (URL, intake key, host id, CA file) as intake.json in the
    key folder (0600), and the fleet key as fleet.key when counsel issues one. Prints
    the intake key's fingerprint: compare it with what 'ftiscan intake key' shows on
    the intake host (or give it beforehand with --expect-fingerprint).

    \b
    Example:  ftiscan enroll https://intake.example.gov --token 4f9c... --ca counsel-ca.pem
    """
    folder = key_dir or default_key_dir()
    private, kid = _agent(folder)
    try:
        existing = load_pinned(folder)
        client = IntakeClient(url, ca, allow_http)
        answer = client.get("/v1/intake-key")
        if answer.status != 200:
            code, reason = answer.error()
            _fail(f"intake {client.url}: cannot read its key: {code}: {reason}")
        shown = answer.json()
        if not isinstance(shown, dict) or not all(
            isinstance(shown.get(k), str) for k in ("intake_key", "intake_key_id")
        ):
            _fail(f"intake {client.url}: /v1/intake-key did not give intake_key, intake_key_id")
        intake_public_key(shown["intake_key"], shown["intake_key_id"])
        offered = shown["intake_key_id"]
        if expect_fingerprint is not None and _hex(expect_fingerprint) != offered:
            _fail(
                f"intake {client.url}: its key id is {offered}, not the expected "
                f"{_hex(expect_fingerprint)}; not enrolled (the token was not used)"
            )
        if existing is not None and existing.intake_key_id != offered:
            _fail(
                f"already enrolled with intake key {existing.intake_key_id} "
                f"({existing.url}); {client.url} has key {offered}. Not enrolled (the "
                f"token was not used): remove {folder / 'intake.json'} to change intakes"
            )
        answer = client.post_json(
            "/v1/enroll",
            {
                "token": token,
                "public_key": keys.public_pem(private.public_key()).decode("ascii"),
                "host_id": host_id or socket.getfqdn().lower(),
                "host": host_identity(),
            },
        )
        if answer.status not in (200, 201):
            code, reason = answer.error()
            _fail(f"intake {client.url}: enrolment refused: {code}: {reason}")
        enrolment = parse_enrolment(answer)
        if enrolment.intake_key_id != offered or enrolment.agent != kid:
            _fail(f"intake {client.url}: the enrolment answer names another key")
        pinned = pinned_from(enrolment, client.url, ca, allow_http)
    except (SubmitError, Unreachable) as exc:
        _fail(str(exc))
    fleet_note = None
    if enrolment.fleet_key is not None:
        fleet_note = _store_fleet_key(folder, enrolment.fleet_key)
    path = save_pinned(folder, pinned)
    click.echo(f"enrolled agent key {kid} as host {pinned.host_id} with {pinned.url}")
    click.echo(f"intake key id (fingerprint): {pinned.intake_key_id}")
    click.echo("  check it out of band: 'ftiscan intake key' on the intake host shows the same id")
    if fleet_note:
        click.echo(fleet_note)
    click.echo(f"enrolment stored in {path}")


# -- submit -------------------------------------------------------------------------


def _pinned(folder: Path) -> Pinned:
    try:
        pinned = load_pinned(folder)
    except SubmitError as exc:
        _fail(str(exc))
    if pinned is None:
        _fail(
            f"not enrolled ({folder / 'intake.json'} missing): run "
            "'ftiscan enroll URL --token T' first, or carry reports with 'ftiscan bundle'"
        )
    return pinned


def _summary(outbox: Outbox, delivered: int) -> int:
    pending = outbox.pending()
    deliveries = outbox.deliveries()
    refused = [n for n in pending if (d := deliveries.get(n)) and d.refused]
    waiting = len(pending) - len(refused)
    click.echo(
        f"{delivered} delivered now; {len(pending)} in the outbox"
        + (f" ({waiting} pending, {len(refused)} refused: {_spans(refused)})" if refused else "")
    )
    return EXIT_DONE if not pending else EXIT_PENDING


@click.command()
@_state_dir_option
@key_dir_option
@click.option("--once", "mode", flag_value="once", default=True, help="One pass (default).")
@click.option(
    "--wait",
    "mode",
    flag_value="wait",
    help="Retry with backoff until every report is delivered or refused.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    help="With --wait: give up after this many seconds (exit 1 if reports remain).",
)
@click.option(
    "--backoff-cap",
    type=click.FloatRange(min=0.01),
    default=300.0,
    show_default=True,
    help="Longest wait between retries, seconds (Retry-After may ask for more).",
)
@_ca_option
@click.option(
    "--retry-refused",
    is_flag=True,
    help="Send reports the intake refused again (after the cause was fixed).",
)
@click.option(
    "--receipts",
    "receipts_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Store the receipts of 'ftiscan intake import --receipts FILE' (offline); "
    "nothing is sent.",
)
def submit(
    state_dir: Path | None,
    key_dir: Path | None,
    mode: str,
    max_wait: float | None,
    backoff_cap: float,
    ca: Path | None,
    retry_refused: bool,
    receipts_file: Path | None,
) -> None:
    """Send the outbox to the enrolled intake, in sequence order.

    A report leaves the outbox only when the intake's signed receipt for it verifies
    against the pinned intake key. Unreachable or overloaded intakes are retried
    (exponential backoff, full jitter, Retry-After); a refusal (fork, replay, schema,
    unknown-key, ...) is permanent: the report stays in the outbox, marked.
    Exit 0 all delivered, 1 some pending or refused, 2 error.

    \b
    Example:  ftiscan submit --wait
              ftiscan submit --receipts laptop-17.receipts.json
    """
    folder = key_dir or default_key_dir()
    pinned = _pinned(folder)
    _, kid = _agent(folder)
    outbox = Outbox(state_dir or default_state_dir(), kid)
    if receipts_file is not None:
        sys.exit(_take_receipts(outbox, pinned, receipts_file))
    delivered = 0

    def tell(event: Event) -> None:
        nonlocal delivered
        delivered += event.kind in ("delivered", "duplicate")
        click.echo(event.message(), err=event.kind in ("retry", "bad-receipt"))

    try:
        submitter = Submitter(outbox, pinned, pinned.client(ca), Backoff(cap=backoff_cap), tell)
        with outbox.sending():  # not while the daemon's submitter writes it
            outbox.clear_backoff()  # asked now: what is pending is due now
            if retry_refused:
                outbox.clear_refusals()
        deadline = None if max_wait is None else time.monotonic() + max_wait
        while True:
            wait = submitter.step()
            if mode == "once" or math.isinf(wait):
                break
            if deadline is not None and time.monotonic() + wait > deadline:
                click.echo(f"giving up after --max-wait {max_wait:g} s", err=True)
                break
            time.sleep(wait)
    except SubmitError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
    sys.exit(_summary(outbox, delivered))


def _take_receipts(outbox: Outbox, pinned: Pinned, path: Path) -> int:
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror})")
    try:
        results = import_receipts(outbox, pinned, data)
    except SubmitError as exc:
        _fail(f"{path}: {exc}")
    if not results:
        _fail(f"{path}: no receipt in it")
    stored = 0
    for sequence, state, reason in results:
        name = f"report {sequence}" if sequence is not None else "a receipt"
        if state == "refused":
            click.echo(f"{name}: receipt refused: {reason}", err=True)
        else:
            stored += state == "stored"
            click.echo(f"{name}: receipt {'stored' if state == 'stored' else 'already held'}")
    pending = outbox.depth()
    click.echo(f"{stored} receipt(s) stored; {pending} report(s) in the outbox")
    refused = any(state == "refused" for _, state, _ in results)
    return EXIT_PENDING if pending or refused else EXIT_DONE


# -- bundle -------------------------------------------------------------------------


@click.command()
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle file to write (parent folders created).",
)
@click.option("--all", "everything", is_flag=True, help="Every report, not only the outbox.")
@_state_dir_option
@key_dir_option
def bundle(output: Path, everything: bool, state_dir: Path | None, key_dir: Path | None) -> None:
    """Pack the outbox (or --all reports) into one signed file for USB or e-mail.

    The bundle holds the envelopes byte for byte, the agent's public key and a
    manifest signed by the agent's key; counsel takes it in with 'ftiscan intake
    import FILE --receipts R.json', and 'ftiscan submit --receipts R.json' brings the
    receipts back. Exit 0 written, 1 nothing to bundle, 2 error.

    \b
    Example:  ftiscan bundle -o /media/usb/laptop-17.bundle
    """
    folder = key_dir or default_key_dir()
    private, kid = _agent(folder)
    outbox = Outbox(state_dir or default_state_dir(), kid)
    sequences = outbox.sequences() if everything else outbox.pending()
    if not sequences:
        click.echo("nothing to bundle: the outbox is empty (--all: every report)", err=True)
        sys.exit(EXIT_PENDING)
    try:
        written = write_bundle(output, private, ((n, outbox.envelope(n)) for n in sequences))
    except OSError as exc:
        _fail(f"{exc.filename or output}: {exc.strerror}")
    click.echo(
        f"bundled {len(written)} report(s) (sequences {_spans(written)}) of agent key "
        f"{kid[:16]} into {output}"
    )
