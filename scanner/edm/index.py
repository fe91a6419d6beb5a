"""The EDM index file: keyed, truncated hashes of field combinations, signed.

Design note
===========

What is stored. For each record of counsel's list, after `ftiscan.scanner.edm.normalize`:

========================  =========  ==============================================
table (combination)       bits       role
========================  =========  ==============================================
``tin``                   24         gate: corroboration only, never a hit alone
``tin+zip5``              >= 32      hit, counted only when the ``tin`` gate agrees
``name+zip5``             16-32      gate: lets the agent skip parsing streets
``name+street+zip5``      64         hit on its own (copies without the TIN)
========================  =========  ==============================================

Each entry is ``HMAC-SHA-256(K_c, "f1|f2|...")`` cut to the table's bits, where
``K_c = HKDF-SHA256(fleet key, salt, info=b"ftiscan edm v1 " + c)``: one key per
combination, and a random 128-bit salt per build, so two builds (or two combinations,
or the report fingerprints, which use the fleet key itself) share no value. A table
is a sorted array of distinct fixed-width integers, nothing else: no record ordinal,
no position, nothing that links an entry of one table to an entry of another. (Linked
entries would let a key holder intersect the tables: find a TIN's bucket, then its
ZIP, then unmask the pair.) Widths: ``tin+zip5`` grows with the number of distinct
pairs n as ``max(32, bit_length(n**2))``, so that a stranger's TIN and ZIP pass both
the 24-bit gate and the pair table with probability ``(n / 2**24) * (n / 2**b) <=
2**-24`` (about 6e-8) for any list size; ``name+zip5`` gets ``bit_length(n) + 4``
bits (about 1 in 20 of all buckets filled). 50,000 records take 1.0 MB on disk and
in memory.

Who learns what. Measured here (CPython 3.11, one core): one guess, an HMAC of one
candidate under a derived key, costs 1.9 us; about 1e9 per second on one GPU.

* Someone holding only the index (no fleet key) learns the table sizes (about the
  number of records), the build time and the signer. Nothing about any record:
  HMAC-SHA-256 is a pseudo-random function, so without the 256-bit key every entry
  is indistinguishable from a random number, and no guess can be tested offline.
  The key-check value is an HMAC of a fixed label under its own derived key: it
  tells a wrong key from the right one and nothing else.
* Someone holding an agent, hence its fleet key, and the index can test guesses at
  the cost above. The TIN space is about 8.9e8 valid SSNs (plus 4e7 ITINs) and
  there are about 42,000 ZIP5s. Enumerating every SSN against the 24-bit gate takes
  8.9e8 guesses (28 minutes on one Python core, a second on a GPU) and yields about
  2.6 million TINs for a 50,000-record list: each 24-bit bucket holds about 53 valid
  SSNs, so a gate hit is 1 chance in 53 of being listed. Testing each of those
  against every ZIP costs 1.1e11 guesses (58 hours on one core, 2 minutes on a GPU)
  and leaves about 1 million TINs with at least one passing ZIP, of which 50,000
  are the listed ones: a listed TIN is then known to be among one million, with its
  ZIP among one or two. That is the price of letting an agent recognise a TIN + ZIP
  copy: whatever the agent can confirm, whoever holds its key can confirm too.
  Names and streets cannot be enumerated, but a key holder with a population-scale
  list of names and addresses (a voter file, about 2e8 entries: 6 minutes on one
  core) learns which of those people are listed, without false positives (64 bits)
  and without their TIN. The ``name+zip5`` gate tells such a person only "maybe"
  (about 1 in 20 of all name + ZIP guesses pass), less than the 64-bit table tells
  whoever has the street too. Slowing every guess (PBKDF2, scrypt) was considered
  and rejected: the agent pays the same price per candidate, and a table of a
  million rows would take minutes per file.

File layout (all integers big-endian unless said otherwise)::

    magic      8 bytes  b"\\x89FTIEDM\\n"
    length     4 bytes  length of the header
    header     canonical JSON (RFC 8785), see `HEADER_KEYS`
    body       the tables in header order, each `count` little-endian unsigned
               integers of 4 bytes (bits <= 32) or 8 bytes, strictly ascending
    signature  64 bytes Ed25519 over DSSE PAE(PAYLOAD_TYPE, magic..body)

The signature reuses the DSSE pre-authentication encoding of `ftiscan.reports.dsse`
with its own payload type, so an index signature can never pass for a report's. The
header names the signer's key id (SHA-256 of its DER public key) and the body's
SHA-256. `EdmIndex.digest` (``sha256:<hex>`` of the whole file) goes into reports.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ftiscan.scanner.edm.normalize import NORMALIZER_VERSION
from ftiscan.scanner.errors import FtiscanError

__all__ = [
    "COMBOS",
    "FORMAT_VERSION",
    "GATES",
    "HEADER_KEYS",
    "MAGIC",
    "PAYLOAD_TYPE",
    "EdmError",
    "EdmIndex",
    "Hasher",
    "IndexInfo",
    "TableInfo",
    "check_signature",
    "combo_message",
    "encode_index",
    "key_matches",
    "load_index",
    "read_index",
    "table_bits",
]

MAGIC = b"\x89FTIEDM\n"
PAYLOAD_TYPE = "application/vnd.ftiscan.edm-index"
FORMAT_VERSION = 1
FORMAT_NAME = "ftiscan-edm"

#: Every combination, in file order.
COMBOS = ("tin", "tin+zip5", "name+zip5", "name+street+zip5")
#: Hit table -> the gate table that must agree before it is looked at.
GATES = {"tin+zip5": "tin", "name+street+zip5": "name+zip5"}
#: The header's keys, all required, no others.
HEADER_KEYS = frozenset(
    {
        "body_sha256",
        "built",
        "format",
        "key_check",
        "normalizer",
        "records",
        "salt",
        "signer",
        "tables",
        "version",
    }
)
_TABLE_KEYS = frozenset({"bits", "combo", "count"})
_MAX_HEADER = 65536
_SIGNATURE = 64
_PREFIX = len(MAGIC) + 4
_KEY_CHECK_LABEL = b"ftiscan edm key check"


class EdmError(FtiscanError):
    """An index was refused; ``reason`` is a stable code (``unreadable``, ``not-index``,
    ``truncated``, ``malformed``, ``version``, ``unknown-signer``, ``bad-signature``,
    ``body-digest``, ``wrong-key``) and the message names the file and says why."""

    def __init__(self, path: Path | str, reason: str, detail: str) -> None:
        super().__init__(f"{path}: {reason}: {detail}")
        self.path, self.reason, self.detail = Path(path), reason, detail


def table_bits(combo: str, count: int) -> int:
    """The width of a table of ``count`` distinct entries (see the design note).

    >>> table_bits("tin", 50_000), table_bits("tin+zip5", 50_000), table_bits("tin+zip5", 1_300_000)
    (24, 32, 41)
    >>> table_bits("name+zip5", 50_000), table_bits("name+street+zip5", 50_000)
    (20, 64)
    """
    if combo == "tin":
        return 24
    if combo == "tin+zip5":
        return max(32, min(64, (count * count).bit_length()))
    if combo == "name+zip5":
        return max(16, min(32, count.bit_length() + 4))
    if combo == "name+street+zip5":
        return 64
    raise ValueError(f"unknown combination {combo!r}")


def combo_message(*parts: str) -> str:
    """What is hashed for a combination: its normalised fields joined by ``|`` (no
    normalised field holds one).

    >>> combo_message("MARIA ORTEGA", "12 MAPLE", "62701")
    'MARIA ORTEGA|12 MAPLE|62701'
    """
    return "|".join(parts)


def _derive(fleet_key: bytes, salt: bytes, label: str) -> bytes:
    info = b"ftiscan edm v1 " + label.encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(fleet_key)


def _key_check(fleet_key: bytes, salt: bytes) -> str:
    check = _derive(fleet_key, salt, "key-check")
    return hmac.new(check, _KEY_CHECK_LABEL, hashlib.sha256).hexdigest()[:16]


class Hasher:
    """The keyed hash of each combination: ``value(combo, message)`` is the first 64
    bits of its HMAC as an integer; a table of b bits holds ``value >> (64 - b)``."""

    __slots__ = ("_macs",)

    def __init__(self, fleet_key: bytes, salt: bytes) -> None:
        self._macs = {
            combo: hmac.new(_derive(fleet_key, salt, combo), digestmod=hashlib.sha256)
            for combo in COMBOS
        }

    def value(self, combo: str, message: str) -> int:
        mac = self._macs[combo].copy()
        mac.update(message.encode("ascii"))
        return int.from_bytes(mac.digest()[:8], "big")


@dataclass(frozen=True, slots=True)
class TableInfo:
    combo: str
    bits: int
    count: int

    @property
    def width(self) -> int:
        return 4 if self.bits <= 32 else 8


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What the header of an index says; nothing here is checked against a key."""

    path: Path
    digest: str  # sha256:<hex> of the whole file
    signer: str
    records: int
    built: str
    tables: tuple[TableInfo, ...]
    header: Mapping[str, Any]


def _typecode(width: int) -> str:
    code = "I" if width == 4 else "Q"
    assert array(code).itemsize == width, "platform without 4- and 8-byte array items"
    return code


def _pack(values: Iterable[int], width: int) -> bytes:
    table = array(_typecode(width), sorted(set(values)))
    if sys.byteorder == "big":  # pragma: no cover - the tests run on little-endian hosts
        table.byteswap()
    return table.tobytes()


def encode_index(
    tables: Mapping[str, Iterable[int]],
    *,
    records: int,
    fleet_key: bytes,
    salt: bytes,
    signing_key: Ed25519PrivateKey,
    built: str,
) -> bytes:
    """The signed index bytes for 64-bit ``tables`` values (from `Hasher.value`)."""
    from ftiscan.reports.canonical import canonical_bytes
    from ftiscan.reports.dsse import key_id, pae

    distinct = {combo: set(tables.get(combo, ())) for combo in COMBOS}
    infos, body = [], bytearray()
    for combo in COMBOS:
        bits = table_bits(combo, len(distinct[combo]))
        cut = {value >> (64 - bits) for value in distinct[combo]}
        info = TableInfo(combo, bits, len(cut))
        infos.append({"bits": bits, "combo": combo, "count": info.count})
        body += _pack(cut, info.width)
    header = {
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "built": built,
        "format": FORMAT_NAME,
        "key_check": _key_check(fleet_key, salt),
        "normalizer": NORMALIZER_VERSION,
        "records": records,
        "salt": salt.hex(),
        "signer": key_id(signing_key.public_key()),
        "tables": infos,
        "version": FORMAT_VERSION,
    }
    head = canonical_bytes(header)
    signed = MAGIC + struct.pack(">I", len(head)) + head + bytes(body)
    return signed + signing_key.sign(pae(PAYLOAD_TYPE, signed))


def _is_hex(value: Any, size: int) -> bool:
    return (
        isinstance(value, str)
        and len(value) == size
        and all(ch in "0123456789abcdef" for ch in value)
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _header(path: Path, raw: bytes) -> tuple[dict[str, Any], tuple[TableInfo, ...]]:
    from ftiscan.reports.canonical import CanonicalError, canonical_bytes, parse

    try:
        header = parse(raw)
    except CanonicalError as exc:
        raise EdmError(path, "malformed", f"header is not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise EdmError(path, "malformed", f"header does not name the {FORMAT_NAME} format")
    if header.get("version") != FORMAT_VERSION:
        raise EdmError(
            path,
            "version",
            f"format version {header.get('version')!r}; this ftiscan reads version "
            f"{FORMAT_VERSION}",
        )
    if header.get("normalizer") != NORMALIZER_VERSION:
        raise EdmError(
            path,
            "version",
            f"built with normaliser {header.get('normalizer')!r}; this ftiscan "
            f"normalises as version {NORMALIZER_VERSION}: rebuild the index",
        )
    if canonical_bytes(header) != raw:
        raise EdmError(path, "malformed", "header is not in canonical JSON form")
    if set(header) != HEADER_KEYS:
        missing, extra = sorted(HEADER_KEYS - set(header)), sorted(set(header) - HEADER_KEYS)
        raise EdmError(path, "malformed", f"header keys: missing {missing}, unexpected {extra}")
    checks = {
        "body_sha256": _is_hex(header["body_sha256"], 64),
        "built": isinstance(header["built"], str),
        "key_check": _is_hex(header["key_check"], 16),
        "records": _is_count(header["records"]),
        "salt": _is_hex(header["salt"], 32),
        "signer": _is_hex(header["signer"], 64),
        "tables": isinstance(header["tables"], list) and len(header["tables"]) == len(COMBOS),
    }
    bad = sorted(name for name, ok in checks.items() if not ok)
    if bad:
        raise EdmError(path, "malformed", f"header field(s) {', '.join(bad)} of the wrong type")
    tables = []
    for combo, entry in zip(COMBOS, header["tables"], strict=True):
        if (
            not isinstance(entry, dict)
            or set(entry) != _TABLE_KEYS
            or entry["combo"] != combo
            or not _is_count(entry["count"])
            or entry["bits"] not in range(8, 65)
        ):
            raise EdmError(path, "malformed", f"table entry for {combo} is not valid")
        tables.append(TableInfo(combo, entry["bits"], entry["count"]))
    return header, tuple(tables)


def read_index(path: Path) -> tuple[IndexInfo, bytes]:
    """Read ``path`` and check its structure; return what its header says and its bytes.

    Checks the magic, the sizes, the header's form and version. Does *not* check the
    signature or the key: `load_index` does.
    """
    try:
        with path.open("rb") as fh:
            prefix = fh.read(_PREFIX)
            if not prefix or not MAGIC.startswith(prefix[: len(MAGIC)]):
                raise EdmError(path, "not-index", "not an ftiscan EDM index (no FTIEDM magic)")
            if len(prefix) < _PREFIX:
                raise EdmError(path, "truncated", f"file ends after {len(prefix)} bytes")
            (length,) = struct.unpack(">I", prefix[len(MAGIC) :])
            if length > _MAX_HEADER:
                raise EdmError(path, "malformed", f"header of {length} bytes (at most 65536)")
            raw = fh.read(length)
            if len(raw) < length:
                raise EdmError(path, "truncated", "file ends inside the header")
            header, tables = _header(path, raw)
            size = os.fstat(fh.fileno()).st_size
            expected = _PREFIX + length + sum(t.count * t.width for t in tables) + _SIGNATURE
            if size < expected:
                raise EdmError(
                    path, "truncated", f"file is {size} bytes, its header describes {expected}"
                )
            if size > expected:
                raise EdmError(path, "malformed", f"{size - expected} byte(s) after the signature")
            data = prefix + raw + fh.read()
    except OSError as exc:
        raise EdmError(path, "unreadable", exc.strerror or type(exc).__name__) from None
    info = IndexInfo(
        path=path,
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        signer=header["signer"],
        records=header["records"],
        built=header["built"],
        tables=tables,
        header=header,
    )
    return info, data


def check_signature(info: IndexInfo, data: bytes, trusted: Mapping[str, Ed25519PublicKey]) -> None:
    """Raise `EdmError` unless a trusted key signed ``data`` and its body is as the header says."""
    from ftiscan.reports.dsse import pae

    key = trusted.get(info.signer)
    if key is None:
        raise EdmError(
            info.path,
            "unknown-signer",
            f"signed by key id {info.signer[:16]}, which is not trusted "
            "(pin counsel's key with 'ftiscan key trust FILE')",
        )
    try:
        key.verify(data[-_SIGNATURE:], pae(PAYLOAD_TYPE, data[:-_SIGNATURE]))
    except InvalidSignature:
        raise EdmError(
            info.path, "bad-signature", f"the signature of key {info.signer[:16]} does not match"
        ) from None
    start = _PREFIX + struct.unpack(">I", data[len(MAGIC) : _PREFIX])[0]
    body = data[start:-_SIGNATURE]
    if hashlib.sha256(body).hexdigest() != info.header["body_sha256"]:
        raise EdmError(info.path, "body-digest", "the tables do not match the header's SHA-256")


def key_matches(info: IndexInfo, fleet_key: bytes) -> bool:
    """Whether ``fleet_key`` is the key the index was built with."""
    salt = bytes.fromhex(info.header["salt"])
    return hmac.compare_digest(_key_check(fleet_key, salt), info.header["key_check"])


def _decode_tables(info: IndexInfo, data: bytes) -> dict[str, array[int]]:
    tables: dict[str, array[int]] = {}
    offset = _PREFIX + struct.unpack(">I", data[len(MAGIC) : _PREFIX])[0]
    for table in info.tables:
        size = table.count * table.width
        values = array(_typecode(table.width))
        values.frombytes(data[offset : offset + size])
        if sys.byteorder == "big":  # pragma: no cover - little-endian test hosts
            values.byteswap()
        offset += size
        if any(a >= b for a, b in pairwise(values)) or (values and values[-1] >> table.bits):
            raise EdmError(info.path, "malformed", f"table {table.combo} is not sorted")
        tables[table.combo] = values
    return tables


class EdmIndex:
    """A verified index in memory: sorted arrays, looked up by bisection.

    Made by `load_index`. It pickles (for spawned scan workers) as its tables and
    the fleet key, and is rebuilt there without reading the file again.
    """

    __slots__ = ("_bits", "_hasher", "_key", "_tables", "info")

    def __init__(self, info: IndexInfo, tables: Mapping[str, array[int]], fleet_key: bytes) -> None:
        self.info = info
        self._key = fleet_key
        self._hasher = Hasher(fleet_key, bytes.fromhex(info.header["salt"]))
        self._tables = dict(tables)
        self._bits = {table.combo: table.bits for table in info.tables}

    def __reduce__(self) -> tuple[Any, ...]:
        return (EdmIndex, (self.info, self._tables, self._key))

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the whole index file (what reports carry)."""
        return self.info.digest

    @property
    def records(self) -> int:
        return self.info.records

    def bits(self, combo: str) -> int:
        return self._bits[combo]

    def size(self, combo: str) -> int:
        return len(self._tables[combo])

    def __contains__(self, item: tuple[str, str]) -> bool:
        """``(combo, message) in index``: the keyed hash of the message is in the table."""
        combo, message = item
        table = self._tables[combo]
        wanted = self._hasher.value(combo, message) >> (64 - self._bits[combo])
        at = bisect_left(table, wanted)
        return at < len(table) and table[at] == wanted

    def __repr__(self) -> str:
        return f"EdmIndex({str(self.info.path)!r}, records={self.records}, {self.digest})"


def load_index(path: Path, key: bytes, trusted: Mapping[str, Ed25519PublicKey]) -> EdmIndex:
    """Read, verify and load the index at ``path`` for lookups under fleet ``key``.

    Refuses, as `EdmError` naming the file and the reason: an unreadable file, one that
    is not an index, truncated or malformed, of another format or normaliser version,
    signed by a key not in ``trusted`` (key id -> public key) or with a bad signature,
    whose body does not match its header, or built with another fleet key.
    Does *not* check how old the index is or whether its signer was revoked.
    """
    info, data = read_index(path)
    check_signature(info, data, trusted)
    if not key_matches(info, key):
        raise EdmError(
            path,
            "wrong-key",
            "built with another fleet key (key check failed): this agent needs the "
            "fleet key the index was built with",
        )
    return EdmIndex(info, _decode_tables(info, data), key)
