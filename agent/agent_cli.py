"""``ftiscan agent``: run the watch daemon, and ask whether it runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ftiscan.agent.options import key_dir_option
from ftiscan.agent.paths import default_state_dir
from ftiscan.scanner.errors import FtiscanError

__all__ = ["agent"]

_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the agent's state and chain (default: the config's state_dir, else the "
    "platform's state folder; env FTISCAN_STATE_DIR).",
)


@click.group()
def agent() -> None:
    """The background watch daemon."""


@agent.command("run")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The agent config (agent.yaml).",
)
@key_dir_option
@_state_dir_option
@click.option(
    "--verbose", "-v", is_flag=True, help="Also log each file read (its path, never its content)."
)
def run(config_path: Path, key_dir: Path | None, state_dir: Path | None, verbose: bool) -> None:
    """Sweep the roots, watch them, sign a report for each change found, heartbeat.

    Runs until SIGTERM or SIGINT (exit 0); SIGHUP reloads the config (a malformed one
    is refused and the running one stays). Exit 2: a bad config or another agent on
    the same state folder.

    \b
    Example:  ftiscan agent run --config /etc/ftiscan/agent.yaml
    """
    from ftiscan.agent.daemon import Daemon

    try:
        daemon = Daemon(config_path, key_dir=key_dir, state_dir=state_dir, verbose=verbose)
        code = daemon.run()
    except FtiscanError as exc:
        click.echo(f"ftiscan: error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"ftiscan: error: {exc.filename}: {exc.strerror}", err=True)
        sys.exit(2)
    sys.exit(code)


def _text(status: dict[str, Any]) -> str:
    files = status["files"] or {}
    heads = ", ".join(f"{h['key_id'][:16]} #{h['sequence']}" for h in status["chain"]) or "none"
    outbox = f"{status['outbox']} report(s) without a receipt"
    state = f"running (pid {status['pid']})" if status["running"] else "not running"
    lines = [
        f"agent: {state}",
        f"state folder: {status['state_dir']}",
        f"last sweep: {status['last_sweep'] or 'never'}",
        f"last heartbeat: {status['last_heartbeat'] or 'never'}",
        f"files tracked: {files.get('tracked', 0)} ({files.get('with_findings', 0)} with "
        f"findings, {files.get('gone', 0)} gone)",
        f"queue: {status['queue']}",
        f"watch: {status['watch'] or 'unknown'}",
        f"chain head: {heads}",
        f"outbox: {outbox}",
    ]
    if status["submission"]:
        lines.append(f"submission: {status['submission']}")
    if status["paused"]:
        lines.append(f"paused: {status['paused']}")
    return "\n".join(lines)


@agent.command("status")
@_state_dir_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def status(state_dir: Path | None, fmt: str) -> None:
    """Say whether the agent runs, when it last swept and heartbeat, what it tracks.

    Exit 0 when it runs, 1 when not.

    \b
    Example:  ftiscan agent status --format json
    """
    from ftiscan.agent.daemon import read_status

    found = read_status(state_dir or default_state_dir())
    if fmt == "json":
        click.echo(json.dumps(found, sort_keys=True, indent=1))
    else:
        click.echo(_text(found))
    sys.exit(0 if found["running"] else 1)
