"""Shared parts of the fault tests: synthetic trees, the real CLI, real kernel faults.

Kernel faults are real, not simulated: the CLI runs in a user namespace of its own
(``unshare --user --map-root-user --mount``) in which the test mounts a small tmpfs
(a real ENOSPC) or remounts a folder read-only (a real EROFS); the machine's own
mounts are untouched. Tests that need one are skipped where user namespaces are not
allowed (`needs_userns`).

Random moments come from ``random.Random(SEED)``; ``FTISCAN_FAULT_SEED`` overrides the
seed, and every failure message names it, so that a failure can be run again.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic.home import taxpayer_csv
from tests.synthetic.people import People
from tests.synthetic.report import load_report

__all__ = [
    "FTISCAN",
    "SEED",
    "Session",
    "by_path",
    "chain_files",
    "needs_userns",
    "private_env",
    "run",
    "taxpayer_tree",
    "userns",
    "wait_gone",
    "workers_of",
]

SEED = int(os.environ.get("FTISCAN_FAULT_SEED", "6103"))


def taxpayer_tree(
    root: Path, files: int, rows: int, *, seed: int, clean: int = 0, repeat: int = 1
) -> dict[Path, int]:
    """``files`` CSV files of ``rows`` distinct synthetic taxpayers each (the rows written
    ``repeat`` times: bigger files, the same records) and ``clean`` files without any;
    returns the records each CSV holds."""
    root.mkdir(parents=True, exist_ok=True)
    people = People(seed)
    truth: dict[Path, int] = {}
    for n in range(files):
        path = root / f"export-{n:03d}.csv"
        text = taxpayer_csv(people.taxpayers(rows))
        head, _, body = text.partition("\n")
        path.write_text(head + "\n" + body * repeat, encoding="utf-8")
        truth[path] = rows
    for n in range(clean):
        (root / f"notes-{n:03d}.txt").write_text(
            f"agenda {n}: budget, travel\n" * 40, encoding="utf-8"
        )
    return truth


def run(
    args: Sequence[str], env: dict[str, str], timeout: float = 300, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (``ftiscan ARGS``), behind ``prefix`` (a namespace) if given."""
    return subprocess.run(
        [*prefix, str(FTISCAN), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def userns(script: str) -> list[str]:
    """A command prefix: run ``script`` (sh) as root of a new user and mount namespace,
    then the command. ``script`` sets up mounts, which only that namespace sees."""
    return [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        script + ' && exec "$@"',
        "sh",
    ]


def tmpfs(folder: Path, size: str, fill: int = 0) -> str:
    """Namespace script: a tmpfs of ``size`` on ``folder``, ``fill`` bytes of it used."""
    script = f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(folder))}"
    if fill:
        filler = shlex.quote(str(folder / ".filler"))
        script += f" && head -c {fill} /dev/zero > {filler}"
    return script


def read_only(folder: Path) -> str:
    """Namespace script: ``folder`` (as it is) read-only."""
    quoted = shlex.quote(str(folder))
    return f"mount --bind {quoted} {quoted} && mount -o remount,ro,bind {quoted}"


def _userns_allowed() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        [*userns("mount -t tmpfs -o size=64k tmpfs /mnt"), "true"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return probe.returncode == 0


needs_userns = pytest.mark.skipif(
    not _userns_allowed(), reason="user namespaces are not allowed here"
)


def by_path(report: dict[str, Any]) -> dict[str, int]:
    """Records per path of the taxpayer-record findings; asserts that no finding
    counts a record twice (its fingerprints are distinct and as many as its records)."""
    out: dict[str, int] = {}
    for finding in report["findings"]:
        if finding["rule"] != "fti.taxpayer-record":
            continue
        prints = finding["fingerprints"]
        assert len(set(prints)) == len(prints) == finding["records"]
        assert finding["path"] not in out  # one finding of the rule per file
        out[finding["path"]] = finding["records"]
    return out


def chain_files(state: Path) -> list[Path]:
    """The agent's signed reports in its state folder, by key then sequence."""
    return sorted((state / "chain").glob("*/*.dsse.json"))


def chain_reports(state: Path) -> list[dict[str, Any]]:
    return [load_report(path) for path in chain_files(state)]


def workers_of(pid: int) -> list[psutil.Process]:
    """The processes ``pid`` started (scan workers, multiprocessing's resource tracker)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def wait_gone(processes: Sequence[psutil.Process], within: float = 60.0) -> list[int]:
    """Wait up to ``within`` seconds for ``processes`` to end; the pids still alive
    then (each is killed, so that a failing test leaves nothing behind)."""
    deadline = time.monotonic() + within
    alive = list(processes)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        time.sleep(0.05)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    return [p.pid for p in alive]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Session:
    """Steps run one after the other in one user and mount namespace, so that what a
    step leaves on a namespace-only mount (a tmpfs) is there for the next step. Each
    step is an ``ftiscan`` command (`cli`) or a shell command (`sh`); `run` gives the
    (exit code, stdout, stderr) of each ftiscan step, in order. Paths outside the
    namespace's own mounts are shared with the test."""

    def __init__(self, work: Path, setup: str, env: dict[str, str]) -> None:
        self.work, self.setup, self.env = work, setup, env
        self.lines: list[str] = []
        self.outputs: list[Path] = []
        work.mkdir(parents=True, exist_ok=True)

    def cli(self, *args: str) -> Session:
        out = self.work / f"step-{len(self.outputs)}"
        self.outputs.append(out)
        quoted = " ".join(shlex.quote(a) for a in (str(FTISCAN), *args))
        self.lines.append(f"{quoted} > {out}.out 2> {out}.err; echo $? > {out}.rc")
        return self

    def sh(self, command: str) -> Session:
        self.lines.append(command)
        return self

    def run(self, timeout: float = 600) -> list[tuple[int, str, str]]:
        script = self.setup + " && " + " ; ".join(self.lines)
        done = subprocess.run(
            [*userns(script), "true"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return [
            (
                int(out.with_suffix(".rc").read_text()),
                out.with_suffix(".out").read_text(),
                out.with_suffix(".err").read_text(),
            )
            for out in self.outputs
        ]
