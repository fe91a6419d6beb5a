"""kill -9 of the real ``ftiscan scan`` at random moments, with and without --incremental.

What must hold after each kill and the scan that follows it: no worker process of the
killed scan lives on, nothing found is lost, no record is counted twice, the chain of
signed reports verifies with no gap, and an incremental scan reads again only what no
killed scan had stored.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults._faults import (
    FTISCAN,
    SEED,
    private_env,
    taxpayer_tree,
    wait_gone,
    workers_of,
)

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
    taxpayer_tree(tree, 16, 200, seed=SEED, repeat=10)
    env = private_env(tmp_path)
    for round_ in range(2):
        proc = subprocess.Popen(
            [str(FTISCAN), "scan", str(tree), "-q", "--jobs", "2", "--format", "json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_workers(proc, 3)  # two workers and the resource tracker
        delay = rng.uniform(0.0, 1.5)
        time.sleep(delay)
        children = workers_of(proc.pid)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        left = wait_gone(children)
        assert left == [], f"seed {SEED}, round {round_}, killed after {delay:.2f} s"
