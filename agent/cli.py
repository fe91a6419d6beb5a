"""The ftiscan command line: thin commands over the engine and the report model."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ftiscan.agent import keys
from ftiscan.agent.incremental import StateKnown, reconcile_news, sign_with_news
from ftiscan.agent.journal import Journal
from ftiscan.agent.options import key_dir_option
from ftiscan.agent.paths import default_key_dir, default_state_dir
from ftiscan.agent.policy import Policy, load_policy, parse_size
from ftiscan.agent.progress import Progress
from ftiscan.agent.state import News, State, StateError
from ftiscan.reports.dsse import key_id
from ftiscan.reports.render import render_json, render_text
from ftiscan.reports.report import build_report
from ftiscan.reports.store import write_durable
from ftiscan.scanner import selftest
from ftiscan.scanner.detect import Detector
from ftiscan.scanner.engine import Context, ScanOptions, WalkTotals, roots_of, run_scan
from ftiscan.scanner.errors import FtiscanError, PackError
from ftiscan.scanner.examples import run_examples
from ftiscan.scanner.packs import compile_pack, load_packs
from ftiscan.scanner.walk import WalkOptions

if TYPE_CHECKING:
    from ftiscan.reports.verify import Outcome
    from ftiscan.scanner.edm.index import EdmIndex

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def tool_version() -> str:
    try:
        return version("ftiscan")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


class Size(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.5 on; bare for 8.1
    """A byte size: 1048576, 512K, 100M, 2G."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@contextlib.contextmanager
def workers_skip_main() -> Iterator[None]:
    """Spawned scan workers run the main script again before they start (for a
    console script: this whole CLI with click, the reports, cryptography, tqdm,
    about 12 MB and 0.1 CPU-s per worker) although they only need the engine; a
    ``__main__`` without ``__file__`` is left alone. Run as ``python -m`` (a module
    spec), nothing changes."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def fail(message: str) -> NoReturn:
    click.echo(f"ftiscan: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


FORMATS = ("text", "json", "sarif", "html")


def render(report: dict[str, Any], fmt: str, report_path: Path | None = None) -> str:
    """The payload as ``fmt``: every renderer reads the signed payload only."""
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        from ftiscan.reports.sarif import render_sarif

        return render_sarif(report)
    if fmt == "html":
        from ftiscan.reports.html import render_html

        return render_html(report)
    return render_text(report, str(report_path) if report_path else None)


def format_option(default_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help=f"What goes to standard output ({default_help}).",
    )


class _LazyGroup(click.Group):
    """A group whose listed subcommands are imported when they are run (or listed
    by ``--help``): a scan does not import the HTTP client, the intake, the daemon
    or the EDM tools (about 50 ms of every start)."""

    LAZY: ClassVar[dict[str, str]] = {
        "agent": "ftiscan.agent.agent_cli:agent",
        "bundle": "ftiscan.agent.submit_cli:bundle",
        "edm": "ftiscan.agent.edm_cli:edm",
        "enroll": "ftiscan.agent.submit_cli:enroll",
        "intake": "ftiscan.agent.intake_cli:intake",
        "submit": "ftiscan.agent.submit_cli:submit",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.LAZY.get(cmd_name)
        if target is None or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module, name = target.split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        self.add_command(command, cmd_name)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(tool_version(), prog_name="ftiscan")
def cli() -> None:
    """Find Federal Tax Information on this machine and prove what was found.

    \b
    Example:  ftiscan scan ~ --report out/report.json
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (parent folders created).",
)
@format_option("default: text on a terminal, else json")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.option(
    "--signatures",
    "signature_dirs",
    multiple=True,
    metavar="DIR",
    type=click.Path(exists=True, path_type=Path),
    help="Extra signature pack folder or file; repeatable.",
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="GLOB",
    help="Skip paths matching GLOB (counted in coverage); repeatable.",
)
@click.option(
    "--max-file-size",
    type=Size(),
    default=None,
    help="Skip larger files (coverage reason limit:size); default 512M or the policy's.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Policy YAML: approved locations, excludes, limits (its digest is in the report).",
)
@click.option(
    "--edm",
    "edm_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Exact-data-match index from `ftiscan edm build` (default: the policy's); needs "
    "the fleet key it was built with in the key folder (fleet.key).",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Do not read files the state folder's database knows unchanged (or renamed, or "
    "copied); list files with findings that are gone since.",
)
@click.option("--one-file-system", is_flag=True, help="Do not cross into other mounts.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symlinks that stay inside the roots.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(0, 256),
    default=0,
    help="Worker processes (0: every core allowed).",
)
@click.option(
    "--approved",
    multiple=True,
    metavar="PATH",
    help="Approved storage location (folder or glob): findings there are info.",
)
@key_dir_option
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the agent's state: its chain of signed reports (default: the "
    "platform's state folder; env FTISCAN_STATE_DIR).",
)
def scan(
    paths: tuple[Path, ...],
    report_path: Path | None,
    fmt: str | None,
    quiet: bool,
    signature_dirs: tuple[Path, ...],
    excludes: tuple[str, ...],
    max_file_size: int | None,
    policy_file: Path | None,
    edm_file: Path | None,
    incremental: bool,
    one_file_system: bool,
    follow_symlinks: bool,
    jobs: int,
    approved: tuple[str, ...],
    key_dir: Path | None,
    state_dir: Path | None,
) -> None:
    """Scan PATHS once; sign the report; exit 0 clean, 1 found, 2 error.

    The report is signed with the agent's Ed25519 key (made on first use) as the
    next link of the agent's chain, stored in the state folder, and, with --report,
    written to FILE as a DSSE envelope.

    \b
    Example:  ftiscan scan ~ --report out/report.json
              ftiscan scan /srv/share --exclude '*.iso' --format json > findings.json
    """
    try:
        policy = load_policy(policy_file) if policy_file else Policy()
        packs = load_packs(signature_dirs)
        fleet = keys.fleet_key(key_dir)
        key = fleet if fleet is not None else keys.fingerprint_key(key_dir)
        journal = Journal(state_dir or default_state_dir(), keys.agent_key(key_dir))
        journal.check()  # a read-only state folder is said now, not after the scan
        index = _load_edm(edm_file or policy.edm, fleet, key_dir)
    except FtiscanError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}")
    limits = policy.limits
    if max_file_size is not None:
        limits = dataclasses.replace(limits, max_file_bytes=max_file_size)
    excludes = policy.excludes + excludes
    approved = policy.approved + approved
    options = ScanOptions(
        roots=roots_of(paths),
        pack_sources=packs.sources,
        key=key,
        walk=WalkOptions(
            excludes=excludes,
            max_file_bytes=limits.max_file_bytes,
            one_file_system=one_file_system,
            follow_symlinks=follow_symlinks,
        ),
        limits=limits,
        jobs=jobs,
        approved=approved,
        edm=index,
        digests=incremental,
    )
    context = Context(options, packs)
    check = selftest.run(context)
    if not check.passed:
        fail("self-test failed, not scanning: " + "; ".join(check.failures))
    known = None
    if incremental:
        known = _known(state_dir or default_state_dir(), options, packs.describe(), index)
    totals = WalkTotals()
    try:
        with Progress(totals, Progress.wanted(quiet)) as progress, workers_skip_main():
            result = run_scan(
                options, progress=progress, totals=totals, packs=packs, known=known, context=context
            )
    except FtiscanError as exc:  # StateError: the state database is locked, full, read-only
        fail(f"{exc}; the scan stopped, no report was signed")

    def build(news: News | None, report_id: str | None = None) -> dict[str, Any]:
        return build_report(
            roots=options.roots,
            findings=result.findings,
            coverage=result.coverage.as_dict(),
            started=result.started,
            ended=result.ended,
            tool_version=tool_version(),
            packs=packs.describe(),
            selftest=check.as_dict(),
            options=options.described(),
            policy_digest=policy.digest,
            edm_digest=None if index is None else index.digest,
            gone=None if news is None else news.gone,
            cleared=None if news is None else news.cleared,
            report_id=report_id,
        )

    head = journal.head()[0]
    try:
        if known is None:
            report = build(None)
            signed = journal.append(report)
        else:
            try:
                known.finish()
                reconcile_news(known.state, journal)
                signed, report = sign_with_news(known.state, journal, build)
            finally:
                known.state.close()
    except FtiscanError as exc:  # JournalError, StateError: no space, read-only, locked
        after = journal.head()[0]
        if after == head:
            fail(f"{exc}; no report was signed")
        fail(
            f"{exc}; the report was signed ({journal.path_of(after)}); "
            "the state is settled on the next run"
        )
    if report_path is not None:
        try:
            write_durable(report_path, signed.envelope)
        except OSError as exc:
            fail(
                f"{exc.filename or report_path}: {exc.strerror}; the signed report is kept "
                f"in the agent's chain: {signed.path}"
            )
    fmt = fmt or ("text" if sys.stdout.isatty() else "json")
    click.echo(render(report, fmt, report_path))
    sys.exit(EXIT_FOUND if report["summary"]["verdict"] == "found" else EXIT_CLEAN)


def _known(
    state_dir: Path, options: ScanOptions, packs: dict[str, Any], index: EdmIndex | None
) -> StateKnown:
    """The state of earlier scans, for what decides an outcome besides the file."""
    try:
        state = State.in_folder(state_dir)
    except StateError as exc:
        fail(str(exc))
    return StateKnown(state, scan_context(options, packs, index), options.roots, options.key)


def scan_context(
    options: ScanOptions, packs: dict[str, Any], index: EdmIndex | None
) -> dict[str, Any]:
    """What decides an outcome besides the file (`StateKnown`'s context); shared with
    the daemon so that ``scan --incremental`` and ``agent run`` reuse each other's work."""
    return {
        "tool": tool_version(),
        "packs": packs,
        "edm": None if index is None else index.digest,
        "approved": list(options.approved),
        "limits": dataclasses.asdict(options.limits),
        "digest": "hmac-sha256",  # how content digests are made (plain SHA-256 before)
        # which fingerprint key (not the key): stored fingerprints and digests are under it
        "key": hashlib.sha256(b"ftiscan fingerprint key id\0" + options.key).hexdigest(),
    }


def _load_edm(path: Path | None, fleet: bytes | None, key_dir: Path | None) -> EdmIndex | None:
    """The verified index at ``path`` (None without one); the scan never runs without
    an index it was asked to use."""
    if path is None:
        return None
    from ftiscan.scanner.edm.index import load_index

    if fleet is None:
        folder = key_dir or default_key_dir()
        raise keys.KeyFileError(
            f"{path}: an index is keyed with counsel's fleet key; put it at "
            f"{folder / keys.FLEET_KEY} (no fleet key there)"
        )
    return load_index(path, fleet, keys.trusted_keys(key_dir))


@cli.group()
def signatures() -> None:
    """Check and test signature packs."""


@signatures.command("test")
@click.option(
    "--signatures",
    "signature_dirs",
    multiple=True,
    metavar="DIR",
    type=click.Path(exists=True, path_type=Path),
    help="Extra pack folder; repeatable.",
)
def signatures_test(signature_dirs: tuple[Path, ...]) -> None:
    """Run every signature's own positive and negative examples.

    \b
    Example:  ftiscan signatures test --signatures ./my-packs
    """
    try:
        packs = load_packs(signature_dirs)
    except PackError as exc:
        fail(str(exc))
    results = run_examples(Detector(packs))
    failed = [r for r in results if not r.passed]
    for result in failed:
        click.echo(f"FAIL {result.label}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(EXIT_FOUND if failed else EXIT_CLEAN)


@signatures.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def signatures_lint(files: tuple[Path, ...]) -> None:
    """Check pack files against the schema; report file:line:column: reason.

    \b
    Example:  ftiscan signatures lint my-packs/*.yaml
    """
    bad = 0
    for path in files:
        try:
            pack = compile_pack(path, path.read_bytes())
        except PackError as exc:
            bad += 1
            click.echo(str(exc), err=True)
            continue
        click.echo(f"{path}: ok ({pack.name} v{pack.version}, {len(pack.signatures)} signatures)")
    sys.exit(EXIT_FOUND if bad else EXIT_CLEAN)


def _report_files(paths: tuple[Path, ...]) -> list[tuple[str, bytes]]:
    """(name, bytes) of each file, and of each ``*.json`` under each folder, by name."""
    out = []
    for path in paths:
        found = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for item in found:
            if item.is_file():
                try:
                    out.append((str(item), item.read_bytes()))
                except OSError as exc:
                    fail(f"{item}: {exc.strerror}")
    if not out:
        fail("no report files (*.json) found in " + ", ".join(map(str, paths)))
    return out


def _verify_keys(key_files: tuple[Path, ...], key_dir: Path | None) -> dict[str, Ed25519PublicKey]:
    try:
        if key_files:
            found = [keys.load_public_key(path) for path in key_files]
            return {key_id(key): key for key in found}
        trusted = keys.trusted_keys(key_dir)
    except FtiscanError as exc:
        fail(str(exc))
    if not trusted:
        fail("no key to verify with: give --key FILE, or pin one with 'ftiscan key trust FILE'")
    return trusted


def _verify_text(outcome: Outcome) -> str:
    lines = []
    for item in outcome.files:
        if item.ok:
            lines.append(
                f"OK       {item.name}  sequence {item.sequence}  key {item.key_id[:16]}  "
                f"report {item.report_id}"
            )
        else:
            lines.append(f"INVALID  {item.name}  {item.reason}: {item.detail}")
    for chain in outcome.chains:
        span = f"sequences {chain.first}-{chain.last}, {chain.reports} report(s)"
        state = "intact" if not chain.problems else f"{len(chain.problems)} problem(s)"
        lines.append(f"chain of key {chain.key_id[:16]}: {span}: {state}")
        lines.extend(f"  {problem.message}" for problem in chain.problems)
    lines.append("VALID" if outcome.ok else "INVALID")
    return "\n".join(lines)


_key_option = click.option(
    "--key",
    "key_files",
    multiple=True,
    metavar="PEM",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Public key (PEM) to trust; repeatable (default: this agent's own key and the "
    "keys pinned with 'ftiscan key trust').",
)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_key_option
@key_dir_option
@click.option("--fleet", is_flag=True, help="Reports of several agents: one chain per key.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def verify(
    paths: tuple[Path, ...],
    key_files: tuple[Path, ...],
    key_dir: Path | None,
    fleet: bool,
    fmt: str,
) -> None:
    """Verify signed reports and their chain; exit 0 valid, 1 invalid, 2 error.

    Each file's signature, canonical form, payload schema and key are checked; for
    several files (a folder: every *.json under it, by name) also the chain: a gap, a
    reorder, a duplicate, a fork or a report from another key is named with the
    sequence numbers involved.

    \b
    Example:  ftiscan verify out/report.json --key agent.pub
              ftiscan verify reports/laptop-17/ --key laptop-17.pub
    """
    trusted = _verify_keys(key_files, key_dir)
    outcome = _verified(paths, trusted, fleet=fleet)
    if fmt == "json":
        click.echo(render_json(outcome.as_dict()))
    else:
        click.echo(_verify_text(outcome))
    sys.exit(EXIT_CLEAN if outcome.ok else EXIT_FOUND)


def _verified(
    paths: tuple[Path, ...], trusted: dict[str, Ed25519PublicKey], *, fleet: bool = False
) -> Outcome:
    """`verify_reports` of the report files under ``paths`` (imported here: a scan
    does not load the schema checks)."""
    from ftiscan.reports.verify import verify_reports

    return verify_reports(_report_files(paths), trusted, fleet=fleet)


@cli.command("render")
@click.argument("report_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option("default: text")
@_key_option
@key_dir_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
def render_command(
    report_file: Path,
    fmt: str | None,
    key_files: tuple[Path, ...],
    key_dir: Path | None,
    output: Path | None,
) -> None:
    """Verify a signed report, then render its payload as text, JSON, SARIF or HTML.

    \b
    Example:  ftiscan render out/report.json --format html -o report.html --key agent.pub
              ftiscan render out/report.json --format sarif > findings.sarif
    """
    trusted = _verify_keys(key_files, key_dir)
    outcome = _verified((report_file,), trusted)
    result = outcome.files[0]
    if not result.ok or result.payload is None:
        click.echo(
            f"ftiscan: invalid report {report_file}: {result.reason}: {result.detail}", err=True
        )
        sys.exit(EXIT_FOUND)
    text = render(result.payload, fmt or "text")
    if output is None:
        click.echo(text)
    else:
        write_durable(output, text.encode("utf-8") + b"\n")


@cli.group()
def key() -> None:
    """The agent's signing key and the keys it trusts."""


@key.command("export")
@key_dir_option
def key_export(key_dir: Path | None) -> None:
    """Print the agent's public key (PEM) on stdout and its key id on stderr.

    The key is made on first use. Counsel pins the printed key to verify this agent's
    reports (ftiscan verify --key FILE, or openssl pkeyutl -verify).

    \b
    Example:  ftiscan key export > laptop-17.pub
    """
    try:
        public = keys.agent_key(key_dir).public_key()
    except FtiscanError as exc:
        fail(str(exc))
    click.echo(keys.public_pem(public).decode("ascii"), nl=False)
    click.echo(f"key id: {key_id(public)}", err=True)


@key.command("trust")
@click.argument("pem", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@key_dir_option
def key_trust(pem: Path, key_dir: Path | None) -> None:
    """Pin another agent's public key, so that 'ftiscan verify' accepts its reports.

    \b
    Example:  ftiscan key trust laptop-17.pub
    """
    try:
        kid = keys.trust(pem, key_dir)
    except FtiscanError as exc:
        fail(str(exc))
    click.echo(f"trusted key id {kid}")


EXIT_INTERRUPTED = 2  # an error by the exit contract (0 clean, 1 found, 2 error), never "found"


def main() -> None:
    """The console script: click's own handling, but an interrupted run exits 2."""
    try:
        code = cli.main(prog_name="ftiscan", standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C, or EOF at a prompt
        click.echo("ftiscan: interrupted (nothing was signed for this run)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:  # usage errors: click's message, exit 2
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Ctrl-C while a worker pool starts surfaces as the pool's RuntimeError on
        # the way out, with the KeyboardInterrupt as its context: still "interrupted".
        if not _interrupted(exc):
            raise
        click.echo("ftiscan: interrupted (nothing was signed for this run)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
