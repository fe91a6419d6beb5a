"""Benchmark the real CLI on a large synthetic tree, against ripgrep and cat.

    python -m bench.run [--size-mb 512] [--out bench/out] [--seed 7]

The tree (default 512 MiB) is generated once and cached under
``OUT/tree-<size>mb-seed<seed>-v<version>/``: large text logs and CSV tables of 1-50 MB, a few
thousand small files, the synthetic home folder of ``tests.synthetic.home`` and a
sprinkling of positives (a 47,000-record export, small record files, single records
buried in large logs). Ground truth sits beside the tree, never inside it.

It then runs ``.venv/bin/ftiscan scan TREE --report OUT/report.json --format json
--quiet`` (exit 0 clean, 1 found, 2 error) and prints files, MB, files/s, MB/s, peak
RSS, CPU utilisation and file-level precision / recall for ``severity >= high``; with
``rg`` on PATH the time of an SSN-shaped regex search, and the time to ``cat`` every
file (the page-cache read limit), each the fastest of three runs, with the ratio to the
scan, itself the fastest of three (``--runs``). The logs and tables
subtrees are also scanned on their own (``--no-subsets`` skips that), each beside its
own rg and cat, and the end lists issue 9's targets (times rg, MB/s, peak RSS), each
"met" or "missed". The scans keep compiled bytecode as an installed ftiscan does
(`scan_env`; ``--no-bytecode`` runs them in the caller's environment as is).

Nothing printed carries generated values: only counts, times and file paths.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.synthetic.home import (
    LOREM,
    FileTruth,
    GroundTruth,
    build_home,
    prose_mention,
    taxpayer_csv,
)
from tests.synthetic.people import (
    BUSINESS_NAMES,
    CITIES,
    People,
    Taxpayer,
    dashed,
    invalid_tin_shapes,
)
from tests.synthetic.report import Score, file_severities, load_report, score

__all__ = [
    "BenchError",
    "Run",
    "Tree",
    "cat_all",
    "ensure_tree",
    "find_cli",
    "generate_tree",
    "main",
    "measure",
    "scan",
    "scan_env",
    "tree_size",
]

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
EXPORT_RECORDS = 47_000  # the size of the disclosure in the case behind ftiscan
SSN_REGEX = "[0-9]{3}-[0-9]{2}-[0-9]{4}"
TREE_VERSION = 2  # bump when the generated tree changes: old caches are not reused


class BenchError(Exception):
    """A condition that stops the benchmark; the message says what to do."""


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Tree:
    """A generated benchmark tree and its ground truth."""

    root: Path
    truth: GroundTruth
    files: int
    bytes: int


def _sizes(rng: random.Random, budget: int) -> list[int]:
    """File sizes of 1-50 MB, log-uniform, that add up to at least ``budget``."""
    sizes: list[int] = []
    total = 0
    while total < budget:
        size = int(math.exp(rng.uniform(math.log(1 * MIB), math.log(50 * MIB))))
        size = min(size, max(1 * MIB, budget - total))
        sizes.append(size)
        total += size
    return sizes


def _log_pool(rng: random.Random, people: People, count: int) -> list[str]:
    """Distinct log lines (with newline): access logs, app logs, JSON logs.

    They carry many numbers: timestamps, ids, sizes, SSN-shaped numbers that no rule
    allows, and now and then one valid-looking reference number with no name or
    address (a lone TIN is at most "medium").
    """
    bad = invalid_tin_shapes(rng, count // 8 + 5)
    agents = (
        "Mozilla/5.0 (X11; Linux x86_64)",
        "curl/8.5.0",
        "python-httpx/0.27",
        "Go-http-client/2.0",
    )
    pool: list[str] = []
    for index in range(count):
        ts = (
            f"2025-01-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"
        )
        kind = index % 4
        if kind == 0:
            pool.append(
                f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)} - - "
                f'[{ts}] "GET /api/v2/items/{rng.randint(1, 999_999)}?page={rng.randint(1, 40)} '
                f'HTTP/1.1" {rng.choice((200, 200, 200, 304, 404, 500))} '
                f'{rng.randint(120, 90_000)} "-" "{rng.choice(agents)}"\n'
            )
        elif kind == 1:
            tail = (
                f"trace={dashed(rng.choice(bad))}"
                if rng.random() < 0.3
                else f"span={rng.getrandbits(64):016x}"
            )
            pool.append(
                f"{ts} {rng.choice(('INFO ', 'DEBUG', 'WARN ', 'ERROR'))} "
                f"[worker-{rng.randint(1, 16)}] "
                f"order {rng.randint(10_000, 9_999_999)} processed in {rng.randint(1, 4000)} ms "
                f"items={rng.randint(1, 60)} {tail}\n"
            )
        elif kind == 2:
            pool.append(
                json.dumps(
                    {
                        "ts": ts,
                        "level": rng.choice(("info", "debug", "warn")),
                        "msg": " ".join(rng.choice(LOREM) for _ in range(rng.randint(3, 9))),
                        "key": f"item:{rng.randint(1, 999_999)}",
                        "latency_ms": round(rng.uniform(0.1, 900.0), 2),
                        "session": rng.choice(bad)
                        if rng.random() < 0.2
                        else f"{rng.getrandbits(40):x}",
                    }
                )
                + "\n"
            )
        else:
            ref = f" ref={dashed(people.tin())}" if rng.random() < 0.01 else ""
            pool.append(
                f"{ts} INFO  [scheduler] job {rng.randint(1, 500)} finished: "
                f"{rng.randint(0, 100_000)} rows, {rng.randint(0, 9_999)} skipped{ref}\n"
            )
    return pool


def _table_pools(rng: random.Random, count: int) -> list[tuple[str, list[str]]]:
    """(header, rows) for a few table schemas with no personal data."""
    orders, sensors, visits = [], [], []
    for index in range(count):
        city = rng.choice(CITIES)
        orders.append(
            f"{rng.randint(100_000_000, 899_999_999)},SKU-{rng.randint(1000, 99999)},"
            f"{rng.randint(1, 40)},{rng.uniform(0.5, 900):.2f},2024-{rng.randint(1, 12):02d}-"
            f'{rng.randint(1, 28):02d},"{rng.choice(BUSINESS_NAMES)}",{city.name},{city.state},'
            f"{city.zip3}{rng.randint(1, 99):02d}\n"
        )
        sensors.append(
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d},dev-{rng.randint(1, 4000):05d},"
            f"{rng.uniform(-20, 45):.3f},{rng.uniform(5, 95):.2f},{rng.randint(0, 100)}\n"
        )
        visits.append(
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},/docs/{rng.choice(LOREM)}/"
            f"{rng.choice(LOREM)}-{index % 997},{rng.randint(1, 50_000)},{rng.uniform(0, 1):.4f},"
            f"{rng.uniform(1, 600):.1f}\n"
        )
    return [
        ("order_id,sku,qty,unit_price,order_date,customer,ship_city,ship_state,ship_zip\n", orders),
        ("timestamp,device,temp_c,humidity,battery\n", sensors),
        ("date,url,visits,bounce_rate,avg_seconds\n", visits),
    ]


def _write_big(path: Path, head: str, pool: list[str], size: int, rng: random.Random) -> None:
    """Write ``head`` and lines drawn from ``pool`` until ``size`` bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(head)
        written += len(head)
        while written < size:
            chunk = "".join(rng.choices(pool, k=20_000))
            fh.write(chunk)
            written += len(chunk)


def _bury(path: Path, line: str, rng: random.Random) -> None:
    """Insert ``line`` at a line boundary somewhere in the middle of ``path``."""
    data = path.read_bytes()
    cut = data.index(b"\n", rng.randint(len(data) // 4, len(data) // 2)) + 1
    path.write_bytes(data[:cut] + line.encode() + data[cut:])


_SMALL_KINDS = ("py", "md", "json", "html", "txt", "csv")


def _small_file(rng: random.Random, kind: str, index: int) -> str:
    def words(n: int) -> str:
        return " ".join(rng.choice(LOREM) for _ in range(n))

    if kind == "py":
        body = "".join(
            f"def {rng.choice(LOREM)}_{n}(value: int) -> int:\n"
            f'    """{words(8).capitalize()}."""\n    return value * {rng.randint(2, 99)}\n\n\n'
            for n in range(rng.randint(2, 30))
        )
        return f'"""{words(6).capitalize()}."""\n\n' + body
    if kind == "md":
        return (
            f"# {words(3).title()}\n\n"
            + "\n\n".join(
                words(rng.randint(20, 120)).capitalize() + "." for _ in range(rng.randint(2, 12))
            )
            + "\n"
        )
    if kind == "json":
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        settings = {w: rng.randint(0, 5000) for w in rng.sample(LOREM, 12)}
        doc = {"name": words(2), "version": version, "settings": settings}
        return json.dumps(doc, indent=2) + "\n"
    if kind == "html":
        items = "".join(
            f"<li>{words(rng.randint(3, 12))}</li>\n" for _ in range(rng.randint(3, 60))
        )
        return (
            f"<!doctype html>\n<html><head><title>{words(3)}</title></head>\n"
            f"<body><ul>\n{items}</ul></body></html>\n"
        )
    if kind == "txt":
        return "\n".join(words(rng.randint(5, 15)) for _ in range(rng.randint(5, 200))) + "\n"
    rows = "".join(
        f"{index}-{n},{rng.choice(LOREM)},{rng.randint(0, 9999)},{rng.uniform(0, 100):.2f}\n"
        for n in range(rng.randint(5, 300))
    )
    return "id,label,count,ratio\n" + rows


def _small_positive(
    rng: random.Random, people: People, index: int
) -> tuple[str, str, str, str, list[Taxpayer]]:
    """(relative name, text, format, severity, taxpayers) of one small record file."""
    rows = people.taxpayers(rng.randint(1, 25))
    kind = index % 3
    if kind == 0:
        return f"export_{index:03d}.csv", taxpayer_csv(rows), "csv-header", "critical", rows
    if kind == 1:
        text = "\n\n".join(
            f"{prose_mention(t, rng)} {' '.join(rng.choice(LOREM) for _ in range(40))}."
            for t in rows
        )
        return f"notes_{index:03d}.txt", text + "\n", "prose", "critical", rows
    text = "Name,SSN\n" + "".join(f"{t.full_name},{dashed(t.ssn)}\n" for t in rows)
    return f"names_{index:03d}.csv", text, "csv-tin-name-no-address", "high", rows


def generate_tree(base: Path, size_mb: int, seed: int) -> Tree:
    """Write the tree under ``base/tree`` and its truth to ``base/truth.json``."""
    rng = random.Random(seed)
    tree = base / "tree"
    started = time.perf_counter()
    print(f"generating {size_mb} MiB benchmark tree in {tree} (once; cached) ...", flush=True)

    home_scale = max(1, min(4, size_mb // 128))
    truth = GroundTruth().merged(
        build_home(tree / "home", seed=seed, scale=home_scale, truth_path=base / "home.truth.json"),
        "home",
    )
    people = People(seed + 1, unique_names=False)
    people.reserve(s for s in truth.secrets if len(s) == 9 and s.isdigit())
    files: dict[str, FileTruth] = dict(truth.files)
    secrets: set[str] = set(truth.secrets)

    def positive(rel: str, fmt: str, severity: str, rows: Sequence[Taxpayer]) -> None:
        files[rel] = FileTruth("positive", severity, severity, len({t.ssn for t in rows}), fmt)
        for t in rows:
            secrets.update(t.secrets())

    # a few thousand small files, with small record files among them
    small_count = max(100, min(3000, size_mb * 6))
    for index in range(small_count):
        folder = f"small/project-{index % 40:02d}/{rng.choice(('src', 'docs', 'data', 'notes'))}"
        if index % 125 == 62:
            name, text, fmt, severity, rows = _small_positive(rng, people, index)
            rel = f"{folder}/{name}"
            positive(rel, fmt, severity, rows)
        else:
            kind = _SMALL_KINDS[index % len(_SMALL_KINDS)]
            rel, text = f"{folder}/file_{index:05d}.{kind}", _small_file(rng, kind, index)
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text, encoding="utf-8")

    # the big export: one positive with tens of thousands of records
    export = people.taxpayers(EXPORT_RECORDS)
    rows = list(export) + [rng.choice(export) for _ in range(EXPORT_RECORDS // 100)]
    rng.shuffle(rows)
    rel = "tables/exports/taxpayer_master_2024.csv"
    (tree / rel).parent.mkdir(parents=True, exist_ok=True)
    (tree / rel).write_text(taxpayer_csv(rows), encoding="utf-8")
    positive(rel, "csv-header-large", "critical", rows)

    used = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    budget = max(0, size_mb * MIB - used)
    log_pool = _log_pool(rng, people, 40_000)
    logs: list[Path] = []
    for index, size in enumerate(_sizes(rng, budget // 2)):
        service = rng.choice(("api", "worker", "gateway", "billing", "search"))
        logs.append(tree / f"logs/{service}/{service}-{index:03d}.log")
        _write_big(logs[-1], "", log_pool, size, rng)
        # lone valid-looking TINs without name or address: "medium" at most
        files[logs[-1].relative_to(tree).as_posix()] = FileTruth(
            "trap", None, "medium", 0, "log-lone-tins"
        )
    for path in rng.sample(logs, min(3, len(logs))):
        taxpayer = people.taxpayer()
        _bury(
            path, f"2025-01-14T09:00:00.000Z WARN  [export] {prose_mention(taxpayer, rng)}\n", rng
        )
        positive(path.relative_to(tree).as_posix(), "log-buried-record", "critical", [taxpayer])

    pools = _table_pools(rng, 30_000)
    used = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    for index, size in enumerate(_sizes(rng, max(0, size_mb * MIB - used))):
        head, pool = pools[index % len(pools)]
        name = ("orders", "sensors", "visits")[index % len(pools)]
        rel = f"tables/{name}/{name}-{index:03d}.csv"
        _write_big(tree / rel, head, pool, size, rng)
        # orders: 9-digit order numbers beside business names and addresses
        limit = "medium" if name == "orders" else None
        files[rel] = FileTruth("trap", None, limit, 0, f"csv-{name}")

    result = GroundTruth(files, sorted(secrets))
    result.write(base / "truth.json")  # written last: marks the tree complete
    count, total = tree_size(tree)
    print(
        f"generated {count} files, {total / MIB:.0f} MiB in {time.perf_counter() - started:.0f} s"
    )
    return Tree(tree, result, count, total)


def tree_size(root: Path) -> tuple[int, int]:
    """(files, bytes) of the regular files under ``root``."""
    count = total = 0
    for path in root.rglob("*"):
        if path.is_file():
            count += 1
            total += path.stat().st_size
    return count, total


def ensure_tree(out: Path, size_mb: int, seed: int) -> Tree:
    """The cached tree for (size, seed), generated if missing or incomplete."""
    base = out / f"tree-{size_mb}mb-seed{seed}-v{TREE_VERSION}"
    truth_file = base / "truth.json"
    if truth_file.exists():
        count, total = tree_size(base / "tree")
        return Tree(base / "tree", GroundTruth.load(truth_file), count, total)
    if base.exists():
        shutil.rmtree(base)  # an interrupted earlier generation of ours
    base.mkdir(parents=True)
    return generate_tree(base, size_mb, seed)


# --------------------------------------------------------------------------- measuring


@dataclass(slots=True)
class Run:
    """One measured child process."""

    command: str
    returncode: int
    wall_s: float
    cpu_s: float
    peak_tree_rss_mb: float  # sampled: child + all its descendants, summed
    peak_process_rss_mb: float  # sampled: the largest single process
    stderr_tail: list[str] = field(default_factory=list)


def _rss_mb(kb_or_bytes: int) -> float:
    """ru_maxrss is KiB on Linux and bytes on macOS."""
    return kb_or_bytes / (MIB if sys.platform == "darwin" else 1024)


def measure(
    argv: Sequence[str], stdout: Any = subprocess.DEVNULL, env: dict[str, str] | None = None
) -> Run:
    """Run ``argv``, sampling the RSS of it and its descendants every 50 ms."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peaks = [0, 0]
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=stdout, stderr=err, env=env)
        done = threading.Event()

        def sample() -> None:
            try:
                parent = psutil.Process(proc.pid)
            except psutil.Error:
                return
            while not done.is_set():
                total = biggest = 0
                try:
                    for p in [parent, *parent.children(recursive=True)]:
                        try:
                            rss = p.memory_info().rss
                        except psutil.Error:
                            continue
                        total += rss
                        biggest = max(biggest, rss)
                except psutil.Error:
                    pass
                peaks[0], peaks[1] = max(peaks[0], total), max(peaks[1], biggest)
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = proc.wait()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").splitlines()[-20:]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        " ".join(str(a) for a in argv), returncode, wall, cpu, peaks[0] / MIB, peaks[1] / MIB, tail
    )


def find_cli(explicit: Path | None = None) -> Path:
    """The ftiscan console script (``explicit``, else the project's ``.venv``, else
    PATH), checked with ``scan --help``; a BenchError says how to get one."""
    if explicit is not None and not explicit.exists():
        raise BenchError(f"--cli {explicit} does not exist")
    candidates = [REPO / ".venv" / "bin" / "ftiscan", Path(sys.executable).parent / "ftiscan"]
    for candidate in [explicit] if explicit is not None else candidates:
        if candidate.exists():
            cli = candidate
            break
    else:
        found = shutil.which("ftiscan")
        if found is None:
            raise BenchError(
                f"ftiscan CLI not found ({REPO / '.venv/bin/ftiscan'} missing, none on PATH): "
                "run `make dev` first"
            )
        cli = Path(found)
    check = subprocess.run(
        [str(cli), "scan", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise BenchError(f"`{cli} scan --help` failed (exit {check.returncode}): {last}")
    return cli


def scan_env(out: Path) -> dict[str, str]:
    """The environment of the measured scans: this one, with Python's compiled bytecode
    kept (under ``out/pycache``, not beside the sources), as a pip-installed ftiscan has
    it. Without it (PYTHONDONTWRITEBYTECODE=1, as on some build machines) every worker
    compiles its modules from source at start, about 0.3 s of CPU per process."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
    return env


def scan(
    cli: Path, root: Path, report: Path, extra: Sequence[str], env: dict[str, str] | None = None
) -> Run:
    """Run one scan; exit 0 (clean) and 1 (found) are success."""
    if report.exists():
        report.unlink()
    argv = [str(cli), "scan", str(root), "--report", str(report), "--format", "json", "--quiet"]
    run = measure([*argv, *extra], env=env)
    if run.returncode not in (0, 1):
        tail = "\n  ".join(run.stderr_tail) or "(no stderr)"
        raise BenchError(f"scan of {root} failed with exit {run.returncode}:\n  {tail}")
    if not report.exists():
        raise BenchError(f"scan of {root} exited {run.returncode} but wrote no {report}")
    return run


def rounds(
    cli: Path,
    root: Path,
    report: Path,
    extra: Sequence[str],
    env: dict[str, str] | None,
    runs: int,
    baselines: bool,
) -> tuple[Run, Run | None, Run | None]:
    """``runs`` rounds of a `scan`, then (with ``baselines``) rg when on PATH and cat,
    side by side so that all three meet the machine in the same state (its times
    drift by a fifth within a minute): the fastest run of each. The scan keeps the
    highest peak RSS of its runs; the report is the last run's (each run reads the
    same tree the same way)."""
    scans: list[Run] = []
    rgs: list[Run] = []
    cats: list[Run] = []
    command = ["rg", "-a", "-c", "--hidden", "--no-ignore", SSN_REGEX, str(root)]
    for _ in range(max(1, runs)):
        scans.append(scan(cli, root, report, extra, env))
        if baselines:
            if shutil.which("rg"):
                rgs.append(measure(command))
            cats.append(cat_all(root))
    best = min(scans, key=lambda r: r.wall_s)
    best = dataclasses.replace(
        best,
        peak_tree_rss_mb=max(r.peak_tree_rss_mb for r in scans),
        peak_process_rss_mb=max(r.peak_process_rss_mb for r in scans),
    )
    fastest = lambda done: min(done, key=lambda r: r.wall_s) if done else None  # noqa: E731
    return best, fastest(rgs), fastest(cats)


def cat_all(root: Path) -> Run:
    """``find ROOT -type f -print0 | xargs -0 cat > /dev/null``, timed."""
    started = time.perf_counter()
    with subprocess.Popen(
        ["find", str(root), "-type", "f", "-print0"], stdout=subprocess.PIPE
    ) as find:
        assert find.stdout is not None
        xargs = subprocess.Popen(
            ["xargs", "-0", "cat"], stdin=find.stdout, stdout=subprocess.DEVNULL
        )
        find.stdout.close()
        code = xargs.wait()
    return Run("find | xargs cat > /dev/null", code, time.perf_counter() - started, 0.0, 0.0, 0.0)


def warm(root: Path) -> None:
    """Read every file once so that all runs start from the page cache."""
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(8 * MIB):
                    pass


# --------------------------------------------------------------------------- reporting


def _subset(truth: GroundTruth, prefix: str) -> set[str]:
    return {rel for rel in truth.files if rel.startswith(prefix + "/")}


def _score_run(
    tree: Tree, report_path: Path, scan_root: Path, prefix: str | None
) -> tuple[Score, dict[str, Any]]:
    report = load_report(report_path)
    severities = file_severities(report, scan_root, tree.root)
    if prefix is not None:
        severities = {rel: v for rel, v in severities.items() if rel.startswith(prefix + "/")}
        result = score(tree.truth, severities, only=_subset(tree.truth, prefix) | set(severities))
    else:
        result = score(tree.truth, severities)
    coverage = report.get("coverage", {})
    return result, coverage if isinstance(coverage, dict) else {}


def _line(label: str, value: str) -> None:
    print(f"  {label:<28} {value}")


def _print_scan(name: str, run: Run, files: int, size: int, result: Score) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    mb = size / MIB
    row: dict[str, Any] = {
        "files": files,
        "mb": round(mb, 1),
        "wall_s": round(run.wall_s, 3),
        "files_per_s": round(files / run.wall_s, 1),
        "mb_per_s": round(mb / run.wall_s, 1),
        "cpu_s": round(run.cpu_s, 2),
        "cpu_utilisation": round(run.cpu_s / run.wall_s / cores, 3),
        "peak_tree_rss_mb": round(run.peak_tree_rss_mb, 1),
        "peak_process_rss_mb": round(run.peak_process_rss_mb, 1),
        "exit": run.returncode,
        "precision": round(result.precision, 4),
        "recall": round(result.recall, 4),
        "true_positives": len(result.true_positives),
        "false_positives": result.false_positives,
        "false_negatives": result.false_negatives,
        "trap_violations": result.trap_violations,
        "severity_exact": result.severity_exact,
        "records_exact": result.records_exact,
        "records_mismatch": result.records_mismatch,
    }
    print(f"\n{name}")
    _line("files / size", f"{files} files, {mb:.1f} MiB")
    _line("wall, fastest run", f"{run.wall_s:.2f} s (exit {run.returncode})")
    _line("throughput", f"{row['files_per_s']} files/s, {row['mb_per_s']} MiB/s")
    _line(
        "CPU",
        f"{run.cpu_s:.1f} s = {run.cpu_s / run.wall_s:.1f} cores of {cores} "
        f"({100 * row['cpu_utilisation']:.0f}%)",
    )
    _line(
        "peak RSS (sampled)",
        f"{run.peak_tree_rss_mb:.0f} MiB all processes, {run.peak_process_rss_mb:.0f} MiB largest",
    )
    wanted = len(result.true_positives) + len(result.false_negatives)
    _line(
        "severity >= high",
        f"precision {result.precision:.3f}, recall {result.recall:.3f} "
        f"({len(result.true_positives)}/{wanted} positives, "
        f"{len(result.false_positives)} false positives)",
    )
    _line(
        "exact on positives",
        f"severity {result.severity_exact}/{wanted}, records {result.records_exact}/{wanted}",
    )
    for label, paths in (
        ("missed", result.false_negatives),
        ("false positive", result.false_positives),
        ("records differ", result.records_mismatch),
        ("over max severity", result.trap_violations),
    ):
        for rel in paths[:5]:
            _line(label, rel)
        if len(paths) > 5:
            _line(label, f"... and {len(paths) - 5} more")
    return row


BASELINE_RUNS = 3  # rounds of scan, rg and cat (`rounds`); the fastest of each counts


def _baselines(run: Run, rg: Run | None, cat: Run | None, runs: int) -> dict[str, Any]:
    """Print and return rg's and cat's times (the fastest of their rounds) with the
    ratio of the scan's wall time to each."""
    out: dict[str, Any] = {}
    if rg is not None:
        out["rg"] = {"wall_s": round(rg.wall_s, 3), "ratio": round(run.wall_s / rg.wall_s, 2)}
        _line(
            f"rg -a -c SSN, best of {runs}",
            f"{rg.wall_s:.2f} s; scan is {run.wall_s / rg.wall_s:.1f}x rg",
        )
    else:
        _line("rg", "not on PATH: skipped")
    if cat is not None:
        out["cat"] = {"wall_s": round(cat.wall_s, 3), "ratio": round(run.wall_s / cat.wall_s, 2)}
        _line(
            f"cat > /dev/null, best of {runs}",
            f"{cat.wall_s:.2f} s; scan is {run.wall_s / cat.wall_s:.1f}x cat",
        )
    return out


# Issue 9's targets: (label, ratio key, most times rg's wall time).
_RG_TARGETS = (
    ("full tree", "full", 5.0),
    ("text logs", "logs", 3.0),
    ("CSV tables", "tables", 3.0),
)


def _targets(result: dict[str, Any], ratios: dict[str, float | None]) -> None:
    """Print each target of issue 9 beside the figure measured ("met" or "missed")."""
    print("\ntargets")
    for label, key, most in _RG_TARGETS:
        ratio = ratios.get(key)
        if ratio is not None:
            verdict = "met" if ratio <= most else "missed"
            _line(f"{label} <= {most:g}x rg", f"{ratio:.1f}x ({verdict})")
    full = result["full"]
    mbps = full["mb_per_s"]
    _line(
        "full tree >= 100 MB/s", f"{mbps} MiB/s ({'met' if mbps * MIB / 1e6 >= 100 else 'missed'})"
    )
    rss = full["peak_tree_rss_mb"]
    _line("peak RSS < 300 MB", f"{rss} MiB ({'met' if rss * MIB / 1e6 < 300 else 'missed'})")


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (or reuse) the tree, scan it, compare, print; 0 ok, 2 on any failure."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=512, help="tree size in MiB (default 512)")
    parser.add_argument("--out", type=Path, default=Path("bench/out"), help="output folder")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli", type=Path, help="ftiscan executable (default: .venv/bin/ftiscan)")
    parser.add_argument("--no-subsets", action="store_true", help="skip the logs/tables scans")
    parser.add_argument(
        "--runs",
        type=int,
        default=BASELINE_RUNS,
        help="rounds of scan, rg and cat; the fastest of each counts",
    )
    parser.add_argument("--no-baselines", action="store_true", help="skip rg and cat")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="run the scans with the caller's environment as is (see scan_env)",
    )
    parser.add_argument(
        "--scan-arg", action="append", default=[], metavar="ARG",
        help="extra argument for `ftiscan scan` (repeatable), e.g. --scan-arg=--workers=4",
    )  # fmt: skip
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    try:
        cli = find_cli(args.cli)
        tree = ensure_tree(out, args.size_mb, args.seed)
        warm(tree.root)
        env = None if args.no_bytecode else scan_env(out)
        if env is not None:  # compile the bytecode once, outside the measured runs
            small = tree.root / "home"
            scan(cli, small if small.is_dir() else tree.root, out / "warmup.json", [], env)
        result: dict[str, Any] = {"size_mb": args.size_mb, "seed": args.seed, "cli": str(cli)}

        baselines = not args.no_baselines
        run, rg, cat = rounds(
            cli, tree.root, out / "report.json", args.scan_arg, env, args.runs, baselines
        )
        largest = _rss_mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        scored, coverage = _score_run(tree, out / "report.json", tree.root, None)
        row = _print_scan("full tree", run, tree.files, tree.bytes, scored)
        row["ru_maxrss_mb"] = round(largest, 1)
        _line("peak RSS (ru_maxrss)", f"{largest:.0f} MiB largest descendant")
        counts = {k: v for k, v in coverage.items() if isinstance(v, int | float)}
        if counts:
            _line("report coverage", json.dumps(counts, sort_keys=True))
        result["full"] = row

        if baselines:
            result.update(_baselines(run, rg, cat, args.runs))
        ratios = {"full": result.get("rg", {}).get("ratio")}

        if not args.no_subsets:
            for prefix, label in (("logs", "text logs only"), ("tables", "CSV tables only")):
                root = tree.root / prefix
                count, size = tree_size(root)
                report = out / f"report-{prefix}.json"
                sub, rg, cat = rounds(cli, root, report, args.scan_arg, env, args.runs, baselines)
                scored, _ = _score_run(tree, report, root, prefix)
                result[prefix] = _print_scan(label, sub, count, size, scored)
                if baselines:
                    result[prefix].update(_baselines(sub, rg, cat, args.runs))
                    ratios[prefix] = result[prefix].get("rg", {}).get("ratio")
        _targets(result, ratios)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench-result.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"\nresults: {out / 'bench-result.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
