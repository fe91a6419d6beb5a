"""Files that grow, shrink, are replaced or vanish while the real CLI reads them.

A thread of the test watches the scan's processes (``/proc/PID/fd``) and changes each
file once it is open for reading: so each change happens while the file is read, for
real, with no hook in the scanner. What must hold: the report says what happened in
its coverage (read in part: ``changed``, ``vanished``), keeps what was found, never
counts a record twice; and the next ``--incremental`` scan reads those files again
(their identity is not the one stored) and gets each exact count, or reports the
file gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.faults._faults import FTISCAN, by_path, private_env, run
from tests.synthetic.home import taxpayer_csv
from tests.synthetic.people import People

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/fd"),
]

ROWS, REPEAT, NEW, REPLACED = 100, 150, 50, 60


def _open_by(pid: int) -> set[str]:
    """Paths that the workers of scan ``pid`` hold open (a deleted one under its old
    name). The scan itself only glances at the first bytes of large files to schedule
    them (`engine.scan_cost`); a change must come while a worker reads the file."""
    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return set()
    paths: set[str] = set()
    for proc in procs:
        folder = f"/proc/{proc.pid}/fd"
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            try:
                target = os.readlink(f"{folder}/{name}")
            except OSError:
                continue
            paths.add(target.removesuffix(" (deleted)"))
    return paths


class Changer(threading.Thread):
    """Runs each file's change once the scan holds that file open; notes for each
    whether the file was still open right after (the change was made mid-read)."""

    def __init__(self, pid: int, changes: dict[Path, Callable[[], None]]) -> None:
        super().__init__(daemon=True)
        self.pid, self.pending = pid, dict(changes)
        self.mid_read: dict[Path, bool] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while self.pending and not self.stop.is_set():
            held = _open_by(self.pid)
            for path in [p for p in self.pending if str(p) in held]:
                self.pending.pop(path)()
                self.mid_read[path] = str(path) in _open_by(self.pid)
            time.sleep(0.001)


def _csv(people: People, rows: int, repeat: int) -> str:
    head, _, body = taxpayer_csv(people.taxpayers(rows)).partition("\n")
    return head + "\n" + body * repeat


def test_files_changing_while_read(tmp_path: Path) -> None:
    people = People(6103)
    tree = tmp_path / "tree"
    tree.mkdir()
    grow, replace, shrink, steady, vanish = (
        tree / name
        for name in ("a-grow.csv", "b-replace.csv", "c-shrink.csv", "d-steady.csv", "e-vanish.csv")
    )
    for path in (grow, replace, shrink, steady, vanish):
        path.write_text(_csv(people, ROWS, REPEAT), encoding="utf-8")
    added = taxpayer_csv(people.taxpayers(NEW)).partition("\n")[2]
    replacement = tmp_path / "replacement.csv"
    replacement.write_text(_csv(people, REPLACED, 2), encoding="utf-8")

    def append() -> None:
        with grow.open("a", encoding="utf-8") as handle:
            handle.write(added)

    changes: dict[Path, Callable[[], None]] = {
        grow: append,
        replace: lambda: os.replace(replacement, replace),
        shrink: lambda: os.truncate(shrink, shrink.stat().st_size // 2),
        vanish: vanish.unlink,
    }
    env = private_env(tmp_path)
    args = [str(FTISCAN), "scan", str(tree), "-q", "--jobs", "2", "--incremental"]
    proc = subprocess.Popen(
        [*args, "--format", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    changer = Changer(proc.pid, changes)
    changer.start()
    stdout, stderr = proc.communicate(timeout=600)
    changer.stop.set()
    changer.join(timeout=30)
    assert proc.returncode == 1, stderr.decode()
    assert changer.pending == {}
    assert all(changer.mid_read.values()), "a change came after the file was read"

    first = json.loads(stdout)
    coverage = first["coverage"]
    assert coverage["partial"] == {"changed": 3, "vanished": 1}
    assert coverage["files_partial"] == 4
    assert coverage["not_read"] == [
        {"path": str(path), "reason": reason, "partial": True}
        for path, reason in (
            (grow, "changed"),
            (replace, "changed"),
            (shrink, "changed"),
            (vanish, "vanished"),
        )
    ]
    records = by_path(first)  # also: no finding counts a record twice
    assert ROWS <= records[str(grow)] <= ROWS + NEW
    assert records[str(replace)] == ROWS  # the file that was open, read to its end
    assert 0 < records[str(shrink)] <= ROWS
    assert records[str(steady)] == ROWS
    assert records[str(vanish)] == ROWS  # it was on disk while read

    done = run([*args[1:], "--format", "json"], env)
    assert done.returncode == 1, done.stderr
    second = json.loads(done.stdout)
    assert second["coverage"]["partial"] == {}
    assert second["coverage"]["not_read"] == []
    assert second["coverage"]["files_reused"] == 1  # only the steady file
    assert by_path(second) == {
        str(grow): ROWS + NEW,
        str(replace): REPLACED,
        str(shrink): ROWS,  # half of 150 rounds of the same rows: every taxpayer
        str(steady): ROWS,
    }
    assert [(g["path"], g["findings"]) for g in second["coverage"]["gone"]] == [(str(vanish), 1)]
