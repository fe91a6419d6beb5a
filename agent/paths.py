"""Where the agent keeps its keys and state, per platform and per mode.

An on-demand scan uses the user's own folders (platformdirs: ``~/.local/share`` and
``~/.local/state`` on Linux, ``~/Library/Application Support`` on macOS,
``%LOCALAPPDATA%`` on Windows). The daemon, which runs as a service account, uses the
system-wide folder: ``/var/lib/ftiscan`` on Linux, ``/Library/Application
Support/ftiscan`` on macOS, ``%PROGRAMDATA%\\ftiscan`` on Windows. ``FTISCAN_KEY_DIR``
and ``FTISCAN_STATE_DIR`` override either (as do ``--key-dir`` and ``--state-dir``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

__all__ = ["default_key_dir", "default_state_dir", "system_dir"]

APP = "ftiscan"


def system_dir() -> Path:
    """The system-wide data folder of the daemon."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / APP
    if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
        return Path("/Library/Application Support") / APP
    return Path("/var/lib") / APP


def default_key_dir(system: bool = False) -> Path:
    env = os.environ.get("FTISCAN_KEY_DIR")
    if env:
        return Path(env)
    if system:
        return system_dir() / "keys"
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "keys"


def default_state_dir(system: bool = False) -> Path:
    env = os.environ.get("FTISCAN_STATE_DIR")
    if env:
        return Path(env)
    if system:
        return system_dir() / "state"
    return Path(platformdirs.user_state_dir(APP, appauthor=False))
