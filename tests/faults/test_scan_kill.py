"""kill -9 of the real ``ftiscan scan`` at random moments, with and without --incremental.

What must hold after each kill and the scan that follows it: no worker process of the
killed scan lives on, nothing found is lost, no record is counted twice, the chain of
signed reports verifies with no gap, and an incremental scan reads again only what no
killed scan had stored.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults._faults import (
    FTISCAN,
    SEED,
    by_path,
    chain_files,
    private_env,
    run,
    taxpayer_tree,
    wait_gone,
    workers_of,
)
from tests.synthetic.report import load_report

pytestmark = pytest.mark.slow


def _wait_for_workers(proc: subprocess.Popen[bytes], count: int) -> None:
    deadline = time.monotonic() + 120
    while len(workers_of(proc.pid)) < count and time.monotonic() < deadline:
        assert proc.poll() is None, "the scan ended before its workers started"
        time.sleep(0.02)


def test_killed_scan_leaves_no_worker_behind(tmp_path: Path) -> None:
    """A scan with two workers killed with SIGKILL mid-scan: its workers end on their
    own (before the fix they waited on their task queue forever, reparented to init,
    holding memory and open files)."""
    rng = random.Random(SEED)
    tree = tmp_path / "tree"
    # ~95 MB of dense rows, ~8 s of scanning here: killed mid-scan also on a machine
    # several times faster (at repeat=80 a faster CI machine finished before the kill)
    taxpayer_tree(tree, 16, 200, seed=SEED, repeat=400)
    env = private_env(tmp_path)
    for round_ in range(2):
        proc = subprocess.Popen(
            [str(FTISCAN), "scan", str(tree), "-q", "--jobs", "2", "--format", "json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_workers(proc, 2)  # two workers (spawned ones bring a resource tracker)
        delay = rng.uniform(0.0, 1.5)
        time.sleep(delay)
        children = workers_of(proc.pid)
        assert proc.poll() is None, f"the scan ended before the kill after {delay:.2f} s"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        left = wait_gone(children)
        assert left == [], f"seed {SEED}, round {round_}, killed after {delay:.2f} s"


def _stored(state: Path) -> int:
    db = sqlite3.connect(state / "state.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return int(db.execute("SELECT COUNT(*) FROM files").fetchone()[0])
    finally:
        db.close()


@pytest.mark.parametrize("incremental", [False, True], ids=["plain", "incremental"])
def test_scan_killed_at_random_moments(tmp_path: Path, incremental: bool) -> None:
    """Scans killed at seeded random moments (start-up, walk, reading, signing), then
    one that finishes: it holds every record of every file once; with --incremental
    it reads again only what no killed scan stored (also when the first scan of the
    state was killed), and the state is intact; the chain verifies with no gap."""
    rng = random.Random(SEED + incremental)
    tree = tmp_path / "tree"
    truth = taxpayer_tree(tree, 40, 30, seed=SEED, clean=10, repeat=3)
    env = private_env(tmp_path)
    state = tmp_path / "state"
    args = [str(FTISCAN), "scan", str(tree), "-q", "--jobs", "2", "--format", "json"]
    if incremental:
        args.append("--incremental")
    delays = []
    for _ in range(4):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delays.append(round(rng.uniform(0.3, 4.0), 2))
        time.sleep(delays[-1])
        children = workers_of(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert wait_gone(children) == [], f"seed {SEED}, kills after {delays} s"
    stored = _stored(state) if incremental else 0
    done = run([*args[1:]], env)
    assert done.returncode == 1, f"seed {SEED}, kills after {delays} s: {done.stderr}"
    report = json.loads(done.stdout)
    assert by_path(report) == {str(p): n for p, n in truth.items()}, f"seed {SEED}: {delays}"
    assert report["coverage"]["files_scanned"] == 50
    assert report["coverage"]["files_reused"] == stored, f"seed {SEED}, kills after {delays} s"
    if incremental:
        assert _stored(state) == 50
    chain = chain_files(state)
    assert [load_report(p)["chain"]["sequence"] for p in chain] == list(range(1, len(chain) + 1))
    verified = run(["verify", str(chain[0].parent)], env)
    assert verified.returncode == 0, f"seed {SEED}, kills after {delays} s: {verified.stdout}"
