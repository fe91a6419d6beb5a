"""Key material on disk: the agent's signing key and the fingerprint (HMAC) key.

* ``agent.key``: the agent's Ed25519 private key (PKCS#8 PEM), made on first use;
  ``agent.pub`` beside it is its public part (SubjectPublicKeyInfo PEM), what
  ``ftiscan key export`` prints and counsel pins. Its key id is the SHA-256 of the
  public key's DER form (`ftiscan.reports.dsse.key_id`).
* ``fingerprint.key``: without a fleet key issued by counsel, each install makes a
  random 256-bit key on first use, so fingerprints correlate within one machine's
  reports.
* ``fleet.key``: the fleet key counsel issues (same hex form): the HMAC key of the
  EDM index (`ftiscan edm build` makes one in counsel's key folder if there is none);
  agents read it with `fleet_key` and never make one.
* ``trusted/*.pem``: public keys of other agents that ``ftiscan verify`` accepts
  without ``--key`` (``ftiscan key trust FILE``).

Private files are created 0600 in a 0700 folder and refused if group or others can
read them. The folder is the platform's per-user data folder, or for the daemon the
system-wide one (`ftiscan.agent.paths`); ``--key-dir`` or ``FTISCAN_KEY_DIR``
override it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ftiscan.agent.paths import default_key_dir
from ftiscan.reports.dsse import key_id
from ftiscan.scanner.errors import FtiscanError

__all__ = [
    "AGENT_KEY",
    "AGENT_PUB",
    "FINGERPRINT_KEY",
    "FLEET_KEY",
    "TRUSTED",
    "KeyFileError",
    "agent_key",
    "fingerprint_key",
    "fleet_key",
    "load_public_key",
    "public_pem",
    "read_hex_key",
    "trust",
    "trusted_keys",
    "write_private",
]

FINGERPRINT_KEY = "fingerprint.key"
FLEET_KEY = "fleet.key"
AGENT_KEY = "agent.key"
AGENT_PUB = "agent.pub"
TRUSTED = "trusted"


class KeyFileError(FtiscanError):
    """A key file is missing, malformed or too open."""


def _check_private(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - ACLs, not mode bits
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: key file is readable by others (mode {mode & 0o777:04o}); chmod 600 it"
        )


def write_private(path: Path, data: bytes, mode: int = 0o600, exclusive: bool = False) -> None:
    """Create ``path`` with ``mode`` atomically (never more open, even briefly); with
    ``exclusive``, raise FileExistsError instead of replacing an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if exclusive:
            os.link(tmp, path)  # fails if another process made the file first
        else:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def fingerprint_key(key_dir: Path | None = None) -> bytes:
    """The HMAC key for fingerprints; made on first use."""
    path = (key_dir or default_key_dir()) / FINGERPRINT_KEY
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            write_private(path, secrets.token_hex(32).encode() + b"\n", exclusive=True)
    return read_hex_key(path)


def fleet_key(key_dir: Path | None = None) -> bytes | None:
    """The fleet key counsel issued (``<key dir>/fleet.key``), or ``None``: never made here."""
    path = (key_dir or default_key_dir()) / FLEET_KEY
    return read_hex_key(path) if path.exists() else None


def read_hex_key(path: Path) -> bytes:
    """A hex key file (``fingerprint.key``, ``fleet.key``): private, at least 16 bytes."""
    try:
        _check_private(path)
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise KeyFileError(f"{path}: not a hex key") from exc
    if len(key) < 16:
        raise KeyFileError(f"{path}: key is {len(key)} bytes, expected at least 16")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def agent_key(key_dir: Path | None = None) -> Ed25519PrivateKey:
    """The agent's Ed25519 signing key; made on first use (with ``agent.pub``)."""
    folder = key_dir or default_key_dir()
    path = folder / AGENT_KEY
    if not path.exists():
        new = Ed25519PrivateKey.generate()
        pem = new.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with contextlib.suppress(FileExistsError):  # another process made it first
            write_private(path, pem, exclusive=True)
    _check_private(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: expected an Ed25519 key, got {type(key).__name__}")
    pub = folder / AGENT_PUB
    wanted = public_pem(key.public_key())
    if not pub.exists() or pub.read_bytes() != wanted:
        write_private(pub, wanted, mode=0o644)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (``agent.pub``, ``ftiscan key export``)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read ({exc.strerror})") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{path}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: expected an Ed25519 key, got {type(key).__name__}")
    return key


def trusted_keys(key_dir: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """Key id -> key for this agent's own public key and every pinned ``trusted/*.pem``."""
    folder = key_dir or default_key_dir()
    found: dict[str, Ed25519PublicKey] = {}
    candidates = [folder / AGENT_PUB, *sorted((folder / TRUSTED).glob("*.pem"))]
    for path in candidates:
        if path.is_file():
            key = load_public_key(path)
            found[key_id(key)] = key
    return found


def trust(path: Path, key_dir: Path | None = None) -> str:
    """Pin the public key in ``path`` for ``ftiscan verify``; return its key id."""
    key = load_public_key(path)
    kid = key_id(key)
    target = (key_dir or default_key_dir()) / TRUSTED / f"{kid}.pem"
    write_private(target, public_pem(key), mode=0o644)
    return kid
