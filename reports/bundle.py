"""Offline bundles: an agent's reports in one signed file, for USB or e-mail.

A bundle is a zip file with exactly these members:

* ``reports/<sequence, 12 digits>.dsse.json``: the report envelopes, byte for byte as
  the agent's journal holds them (so every report verifies as it was signed);
* ``agent.pub``: the agent's Ed25519 public key (PEM SubjectPublicKeyInfo);
* ``manifest.dsse.json``: a DSSE envelope of type `BUNDLE_TYPE` signed by that key;
  its payload (canonical JSON) is ``{"type": "ftiscan.bundle/v1", "agent": key id,
  "created": ISO 8601, "reports": [{"sequence": n, "member": name, "digest":
  "sha256:<hex>", "size": bytes}, ...]}`` in ascending sequence order.

`read_bundle` checks all of it before it returns anything: the zip's structure, that
the member names are exactly those of the manifest (no extra, missing or repeated
member), sizes within limits before anything is inflated (a zip bomb is refused by its
declared sizes and its compression ratio, and reads are bounded whatever a member
claims), the manifest's signature by ``agent.pub``, each member's digest and size,
and each report's own signature by the same key. It returns the envelope bytes in
sequence order; a bundle that is changed, truncated, signed by another key than the
one it carries, or too large raises `BundleError` with a short ``reason`` code.

It does *not* check whether the agent key is enrolled, the reports' schema or their
place in the chain: the intake's import does, with exactly the checks of the HTTP path.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ftiscan.reports import dsse
from ftiscan.reports.canonical import CanonicalError, canonical_bytes, parse
from ftiscan.reports.protocol import BUNDLE_TYPE
from ftiscan.reports.store import fsync_dir
from ftiscan.scanner.errors import FtiscanError

__all__ = [
    "MANIFEST",
    "PUBLIC_KEY",
    "Bundle",
    "BundleError",
    "Limits",
    "open_bundle",
    "read_bundle",
    "write_bundle",
]

MANIFEST = "manifest.dsse.json"
PUBLIC_KEY = "agent.pub"
BUNDLE_FORMAT = "ftiscan.bundle/v1"
_MEMBER = re.compile(r"^reports/(\d{12})\.dsse\.json$")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # members carry no time: the manifest says when
_MAX_RATIO = 1100  # deflate cannot do better than about 1032:1
_SMALL = 4096  # members this small may have any ratio


class BundleError(FtiscanError):
    """A bundle that cannot be trusted or read. ``reason`` is one of ``not-bundle``
    (not a zip, or not laid out as a bundle), ``too-large``, ``zip-bomb``,
    ``manifest`` (the signed list is malformed), ``foreign`` (signed by another key
    than the bundle carries, or a report by another key), ``tampered`` (a member is
    not what the manifest signed) and ``truncated``."""

    exit_code = 1

    def __init__(self, path: Path | str, reason: str, detail: str) -> None:
        super().__init__(f"{path}: {reason}: {detail}")
        self.path, self.reason, self.detail = Path(path), reason, detail


@dataclass(frozen=True, slots=True)
class Limits:
    """What a reader accepts before it reads a byte of a member."""

    max_file: int = 1 << 30  # the bundle file
    max_total: int = 512 << 20  # all members, inflated
    max_envelope: int = 64 << 20  # one report
    max_reports: int = 100_000
    max_small: int = 64 << 10  # manifest entry size aside: manifest.dsse.json, agent.pub
    max_manifest: int = 32 << 20


@dataclass(frozen=True, slots=True)
class Bundle:
    """A verified bundle: whose reports, made when, and the envelopes in order."""

    agent: str  # key id
    public_key: Ed25519PublicKey
    created: str
    sequences: tuple[int, ...]
    envelopes: tuple[bytes, ...]


def _member_name(sequence: int) -> str:
    return f"reports/{sequence:012d}.dsse.json"


def _info(name: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def write_bundle(
    path: Path,
    key: Ed25519PrivateKey,
    envelopes: Iterable[tuple[int, bytes]],
    created: str | None = None,
) -> list[int]:
    """Write the envelopes (sequence, bytes) as a bundle signed by ``key`` at ``path``
    (durably: a temporary file beside it, fsynced, renamed); return the sequences.

    Envelopes are written as they come (one in memory at a time), sorted by the
    caller; a sequence out of order or repeated raises ValueError."""
    kid = dsse.key_id(key.public_key())
    stamp = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    entries: list[dict[str, Any]] = []
    try:
        with zipfile.ZipFile(tmp, "x") as archive:
            last = 0
            for sequence, envelope in envelopes:
                if sequence <= last:
                    raise ValueError(f"sequence {sequence} after {last}: not ascending")
                last = sequence
                name = _member_name(sequence)
                archive.writestr(_info(name), envelope)
                entries.append(
                    {
                        "sequence": sequence,
                        "member": name,
                        "digest": dsse.digest(envelope),
                        "size": len(envelope),
                    }
                )
            pem = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            archive.writestr(_info(PUBLIC_KEY, zipfile.ZIP_STORED), pem)
            manifest = {
                "type": BUNDLE_FORMAT,
                "agent": kid,
                "created": stamp,
                "reports": entries,
            }
            signed = dsse.sign(canonical_bytes(manifest), key, BUNDLE_TYPE)
            archive.writestr(_info(MANIFEST, zipfile.ZIP_STORED), signed)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)
    return [int(entry["sequence"]) for entry in entries]


# What a hostile zip can make zipfile and zlib raise while reading.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    OverflowError,
    KeyError,
    IndexError,
    UnicodeError,
    OSError,  # a seek to a negative offset that a changed header points at
)


class _Reader:
    def __init__(self, path: Path, archive: zipfile.ZipFile, limits: Limits) -> None:
        self.path, self.archive, self.limits = path, archive, limits
        self.read_total = 0

    def fail(self, reason: str, detail: str) -> BundleError:
        return BundleError(self.path, reason, detail)

    def check(self, info: zipfile.ZipInfo, limit: int) -> None:
        """Refuse a member by what it declares, before a byte of it is inflated."""
        name = info.filename[:80]
        if info.flag_bits & 0x1:
            raise self.fail("not-bundle", f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.fail("not-bundle", f"member {name!r}: compression method not allowed")
        if info.file_size > limit:
            raise self.fail(
                "too-large", f"member {name!r} is {info.file_size} bytes, at most {limit}"
            )
        if info.file_size > _SMALL and info.file_size > info.compress_size * _MAX_RATIO:
            raise self.fail(
                "zip-bomb",
                f"member {name!r} inflates {info.compress_size} bytes to {info.file_size}",
            )
        if self.read_total + info.file_size > self.limits.max_total:
            raise self.fail("too-large", f"members inflate to more than {self.limits.max_total}")

    def read(self, info: zipfile.ZipInfo, limit: int) -> bytes:
        """The member's bytes: checked first, and at most ``limit`` + 1 bytes read
        whatever it declares."""
        self.check(info, limit)
        name = info.filename[:80]
        try:
            with self.archive.open(info) as fh:
                data = fh.read(min(limit, info.file_size) + 1)
        except _ZIP_ERRORS as exc:
            raise self.fail("tampered", f"member {name!r} cannot be read ({exc})") from None
        if len(data) != info.file_size:
            raise self.fail(
                "tampered", f"member {name!r} holds {len(data)} bytes, declares {info.file_size}"
            )
        self.read_total += len(data)
        return data


def _public_key(reader: _Reader, data: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise reader.fail("not-bundle", f"{PUBLIC_KEY} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise reader.fail("not-bundle", f"{PUBLIC_KEY} is not an Ed25519 key")
    return key


def _entries(reader: _Reader, manifest: Any, kid: str) -> list[tuple[int, str, str, int]]:
    """(sequence, member, digest, size) of a well-formed manifest payload."""
    fields = {"type", "agent", "created", "reports"}
    if not isinstance(manifest, dict) or set(manifest) != fields:
        raise reader.fail("manifest", "expected an object with " + ", ".join(sorted(fields)))
    if manifest["type"] != BUNDLE_FORMAT:
        raise reader.fail("manifest", f"type is not {BUNDLE_FORMAT}")
    if manifest["agent"] != kid:
        raise reader.fail("foreign", "the manifest names another agent key than it is signed by")
    if not isinstance(manifest["created"], str) or not isinstance(manifest["reports"], list):
        raise reader.fail("manifest", "created is a string and reports a list")
    if len(manifest["reports"]) > reader.limits.max_reports:
        raise reader.fail("too-large", f"more than {reader.limits.max_reports} reports")
    out: list[tuple[int, str, str, int]] = []
    last = 0
    for number, entry in enumerate(manifest["reports"], start=1):
        if (
            not isinstance(entry, dict)
            or set(entry) != {"sequence", "member", "digest", "size"}
            or not isinstance(entry["sequence"], int)
            or isinstance(entry["sequence"], bool)
            or not isinstance(entry["size"], int)
            or isinstance(entry["size"], bool)
            or not isinstance(entry["digest"], str)
            or not isinstance(entry["member"], str)
        ):
            raise reader.fail("manifest", f"entry {number} is not sequence, member, digest, size")
        sequence = entry["sequence"]
        if sequence <= last:
            raise reader.fail("manifest", f"entry {number}: sequence {sequence} is not ascending")
        if entry["member"] != _member_name(sequence):
            raise reader.fail("manifest", f"entry {number}: member is not named by its sequence")
        last = sequence
        out.append((sequence, entry["member"], entry["digest"], entry["size"]))
    return out


def _open(path: Path, fh: IO[bytes], limits: Limits) -> Bundle:
    size = os.fstat(fh.fileno()).st_size
    if size > limits.max_file:
        raise BundleError(path, "too-large", f"the file is {size} bytes, at most {limits.max_file}")
    try:
        archive = zipfile.ZipFile(fh)
    except _ZIP_ERRORS as exc:
        reason = "truncated" if size and _looks_like_zip(fh) else "not-bundle"
        raise BundleError(path, reason, f"not a readable zip file ({exc})") from None
    with archive:
        reader = _Reader(path, archive, limits)
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(names) > limits.max_reports + 2:
            raise reader.fail("too-large", f"more than {limits.max_reports} reports")
        if len(set(names)) != len(names):
            raise reader.fail("not-bundle", "a member name is repeated")
        by_name = dict(zip(names, infos, strict=True))
        for wanted in (MANIFEST, PUBLIC_KEY):
            if wanted not in by_name:
                raise reader.fail("not-bundle", f"no {wanted}")
        key = _public_key(reader, reader.read(by_name[PUBLIC_KEY], limits.max_small))
        kid = dsse.key_id(key)
        signed = reader.read(by_name[MANIFEST], limits.max_manifest)
        try:
            verified = dsse.verify(signed, {kid: key}, BUNDLE_TYPE)
        except dsse.VerifyError as exc:
            reason = "foreign" if exc.reason == "unknown-key" else "manifest"
            raise reader.fail(reason, f"{MANIFEST}: {exc}") from None
        try:
            manifest = parse(verified.payload)
        except CanonicalError as exc:
            raise reader.fail("manifest", str(exc)) from None
        entries = _entries(reader, manifest, kid)
        listed = {member for _, member, _, _ in entries}
        extra = sorted(set(names) - listed - {MANIFEST, PUBLIC_KEY})
        if extra:
            raise reader.fail("not-bundle", f"member {extra[0][:80]!r} is not in the manifest")
        missing = sorted(listed - set(names))
        if missing:
            raise reader.fail("truncated", f"member {missing[0]!r} is missing")
        envelopes = []
        for sequence, member, digest, size_ in entries:
            info = by_name[member]
            reader.check(info, limits.max_envelope)
            if info.file_size != size_:
                raise reader.fail("tampered", f"{member}: size is not the one signed")
            data = reader.read(info, limits.max_envelope)
            if dsse.digest(data) != digest:
                raise reader.fail("tampered", f"{member}: digest is not the one signed")
            try:
                dsse.verify(data, {kid: key})
            except dsse.VerifyError as exc:
                reason = "foreign" if exc.reason == "unknown-key" else "tampered"
                raise reader.fail(reason, f"report {sequence}: {exc}") from None
            envelopes.append(data)
        return Bundle(
            agent=kid,
            public_key=key,
            created=str(manifest["created"]),
            sequences=tuple(sequence for sequence, _, _, _ in entries),
            envelopes=tuple(envelopes),
        )


def _looks_like_zip(fh: IO[bytes]) -> bool:
    fh.seek(0)
    return fh.read(4) == b"PK\x03\x04"


def open_bundle(path: Path, limits: Limits | None = None) -> Bundle:
    """Read and verify the bundle at ``path`` (see the module docstring); raises
    `BundleError`, or OSError when the file cannot be opened."""
    with open(path, "rb") as fh:
        return _open(path, fh, limits or Limits())


def read_bundle(path: Path, limits: Limits | None = None) -> list[bytes]:
    """The verified report envelopes of the bundle at ``path``, in sequence order."""
    return list(open_bundle(path, limits).envelopes)
