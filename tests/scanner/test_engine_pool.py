"""Worker processes: forked from a single-threaded scan on Linux, spawned otherwise, with
the same findings either way; files start in order of their estimated cost."""

from __future__ import annotations

import dataclasses
import functools
import random
import signal
import sys
import threading
from pathlib import Path

import pytest

from ftiscan.scanner import engine
from ftiscan.scanner.engine import Context, run_scan
from ftiscan.scanner.walk import FileEntry, WalkOptions, walk
from tests.synthetic.home import taxpayer_csv
from tests.synthetic.people import People

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="fork is used on Linux only")


def _tree(root: Path) -> Path:
    people = People(41)
    for k in range(6):
        (root / f"export-{k}.csv").write_text(taxpayer_csv(people.taxpayers(5 + k)))
    (root / "notes.txt").write_text("nothing to see here\n" * 50)
    return root


def _found(ctx: Context, root: Path, jobs: int) -> list[tuple[str, str, int]]:
    options = dataclasses.replace(ctx.options, roots=(root,), jobs=jobs)
    result = run_scan(options, packs=ctx.packs)
    return [(Path(str(f["path"])).name, str(f["rule"]), int(f["records"])) for f in result.findings]


@linux_only
def test_single_threaded_scan_forks_and_a_threaded_one_spawns() -> None:
    """Fork only where no other thread could hold a lock across it (the daemon runs a
    watcher and a submitter thread)."""
    assert threading.active_count() == 1
    assert engine.pool_context().get_start_method() == "fork"
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert engine.pool_context().get_start_method() == "spawn"
    finally:
        release.set()
        other.join()


def test_forked_and_spawned_workers_find_the_same(ctx: Context, tmp_path: Path) -> None:
    """Two workers that inherit the parent's context (fork) and two that compile their
    own (spawn, forced by a running thread) report the same records as one process."""
    root = _tree(tmp_path)
    alone = _found(ctx, root, 1)
    assert alone == [(f"export-{k}.csv", "fti.taxpayer-record", 5 + k) for k in range(6)]
    assert _found(ctx, root, 2) == alone
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert _found(ctx, root, 2) == alone
    finally:
        release.set()
        other.join()


def test_forked_worker_drops_the_parents_signal_handlers() -> None:
    """A handler the scanning process installed (to sign an interrupted report, say)
    must not run in a worker: a forked one gets the defaults a spawned one has."""
    calls: list[int] = []
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGTERM, lambda number, frame: calls.append(number))
    signal.signal(signal.SIGINT, lambda number, frame: calls.append(number))
    try:
        engine._default_signals()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])
    assert calls == []


def test_a_dense_table_starts_before_larger_plain_text(ctx: Context, tmp_path: Path) -> None:
    """Scheduling goes by cost, not bytes: a table of taxpayer records (each a TIN to
    validate and a record to assemble) starts before a larger log that holds none, so
    that it is not the last file a worker begins."""
    people = People(43)
    export = tmp_path / "export.csv"
    head, _, body = taxpayer_csv(people.taxpayers(1000)).partition("\n")
    export.write_text(head + "\n" + body * 20)  # > 1 MiB: its first bytes are looked at
    log = tmp_path / "app.log"
    log.write_text("2025-01-02T03:04:05Z INFO request served in 12 ms\n" * 200_000)
    assert log.stat().st_size > 2 * export.stat().st_size
    entries = [e for e in walk([tmp_path], WalkOptions()) if isinstance(e, FileEntry)]
    cost = functools.partial(engine.scan_cost, ctx.detector)
    by_cost = [e.path.name for e in engine.largest_first(iter(entries), cost=cost)]
    by_size = [e.path.name for e in engine.largest_first(iter(entries))]
    assert (by_cost, by_size) == (["export.csv", "app.log"], ["app.log", "export.csv"])
    assert cost(next(e for e in entries if e.path == log)) == log.stat().st_size


def test_order_numbers_in_a_first_identifier_column_cost_nothing(
    ctx: Context, tmp_path: Path
) -> None:
    """Nine-digit order numbers under an ``order_id`` header are ruled out with their
    batches: such a table costs its size and starts after a smaller export of
    people; the same numbers under no identifier header count as candidates."""
    rng = random.Random(44)
    numbers = [f"{rng.randrange(10**8, 10**9)},SKU-{n},2,9.99\n" for n in range(40_000)]
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,sku,qty,price\n" + "".join(numbers))
    plain = tmp_path / "plain.csv"
    plain.write_text("value,sku,qty,price\n" + "".join(numbers))
    people = People(45)
    export = tmp_path / "export.csv"
    head, _, body = taxpayer_csv(people.taxpayers(1000)).partition("\n")
    export.write_text(head + "\n" + body * 20)  # > 1 MiB, as the orders
    entries = {e.path.name: e for e in walk([tmp_path], WalkOptions()) if isinstance(e, FileEntry)}
    cost = functools.partial(engine.scan_cost, ctx.detector)
    assert cost(entries["orders.csv"]) == orders.stat().st_size
    assert cost(entries["plain.csv"]) > cost(entries["export.csv"]) > cost(entries["orders.csv"])
