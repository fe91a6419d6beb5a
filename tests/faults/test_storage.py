"""Real storage faults under the real CLI: a full report folder, a full state folder, a
read-only state folder, a state database another process holds locked.

Each fault is the kernel's own (a small tmpfs, a read-only bind mount, a real SQLite
write lock held by this test's process). What must hold: exit 2 and one clear line
that names the file and the cause; nothing half written (no temporary file, no
report signed when the state could not take it, the state's transactions whole);
and once the fault is gone the next scan finds everything, counts nothing twice, and
the chain verifies.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.faults._faults import (
    Session,
    by_path,
    chain_files,
    needs_userns,
    private_env,
    read_only,
    run,
    taxpayer_tree,
    tmpfs,
)
from tests.synthetic.report import load_report

pytestmark = [pytest.mark.slow]

FILES, ROWS, CLEAN = 60, 5, 20


def _tree(base: Path) -> tuple[Path, dict[str, int]]:
    tree = base / "tree"
    truth = taxpayer_tree(tree, FILES, ROWS, seed=9, clean=CLEAN)
    return tree, {str(path): records for path, records in truth.items()}


def _chain(state: Path) -> Path:
    (folder,) = (state / "chain").iterdir()
    return folder


@needs_userns
def test_report_folder_full(tmp_path: Path) -> None:
    """--report on a full file system: exit 2 naming the file, ENOSPC and where the
    signed report is kept; no temporary file in the folder; the next scan with space
    writes it and links on."""
    tree, truth = _tree(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.json"
    args = ("scan", str(tree), "-q", "--jobs", "1", "--format", "json", "--report", str(report))
    steps = (
        Session(tmp_path / "ns", tmpfs(out, "64k", fill=64 * 1024), private_env(tmp_path))
        .cli(*args)
        .sh(f"ls -A {out} > {tmp_path}/listing")
        .sh(f"rm {out}/.filler")
        .cli(*args)
        .sh(f"cp {report} {tmp_path}/copied.json")
        .run()
    )
    (code, stdout, stderr), (again, _, again_err) = steps
    chain = chain_files(tmp_path / "state")
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"ftiscan: error: {report}: No space left on device; the signed report is kept in "
        f"the agent's chain: {chain[0]}\n"
    )
    assert (tmp_path / "listing").read_text() == ".filler\n"
    assert (again, again_err) == (1, "")
    written = load_report(tmp_path / "copied.json")
    assert [load_report(p)["chain"]["sequence"] for p in chain] == [1, 2]
    assert written["chain"]["sequence"] == 2
    assert by_path(written) == truth
    verified = run(["verify", str(_chain(tmp_path / "state"))], private_env(tmp_path))
    assert verified.returncode == 0, verified.stdout


@needs_userns
def test_state_folder_full_for_the_chain(tmp_path: Path) -> None:
    """A plain scan whose state folder has no space for the signed report: exit 2, no
    report signed, no temporary file in the chain folder; with space again, the next
    scan is sequence 1 and whole."""
    tree, truth = _tree(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    args = ("scan", str(tree), "-q", "--jobs", "1", "--format", "json")
    steps = (
        Session(tmp_path / "ns", tmpfs(state, "64k", fill=64 * 1024), private_env(tmp_path))
        .cli(*args)
        .sh(f"find {state} -mindepth 1 -printf '%P\\n' | sort > {tmp_path}/listing")
        .sh(f"rm {state}/.filler")
        .cli(*args)
        .sh(f"cp -a {state} {tmp_path}/kept")
        .run()
    )
    (code, stdout, stderr), (again, _, again_err) = steps
    listing = (tmp_path / "listing").read_text().split()
    (kid,) = (p for p in listing if p.startswith("chain/") and p.count("/") == 1)
    folder = state / kid
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"ftiscan: error: {folder}: cannot store the signed report: No space left on device; "
        "no report was signed\n"
    )
    assert sorted(listing) == [".filler", "chain", kid]  # no temporary file
    assert (again, again_err) == (1, "")
    kept = chain_files(tmp_path / "kept")
    assert [load_report(p)["chain"]["sequence"] for p in kept] == [1]
    assert by_path(load_report(kept[0])) == truth


@needs_userns
def test_state_database_full_mid_scan(tmp_path: Path) -> None:
    """``scan --incremental`` whose state database runs out of space after some files:
    exit 2, no report signed, every transaction whole; with space again the next scan
    reads only the files not stored, and its report holds every record once."""
    tree, truth = _tree(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    size = 4 * 1024 * 1024
    args = ("scan", str(tree), "-q", "--jobs", "1", "--format", "json", "--incremental")
    steps = (
        Session(tmp_path / "ns", tmpfs(state, "4m", fill=size - 400_000), private_env(tmp_path))
        .cli(*args)
        .sh(f"cp -a {state} {tmp_path}/failed")
        .sh(f"rm {state}/.filler")
        .cli(*args)
        .sh(f"cp -a {state} {tmp_path}/kept")
        .run()
    )
    (code, stdout, stderr), (again, _, again_err) = steps
    db = state / "state.sqlite3"
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"ftiscan: error: {db}: No space left on device; the scan stopped, no report was signed\n"
    )
    failed = sqlite3.connect(tmp_path / "failed" / "state.sqlite3")
    try:
        assert failed.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = failed.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    finally:
        failed.close()
    assert 0 < stored < FILES + CLEAN
    assert chain_files(tmp_path / "failed") == []
    assert (again, again_err) == (1, "")
    report = load_report(chain_files(tmp_path / "kept")[0])
    assert report["chain"]["sequence"] == 1
    assert report["coverage"]["files_reused"] == stored
    assert report["coverage"]["files_scanned"] == FILES + CLEAN
    assert by_path(report) == truth


@needs_userns
def test_state_folder_read_only(tmp_path: Path) -> None:
    """A read-only state folder: a scan says so before it scans (the chain folder
    cannot take a file), with --incremental too; a read-only state database alone is
    said as such. Exit 2, the chain as it was; writable again, the next scan links on."""
    tree, truth = _tree(tmp_path)
    env = private_env(tmp_path)
    state = tmp_path / "state"
    first = run(["scan", str(tree), "-q", "-j", "1", "--incremental", "--format", "json"], env)
    assert first.returncode == 1, first.stderr
    folder = _chain(state)
    prefix = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c"]
    ns = [*prefix, read_only(state) + ' && exec "$@"', "sh"]
    plain = run(["scan", str(tree), "-q", "--format", "json"], env, prefix=ns)
    assert (plain.returncode, plain.stdout) == (2, "")
    assert plain.stderr == (
        f"ftiscan: error: {folder}: cannot store the signed report: Read-only file system\n"
    )
    known = run(["scan", str(tree), "-q", "--incremental", "--format", "json"], env, prefix=ns)
    assert (known.returncode, known.stdout, known.stderr) == (2, "", plain.stderr)
    db = state / "state.sqlite3"
    db_only = [*prefix, read_only(db) + ' && exec "$@"', "sh"]  # the chain stays writable
    known = run(["scan", str(tree), "-q", "--incremental", "--format", "json"], env, prefix=db_only)
    assert (known.returncode, known.stdout) == (2, "")
    assert known.stderr == (
        f"ftiscan: error: {db}: cannot write the state database: Read-only file system\n"
    )
    assert [p.name for p in chain_files(state)] == ["000000000001.dsse.json"]
    last = run(["scan", str(tree), "-q", "--incremental", "--format", "json"], env)
    assert last.returncode == 1, last.stderr
    assert [p.name for p in chain_files(state)] == [
        "000000000001.dsse.json",
        "000000000002.dsse.json",
    ]
    report = load_report(chain_files(state)[-1])
    assert report["coverage"]["files_reused"] == FILES + CLEAN
    assert by_path(report) == truth
    verified = run(["verify", str(folder)], env)
    assert verified.returncode == 0, verified.stdout


def test_state_database_locked(tmp_path: Path) -> None:
    """Another process holds the state database's write lock for longer than the scan
    waits (10 s): exit 2 saying so; nothing stored, no report signed, --report not
    written. Once the lock is gone the next scan reads the new files, once."""
    tree, truth = _tree(tmp_path)
    env = private_env(tmp_path)
    state = tmp_path / "state"
    first = run(["scan", str(tree), "-q", "-j", "1", "--incremental", "--format", "json"], env)
    assert first.returncode == 1, first.stderr
    more = taxpayer_tree(tmp_path / "tree" / "new", 3, ROWS, seed=10)
    truth.update({str(path): records for path, records in more.items()})
    report = tmp_path / "out" / "report.json"
    db = state / "state.sqlite3"
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        rows = holder.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        args = ["scan", str(tree), "-q", "-j", "1", "--incremental", "--report", str(report)]
        locked = run([*args, "--format", "json"], env)
        holder.execute("ROLLBACK")
        assert holder.execute("SELECT COUNT(*) FROM files").fetchone()[0] == rows
    finally:
        holder.close()
    assert (locked.returncode, locked.stdout) == (2, "")
    assert locked.stderr == (
        f"ftiscan: error: {db}: locked by another process (waited 10 s for its write lock); "
        "try again when that process is done; the scan stopped, no report was signed\n"
    )
    assert not report.exists()
    assert len(chain_files(state)) == 1
    done = run([*args, "--format", "json"], env)
    assert done.returncode == 1, done.stderr
    last = load_report(report)
    assert last["chain"]["sequence"] == 2
    assert last["coverage"]["files_reused"] == FILES + CLEAN
    assert last["coverage"]["files_scanned"] == FILES + CLEAN + 3
    assert by_path(last) == truth
