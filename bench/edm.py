"""Benchmark exact data match: index build, size, lookups, and recall on copies.

    python -m bench.edm [--records 50000] [--per-file 200] [--bulk 20000] [--out bench/out]

Generates (``tests.synthetic.edm``, cached under ``OUT/edm-<records>-seed<seed>-v1/``) a
disclosed list of ``--records`` synthetic taxpayers, reformatted copies of parts of it
in every layout (mail-merge sheet, labels, CRM JSON and JSON Lines, memos, XLSX, DOCX
table, headerless CSV, and a ``--bulk`` mail-merge sheet) diluted among strangers, and
look-alike lists of strangers, with per-file truth beside them. Then, with the real
CLI (key and state folders under OUT):

* ``ftiscan edm build``: wall, CPU, peak RSS, rows/s, index size;
* lookups in process (`EdmMatcher.row` over rows of strangers and of disclosed
  people, `EdmMatcher.text` over memo windows): rows/s and keyed lookups/s;
* ``ftiscan scan COPIES --edm INDEX`` and the same scan without the index: wall, and
  recall (disclosed records found / in the files), exact files, false hits (records
  reported in look-alike files).

Nothing printed carries generated values: only counts, sizes and times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.run import BenchError, find_cli, measure, scan
from tests.synthetic.edm import (
    EdmTruth,
    disclosed_list,
    stranger_list,
    write_copies,
    write_disclosed_csv,
)
from tests.synthetic.people import dashed
from tests.synthetic.report import load_report

VERSION = 1
RULE = "fti.edm-record"


def ensure_data(out: Path, records: int, per_file: int, bulk: int, seed: int) -> Path:
    """The cached data folder (disclosed.csv, copies/, copies.truth.json)."""
    base = out / f"edm-{records}-pf{per_file}-b{bulk}-seed{seed}-v{VERSION}"
    done = base / "done"
    if done.exists():
        return base
    if base.exists():
        raise BenchError(f"{base} is incomplete (an earlier run stopped): remove it")
    base.mkdir(parents=True)
    rng = random.Random(seed)
    disclosed = disclosed_list(rng, records)
    strangers = stranger_list(rng, max(1000, records // 10), disclosed)
    write_disclosed_csv(base / "disclosed.csv", disclosed)
    write_copies(base / "copies", disclosed, strangers, rng, per_file=per_file, bulk=bulk)
    done.write_text("ok\n", encoding="ascii")
    return base


def _lookups(index_path: Path, key_dir: Path, data: Path, rows: int) -> dict[str, Any]:
    """Rows/s of `EdmMatcher.row` on strangers and on disclosed people, windows/s of
    `EdmMatcher.text`, and the keyed lookups those made."""
    from ftiscan.agent import keys
    from ftiscan.scanner.edm import EdmMatcher, load_index

    fleet = keys.fleet_key(key_dir)
    if fleet is None:
        raise BenchError(f"no fleet key in {key_dir}")
    started = time.perf_counter()
    index = load_index(index_path, fleet, keys.trusted_keys(key_dir))
    load_s = time.perf_counter() - started
    matcher = EdmMatcher(index)
    rng = random.Random(3)
    people = disclosed_list(random.Random(987_654), 2000)  # not on the list (another seed)
    listed = _read_people(data / "disclosed.csv", 2000)
    out: dict[str, Any] = {"load_s": round(load_s, 3)}
    contains = type(index).__contains__
    calls = [0]

    def counting(self: Any, item: tuple[str, str]) -> bool:
        calls[0] += 1
        return contains(self, item)

    type(index).__contains__ = counting  # type: ignore[method-assign] # measuring only
    try:
        for label, group in (("stranger rows", people), ("disclosed rows", listed)):
            cells = [_row(p) for p in group]
            batch = [cells[rng.randrange(len(cells))] for _ in range(rows)]
            calls[0] = 0
            hits = 0
            started = time.perf_counter()
            for row in batch:
                hits += bool(matcher.row(row, {}))
            elapsed = time.perf_counter() - started
            out[label] = {
                "rows_per_s": round(rows / elapsed),
                "lookups_per_s": round(calls[0] / elapsed),
                "rows_hit": hits,
                "rows": rows,
            }
        texts = [_memo(p) for p in listed[:500]]
        calls[0] = 0
        started = time.perf_counter()
        hits = sum(len(matcher.text(text)) for text in texts)
        elapsed = time.perf_counter() - started
        out["memo windows"] = {
            "windows_per_s": round(len(texts) / elapsed),
            "lookups_per_s": round(calls[0] / elapsed),
            "hits": hits,
            "windows": len(texts),
        }
    finally:
        type(index).__contains__ = contains  # type: ignore[method-assign]
    return out


class _Person:
    __slots__ = ("city", "name", "state", "street", "tin", "zip")

    def __init__(self, row: dict[str, str]) -> None:
        self.tin = row["TIN"]
        self.name = f"{row['FIRST']} {row['LAST']}"
        self.street = f"{row['STREET']} {row['UNIT']}".strip()
        self.city, self.state, self.zip = row["CITY"], row["STATE"], row["ZIP"]


def _read_people(path: Path, count: int) -> list[Any]:
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        return [_Person(row) for _, row in zip(range(count), csv.DictReader(fh), strict=False)]


def _row(p: Any) -> list[str]:
    name = p.name if isinstance(p, _Person) else p.full_name
    return [dashed(p.tin), name, p.street, p.city, p.state, p.zip]


def _memo(p: Any) -> str:
    return f"Called {p.name} at {p.street}, {p.city}, {p.state} {p.zip} about the notice."


def _score(report: dict[str, Any], root: Path, truth: EdmTruth) -> dict[str, Any]:
    found: dict[str, int] = {}
    for finding in report["findings"]:
        if finding["rule"] == RULE:
            rel = Path(finding["path"]).relative_to(root).as_posix()
            found[rel] = found.get(rel, 0) + int(finding["records"])
    positives, lookalikes = truth.positives(), truth.lookalikes()
    wanted = sum(f.records for f in positives.values())
    got = sum(min(found.get(rel, 0), f.records) for rel, f in positives.items())
    return {
        "recall": round(got / wanted, 5) if wanted else None,
        "records_in_copies": wanted,
        "records_found": sum(found.get(rel, 0) for rel in positives),
        "exact_files": sum(found.get(rel, 0) == f.records for rel, f in positives.items()),
        "positive_files": len(positives),
        "false_hits": sum(found.get(rel, 0) for rel in lookalikes),
        "lookalike_files": len(lookalikes),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edm", description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--per-file", type=int, default=200)
    parser.add_argument("--bulk", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=20_000, help="rows per lookup measurement")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--cli", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        cli = find_cli(args.cli)
        data = ensure_data(args.out, args.records, args.per_file, args.bulk, args.seed)
        work = args.out / "edm-run"
        key_dir = work / "keys"
        os.environ["FTISCAN_KEY_DIR"] = str(key_dir)
        os.environ["FTISCAN_STATE_DIR"] = str(work / "state")
        work.mkdir(parents=True, exist_ok=True)
        index = work / "fti.edm"
        build = measure([str(cli), "edm", "build", str(data / "disclosed.csv"), "-o", str(index)])
        if build.returncode != 0:
            raise BenchError("edm build failed:\n  " + "\n  ".join(build.stderr_tail))
        truth = EdmTruth.load(data / "copies.truth.json")
        copies = (data / "copies").resolve()
        with_edm = scan(cli, copies, work / "report-edm.json", ["--edm", str(index)])
        without = scan(cli, copies, work / "report-plain.json", [])
        scored = _score(load_report(work / "report-edm.json"), copies, truth)
        lookups = _lookups(index, key_dir, data, args.rows)
    except BenchError as exc:
        print(f"bench.edm: {exc}", file=sys.stderr)
        return 2
    size = index.stat().st_size
    copies_bytes = sum(p.stat().st_size for p in copies.rglob("*") if p.is_file())
    print(f"exact data match, {args.records} disclosed records")
    print(
        f"  edm build                    {build.wall_s:.2f} s wall, {build.cpu_s:.2f} s CPU, "
        f"{args.records / build.wall_s:,.0f} rows/s, peak RSS {build.peak_tree_rss_mb:.0f} MiB"
    )
    print(f"  index size                   {size:,} bytes ({size / args.records:.1f} per record)")
    print(f"  index load                   {lookups['load_s']:.3f} s")
    for label in ("stranger rows", "disclosed rows"):
        got = lookups[label]
        print(
            f"  lookups, {label:<19} {got['rows_per_s']:,} rows/s, "
            f"{got['lookups_per_s']:,} keyed lookups/s ({got['rows_hit']}/{got['rows']} hit)"
        )
    memo = lookups["memo windows"]
    print(
        f"  lookups, memo windows        {memo['windows_per_s']:,} windows/s, "
        f"{memo['lookups_per_s']:,} keyed lookups/s ({memo['hits']} hits in {memo['windows']})"
    )
    print(
        f"  scan of copies               {copies_bytes / 2**20:.1f} MiB: with the index "
        f"{with_edm.wall_s:.2f} s, without {without.wall_s:.2f} s"
    )
    print(
        f"  recall                       {scored['recall']} ({scored['records_found']} found, "
        f"{scored['records_in_copies']} in copies; exact files "
        f"{scored['exact_files']}/{scored['positive_files']})"
    )
    print(
        f"  false hits                   {scored['false_hits']} records in "
        f"{scored['lookalike_files']} look-alike files"
    )
    result = {
        "build": {"wall_s": build.wall_s, "cpu_s": build.cpu_s, "rss_mb": build.peak_tree_rss_mb},
        "index_bytes": size,
        "lookups": lookups,
        "scan": {"with_edm_s": with_edm.wall_s, "without_s": without.wall_s},
        "score": scored,
    }
    (work / "edm-result.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
