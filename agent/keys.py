"""Key material on disk: the fingerprint (HMAC) key.

Without a fleet key issued by counsel, each install makes a random 256-bit key on
first use, so fingerprints correlate within one machine's reports. The file is
created 0600 and refused if group or others can read it.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

import platformdirs

from ftiscan.scanner.errors import FtiscanError

FINGERPRINT_KEY = "fingerprint.key"


class KeyFileError(FtiscanError):
    """A key file is missing, malformed or too open."""


def default_key_dir() -> Path:
    env = os.environ.get("FTISCAN_KEY_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("ftiscan", appauthor=False)) / "keys"


def _check_private(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - ACLs, not mode bits
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: key file is readable by others (mode {mode & 0o777:04o}); chmod 600 it"
        )


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 atomically (never world-readable, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def fingerprint_key(key_dir: Path | None = None) -> bytes:
    """The HMAC key for fingerprints; made on first use."""
    path = (key_dir or default_key_dir()) / FINGERPRINT_KEY
    if not path.exists():
        write_private(path, secrets.token_hex(32).encode() + b"\n")
    _check_private(path)
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise KeyFileError(f"{path}: not a hex key") from exc
    if len(key) < 16:
        raise KeyFileError(f"{path}: key is {len(key)} bytes, expected at least 16")
    return key
