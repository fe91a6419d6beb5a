"""``ftiscan edm build`` and ``ftiscan edm inspect``: counsel's side of exact data match.

Nothing here prints a field of the list: rejected rows are named by line number and
failing field, and the summary gives counts, key ids and digests only.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ftiscan.agent import keys
from ftiscan.agent.options import key_dir_option
from ftiscan.agent.paths import default_key_dir
from ftiscan.reports.dsse import key_id
from ftiscan.reports.store import write_durable
from ftiscan.scanner.errors import FtiscanError

if TYPE_CHECKING:
    from ftiscan.scanner.edm.build import Rejected

__all__ = ["MAX_SHOWN_REJECTS", "edm"]

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR = 0, 1, 2
#: Rejected rows named one by one on stderr; the rest are only counted.
MAX_SHOWN_REJECTS = 50


def _fail(message: str) -> NoReturn:
    click.echo(f"ftiscan: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror})")
    except (ValueError, TypeError, UnsupportedAlgorithm):
        _fail(f"{path}: not an unencrypted PEM (PKCS#8) private key")
    if not isinstance(key, Ed25519PrivateKey):
        _fail(f"{path}: expected an Ed25519 key, got {type(key).__name__}")
    return key


def _fleet_key(key_file: Path | None, key_dir: Path | None) -> bytes:
    """``--key FILE``, else the key folder's fleet.key, else a new one made there."""
    if key_file is not None:
        return keys.read_hex_key(key_file)
    found = keys.fleet_key(key_dir)
    if found is not None:
        return found
    path = (key_dir or default_key_dir()) / keys.FLEET_KEY
    with contextlib.suppress(FileExistsError):  # another build made it first
        keys.write_private(path, secrets.token_hex(32).encode("ascii") + b"\n", exclusive=True)
    click.echo(
        f"ftiscan: made a new fleet key {path}: every agent that scans with this index "
        f"needs it, as {keys.FLEET_KEY} in its key folder",
        err=True,
    )
    return keys.read_hex_key(path)


class _Progress:
    """Rows read and their rate on a terminal (tqdm); nothing when piped or quiet."""

    def __init__(self, name: str, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            # A pseudo-terminal without a window size reports 0 x 0 and tqdm then draws
            # nothing: fall back to COLUMNS (else 100) and 24 rows, as the scan's progress does.
            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (OSError, ValueError):
                width = 0
            self.bar = tqdm(
                desc=name,
                unit=" rows",
                file=sys.stderr,
                leave=False,
                mininterval=0.25,
                dynamic_ncols=bool(width),
                ncols=None if width else int(os.environ.get("COLUMNS", "100")),
                nrows=None if width else 24,
            )
        self.done = 0

    def __call__(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(rows - self.done)
        self.done = rows

    def echo(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            click.echo(message, err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@click.group()
def edm() -> None:
    """Exact data match: counsel's list as a keyed, hashed, signed index.

    \b
    Example:  ftiscan edm build disclosed.csv -o fti.edm
              ftiscan edm inspect fti.edm
    """


@edm.command("build")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the index to FILE (parent folders created).",
)
@click.option(
    "--fields",
    multiple=True,
    metavar="ROLE=COLUMN,...",
    help="Which column holds what (roles: tin, name, first, middle, last, street, unit, "
    "city, state, zip); default: recognised from the header. Repeatable.",
)
@click.option(
    "--require",
    "required",
    metavar="ROLE,...",
    default="",
    help="Roles every row must have a value for (e.g. tin,first,last,street,zip); a row "
    "with one of them empty is rejected. Default: none (a row without a field just "
    "makes fewer combinations).",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fleet key file (hex) to hash with (default: fleet.key in the key folder, "
    "made there if missing).",
)
@click.option(
    "--signing-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ed25519 private key (PKCS#8 PEM) to sign with (default: the agent key).",
)
@key_dir_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def build(
    source: Path,
    output: Path,
    fields: tuple[str, ...],
    required: str,
    key_file: Path | None,
    signing_key: Path | None,
    key_dir: Path | None,
    quiet: bool,
) -> None:
    """Build a signed EDM index from SOURCE, a CSV list with a header row.

    Only keyed, truncated hashes of TIN, TIN + ZIP and name + street + ZIP go into the
    index, never a field. A malformed row (a TIN or ZIP that is not one, a wrong
    number of fields) is named by line number on stderr and left out. Exit 0: every
    row used; 1: index written, some rows rejected; 2: error, nothing written.

    \b
    Example:  ftiscan edm build disclosed.csv -o fti.edm
              ftiscan edm build list.csv -o fti.edm \\
                  --fields 'tin=SSN,name=Full Name,street=Address1,zip=Zip'
    """
    # The normaliser loads usaddress's model: only for the edm commands.
    from ftiscan.scanner.edm.build import build_csv, check_list, parse_fields
    from ftiscan.scanner.edm.index import GATES, read_index

    wanted = [role.strip() for role in required.split(",") if role.strip()]
    try:
        roles = parse_fields(fields) if fields else None
        check_list(source, roles, wanted)  # before a fleet key is made for nothing
        fleet = _fleet_key(key_file, key_dir)
        signer = _signing_key(signing_key) if signing_key else keys.agent_key(key_dir)
    except FtiscanError as exc:
        _fail(str(exc))
    progress = _Progress(source.name, not quiet and sys.stderr.isatty())
    shown = 0

    def on_reject(row: Rejected) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_SHOWN_REJECTS:
            progress.echo(f"ftiscan: {source}:{row.line}: row rejected: {row.reason}")

    try:
        built = build_csv(
            source,
            fleet,
            signer,
            fields=roles,
            required=wanted,
            on_reject=on_reject,
            on_progress=progress,
        )
        write_durable(output, built.data)
    except FtiscanError as exc:
        progress.close()
        _fail(str(exc))
    except OSError as exc:
        progress.close()
        _fail(f"{exc.filename or output}: {exc.strerror}")
    progress.close()
    stats = built.stats
    if stats.rejected > MAX_SHOWN_REJECTS:
        click.echo(
            f"ftiscan: ... {stats.rejected - MAX_SHOWN_REJECTS} more rejected rows not shown",
            err=True,
        )
    if stats.rejected:
        click.echo(f"ftiscan: {source}: {stats.rejected} of {stats.rows} rows rejected", err=True)
    info, _ = read_index(output)
    tables = ", ".join(f"{t.combo} {t.count}" for t in info.tables if t.combo not in GATES.values())
    click.echo(
        f"wrote {output}: {stats.records} records from {stats.rows} rows "
        f"({stats.rejected} rejected, {stats.incomplete} without a combination)\n"
        f"  entries: {tables}\n"
        f"  columns: {', '.join(f'{role}={col!r}' for role, col in stats.columns.items())}\n"
        f"  signer {info.signer}\n"
        f"  digest {info.digest}"
    )
    sys.exit(EXIT_PARTIAL if stats.rejected else EXIT_OK)


def _trusted(trust_files: tuple[Path, ...], key_dir: Path | None) -> dict[str, Ed25519PublicKey]:
    if trust_files:
        found = [keys.load_public_key(path) for path in trust_files]
        return {key_id(key): key for key in found}
    return keys.trusted_keys(key_dir)


@edm.command("inspect")
@click.argument("index_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fleet key file (hex) to check the index against (default: fleet.key in the "
    "key folder, if there is one).",
)
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    metavar="PEM",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Public key (PEM) the signer may have; repeatable (default: this agent's key "
    "and those pinned with 'ftiscan key trust').",
)
@key_dir_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def inspect(
    index_file: Path,
    key_file: Path | None,
    trust_files: tuple[Path, ...],
    key_dir: Path | None,
    fmt: str,
) -> None:
    """Show what an EDM index holds: counts, widths, signer, digest; check its
    signature and, given a fleet key, whether it was built with that key.

    Exit 0: signature valid (and key matches, if checked); 1: signer not trusted,
    signature invalid or another fleet key; 2: not a readable index.

    \b
    Example:  ftiscan edm inspect fti.edm --key fleet.key --trust counsel.pub
    """
    from ftiscan.scanner.edm.index import GATES, EdmError, check_signature, key_matches, read_index

    try:
        info, data = read_index(index_file)
        trusted = _trusted(trust_files, key_dir)
        fleet = keys.read_hex_key(key_file) if key_file else keys.fleet_key(key_dir)
    except FtiscanError as exc:
        _fail(str(exc))
    try:
        check_signature(info, data, trusted)
        signature = "valid"
    except EdmError as exc:
        signature = f"{exc.reason}: {exc.detail}"
    key_state = "not checked (no fleet key)"
    if fleet is not None:
        key_state = "matches" if key_matches(info, fleet) else "does not match (another fleet key)"
    ok = signature == "valid" and not key_state.startswith("does not")
    tables = [
        {"combo": t.combo, "entries": t.count, "bits": t.bits, "gate": t.combo in GATES.values()}
        for t in info.tables
    ]
    if fmt == "json":
        summary = {
            "path": str(index_file),
            "format": info.header["format"],
            "version": info.header["version"],
            "normalizer": info.header["normalizer"],
            "records": info.records,
            "built": info.built,
            "tables": tables,
            "signer": info.signer,
            "signature": signature,
            "key_check": key_state,
            "digest": info.digest,
        }
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
    else:
        lines = [
            f"index      {index_file}",
            f"format     {info.header['format']} version {info.header['version']}, "
            f"normaliser {info.header['normalizer']}",
            f"records    {info.records}",
            f"built      {info.built}",
        ]
        for n, t in enumerate(tables):
            role = "gate" if t["gate"] else "hit"
            label = "tables    " if n == 0 else "          "
            lines.append(f"{label} {t['combo']}: {t['entries']} entries, {t['bits']} bits ({role})")
        lines += [
            f"signer     {info.signer}",
            f"signature  {signature}",
            f"key check  {key_state}",
            f"digest     {info.digest}",
        ]
        click.echo("\n".join(lines))
    sys.exit(EXIT_OK if ok else EXIT_PARTIAL)
