"""The ftiscan command line: thin commands over the engine and the report model."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar

import click

from ftiscan.agent.keys import fingerprint_key
from ftiscan.agent.progress import Progress
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.render import render_json, render_text
from ftiscan.reports.report import build_report
from ftiscan.reports.store import write_durable
from ftiscan.scanner import selftest
from ftiscan.scanner.detect import Detector
from ftiscan.scanner.engine import Context, ScanOptions, WalkTotals, roots_of, run_scan
from ftiscan.scanner.errors import FtiscanError, PackError
from ftiscan.scanner.examples import run_examples
from ftiscan.scanner.model import Limits
from ftiscan.scanner.packs import compile_pack, load_packs
from ftiscan.scanner.walk import WalkOptions

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def tool_version() -> str:
    try:
        return version("ftiscan")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


class Size(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.5 on; bare for 8.1
    """A byte size: 1048576, 512K, 100M, 2G."""

    name = "size"
    _UNITS: ClassVar[dict[str, int]] = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1:] if text[-1:] in self._UNITS else ""
        number = text[: len(text) - len(unit)]
        if not number.isdigit():
            self.fail(f"{value!r} is not a size like 100M", param, ctx)
        return int(number) * self._UNITS[unit]


def fail(message: str) -> None:
    click.echo(f"ftiscan: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default=None,
    help="What goes to standard output (default: text on a terminal, else json).",
)
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
    default="512M",
    show_default=True,
    help="Skip larger files (coverage reason limit:size).",
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
@click.option(
    "--key-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the agent's keys (default: the platform's data folder).",
)
def scan(
    paths: tuple[Path, ...],
    report_path: Path | None,
    fmt: str | None,
    quiet: bool,
    signature_dirs: tuple[Path, ...],
    excludes: tuple[str, ...],
    max_file_size: int,
    one_file_system: bool,
    follow_symlinks: bool,
    jobs: int,
    approved: tuple[str, ...],
    key_dir: Path | None,
) -> None:
    """Scan PATHS once; write the report; exit 0 clean, 1 found, 2 error.

    \b
    Example:  ftiscan scan ~ --report out/report.json
              ftiscan scan /srv/share --exclude '*.iso' --format json > findings.json
    """
    try:
        packs = load_packs(signature_dirs)
        key = fingerprint_key(key_dir)
    except FtiscanError as exc:
        fail(str(exc))
    limits = Limits(max_file_bytes=max_file_size)
    options = ScanOptions(
        roots=roots_of(paths),
        pack_sources=packs.sources,
        key=key,
        walk=WalkOptions(
            excludes=excludes,
            max_file_bytes=max_file_size,
            one_file_system=one_file_system,
            follow_symlinks=follow_symlinks,
        ),
        limits=limits,
        jobs=jobs,
        approved=approved,
    )
    check = selftest.run(Context(options, packs))
    if not check.passed:
        fail("self-test failed, not scanning: " + "; ".join(check.failures))
    totals = WalkTotals()
    with Progress(totals, Progress.wanted(quiet)) as progress:
        result = run_scan(options, progress=progress, totals=totals, packs=packs)
    report = build_report(
        roots=options.roots,
        findings=result.findings,
        coverage=result.coverage.as_dict(),
        started=result.started,
        ended=result.ended,
        tool_version=tool_version(),
        packs=packs.describe(),
        selftest=check.as_dict(),
        options={
            "excludes": list(excludes),
            "max_file_size": max_file_size,
            "one_file_system": one_file_system,
            "follow_symlinks": follow_symlinks,
            "approved": list(approved),
        },
    )
    if report_path is not None:
        write_durable(report_path, canonical_bytes(report))
    fmt = fmt or ("text" if sys.stdout.isatty() else "json")
    if fmt == "text":
        click.echo(render_text(report, str(report_path) if report_path else None))
    else:
        click.echo(render_json(report))
    sys.exit(EXIT_FOUND if report["summary"]["verdict"] == "found" else EXIT_CLEAN)


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


def main() -> None:
    cli(prog_name="ftiscan")
