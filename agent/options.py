"""Command-line options shared by the command groups (scan, edm, agent, key)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["key_dir_option"]


def key_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--key-dir DIR``: where the agent's keys live."""
    return click.option(
        "--key-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of the agent's keys (default: the platform's data folder; "
        "env FTISCAN_KEY_DIR).",
    )(func)
