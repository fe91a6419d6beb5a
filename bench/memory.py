"""Benchmark memory against file size: one worker's peak RSS for one large file.

    python -m bench.memory [--sizes 32,128] [--out bench/out]

For each shape (a JSON-looking log: JSON object lines among access-log lines; a JSON
array of records; a CSV export; a plain text log) and each size in MiB, generates
(cached under ``OUT/memory-seed<seed>-v1/``) one file of synthetic lines with a few
hundred synthetic taxpayers among them, scans it alone with ``--jobs 1`` through the
real CLI and prints wall, MiB/s and the peak RSS of the scanning process. The target:
memory does not grow with the file (peak RSS at the largest size within 32 MiB of the
smallest, per shape). Nothing printed carries generated values.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.run import MIB, BenchError, find_cli, scan, scan_env
from tests.synthetic.people import People, Taxpayer, dashed

VERSION = 1
GROWTH_MIB = 32  # allowed growth of peak RSS from the smallest to the largest file


def _log_line(rng: random.Random, n: int) -> str:
    if n % 2:
        record = {"ts": f"2026-01-{n % 28 + 1:02d}", "level": "info", "n": n, "ms": rng.random()}
        return json.dumps(record)
    return f'10.0.{n % 256}.{rng.randrange(256)} - - "GET /api/items/{n} HTTP/1.1" 200 {n % 9000}'


def _taxpayer_row(person: Taxpayer) -> dict[str, str]:
    return {"name": person.full_name, "ssn": dashed(person.ssn), "street": person.street}


def _lines(shape: str, rng: random.Random, people: list[Taxpayer]) -> Iterator[str]:
    """Endless lines of ``shape``, a taxpayer every 5,000 lines while they last."""
    n = 0
    while True:
        n += 1
        person = people[n // 5000] if n % 5000 == 0 and n // 5000 < len(people) else None
        if shape == "json-log":
            yield json.dumps(_taxpayer_row(person)) if person else _log_line(rng, n)
        elif shape == "json-array":
            row = _taxpayer_row(person) if person else {"id": str(n), "note": f"item {n}"}
            yield json.dumps(row)
        elif shape == "csv":
            row = (
                _taxpayer_row(person) if person else {"name": f"item {n}", "ssn": "", "street": ""}
            )
            yield ",".join(row.values())
        else:
            yield (
                f"{person.full_name} {dashed(person.ssn)}"
                if person
                else f"event {n} ok {rng.random()}"
            )


def write_file(path: Path, shape: str, size: int, seed: int) -> None:
    """About ``size`` bytes of ``shape`` in ``path``."""
    rng = random.Random(seed)
    people = People(seed).taxpayers(400)
    written = 0
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as fh:
        first, join, last = {
            "json-array": ("[\n", ",\n", "\n]\n"),
            "csv": ("name,ssn,street\n", "\n", "\n"),
        }.get(shape, ("", "\n", "\n"))
        fh.write(first)
        for index, line in enumerate(_lines(shape, rng, people)):
            if written >= size:
                break
            piece = (join if index else "") + line
            fh.write(piece)
            written += len(piece)
        fh.write(last)
    tmp.rename(path)


SHAPES: dict[str, str] = {
    "json-log": "log",
    "json-array": "json",
    "csv": "csv",
    "text-log": "log",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,128", help="file sizes in MiB (default 32,128)")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli", type=Path)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    cli = find_cli(args.cli)
    base = args.out / f"memory-seed{args.seed}-v{VERSION}"
    base.mkdir(parents=True, exist_ok=True)
    env = scan_env(args.out)
    print(f"one file, --jobs 1 (files under {base})")
    print(f"  {'shape':<11} {'MiB':>5} {'wall s':>7} {'MiB/s':>7} {'peak RSS MiB':>13}  exit")
    failed: list[str] = []
    for shape, suffix in SHAPES.items():
        peaks: list[float] = []
        for size in sizes:
            path = base / f"{shape}-{size}mb.{suffix}"
            if not path.exists():
                write_file(path, shape, size * MIB, args.seed)
            run = scan(cli, path, base / "report.json", ["--jobs", "1"], env)
            mib = path.stat().st_size / MIB
            peaks.append(run.peak_process_rss_mb)
            print(
                f"  {shape:<11} {mib:>5.0f} {run.wall_s:>7.2f} {mib / run.wall_s:>7.1f}"
                f" {run.peak_process_rss_mb:>13.0f}  {run.returncode}"
            )
        growth = peaks[-1] - peaks[0]
        if growth > GROWTH_MIB:
            failed.append(f"{shape} +{growth:.0f} MiB")
    verdict = "met" if not failed else "NOT met: " + ", ".join(failed)
    print(
        f"target: peak RSS grows <= {GROWTH_MIB} MiB from {sizes[0]} to {sizes[-1]} MiB: {verdict}"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench.memory: {exc}", file=sys.stderr)
        sys.exit(2)
