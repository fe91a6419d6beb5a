"""Durable writes: a crash leaves the old file or the new one, never half of one.

`crash_point` is the fault-injection hook of the crash tests: when the environment
variable ``FTISCAN_CRASH_AT`` names a point, the process kills itself there with
SIGKILL (no cleanup, no flush: what a power cut or ``kill -9`` does).
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import signal
from pathlib import Path

import psutil

__all__ = ["crash_point", "fsync_dir", "write_durable", "write_new"]


def crash_point(name: str) -> None:
    """Die here, at once, if ``FTISCAN_CRASH_AT`` is ``name`` (tests only)."""
    if os.environ.get("FTISCAN_CRASH_AT") == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def fsync_dir(folder: Path) -> None:
    """Make a rename or link in ``folder`` durable."""
    if os.name == "nt":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(path: Path) -> None:
    """Remove temporary files that a killed writer of ``path`` left beside it."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (it must not exist), write all of ``data`` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durable(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path``: temp file, fsync, atomic rename, fsync folder.

    Temporary files of earlier writers of ``path`` that died are removed first. When
    the write fails (no space left, a read-only folder: `OSError`), ``path`` is as it
    was, no temporary file is left behind, and the error names ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write_new(tmp, data, mode)
        crash_point("report-written")
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):  # named for the file asked for, not the temporary
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    fsync_dir(path.parent)
