"""The EDM index file: layout, refusals with exact reasons, and nothing in it to read."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.dsse import key_id, pae
from ftiscan.scanner.edm import normalize
from ftiscan.scanner.edm.build import EdmBuilder
from ftiscan.scanner.edm.index import (
    COMBOS,
    MAGIC,
    PAYLOAD_TYPE,
    EdmError,
    Hasher,
    combo_message,
    load_index,
    read_index,
    table_bits,
)
from ftiscan.scanner.errors import FtiscanError
from tests.synthetic.edm import Disclosed, disclosed_list
from tests.synthetic.people import dashed, spaced


@dataclass
class Built:
    path: Path
    key: bytes = field(repr=False)
    signer: Ed25519PrivateKey = field(repr=False)
    people: list[Disclosed] = field(repr=False)

    @property
    def trusted(self) -> dict[str, Ed25519PublicKey]:
        public = self.signer.public_key()
        return {key_id(public): public}


def _add(builder: EdmBuilder, person: Disclosed) -> list[str]:
    return builder.add(
        tin=person.tin,
        first=person.first,
        middle=person.middle,
        last=person.last,
        street=person.street,
        zip=person.zip,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A 300-record index of synthetic people, its fleet key and signer."""
    people = disclosed_list(random.Random(17), 300)
    key, signer = secrets.token_bytes(32), Ed25519PrivateKey.generate()
    builder = EdmBuilder(key)
    for person in people:
        assert _add(builder, person) == list(COMBOS)
    path = tmp_path_factory.mktemp("edm") / "fti.edm"
    path.write_bytes(builder.to_bytes(signer))
    return Built(path, key, signer, people)


def _parts(data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    (length,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    header = json.loads(data[start : start + length])
    return header, data[start + length : -64], data[-64:]


def _forge(
    header: dict[str, Any],
    body: bytes,
    signer: Ed25519PrivateKey,
    raw_header: bytes | None = None,
) -> bytes:
    """An index laid out as the design note says, signed by ``signer``."""
    head = raw_header if raw_header is not None else canonical_bytes(header)
    signed = MAGIC + struct.pack(">I", len(head)) + head + body
    return signed + signer.sign(pae(PAYLOAD_TYPE, signed))


def test_edm_index_loads_and_looks_up(built: Built) -> None:
    """A fresh index loads, its digest is the file's SHA-256, and each record is in it."""
    index = load_index(built.path, built.key, built.trusted)
    data = built.path.read_bytes()
    assert index.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert index.records == 300
    # Narrow tables may merge a few entries (birthdays): 300 of 2**16 buckets.
    assert index.size("tin+zip5") == index.size("name+street+zip5") == 300
    assert 290 <= index.size("tin") <= 300
    assert 290 <= index.size("name+zip5") <= 300
    assert [index.bits(c) for c in COMBOS] == [24, 32, 16, 64]
    person = built.people[0]
    tin, zip5 = person.tin, person.zip5
    assert ("tin", tin) in index
    assert ("tin+zip5", combo_message(tin, zip5)) in index
    name = normalize.name_key_parts(person.first, person.middle, person.last)
    street = normalize.street_key(person.street)
    assert name is not None
    assert street is not None
    assert ("name+street+zip5", combo_message(name, street, zip5)) in index
    assert ("name+street+zip5", combo_message(name, street, "99999")) not in index
    assert "records=300" in repr(index)


def test_edm_index_pickles_for_workers(built: Built) -> None:
    """A loaded index survives pickling (spawned workers) with the same lookups."""
    index = load_index(built.path, built.key, built.trusted)
    again = pickle.loads(pickle.dumps(index))  # noqa: S301 -- our own bytes, in-process
    person = built.people[5]
    assert ("tin+zip5", combo_message(person.tin, person.zip5)) in again
    assert again.digest == index.digest


def test_edm_index_layout_is_as_documented(built: Built) -> None:
    """Magic, header length, canonical header, tables in order, Ed25519 over the PAE."""
    data = built.path.read_bytes()
    assert data.startswith(MAGIC)
    header, body, signature = _parts(data)
    assert canonical_bytes(header) in data
    assert header["signer"] == key_id(built.signer.public_key())
    assert header["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert [t["combo"] for t in header["tables"]] == list(COMBOS)
    widths = [4 if t["bits"] <= 32 else 8 for t in header["tables"]]
    assert len(body) == sum(w * t["count"] for w, t in zip(widths, header["tables"], strict=True))
    built.signer.public_key().verify(signature, pae(PAYLOAD_TYPE, data[:-64]))
    count = header["tables"][0]["count"]
    first = struct.unpack(f"<{count}I", body[: 4 * count])
    assert list(first) == sorted(set(first))


def test_edm_table_bits_grow_with_the_list() -> None:
    """Pair and gate widths grow with the list so a stranger's false hit stays rare."""
    assert table_bits("tin", 10**6) == 24
    assert table_bits("tin+zip5", 1) == 32
    assert table_bits("tin+zip5", 50_000) == 32
    assert table_bits("tin+zip5", 1_300_000) == 41
    assert table_bits("name+zip5", 1_300_000) == 25
    with pytest.raises(ValueError, match="unknown combination"):
        table_bits("tin+name", 1)


# --- refusals ---------------------------------------------------------------------------


def _refused(path: Path, key: bytes, trusted: dict[str, Ed25519PublicKey]) -> EdmError:
    with pytest.raises(EdmError) as caught:
        load_index(path, key, trusted)
    assert isinstance(caught.value, FtiscanError)
    assert str(caught.value).startswith(f"{path}: {caught.value.reason}: ")
    return caught.value


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_edm_index_refuses_what_is_not_an_index(built: Built, tmp_path: Path) -> None:
    """Another file type, an empty file and a folder are refused by name."""
    for name, data in (("report.json", b'{"payload": "x"}'), ("empty.edm", b"")):
        error = _refused(_write(tmp_path, name, data), built.key, built.trusted)
        assert (error.reason, error.detail) == (
            "not-index",
            "not an ftiscan EDM index (no FTIEDM magic)",
        )
    folder = tmp_path / "folder.edm"
    folder.mkdir()
    assert _refused(folder, built.key, built.trusted).reason == "unreadable"


@pytest.mark.parametrize(
    ("cut", "detail"),
    [
        (5, "file ends after 5 bytes"),
        (20, "file ends inside the header"),
        (-1, "file is {size} bytes, its header describes {full}"),
        (-65, "file is {size} bytes, its header describes {full}"),
    ],
)
def test_edm_index_refuses_truncated(built: Built, tmp_path: Path, cut: int, detail: str) -> None:
    """A file cut anywhere (magic, header, body, signature) is refused as truncated."""
    data = built.path.read_bytes()
    short = data[:cut]
    error = _refused(_write(tmp_path, "cut.edm", short), built.key, built.trusted)
    assert error.reason == "truncated"
    assert error.detail == detail.format(size=len(short), full=len(data))


def test_edm_index_refuses_trailing_bytes(built: Built, tmp_path: Path) -> None:
    """Bytes after the signature are refused: one byte form only."""
    path = _write(tmp_path, "long.edm", built.path.read_bytes() + b"\n")
    error = _refused(path, built.key, built.trusted)
    assert (error.reason, error.detail) == ("malformed", "1 byte(s) after the signature")


def test_edm_index_refuses_unknown_signer(built: Built) -> None:
    """An index signed by a key not in ``trusted`` is refused before any lookup."""
    other = Ed25519PrivateKey.generate().public_key()
    error = _refused(built.path, built.key, {key_id(other): other})
    assert error.reason == "unknown-signer"
    signer = key_id(built.signer.public_key())
    assert error.detail.startswith(f"signed by key id {signer[:16]}, which is not trusted")
    assert _refused(built.path, built.key, {}).reason == "unknown-signer"


@pytest.mark.parametrize("where", ["body", "signature", "header-digit"])
def test_edm_index_refuses_bad_signature(built: Built, tmp_path: Path, where: str) -> None:
    """One changed byte of the tables, the signature or a header value fails the signature."""
    data = bytearray(built.path.read_bytes())
    if where == "body":
        data[-100] ^= 0x01
    elif where == "signature":
        data[-1] ^= 0x80
    else:
        at = data.index(b'"records":300')
        data[at + len('"records":')] = ord("4")
    error = _refused(_write(tmp_path, "bad.edm", bytes(data)), built.key, built.trusted)
    signer = key_id(built.signer.public_key())
    assert (error.reason, error.detail) == (
        "bad-signature",
        f"the signature of key {signer[:16]} does not match",
    )


def test_edm_index_refuses_wrong_fleet_key(built: Built) -> None:
    """Another fleet key is named as such (key check), without showing either key."""
    error = _refused(built.path, secrets.token_bytes(32), built.trusted)
    assert error.reason == "wrong-key"
    assert error.detail.startswith("built with another fleet key (key check failed)")
    assert built.key.hex() not in str(error)


def _reforged(built: Built, change: Callable[[dict[str, Any]], None], body: bytes = b"") -> bytes:
    header, old_body, _ = _parts(built.path.read_bytes())
    change(header)
    return _forge(header, body or old_body, built.signer)


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("version", 2, "format version 2; this ftiscan reads version 1"),
        (
            "normalizer",
            7,
            "built with normaliser 7; this ftiscan normalises as version 3: rebuild the index",
        ),
    ],
)
def test_edm_index_refuses_other_versions(
    built: Built, tmp_path: Path, field: str, value: int, detail: str
) -> None:
    """A validly signed index of another format or normaliser version is refused."""
    data = _reforged(built, lambda header: header.__setitem__(field, value))
    error = _refused(_write(tmp_path, "v.edm", data), built.key, built.trusted)
    assert (error.reason, error.detail) == ("version", detail)


def test_edm_index_refuses_body_not_matching_header(built: Built, tmp_path: Path) -> None:
    """A signed header whose body digest is wrong is refused as body-digest."""
    data = _reforged(built, lambda header: header.__setitem__("body_sha256", "0" * 64))
    error = _refused(_write(tmp_path, "d.edm", data), built.key, built.trusted)
    assert (error.reason, error.detail) == (
        "body-digest",
        "the tables do not match the header's SHA-256",
    )


def test_edm_index_refuses_malformed_headers(built: Built, tmp_path: Path) -> None:
    """Non-canonical JSON, missing fields, wrong types and unsorted tables are malformed."""
    header, body, _ = _parts(built.path.read_bytes())
    spaced_json = json.dumps(header, sort_keys=True).encode()
    cases: list[tuple[bytes, str]] = [
        (_forge(header, body, built.signer, spaced_json), "header is not in canonical JSON form"),
        (_forge(header, body, built.signer, b"not json"), "header is not JSON"),
        (_forge({**header, "format": "zip"}, body, built.signer), "header does not name the"),
        (
            _forge({k: v for k, v in header.items() if k != "salt"}, body, built.signer),
            "header keys: missing ['salt'], unexpected []",
        ),
        (
            _forge({**header, "records": "300"}, body, built.signer),
            "header field(s) records of the wrong type",
        ),
        (
            _forge({**header, "tables": header["tables"][::-1]}, body, built.signer),
            "table entry for tin is not valid",
        ),
    ]
    unsorted = body[4:8] + body[:4] + body[8:]
    header_unsorted = {**header, "body_sha256": hashlib.sha256(unsorted).hexdigest()}
    cases.append((_forge(header_unsorted, unsorted, built.signer), "table tin is not sorted"))
    too_long = MAGIC + struct.pack(">I", 1 << 20)
    cases.append((too_long, "header of 1048576 bytes (at most 65536)"))
    for n, (data, detail) in enumerate(cases):
        error = _refused(_write(tmp_path, f"m{n}.edm", data), built.key, built.trusted)
        assert error.reason == "malformed", n
        assert error.detail.startswith(detail), n


def test_edm_read_index_reports_the_header(built: Built) -> None:
    """`read_index` checks structure only and says what the header holds."""
    info, data = read_index(built.path)
    assert info.records == 300
    assert info.signer == key_id(built.signer.public_key())
    assert [t.combo for t in info.tables] == list(COMBOS)
    assert [t.count for t in info.tables][1::2] == [300, 300]
    assert len(data) == built.path.stat().st_size


# --- nothing to read ----------------------------------------------------------------------


def _plain_forms(person: Disclosed) -> list[str]:
    """Every plaintext form a record's fields could take in the file."""
    name = normalize.name_key_parts(person.first, person.middle, person.last) or ""
    street = normalize.street_key(person.street) or ""
    return [
        person.tin,
        dashed(person.tin),
        spaced(person.tin),
        person.first,
        person.last,
        person.full_name,
        person.short_name,
        normalize.fold(person.last),
        name,
        person.street,
        normalize.fold(person.street),
        street,
        person.zip,
        person.zip5,
    ]


def test_edm_index_holds_no_plaintext(built: Built) -> None:
    """No TIN in any form (text or binary), name, street or ZIP of the list is in the file."""
    data = built.path.read_bytes()
    _, body, _ = _parts(data)
    head = data[: len(data) - len(body) - 64]
    lowered = data.lower()
    found = []
    for n, person in enumerate(built.people):
        for form in _plain_forms(person):
            raw = form.encode("utf-8").lower()
            if len(form) >= 5 and form.isdigit():
                # A ZIP5 in the header could only sit between non-hex characters;
                # in the binary body, anywhere.
                pattern = rb"(?<![0-9a-f])" + raw + rb"(?![0-9a-f])"
                if raw in body or re.search(pattern, head):
                    found.append(n)
            elif len(form) >= 4 and raw in lowered:
                found.append(n)
        number = int(person.tin)
        for packed in (struct.pack("<I", number), struct.pack(">I", number)):
            if packed in data:
                found.append(n)
    assert found == [], f"{len(found)} plaintext value(s) of the list in the index"


def _messages(person: Disclosed) -> dict[str, list[str]]:
    """Each combination's normalised message, and the normalised fields alone."""
    tin, zip5 = person.tin, person.zip5
    name = normalize.name_key_parts(person.first, person.middle, person.last) or ""
    street = normalize.street_key(person.street) or ""
    fields = [tin, zip5, name, street, dashed(tin)]
    return {
        "tin": [tin, *fields],
        "tin+zip5": [combo_message(tin, zip5), f"{tin}{zip5}", *fields],
        "name+zip5": [combo_message(name, zip5), *fields],
        "name+street+zip5": [combo_message(name, street, zip5), *fields],
    }


def test_edm_index_holds_no_unkeyed_hash(built: Built) -> None:
    """No SHA-256, SHA-1 or MD5 of a normalised field or combination is in the file, whole
    (raw or hex) or truncated to a table's width; only keyed hashes are."""
    data = built.path.read_bytes()
    index = load_index(built.path, built.key, built.trusted)
    text = data.decode("latin-1")
    tables = {c: set(index._tables[c]) for c in COMBOS}
    whole = 0
    checks = dict.fromkeys(COMBOS, 0)
    hits = dict.fromkeys(COMBOS, 0)
    for person in built.people:
        for combo, messages in _messages(person).items():
            bits = index.bits(combo)
            for message in messages:
                for algorithm in ("sha256", "sha1", "md5"):
                    digest = hashlib.new(algorithm, message.encode()).digest()
                    if digest in data or digest.hex() in text or digest.hex()[:16] in text:
                        whole += 1
                    size = (bits + 7) // 8
                    values = {
                        int.from_bytes(digest[:8], "big") >> (64 - bits),
                        int.from_bytes(digest[:size], "little") & ((1 << bits) - 1),
                    }
                    checks[combo] += 1
                    hits[combo] += not values.isdisjoint(tables[combo])
    assert whole == 0
    # A keyed table holds an unkeyed value only by chance: about checks x entries / 2^bits
    # (0.03 in the 24-bit TIN gate, nothing in the 32/64-bit tables; a few in a thousand
    # in the 16-bit name gate). An unkeyed table would match nearly every person.
    chance = {c: checks[c] * len(tables[c]) / 2 ** index.bits(c) for c in COMBOS}
    assert chance["tin"] < 0.1
    assert [hits[c] <= 3 for c in ("tin", "tin+zip5", "name+street+zip5")] == [True] * 3
    assert hits["name+zip5"] < checks["name+zip5"] * 0.03
    assert min(checks.values()) > 100  # enough people for a leak to show


def test_edm_keyed_values_differ_per_build_and_combination() -> None:
    """The same message hashes differently under another salt or another combination."""
    key = secrets.token_bytes(32)
    one, two = Hasher(key, b"a" * 16), Hasher(key, b"b" * 16)
    assert one.value("tin", "x") != two.value("tin", "x")
    assert one.value("tin", "x") != one.value("tin+zip5", "x")
