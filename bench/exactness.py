"""Exactness check: scan generated home folders and compare with their ground truth.

    python -m bench.exactness FIRST LAST   # seeds FIRST .. LAST-1, e.g. 0 60

For each seed, `tests.synthetic.home.build_home` writes a synthetic home folder (no
real people) into a temporary directory, the engine scans it in-process (one job,
a random key), and the per-file severities and record counts are scored against the
ground truth. A seed with any false positive, false negative, record-count mismatch
or trap violation is printed as its number and four counts; at the end ``done`` is
printed. Performance work must leave the output at exactly ``done``.

Nothing printed carries generated values or file names: only seeds and counts.
Exit status: 0 when every seed is exact, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ftiscan.scanner.engine import ScanOptions, roots_of, run_scan
from ftiscan.scanner.packs import PackSet, load_packs
from tests.synthetic.home import build_home
from tests.synthetic.report import file_severities, score

__all__ = ["check_seed", "main"]


def check_seed(seed: int, packs: PackSet | None = None) -> tuple[int, int, int, int]:
    """(false positives, false negatives, record mismatches, trap violations) of one seed."""
    packs = packs or load_packs(())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "home"
        truth = build_home(root, seed=seed)
        options = ScanOptions(
            roots=roots_of([root]),
            pack_sources=packs.sources,
            key=secrets.token_bytes(32),
            jobs=1,
        )
        result = run_scan(options, packs=packs)
        found = score(truth, file_severities({"findings": result.findings}, root, root))
    return (
        len(found.false_positives),
        len(found.false_negatives),
        len(found.records_mismatch),
        len(found.trap_violations),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.exactness", description=__doc__.split("\n")[0]
    )
    parser.add_argument("first", type=int, help="first seed")
    parser.add_argument("last", type=int, help="one past the last seed")
    args = parser.parse_args(argv)
    packs = load_packs(())
    bad = 0
    for seed in range(args.first, args.last):
        fp, fn, records, traps = check_seed(seed, packs)
        if fp or fn or records or traps:
            bad += 1
            print(seed, "FP", fp, "FN", fn, "REC", records, "TRAP", traps, flush=True)
    print("done")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
