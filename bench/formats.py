"""Benchmark the real CLI on a mixed-format tree: office files, PDFs, e-mail, archives.

    python -m bench.formats [--size-mb 200] [--out bench/out] [--seed 7]

The tree (default about 200 MiB) is generated once with the writers of
``tests.synthetic.formats`` and cached under ``OUT/formats-<size>mb-seed<seed>-v1/``: one
folder per format family (office, pdf, mail, archive, sqlite, text) filled with
documents of 0.1-4 MB, one in four holding a few synthetic taxpayer records (archives
and e-mail hold them in one member, with truth per member), the rest plain business
filler; plus the synthetic home folder of ``tests.synthetic.home``. Ground truth sits
beside the tree, never inside it.

It runs ``.venv/bin/ftiscan scan TREE --report OUT/report.json --format json --quiet``
(``FTISCAN_KEY_DIR`` and ``FTISCAN_STATE_DIR`` under OUT) on the whole tree, then on each
family folder alone, and prints per family files, MiB, wall, MiB/s and the identified
kinds from the report's coverage, plus wall, CPU (the process tree), peak RSS (sampled
with psutil, and ``ru_maxrss`` of the children) and file-level precision / recall for
``severity >= high`` with exact per-member checks. Nothing printed carries generated
values: only counts, sizes, times and paths.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import BenchError, Run, find_cli, scan, tree_size, warm
from tests.synthetic import formats
from tests.synthetic.home import (
    LOREM,
    FileTruth,
    GroundTruth,
    MemberTruth,
    build_home,
    prose_mention,
    taxpayer_csv,
)
from tests.synthetic.people import BUSINESS_NAMES, People, Taxpayer, dashed
from tests.synthetic.report import (
    Score,
    file_severities,
    load_report,
    member_misses,
    member_severities,
    score,
)

__all__ = ["FAMILIES", "FormatsTree", "ensure_tree", "generate_tree", "main"]

MIB = 1024 * 1024
TREE_VERSION = 1  # bump when the generated tree changes: old caches are not reused
FAMILIES: dict[str, float] = {  # share of the size budget
    "office": 0.25,
    "pdf": 0.12,
    "mail": 0.15,
    "archive": 0.20,
    "sqlite": 0.10,
    "text": 0.18,
}
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "office": (".xlsx", ".docx", ".pptx", ".ods", ".odt", ".xls", ".rtf"),
    "pdf": (".pdf",),
    "mail": (".eml", ".msg"),
    "archive": (".zip", ".tar.gz", ".7z"),
    "sqlite": (".db",),
    "text": (".csv", ".txt", ".log"),
}
HEADER = ("Name", "SSN", "Street", "City", "State", "ZIP")
ITEMS = ("toner", "paper", "folders", "pens", "labels", "binders", "staples", "envelopes")


@dataclass(frozen=True, slots=True)
class FormatsTree:
    """A generated tree, its ground truth, and its size."""

    root: Path
    truth: GroundTruth
    files: int
    bytes: int


# --------------------------------------------------------------------------- content


class _Maker:
    """Seeded content: filler rows and prose without any TIN-shaped number, and
    taxpayer rows whose values are recorded as secrets."""

    def __init__(self, seed: int) -> None:
        self.people = People(seed)
        self.rng = self.people.rng
        self.secrets: set[str] = set()

    def taxpayers(self, low: int = 3, high: int = 12) -> list[Taxpayer]:
        rows = self.people.taxpayers(self.rng.randint(low, high))
        for t in rows:
            self.secrets.update(t.secrets())
        return rows

    @staticmethod
    def table(rows: Sequence[Taxpayer]) -> list[tuple[str, ...]]:
        return [HEADER] + [
            (t.full_name, dashed(t.ssn), t.address_line(), t.city, t.state, t.zip) for t in rows
        ]

    def filler_rows(self, size: int) -> list[tuple[str | int | float, ...]]:
        """About ``size`` bytes of order lines: item, quantity, price, customer, city."""
        rng = self.rng
        out: list[tuple[str | int | float, ...]] = [("Item", "Qty", "Price", "Customer", "Note")]
        total = 0
        while total < size:
            row = (
                rng.choice(ITEMS),
                rng.randint(1, 400),
                round(rng.uniform(1, 900), 2),
                rng.choice(BUSINESS_NAMES),
                " ".join(rng.choice(LOREM) for _ in range(rng.randint(2, 8))),
            )
            out.append(row)
            total += sum(len(str(v)) for v in row) + 6
        return out

    def prose(self, size: int) -> list[str]:
        """About ``size`` bytes of paragraphs of lorem words (no digits)."""
        rng = self.rng
        out: list[str] = []
        total = 0
        while total < size:
            words = " ".join(rng.choice(LOREM) for _ in range(rng.randint(40, 120)))
            out.append(words.capitalize() + ".")
            total += len(out[-1]) + 1
        return out


def _csv_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    return ("\r\n".join(",".join(str(v) for v in row) for row in rows) + "\r\n").encode()


# --------------------------------------------------------------------------- families

Made = tuple[bytes, list[Taxpayer] | None, str]  # data, rows if positive (file level), member


def _office(m: _Maker, index: int, size: int, rows: list[Taxpayer] | None) -> tuple[str, Made]:
    kind = ("xlsx", "docx", "pptx", "ods", "odt", "xls", "rtf")[index % 7]
    fill = m.filler_rows(size // 2 if kind in ("xlsx", "ods", "xls") else size // 4)
    if kind == "xlsx":
        sheets = {"Orders": fill}
        if rows:
            sheets["Taxpayers"] = m.table(rows)
        data = formats.xlsx(sheets)
    elif kind == "ods":
        sheets = {"Orders": fill}
        if rows:
            sheets["Taxpayers"] = m.table(rows)
        data = formats.ods(sheets)
    elif kind == "xls":
        sheets_x: list[tuple[str, Sequence[Sequence[Any]]]] = [("Orders", fill[:40_000])]
        if rows:
            sheets_x.append(("Taxpayers", m.table(rows)))
        data = formats.xls(sheets_x)
    elif kind == "docx":
        data = formats.docx(m.prose(size // 2), [m.table(rows)] if rows else [])
    elif kind == "odt":
        data = formats.odt(m.prose(size // 2), [m.table(rows)] if rows else [])
    elif kind == "rtf":
        data = formats.rtf(m.prose(size // 2), m.table(rows) if rows else None)
    else:
        slides = [m.prose(2000) for _ in range(max(1, size // 4000))]
        data = formats.pptx(slides, {0: m.table(rows)} if rows else None)
    return f"office/{kind}/doc_{index:05d}.{kind}", (data, rows, "")


def _pdf(m: _Maker, index: int, size: int, rows: list[Taxpayer] | None) -> tuple[str, Made]:
    lines = [" ".join(m.rng.choice(LOREM) for _ in range(12)) for _ in range(max(50, size // 80))]
    pages = [lines[k : k + 50] for k in range(0, len(lines), 50)]
    if rows:
        pages.insert(1, [f"{t.full_name}, {dashed(t.ssn)}, {t.full_address()}" for t in rows])
    return f"pdf/printout_{index:05d}.pdf", (formats.pdf(pages), rows, "")


def _mail(m: _Maker, index: int, size: int, rows: list[Taxpayer] | None) -> tuple[str, Made]:
    attachments: dict[str, bytes] = {
        "orders.xlsx": formats.xlsx({"Orders": m.filler_rows(size // 3)}),
        "notes.pdf": formats.pdf([m.prose(1500)[:20]]),
    }
    member = ""
    if rows:
        inner = formats.zip_archive({"export/payees.csv": taxpayer_csv(rows).encode()})
        attachments["export.zip"] = inner
        member = "attachments/export.zip/export/payees.csv"
    body = "\n\n".join(m.prose(3000)) + "\n"
    if index % 2:
        return f"mail/inbox/message_{index:05d}.eml", (formats.eml(body, attachments), rows, member)
    if rows:
        member = "attachments/export.zip/export/payees.csv"
    data = formats.msg(subject="Orders", body=body, attachments=attachments)
    return f"mail/outlook/message_{index:05d}.msg", (data, rows, member)


def _archive(m: _Maker, index: int, size: int, rows: list[Taxpayer] | None) -> tuple[str, Made]:
    kind = ("zip", "tar.gz", "7z")[index % 3]
    members: dict[str, bytes] = {}
    remaining = size
    part = 0
    while remaining > 0:
        chunk = min(remaining, m.rng.randint(100_000, 600_000))
        if part % 2:
            members[f"docs/report_{part}.docx"] = formats.docx(m.prose(chunk // 2))
        else:
            members[f"data/orders_{part}.csv"] = _csv_bytes(m.filler_rows(chunk))
        remaining -= chunk
        part += 1
    inner = ""
    if rows:
        inner = "data/payees.csv"
        members[inner] = taxpayer_csv(rows).encode()
    name = f"archive/{kind.split('.')[0]}/backup_{index:05d}.{kind}"
    if kind == "zip":
        data = formats.zip_archive(members)
    elif kind == "7z":
        data = formats.sevenzip(members)
    else:
        data = formats.tar_archive(members, "gz")
        inner = f"backup_{index:05d}.tar/{inner}" if inner else ""
    return name, (data, rows, inner)


def _sqlite(m: _Maker, index: int, size: int, rows: list[Taxpayer] | None) -> tuple[str, Made]:
    fill = m.filler_rows(size)
    tables: dict[str, tuple[Sequence[str], Sequence[Sequence[Any]]]] = {
        "orders": (fill[0], fill[1:])  # type: ignore[dict-item]  # header row of strings
    }
    if rows:
        tables["clients"] = (
            ("name", "ssn", "street", "city", "state", "zip"),
            m.table(rows)[1:],
        )
    return f"sqlite/app_{index:05d}.db", (formats.sqlite(tables), rows, "")


def _text(m: _Maker, index: int, size: int, rows: list[Taxpayer] | None) -> tuple[str, Made]:
    kind = ("csv", "txt", "log")[index % 3]
    if kind == "csv":
        data = taxpayer_csv(rows).encode() if rows else _csv_bytes(m.filler_rows(size))
    elif kind == "txt":
        paragraphs = m.prose(size)
        if rows:
            for k, t in enumerate(rows):
                paragraphs.insert(min(len(paragraphs), 1 + 2 * k), prose_mention(t, m.rng))
        data = ("\n\n".join(paragraphs) + "\n").encode()
    else:
        rng = m.rng
        lines = []
        total = 0
        while total < size:
            lines.append(
                f"2025-01-14T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z INFO "
                f"GET /items/{rng.randint(1, 9999)} status=200 took={rng.randint(1, 900)}ms"
            )
            total += len(lines[-1]) + 1
        data = ("\n".join(lines) + "\n").encode()
        rows = None  # logs stay filler
    return f"text/{kind}/file_{index:05d}.{kind}", (data, rows, "")


_WRITERS: dict[str, Callable[[_Maker, int, int, list[Taxpayer] | None], tuple[str, Made]]] = {
    "office": _office,
    "pdf": _pdf,
    "mail": _mail,
    "archive": _archive,
    "sqlite": _sqlite,
    "text": _text,
}
_MAX_SIZE = {"office": 3 * MIB, "sqlite": 4 * MIB}  # xls: OLE writer limit about 6.8 MB


def generate_tree(base: Path, size_mb: int, seed: int) -> FormatsTree:
    """Write ``base/tree`` (about ``size_mb`` MiB) and ``base/truth.json``."""
    tree = base / "tree"
    tree.mkdir(parents=True)
    home_truth = build_home(tree / "home", seed=seed, truth_path=base / "home.truth.json")
    truth = GroundTruth().merged(home_truth, "home")
    maker = _Maker(seed + 1000)
    maker.people.reserve(home_truth.secrets)
    budget = size_mb * MIB
    for family, share in FAMILIES.items():
        goal = int(budget * share)
        written = index = 0
        write = _WRITERS[family]
        while written < goal:
            size = int(
                min(
                    _MAX_SIZE.get(family, 4 * MIB),
                    max(100_000, maker.rng.lognormvariate(13.5, 0.9)),
                )
            )
            rows = maker.taxpayers() if index % 4 == 0 else None
            rel, (data, found, member) = write(maker, index, size, rows)
            path = tree / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if found:
                records = len({t.ssn for t in found})
                if member:
                    members = {
                        member: MemberTruth("positive", "critical", "critical", records, family)
                    }
                    truth.files[rel] = FileTruth.rolled_up(
                        f"{family}-{Path(rel).suffix[1:]}", members
                    )
                else:
                    truth.files[rel] = FileTruth(
                        "positive",
                        "critical",
                        "critical",
                        records,
                        f"{family}-{Path(rel).suffix[1:]}",
                    )
            written += len(data)
            index += 1
    truth.secrets = sorted({*truth.secrets, *maker.secrets})
    truth.write(base / "truth.json")
    count, total = tree_size(tree)
    return FormatsTree(tree, truth, count, total)


def ensure_tree(out: Path, size_mb: int, seed: int) -> FormatsTree:
    """The cached tree for (size, seed), generated if missing or incomplete."""
    base = out / f"formats-{size_mb}mb-seed{seed}-v{TREE_VERSION}"
    truth_file = base / "truth.json"
    if truth_file.exists():
        count, total = tree_size(base / "tree")
        return FormatsTree(base / "tree", GroundTruth.load(truth_file), count, total)
    if base.exists():
        shutil.rmtree(base)  # an interrupted earlier generation of ours
    base.mkdir(parents=True)
    return generate_tree(base, size_mb, seed)


# --------------------------------------------------------------------------- reporting


def _family_of(rel: str) -> str:
    head = rel.split("/", 1)[0]
    return head if head in FAMILIES or head == "home" else "other"


def _files_in(root: Path) -> tuple[int, int]:
    return tree_size(root)


def _score(
    tree: FormatsTree, report: dict[str, Any], scan_root: Path, prefix: str | None
) -> tuple[Score, int]:
    severities = file_severities(report, scan_root, tree.root)
    members = member_severities(report, scan_root, tree.root)
    if prefix is None:
        return score(tree.truth, severities), len(member_misses(tree.truth, members))
    subset = {rel for rel in tree.truth.files if rel.startswith(prefix + "/")}
    severities = {rel: v for rel, v in severities.items() if rel.startswith(prefix + "/")}
    result = score(tree.truth, severities, only=subset | set(severities))
    return result, len(member_misses(tree.truth, members, only=subset))


def _row(
    name: str, run: Run, files: int, size: int, result: Score, misses: int, kinds: dict[str, int]
) -> dict[str, Any]:
    mb = size / MIB
    return {
        "family": name,
        "files": files,
        "mb": round(mb, 1),
        "wall_s": round(run.wall_s, 2),
        "mb_per_s": round(mb / run.wall_s, 1) if run.wall_s else 0.0,
        "cpu_s": round(run.cpu_s, 1),
        "peak_tree_rss_mb": round(run.peak_tree_rss_mb),
        "peak_process_rss_mb": round(run.peak_process_rss_mb),
        "precision": round(result.precision, 4),
        "recall": round(result.recall, 4),
        "positives": len(result.true_positives) + len(result.false_negatives),
        "false_negatives": result.false_negatives,
        "false_positives": result.false_positives,
        "records_mismatch": result.records_mismatch,
        "trap_violations": result.trap_violations,
        "member_misses": misses,
        "kinds": kinds,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"\n{'family':<8} {'files':>6} {'MiB':>7} {'wall s':>7} {'MiB/s':>7} {'CPU s':>7} "
        f"{'RSS MiB':>8} {'prec':>6} {'recall':>6} {'exact':>6}  kinds"
    )
    for row in rows:
        exact = "yes" if not (row["records_mismatch"] or row["member_misses"]) else "no"
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(row["kinds"].items()))
        print(
            f"{row['family']:<8} {row['files']:>6} {row['mb']:>7.1f} {row['wall_s']:>7.2f} "
            f"{row['mb_per_s']:>7.1f} {row['cpu_s']:>7.1f} {row['peak_tree_rss_mb']:>8} "
            f"{row['precision']:>6.3f} {row['recall']:>6.3f} {exact:>6}  {kinds}"
        )


def _by_extension(root: Path) -> dict[str, tuple[int, int]]:
    groups: dict[str, list[int]] = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        name = path.name
        group = next((g for g, exts in EXTENSIONS.items() if name.endswith(exts)), "other")
        if path.relative_to(root).parts[0] == "home":
            group = "home"
        entry = groups.setdefault(group, [0, 0])
        entry[0] += 1
        entry[1] += path.stat().st_size
    return {g: (v[0], v[1]) for g, v in groups.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.formats", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli", type=Path, default=None)
    parser.add_argument("--no-families", action="store_true", help="scan only the whole tree")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    try:
        cli = find_cli(args.cli)
        started = time.perf_counter()
        tree = ensure_tree(out, args.size_mb, args.seed)
        print(
            f"tree {tree.root}: {tree.files} files, {tree.bytes / MIB:.1f} MiB "
            f"({time.perf_counter() - started:.1f} s to generate or load); "
            f"{len(tree.truth.positives())} positives, {len(tree.truth.traps())} traps"
        )
        for group, (count, size) in sorted(_by_extension(tree.root).items()):
            print(f"  {group:<8} {count:>6} files {size / MIB:>8.1f} MiB")
        work = out / "formats-run"
        if work.exists():
            shutil.rmtree(work)
        os.environ["FTISCAN_KEY_DIR"] = str(work / "keys")
        os.environ["FTISCAN_STATE_DIR"] = str(work / "state")
        warm(tree.root)
        rows: list[dict[str, Any]] = []
        targets = [("all", tree.root, None)]
        if not args.no_families:
            targets += [(f, tree.root / f, f) for f in (*FAMILIES, "home")]
        for name, root, prefix in targets:
            shutil.rmtree(work / "state", ignore_errors=True)  # no rescan skipping
            report_path = work / f"report-{name}.json"
            report_path.parent.mkdir(parents=True, exist_ok=True)
            run = scan(cli, root, report_path, [])
            report = load_report(report_path)
            result, misses = _score(tree, report, root, prefix)
            files, size = _files_in(root)
            kinds = report.get("coverage", {}).get("kinds", {}) or {}
            rows.append(_row(name, run, files, size, result, misses, dict(kinds)))
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        children_mb = children / (MIB if sys.platform == "darwin" else 1024)
        _print_table(rows)
        whole = rows[0]
        cores = os.cpu_count() or 1
        print(
            f"\nwhole tree: wall {whole['wall_s']} s, CPU {whole['cpu_s']} s "
            f"({whole['cpu_s'] / whole['wall_s'] / cores:.0%} of {cores} cores), "
            f"peak RSS {whole['peak_tree_rss_mb']} MiB all processes / "
            f"{whole['peak_process_rss_mb']} MiB largest (sampled); "
            f"ru_maxrss of children {children_mb:.0f} MiB"
        )
        for row in rows:
            for label in (
                "false_negatives",
                "false_positives",
                "records_mismatch",
                "trap_violations",
            ):
                for rel in row[label][:5]:
                    print(f"  {row['family']}: {label.replace('_', ' ')}: {rel}")
            if row["member_misses"]:
                print(f"  {row['family']}: {row['member_misses']} container member(s) not exact")
        (work / "summary.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        print(f"summary: {work / 'summary.json'}")
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
