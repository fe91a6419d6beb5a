"""Run the real `ftiscan` console script as a subprocess."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FTISCAN = Path(sys.executable).with_name("ftiscan")

Run = Callable[..., subprocess.CompletedProcess[str]]


def private_env(base: Path) -> dict[str, str]:
    """The environment with key and state folders of the test's own under ``base``."""
    return {
        **os.environ,
        "FTISCAN_KEY_DIR": str(base / "keys"),
        "FTISCAN_STATE_DIR": str(base / "state"),
    }


@pytest.fixture
def run_cli(tmp_path: Path) -> Run:
    """Spawn the installed CLI with private key and state folders; capture its output."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = private_env(tmp_path)
        return subprocess.run(
            [str(FTISCAN), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    return run


def run_on_pty(
    args: list[str], env: dict[str, str], stdout: Path | None = None, timeout: float = 300
) -> tuple[int, bytes]:
    """Run ``args`` with standard error on a terminal (as a user sees progress) and
    standard output to the file ``stdout`` (or nowhere); return (exit code, terminal
    output). Reading the terminal until the child closes it keeps the child unblocked."""
    leader, follower = pty.openpty()
    with open(stdout or os.devnull, "wb") as out:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=follower, env=env
        )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    code = proc.wait(timeout=timeout)
    os.close(leader)
    return code, b"".join(chunks)
