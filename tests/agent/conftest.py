"""Run the real `ftiscan` console script as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FTISCAN = Path(sys.executable).with_name("ftiscan")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(tmp_path: Path) -> Run:
    """Spawn the installed CLI with a private key folder; capture its output."""
    keys = tmp_path / "keys"

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "FTISCAN_KEY_DIR": str(keys)}
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
