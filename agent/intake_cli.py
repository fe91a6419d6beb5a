"""``ftiscan intake ...``: counsel's intake, served over HTTPS or run on its database.

``ftiscan intake serve`` runs the HTTP service (`ftiscan.reports.intake.app` on
uvicorn). The other commands work on the intake's database directly (``--db``,
``--key``), for counsel on the intake host: enrolment tokens, the inventory, fleet
completeness, the export for a court, offline bundles and the intake key.

The intake needs the extra ``ftiscan[intake]`` (Starlette, uvicorn, psycopg). This
module imports only click and the core, so ``ftiscan`` works without the extra, and
``ftiscan intake ...`` then says exactly what to install.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ftiscan.scanner.errors import FtiscanError

if TYPE_CHECKING:
    from ftiscan.reports.intake.service import Intake

__all__ = ["INSTALL_HINT", "MissingExtra", "intake", "parse_duration"]

INSTALL_HINT = "pip install 'ftiscan[intake]'"
EXIT_OK, EXIT_INCOMPLETE, EXIT_ERROR = 0, 1, 2
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class MissingExtra(FtiscanError):
    """A counsel-side command without its optional dependencies installed."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"the intake needs {missing}, which is not installed: {INSTALL_HINT}")


def _fail(message: str) -> NoReturn:
    click.echo(f"ftiscan: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def require_extra() -> None:
    """Raise `MissingExtra` unless Starlette and uvicorn import."""
    for name in ("starlette", "uvicorn"):
        try:
            __import__(name)
        except ImportError:
            raise MissingExtra(name) from None


def parse_duration(text: str) -> float:
    """Seconds in ``7d``, ``12h``, ``30m``, ``90s``, ``2w`` or a bare number of seconds.

    >>> parse_duration("7d"), parse_duration("90"), parse_duration("1.5h")
    (604800.0, 90.0, 5400.0)
    """
    match = _DURATION.match(text.lower())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration like 7d, 12h, 30m or 90s")
    return float(match.group(1)) * _SECONDS[match.group(2)]


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.5 on
    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _db_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--db`` and ``--key`` (env FTISCAN_INTAKE_DB, FTISCAN_INTAKE_KEY)."""
    func = click.option(
        "--key",
        "key_path",
        required=True,
        envvar="FTISCAN_INTAKE_KEY",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The intake's Ed25519 private key, PEM (made 0600 if missing; "
        "env FTISCAN_INTAKE_KEY).",
    )(func)
    return click.option(
        "--db",
        required=True,
        envvar="FTISCAN_INTAKE_DB",
        metavar="PATH_OR_URL",
        help="The intake database: a SQLite file or a postgresql://... URL "
        "(env FTISCAN_INTAKE_DB).",
    )(func)


def _fleet_key_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--fleet-key",
        "fleet_key_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Hex fleet key file issued to agents at enrolment (fingerprints, EDM).",
    )(func)


@contextmanager
def _opened(db: str, key_path: Path, fleet_key_path: Path | None = None) -> Iterator[Intake]:
    """The intake on ``db``; every ftiscan error becomes a one-line message."""
    try:
        require_extra()
        from ftiscan.reports.intake.service import Intake

        service = Intake.open(db, key_path, fleet_key_path=fleet_key_path)
    except FtiscanError as exc:
        _fail(str(exc))
    try:
        yield service
    except FtiscanError as exc:
        _fail(str(exc))
    finally:
        service.close()


def _read_credential(path: Path) -> str:
    """The admin credential in ``path``: private to its owner, at least 16 characters."""
    from ftiscan.agent.keys import KeyFileError, _check_private

    try:
        _check_private(path)
        text = path.read_text(encoding="utf-8").strip()
    except KeyFileError as exc:
        _fail(str(exc).replace("key file", "admin credential file"))
    except OSError as exc:
        _fail(f"{path}: cannot read the admin credential ({exc.strerror})")
    except UnicodeDecodeError:
        _fail(f"{path}: the admin credential is not UTF-8 text")
    if len(text) < 16 or any(ch.isspace() for ch in text):
        _fail(f"{path}: the admin credential must be one word of at least 16 characters")
    return text


@click.group(invoke_without_command=True)
@click.pass_context
def intake(ctx: click.Context) -> None:
    """Counsel's intake: receive signed reports, sign receipts, show the fleet.

    Needs the extra: pip install 'ftiscan[intake]'.

    \b
    Example:  ftiscan intake serve --db intake.db --key intake.key \\
                --tls-cert cert.pem --tls-key key.pem --admin-credential-file admin.cred
    """
    try:
        require_extra()
    except MissingExtra as exc:
        _fail(str(exc))
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@intake.command()
@_db_options
@_fleet_key_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8443,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one (announced on stderr and in --port-file).",
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM server certificate followed by its intermediates.",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM private key of the certificate.",
)
@click.option(
    "--insecure-loopback",
    is_flag=True,
    help="Serve plain http (only on a loopback address; tests or a local TLS proxy).",
)
@click.option(
    "--admin-credential-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the admin credential (mode 0600); without it the admin "
    "endpoints and the fleet page answer 401.",
)
@click.option(
    "--max-body",
    default="8M",
    show_default=True,
    metavar="BYTES",
    help="Largest request body (e.g. 8M); larger ones get 413.",
)
@click.option(
    "--rate",
    default="10/s",
    show_default=True,
    metavar="N/s",
    help="Reports per agent key (token bucket; then 429 with Retry-After).",
)
@click.option(
    "--enroll-rate",
    default="2/s",
    show_default=True,
    metavar="N/s",
    help="Enrolments per client address.",
)
@click.option(
    "--stale-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="A host is stale after this many hours without a heartbeat.",
)
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the bound port here once serving.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def serve(
    db: str,
    key_path: Path,
    fleet_key_path: Path | None,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    insecure_loopback: bool,
    admin_credential_file: Path | None,
    max_body: str,
    rate: str,
    enroll_rate: str,
    stale_hours: float,
    port_file: Path | None,
    log_level: str,
) -> None:
    """Serve the intake over HTTPS until SIGTERM (graceful: requests in flight finish).

    Prints "listening on https://HOST:PORT" on stderr once it accepts.

    \b
    Example:  ftiscan intake serve --db intake.db --key intake.key \\
                --host 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem \\
                --admin-credential-file admin.cred
    """
    from ftiscan.agent.policy import parse_size
    from ftiscan.reports.intake.app import Settings, create_app
    from ftiscan.reports.intake.limits import parse_rate
    from ftiscan.reports.intake.server import Listen, check_listen, serve

    try:
        settings = Settings(
            max_body=parse_size(max_body),
            agent_rate=parse_rate(rate, burst=None),
            enroll_rate=parse_rate(enroll_rate),
            admin_credential=_read_credential(admin_credential_file)
            if admin_credential_file
            else None,
            tls=tls_cert is not None,
            stale_hours=stale_hours,
        )
    except ValueError as exc:
        _fail(str(exc))
    listen = Listen(host, port, tls_cert, tls_key, insecure_loopback, port_file)
    try:
        check_listen(listen)
    except FtiscanError as exc:
        _fail(str(exc))
    logging.basicConfig(
        stream=sys.stderr,
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.admin_credential is None:
        click.echo("note: no --admin-credential-file: admin endpoints answer 401", err=True)
    if tls_cert is None:
        click.echo("warning: serving plain http on loopback (--insecure-loopback)", err=True)
    with _opened(db, key_path, fleet_key_path) as service:
        serve(create_app(service, settings), listen, log_level=log_level)


@intake.group()
def token() -> None:
    """One-time enrolment tokens."""


@token.command("create")
@_db_options
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--ttl",
    default="7d",
    show_default=True,
    type=Duration(),
    help="How long the tokens stay valid: 7d, 12h, 30m.",
)
def token_create(db: str, key_path: Path, count: int, ttl: float) -> None:
    """Print COUNT new single-use enrolment tokens, one a line.

    \b
    Example:  ftiscan intake token create --db intake.db --key intake.key --count 50 --ttl 7d
    """
    with _opened(db, key_path) as service:
        tokens, expires = service.issue_tokens(count, ttl)
    for value in tokens:
        click.echo(value)
    click.echo(f"{len(tokens)} token(s), single use, valid until {expires}", err=True)


@intake.group()
def inventory() -> None:
    """The inventory of in-scope machines (fleet completeness)."""


@inventory.command("import")
@_db_options
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def inventory_import(db: str, key_path: Path, csv_file: Path) -> None:
    """Import the in-scope machines from a CSV file with a host_id column.

    \b
    Example:  ftiscan intake inventory import --db intake.db --key intake.key machines.csv
    """
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        _fail(f"{csv_file}: not UTF-8 text")
    with _opened(db, key_path) as service:
        listed = service.import_inventory(text)
    click.echo(f"inventory: {listed} machine(s) from {csv_file}")


def _status_text(fleet: dict[str, Any], status: dict[str, Any] | None) -> str:
    totals = fleet.get("totals", {})
    lines = [
        f"hosts: {totals.get('hosts', 0)} enrolled, {totals.get('holding', 0)} holding, "
        f"{totals.get('clean', 0)} clean, {totals.get('stale', 0)} stale, "
        f"{totals.get('with_gaps', 0)} with chain gaps"
    ]
    for host in fleet.get("hosts", []):
        marks = []
        if host.get("stale"):
            marks.append("stale")
        gaps = host.get("chain", {}).get("gaps") or []
        if gaps:
            marks.append("gaps " + ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in gaps))
        lines.append(
            f"  {host['host_id']}: {host.get('highest') or 'clean'}, "
            f"{host.get('records', 0)} records, last report {host.get('last_report') or 'never'}"
            + (f" ({'; '.join(marks)})" if marks else "")
        )
    if status is not None:
        lines.append(
            f"inventory: {status.get('inventory', 0)} machines"
            + (f", since {status['since']}" if status.get("since") else "")
        )
        for kind in ("never_enrolled", "never_reported"):
            lines.extend(f"  {h}: {kind.replace('_', ' ')}" for h in status.get(kind, []))
        lines.extend(
            f"  {o['host_id']}: outdated ({o['reason']})" for o in status.get("outdated", [])
        )
        if _complete(status):
            lines.append("  every machine in the inventory is current")
    return "\n".join(lines)


def _complete(status: dict[str, Any]) -> bool:
    return not (
        status.get("never_enrolled") or status.get("never_reported") or status.get("outdated")
    )


@intake.command()
@_db_options
@click.option(
    "--inventory",
    "with_inventory",
    is_flag=True,
    help="Also list inventory machines never enrolled, never reported or outdated; "
    "exit 1 if there is any.",
)
@click.option(
    "--since",
    metavar="DATE",
    help="Outdated = no report with the current pack and index since DATE (ISO 8601).",
)
@click.option("--stale-hours", default=24.0, show_default=True, type=click.FloatRange(min=0.01))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def status(
    db: str, key_path: Path, with_inventory: bool, since: str | None, stale_hours: float, fmt: str
) -> None:
    """The fleet at a glance; with --inventory, which machines are missing.

    Exit 0, or 1 with --inventory when a machine never enrolled, never reported or
    is outdated.

    \b
    Example:  ftiscan intake status --db intake.db --key intake.key --inventory --since 2026-11-01
    """
    with _opened(db, key_path) as service:
        fleet = service.fleet(stale_hours)
        completeness = service.inventory_status(since) if with_inventory else None
    if fmt == "json":
        out: dict[str, Any] = {"fleet": fleet}
        if completeness is not None:
            out["inventory"] = completeness
        click.echo(json.dumps(out, indent=2, sort_keys=True))
    else:
        click.echo(_status_text(fleet, completeness))
    if completeness is not None and not _complete(completeness):
        sys.exit(EXIT_INCOMPLETE)


@intake.command()
@_db_options
@click.option(
    "-o",
    "--output",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write.",
)
def export(db: str, key_path: Path, folder: Path) -> None:
    """Write every stored envelope and its receipt to FOLDER, verifiable offline.

    \b
    Example:  ftiscan intake export --db intake.db --key intake.key -o court-2026-12
    """
    with _opened(db, key_path) as service:
        counts = service.export(folder)
    shown = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    click.echo(f"exported to {folder}: {shown}")


@intake.command("import")
@_db_options
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--receipts",
    "receipts_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the receipts here (JSON), to carry back to the agent.",
)
def import_(db: str, key_path: Path, bundle: Path, receipts_out: Path | None) -> None:
    """Take in an offline bundle (from 'ftiscan bundle') with the same checks as HTTP.

    Exit 0 when every report was stored (now or before), 1 when some were refused.

    \b
    Example:  ftiscan intake import --db intake.db --key intake.key laptop-17.bundle \\
                --receipts laptop-17.receipts.json
    """
    from ftiscan.reports.store import write_durable

    with _opened(db, key_path) as service:
        results = service.import_bundle(bundle)
    refused = 0
    for item in results:
        code = item.get("code")
        state = item.get("status", "refused" if code else "stored")
        if code:
            refused += 1
            click.echo(
                f"sequence {item.get('sequence')}: refused ({code}) {item.get('reason', '')}"
            )
        else:
            click.echo(f"sequence {item.get('sequence')}: {state}")
    click.echo(f"{len(results) - refused} of {len(results)} report(s) accepted", err=True)
    if receipts_out is not None:
        receipts = [
            {k: v for k, v in item.items() if k in ("sequence", "receipt")}
            for item in results
            if item.get("receipt")
        ]
        data = json.dumps({"receipts": receipts}, indent=2, sort_keys=True) + "\n"
        write_durable(receipts_out, data.encode("utf-8"))
        click.echo(f"receipts written to {receipts_out}", err=True)
    if refused:
        sys.exit(EXIT_INCOMPLETE)


def grouped(key_id: str) -> str:
    """A key id in groups of four, for reading aloud.

    >>> grouped("0123456789abcdef")
    '0123 4567 89ab cdef'
    """
    return " ".join(key_id[i : i + 4] for i in range(0, len(key_id), 4))


@intake.command()
@_db_options
def key(db: str, key_path: Path) -> None:
    """Show the intake key (PEM) and its fingerprint, to check out of band against
    what 'ftiscan enroll' shows on each agent.

    \b
    Example:  ftiscan intake key --db intake.db --key intake.key
    """
    with _opened(db, key_path) as service:
        pem, kid = service.intake_key_pem, service.intake_key_id
    click.echo(pem, nl=not pem.endswith("\n"))
    click.echo(f"intake key id: {kid}")
    click.echo(f"fingerprint:   {grouped(kid)}")


@intake.command("credential")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def credential(path: Path) -> None:
    """Make a new admin credential file (mode 0600) for --admin-credential-file.

    \b
    Example:  ftiscan intake credential admin.cred
    """
    from ftiscan.agent.keys import write_private

    try:
        write_private(path, (secrets.token_urlsafe(32) + "\n").encode("ascii"), exclusive=True)
    except FileExistsError:
        _fail(f"{path}: exists; remove it first to make a new admin credential")
    except OSError as exc:
        _fail(f"{path}: cannot write ({exc.strerror})")
    click.echo(f"admin credential written to {path}")


@intake.command("fleet-link")
@click.option(
    "--admin-credential-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--url",
    "base_url",
    required=True,
    metavar="URL",
    help="The intake's base URL, e.g. https://intake.example.gov:8443.",
)
@click.option(
    "--ttl",
    default="5m",
    show_default=True,
    type=Duration(),
    help="How long the link can be opened (once).",
)
def fleet_link(admin_credential_file: Path, base_url: str, ttl: float) -> None:
    """Print a one-time login link to the fleet page, for a browser.

    Opening it sets a session cookie (HttpOnly, 8 hours) for the fleet page only.

    \b
    Example:  ftiscan intake fleet-link --admin-credential-file admin.cred \\
                --url https://intake.example.gov:8443
    """
    from ftiscan.reports.intake.app import mint_ticket

    ticket = mint_ticket(_read_credential(admin_credential_file), ttl)
    click.echo(f"{base_url.rstrip('/')}/fleet/login?ticket={ticket}")
