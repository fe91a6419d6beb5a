"""A synthetic home folder with FTI in many containers, traps, filler, and ground truth.

``build_home(root)`` writes a realistic home tree (Documents/, Downloads/, Desktop/,
Projects/, Pictures/, .cache/, .config/) and its ground truth to
``root.parent / f"{root.name}.truth.json"``, outside the scanned tree, because the
truth lists every generated secret. ``python -m tests.synthetic.home OUTDIR`` does the
same from the command line (``make demo``) and prints counts only.

Ground truth, per file path relative to ``root`` (POSIX separators):

* positive: ``severity`` is exact, ``records`` is the exact number of distinct
  taxpayers in the file (rows may repeat a taxpayer, so rows != records);
* trap: ``max_severity`` is the most a finding may say, ``null`` meaning no finding at
  all (``flagged`` is false then).

A container (archive, e-mail, office file with parts) may also list ``members``: the
truth of each member path as findings name it (``attachments/export.zip/q4/a.csv``;
``""`` is the file's own content, a finding without member), each with its own kind,
severity, max_severity, records and format. Members roll up to the file: its severity
is the highest member severity, its records the sum over the members at that severity
(as ``tests.synthetic.report.file_severities`` rolls up findings). Members a container
holds but does not list are filler and must produce no finding.

Files not listed are filler and must produce no finding. ``secrets`` holds every
generated TIN (nine digits and dashed), full and short name and street line, for leak
tests; the real files may show names in other forms (``Last, First``, upper case).
"""

from __future__ import annotations

import bz2
import codecs
import csv
import email
import email.policy
import gzip
import html
import io
import json
import lzma
import random
import re
import shutil
import struct
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.synthetic import formats
from tests.synthetic.people import (
    ADVERTISING_SSNS,
    BUSINESS_NAMES,
    People,
    Taxpayer,
    dashed,
    invalid_tin_shapes,
    spaced,
)

__all__ = [
    "FTI_MARKING",
    "LOREM",
    "SEVERITIES",
    "FileTruth",
    "GroundTruth",
    "MemberTruth",
    "build_home",
    "main",
    "minimal_png",
    "prose_mention",
    "read_text",
    "readable_text",
    "secrets_in",
    "severity_rank",
    "taxpayer_csv",
    "taxpayer_csv_headerless",
    "truth_path_for",
    "unpack_text",
]

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
FTI_MARKING = "FEDERAL TAX INFORMATION - IRC 6103 - DO NOT DISCLOSE"

Kind = Literal["positive", "trap"]


def severity_rank(severity: str | None) -> int:
    """0 for no finding, then 1 (info) to 5 (critical)."""
    return 0 if severity is None else SEVERITIES.index(severity) + 1


@dataclass(frozen=True, slots=True)
class MemberTruth:
    """What a correct scan says about one member of a container."""

    kind: Kind
    severity: str | None  # positives: exact; traps: None
    max_severity: str | None  # traps: at most this, None = no finding; positives: == severity
    records: int  # positives: exact distinct taxpayers; traps: 0
    format: str

    def as_json(self) -> dict[str, Any]:
        """The JSON object stored under the file's ``members``."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "max_severity": self.max_severity,
            "records": self.records,
            "format": self.format,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> MemberTruth:
        """Inverse of ``as_json``."""
        kind = obj["kind"]
        if kind not in ("positive", "trap"):
            raise ValueError(f"kind must be positive or trap, got {kind!r}")
        return cls(kind, obj["severity"], obj["max_severity"], int(obj["records"]), obj["format"])


@dataclass(frozen=True, slots=True)
class FileTruth:
    """What a correct scan says about one file (and, for containers, each member)."""

    kind: Kind
    severity: str | None  # positives: exact; traps: None
    max_severity: str | None  # traps: at most this, None = no finding; positives: == severity
    records: int  # positives: exact distinct taxpayers; traps: 0
    format: str  # what the file is (for people and test ids)
    members: dict[str, MemberTruth] = field(default_factory=dict)  # "" = the file itself

    @property
    def flagged(self) -> bool:
        """True if the file may (trap) or must (positive) produce a finding."""
        return self.kind == "positive" or self.max_severity is not None

    @classmethod
    def rolled_up(cls, fmt: str, members: dict[str, MemberTruth]) -> FileTruth:
        """A container's truth from its members: positive if any member is, at the
        highest member severity with the records of the members at that severity."""
        positives = [m for m in members.values() if m.kind == "positive"]
        if positives:
            top = max((m.severity for m in positives), key=severity_rank)
            records = sum(m.records for m in positives if m.severity == top)
            return cls("positive", top, top, records, fmt, dict(members))
        allowed = max((m.max_severity for m in members.values()), key=severity_rank, default=None)
        return cls("trap", None, allowed, 0, fmt, dict(members))

    def as_json(self) -> dict[str, Any]:
        """The JSON object stored in the truth file (``members`` only for containers)."""
        obj: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity,
            "max_severity": self.max_severity,
            "records": self.records,
            "flagged": self.flagged,
            "format": self.format,
        }
        if self.members:
            obj["members"] = {name: self.members[name].as_json() for name in sorted(self.members)}
        return obj

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FileTruth:
        """Inverse of ``as_json`` (``flagged`` is derived)."""
        kind = obj["kind"]
        if kind not in ("positive", "trap"):
            raise ValueError(f"kind must be positive or trap, got {kind!r}")
        members = {name: MemberTruth.from_json(m) for name, m in (obj.get("members") or {}).items()}
        return cls(
            kind, obj["severity"], obj["max_severity"], int(obj["records"]), obj["format"], members
        )


@dataclass(slots=True)
class GroundTruth:
    """Every positive and trap file of a synthetic tree, and every generated secret."""

    files: dict[str, FileTruth] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    def positives(self) -> dict[str, FileTruth]:
        """The files that must be found, by relative path."""
        return {path: t for path, t in self.files.items() if t.kind == "positive"}

    def traps(self) -> dict[str, FileTruth]:
        """The files that must not be found at high or critical, by relative path."""
        return {path: t for path, t in self.files.items() if t.kind == "trap"}

    def allowed_max(self, relpath: str) -> str | None:
        """The highest severity a finding for ``relpath`` may have (None: no finding)."""
        truth = self.files.get(relpath)
        return None if truth is None else truth.max_severity

    def merged(self, other: GroundTruth, prefix: str) -> GroundTruth:
        """This truth plus ``other``'s files under ``prefix/`` and its secrets."""
        files = dict(self.files)
        files.update({f"{prefix}/{path}": t for path, t in other.files.items()})
        return GroundTruth(files, sorted({*self.secrets, *other.secrets}))

    def to_json(self) -> dict[str, Any]:
        """The truth file's JSON object."""
        return {
            "files": {path: self.files[path].as_json() for path in sorted(self.files)},
            "secrets": sorted(set(self.secrets)),
        }

    def write(self, path: Path) -> None:
        """Write the truth file (UTF-8, sorted keys, atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(
            json.dumps(self.to_json(), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        """Read a truth file written by ``write``."""
        obj = json.loads(path.read_text(encoding="utf-8"))
        files = {p: FileTruth.from_json(t) for p, t in obj["files"].items()}
        return cls(files, list(obj["secrets"]))


def truth_path_for(root: Path) -> Path:
    """Where ``build_home(root)`` writes the truth: beside ``root``, not inside it."""
    return root.parent / f"{root.name}.truth.json"


# --------------------------------------------------------------------------- helpers


def minimal_png(width: int = 16, height: int = 16, seed: int = 0) -> bytes:
    """A valid 8-bit RGB PNG (signature, IHDR, IDAT, IEND, correct CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows += bytes(((x * 16 + seed) % 256, (y * 16 + seed) % 256, (x ^ y ^ seed) % 256))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def read_text(path: Path) -> str:
    """Decode any file this module writes: undo gzip/bzip2/xz, honour BOMs, detect
    UTF-16 BE without BOM, else UTF-8, else cp1252 (binary files come out as noise)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:3] == b"BZh":
        data = bz2.decompress(data)
    elif data[:6] == b"\xfd7zXZ\x00":
        data = lzma.decompress(data)
    return _decoded(data)


def _decoded(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    if data.startswith(codecs.BOM_UTF16_LE):
        return data[2:].decode("utf-16-le")
    if data.startswith(codecs.BOM_UTF16_BE):
        return data[2:].decode("utf-16-be")
    if len(data) >= 4 and data[0] == 0 and data[1] != 0 and data[2] == 0:
        return data.decode("utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_XML_TAG = re.compile(rb"<[^>]*>")
_PDF_STREAM = re.compile(rb"stream\n(.*?)\nendstream", re.DOTALL)
_PDF_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)")


def _unpdf(data: bytes) -> list[bytes]:
    """The text-like pieces of a PDF this package writes: strings in its inflated streams
    (page text, field values) and the inflated embedded files themselves."""
    out: list[bytes] = []
    for match in _PDF_STREAM.finditer(data):
        try:
            raw = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        strings = [re.sub(rb"\\(.)", rb"\1", m.group(1)) for m in _PDF_STRING.finditer(raw)]
        out.append(b"\n".join(strings) if strings else raw)
    out += [re.sub(rb"\\(.)", rb"\1", m.group(1)) for m in _PDF_STRING.finditer(data)]
    return out


def _unbiff(stream: bytes) -> str:
    """LABEL and NUMBER cells of a BIFF8 workbook stream, one per line."""
    cells: list[str] = []
    offset = 0
    while offset + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, offset)
        body = stream[offset + 4 : offset + 4 + size]
        offset += 4 + size
        if kind == 0x0204 and len(body) >= 9:
            (length,) = struct.unpack_from("<H", body, 6)
            wide = body[8] & 1
            raw = body[9 : 9 + length * (2 if wide else 1)]
            cells.append(raw.decode("utf-16-le" if wide else "latin-1", errors="replace"))
        elif kind == 0x0203 and len(body) >= 14:
            (value,) = struct.unpack_from("<d", body, 6)
            cells.append(str(int(value)) if value.is_integer() else repr(value))
    return "\n".join(cells)


def _unole(data: bytes, depth: int) -> list[str]:
    import olefile  # a test dependency; only containers need it

    texts: list[str] = []
    with olefile.OleFileIO(data) as ole:
        for parts in ole.listdir(streams=True, storages=False):
            stream = ole.openstream(parts).read()
            name = parts[-1]
            if name == "Workbook":
                texts.append(_unbiff(stream))
            elif name.endswith("001F"):
                texts.append(stream.decode("utf-16-le", errors="replace"))
            else:
                texts.append(unpack_text(stream, depth + 1))
    return texts


def _unsqlite(data: bytes) -> list[str]:
    import sqlite3
    import tempfile

    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copy.db"
        path.write_bytes(data)
        conn = sqlite3.connect(path)
        try:
            names = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for name in names:
                query = f'SELECT * FROM "{name}"'  # noqa: S608  # our own table names
                rows += [",".join(str(v) for v in row) for row in conn.execute(query)]
        finally:
            conn.close()
    return rows


def unpack_text(data: bytes, depth: int = 0) -> str:
    """The readable text of ``data``: containers this package writes are opened (zip and
    office packages, tar, 7z, e-mail, OLE2, SQLite, PDF) and their parts joined by
    newlines, XML without its tags; everything else is decoded as ``read_text`` does."""
    import tarfile
    import zipfile

    if depth > 8:
        return ""
    pieces: list[str] = []
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                member = zf.read(info)
                if info.filename.endswith((".xml", ".rels")):
                    text = _XML_TAG.sub(b" ", member).decode("utf-8", errors="replace")
                    pieces.append(html.unescape(text))
                else:
                    pieces.append(unpack_text(member, depth + 1))
    elif data[:6] == b"7z\xbc\xaf\x27\x1c":
        for content in formats.sevenzip_members(data).values():
            pieces.append(unpack_text(content, depth + 1))
    elif data[:8] == bytes.fromhex("d0cf11e0a1b11ae1"):
        pieces += _unole(data, depth)
    elif data[:16] == b"SQLite format 3\x00":
        pieces += _unsqlite(data)
    elif data[:5] == b"%PDF-":
        pieces += [unpack_text(piece, depth + 1) for piece in _unpdf(data)]
    elif data[:2] == b"\x1f\x8b":
        return unpack_text(gzip.decompress(data), depth + 1)
    elif data[:3] == b"BZh":
        return unpack_text(bz2.decompress(data), depth + 1)
    elif data[:6] == b"\xfd7zXZ\x00":
        return unpack_text(lzma.decompress(data), depth + 1)
    elif len(data) >= 262 and data[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            for info in tf.getmembers():
                fh = tf.extractfile(info)
                if fh is not None:
                    pieces.append(unpack_text(fh.read(), depth + 1))
    elif re.match(rb"(?:[A-Za-z-]+: [^\r\n]*\r?\n)+", data[:400]) and b"\nMIME-Version:" in data:
        message = email.message_from_bytes(data, policy=email.policy.default)
        for header in ("From", "To", "Subject"):
            pieces.append(str(message.get(header, "")))
        for part in message.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                pieces.append(unpack_text(payload, depth + 1))
    else:
        return _decoded(data)
    return "\n".join(pieces)


def readable_text(path: Path) -> str:
    """``read_text``, except that containers are opened and their parts' text joined
    (so that a secret inside a zip in an e-mail is seen)."""
    return unpack_text(path.read_bytes())


def _csv_text(rows: Iterable[Sequence[str]], delimiter: str = ",", crlf: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerows(rows)
    return out.getvalue()


def taxpayer_csv(rows: Sequence[Taxpayer]) -> str:
    """CSV with header ``Name,SSN,Street,City,State,ZIP``; names as ``Last, First M.``
    and units after a comma, so that many fields need quotes."""
    lines: list[Sequence[str]] = [("Name", "SSN", "Street", "City", "State", "ZIP")]
    lines += [
        (t.sorted_name, dashed(t.ssn), t.address_line(), t.city, t.state, t.zip) for t in rows
    ]
    return _csv_text(lines)


def taxpayer_csv_headerless(rows: Sequence[Taxpayer]) -> str:
    """Headerless CSV rows: full name, dashed SSN, street[, unit], city, state, ZIP."""
    return _csv_text(
        [(t.full_name, dashed(t.ssn), t.address_line(), t.city, t.state, t.zip) for t in rows],
        crlf=False,
    )


PROSE_TEMPLATES: tuple[str, ...] = (
    "Taxpayer: {name}, SSN {tin}, {addr}. The notice mailed in March came back "
    "undeliverable and the account was referred for review.",
    "We reviewed the file of {name} this week. The return shows SSN {tin}; the "
    "last known address is {addr}, which matches the county record.",
    "{name} (TIN {tin}) called about the adjustment. Correspondence should go to "
    "{addr} until further notice.",
    "Per the case notes, {name} resides at {addr}. Identification number on the "
    "return: {tin}. No further action at this time.",
)


def prose_mention(t: Taxpayer, rng: random.Random) -> str:
    """One sentence or two naming a taxpayer with TIN and address within ~200 characters."""
    return rng.choice(PROSE_TEMPLATES).format(
        name=t.full_name, tin=dashed(t.ssn), addr=t.full_address()
    )


_LOREM_TEXT = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud "
    "exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure "
    "in reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint "
    "occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est "
    "laborum curabitur pretium tincidunt lacus nulla gravida orci a odio nullam varius "
    "turpis et commodo pharetra est eros bibendum elit nec luctus magna felis sollicitudin "
    "mauris integer in mauris eu nibh euismod gravida duis ac tellus et risus vulputate "
    "vehicula donec lobortis risus a elit etiam tempor ut ullamcorper ligula eu tempor "
    "congue eros est euismod turpis id tincidunt sapien risus a quam maecenas fermentum "
    "consequat mi donec fermentum pellentesque malesuada nulla a mi duis sapien sem "
    "aliquet nec commodo eget consequat quis neque aliquam faucibus elit ut dictum"
)
LOREM: tuple[str, ...] = tuple(_LOREM_TEXT.split())


# --------------------------------------------------------------------------- the tree


class _HomeWriter:
    """Writes files under ``root`` and records their truth."""

    def __init__(self, root: Path, seed: int, scale: int) -> None:
        self.root = root
        self.scale = max(1, scale)
        self.people = People(seed)
        self.rng = self.people.rng
        self.truth = GroundTruth()
        self.secrets: set[str] = set()
        self.trap_texts: dict[str, list[str]] = {}  # plain text of trap members, by file

    # ---- primitives

    def write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def positive(
        self, rel: str, data: bytes, fmt: str, severity: str, rows: Sequence[Taxpayer]
    ) -> None:
        self.write(rel, data)
        records = len({t.ssn for t in rows})
        self.truth.files[rel] = FileTruth("positive", severity, severity, records, fmt)
        for t in rows:
            self.secrets.update(t.secrets())

    def trap(self, rel: str, data: bytes, fmt: str, max_severity: str | None) -> None:
        assert max_severity in (None, "info", "low", "medium")
        self.write(rel, data)
        self.truth.files[rel] = FileTruth("trap", None, max_severity, 0, fmt)

    def batch(self, low: int = 6, high: int = 12, *, accented: bool = False) -> list[Taxpayer]:
        """Fresh distinct taxpayers, scaled."""
        count = self.rng.randint(low, high) * self.scale
        return self.people.taxpayers(count, accented=accented)

    def with_duplicates(self, rows: list[Taxpayer], extra: int = 2) -> list[Taxpayer]:
        """``rows`` with ``extra`` (scaled) repeats of some taxpayers inserted."""
        out = list(rows)
        for _ in range(extra * self.scale):
            out.insert(self.rng.randint(0, len(out)), self.rng.choice(rows))
        return out

    # ---- table shapes

    # ---- positives

    def positives(self) -> None:
        rng = self.rng
        main = self.with_duplicates(self.batch())
        main_csv = taxpayer_csv(main)
        self.positive(
            "Documents/Tax/taxpayers_2024.csv", main_csv.encode(), "csv-header", "critical", main
        )
        self.positive(
            "Documents/Tax/taxpayers_2024_utf16.csv",
            codecs.BOM_UTF16_LE + main_csv.encode("utf-16-le"),
            "csv-utf16le-bom",
            "critical",
            main,
        )
        self.positive(
            "Documents/Tax/taxpayers_2024_utf16be.csv",
            main_csv.encode("utf-16-be"),
            "csv-utf16be-nobom",
            "critical",
            main,
        )
        self.positive(
            "Downloads/taxpayers_2024 (1).csv",
            main_csv.encode("utf-8-sig"),
            "csv-utf8-bom",
            "critical",
            main,
        )

        accented = self.batch(accented=True)
        self.positive(
            "Documents/Tax/taxpayers_cp1252.csv",
            taxpayer_csv(accented).encode("cp1252"),
            "csv-cp1252-accents",
            "critical",
            accented,
        )

        rows = self.with_duplicates(self.batch(), 3)
        self.positive(
            "Downloads/export_20250114.csv",
            taxpayer_csv_headerless(rows).encode(),
            "csv-headerless",
            "critical",
            rows,
        )

        rows = self.batch()
        tsv = _csv_text(
            [("last_name", "first_name", "middle", "ssn", "address", "city", "state", "zip")]
            + [
                (
                    t.last,
                    t.first,
                    t.middle,
                    dashed(t.ssn),
                    t.address_line(" "),
                    t.city,
                    t.state,
                    t.zip,
                )
                for t in rows
            ],
            delimiter="\t",
            crlf=False,
        )
        self.positive("Documents/Tax/records.tsv", tsv.encode(), "tsv-header", "critical", rows)

        rows = self.batch()
        pipe = _csv_text(
            [("NAME", "TIN", "ADDRESS", "CITY", "ST", "ZIP")]
            + [(t.full_name, t.ssn, t.address_line(), t.city, t.state, t.zip) for t in rows],
            delimiter="|",
            crlf=False,
        )
        self.positive(
            "Documents/Tax/irs_extract_pipe.txt", pipe.encode(), "pipe-header", "critical", rows
        )

        rows = self.with_duplicates(self.batch(), 1)
        semi = _csv_text(
            [("Name", "SSN", "Address", "City", "State", "Zip")]
            + [
                (t.full_name, dashed(t.ssn), t.address_line(), t.city, t.state, t.zip) for t in rows
            ],
            delimiter=";",
        )
        self.positive(
            "Documents/Tax/liste_semicolon.csv", semi.encode(), "semicolon-header", "critical", rows
        )

        rows = self.with_duplicates(self.batch(), 1)
        array = [
            {
                "first_name": t.first,
                "middle_name": t.middle,
                "last_name": t.last,
                "ssn": dashed(t.ssn),
                "street": t.street,
                "unit": t.unit,
                "city": t.city,
                "state": t.state,
                "zip": t.zip,
            }
            for t in rows
        ]
        self.positive(
            "Downloads/taxpayers.json",
            json.dumps(array, indent=2, ensure_ascii=False).encode(),
            "json-array",
            "critical",
            rows,
        )

        rows = self.batch()
        wrapped = {
            "source": "matching run",
            "generated": "2025-01-14",
            "records": [
                {
                    "name": t.full_name,
                    "tin": dashed(t.ssn),
                    "address": {
                        "line1": t.street,
                        "line2": t.unit,
                        "city": t.city,
                        "state": t.state,
                        "zip": t.zip,
                    },
                }
                for t in rows
            ],
        }
        self.positive(
            "Projects/irs-match/data/records.json",
            json.dumps(wrapped, indent=2, ensure_ascii=False).encode(),
            "json-records-object",
            "critical",
            rows,
        )

        rows = self.with_duplicates(self.batch(), 2)
        jsonl = "".join(
            json.dumps(
                {"taxpayer": t.sorted_name, "ssn": dashed(t.ssn), "address": t.full_address()}
            )
            + "\n"
            for t in rows
        )
        self.positive(
            "Projects/irs-match/data/records.jsonl", jsonl.encode(), "json-lines", "critical", rows
        )

        rows = self.batch()
        fixed = "".join(
            f"{(t.last + ' ' + t.first + (' ' + t.middle[0] if t.middle else '')).upper():<30}"
            f"{t.ssn} "
            f"{t.address_line(' ').upper():<40}"
            f"{t.city.upper():<20}"
            f"{t.state} "
            f"{t.zip:<10}\n"
            for t in rows
        )
        self.positive("Documents/IRS/TPMASTER.txt", fixed.encode(), "fixed-width", "critical", rows)

        rows = self.batch()
        mentions = [*rows, rng.choice(rows)]  # one taxpayer comes up twice
        self.positive(
            "Documents/Letters/memo_account_review.txt",
            self.prose_memo(mentions).encode(),
            "prose-memo",
            "critical",
            mentions,
        )

        for rel, fmt, pack in (
            ("Downloads/taxpayers_backup.csv.gz", "csv-gzip", self.gz),
            ("Documents/Archive/extract_2023.csv.bz2", "csv-bzip2", bz2.compress),
            (".cache/exports/records.csv.xz", "csv-xz", lzma.compress),
        ):
            rows = self.with_duplicates(self.batch(), 1)
            self.positive(rel, pack(taxpayer_csv(rows).encode()), fmt, "critical", rows)

        rows = self.batch()
        self.positive(
            "Documents/old/TPDATA.dat",
            taxpayer_csv(rows).encode(),
            "csv-renamed-dat",
            "critical",
            rows,
        )
        rows = self.batch()
        self.positive(
            "Pictures/IMG_2041.jpg",
            taxpayer_csv_headerless(rows).encode(),
            "csv-renamed-jpg",
            "critical",
            rows,
        )

        rows = self.with_duplicates(self.batch(), 1)
        marked = (
            FTI_MARKING
            + "\r\n"
            + _csv_text(
                [("Name", "Street", "City", "State", "ZIP")]
                + [(t.full_name, t.address_line(), t.city, t.state, t.zip) for t in rows]
            )
        )
        self.positive(
            "Documents/IRS/address_list_fti.csv",
            marked.encode(),
            "fti-marked-name-address-no-tin",
            "critical",
            rows,
        )

        rows = self.with_duplicates(self.batch(), 1)
        self.positive(
            "Documents/Tax/name_ssn.csv",
            _csv_text([("Name", "SSN")] + [(t.full_name, dashed(t.ssn)) for t in rows]).encode(),
            "csv-tin-name-no-address",
            "high",
            rows,
        )
        rows = self.batch()
        self.positive(
            "Documents/Tax/ssn_address.csv",
            _csv_text(
                [("SSN", "Street", "City", "State", "ZIP")]
                + [(dashed(t.ssn), t.address_line(), t.city, t.state, t.zip) for t in rows]
            ).encode(),
            "csv-tin-address-no-name",
            "high",
            rows,
        )

        rows = self.batch()
        self.positive(
            "Documents/HR/roster_spaced.csv",
            _csv_text(
                [("Name", "SSN", "Address")]
                + [(t.full_name, spaced(t.ssn), t.full_address()) for t in rows]
            ).encode(),
            "csv-spaced-ssn",
            "critical",
            rows,
        )
        rows = self.batch()
        self.positive(
            "Documents/HR/roster_bare.csv",
            _csv_text(
                [("Name", "SSN", "Address")]
                + [(t.full_name, t.ssn, t.full_address()) for t in rows]
            ).encode(),
            "csv-bare-ssn",
            "critical",
            rows,
        )

    @staticmethod
    def gz(data: bytes) -> bytes:
        return gzip.compress(data, mtime=0)

    def prose_memo(self, mentions: Sequence[Taxpayer]) -> str:
        rng = self.rng
        paragraphs = [
            "MEMORANDUM TO FILE\n\nSubject: account review, first quarter\n",
            "This memo records the accounts reviewed by the unit. Each entry below was "
            "checked against the correspondence file.",
        ]
        for t in mentions:
            paragraphs.append(prose_mention(t, rng))
            # filler between taxpayers so that windows do not overlap
            paragraphs.append(" ".join(rng.choice(LOREM) for _ in range(60)).capitalize() + ".")
        paragraphs.append("Prepared by the review unit.")
        return "\n\n".join(paragraphs) + "\n"

    # ---- traps

    def traps(self) -> None:
        rng, people = self.rng, self.people

        bad = invalid_tin_shapes(rng, 200 * self.scale)
        levels = ("INFO ", "DEBUG", "WARN ", "INFO ", "ERROR")
        lines = []
        for index, digits in enumerate(bad):
            shape = (dashed(digits), digits, spaced(digits))[index % 3]
            minute, second = divmod(index, 60)
            lines.append(
                f"2025-01-14T{8 + minute // 60:02d}:{minute % 60:02d}:{second:02d}."
                f"{rng.randint(0, 999):03d}Z {rng.choice(levels)} [worker-{rng.randint(1, 8)}] "
                f"GET /api/v2/items/{rng.randint(1, 99999)} status={rng.choice((200, 200, 404))} "
                f"took={rng.randint(1, 900)}ms trace={shape}"
            )
        self.trap(
            ".cache/app/logs/app-2025-01-14.log",
            ("\n".join(lines) + "\n").encode(),
            "log-invalid-ssn-shapes",
            None,
        )

        first, _, last = people.name()
        ads = [dashed("".join(parts)) for parts in ADVERTISING_SSNS[:2]]
        self.trap(
            "Documents/wallet_card_sample.txt",
            (
                "Specimen card from a wallet display (advertising sample, not a real number)\n"
                f"Name on card: {first} {last}\n"
                f"Number: {ads[0]}\n\n"
                "Pamphlet specimen shown in the 1940 Social Security Board brochure:\n"
                f"Number: {ads[1]}\n"
            ).encode(),
            "advertising-ssns-with-name",
            None,
        )

        valid = [people.tin() for _ in range(8)]
        invalid = invalid_tin_shapes(rng, 5)
        fixture = (
            '"""Unit tests for the SSN format checker."""\n\n'
            "import pytest\n\nfrom ssncheck import is_valid, normalize\n\n"
            "VALID = [\n"
            + "".join(f'    "{dashed(d)}",\n' for d in valid)
            + "]\nINVALID = [\n"
            + "".join(f'    "{dashed(d)}",\n' for d in invalid)
            + "]\n\n\n"
            '@pytest.mark.parametrize("value", VALID)\n'
            "def test_valid(value):\n    assert is_valid(value)\n\n\n"
            '@pytest.mark.parametrize("value", INVALID)\n'
            "def test_invalid(value):\n    assert not is_valid(value)\n\n\n"
            "def test_normalize_strips_dashes():\n"
            f'    assert normalize("{dashed(valid[0])}") == "{valid[0]}"\n'
        )
        self.trap(
            "Projects/ssn-validator/tests/test_validate.py",
            fixture.encode(),
            "python-validator-test",
            "medium",
        )

        invoices: list[Sequence[str]] = [("Invoice", "Customer", "Address", "City", "State", "ZIP")]
        for _ in range(10 * self.scale):
            street, suite, city, state, zip_code = people.business_address()
            number = people.tin()  # shaped exactly like a valid SSN, on purpose
            invoices.append(
                (number, rng.choice(BUSINESS_NAMES), f"{street}, {suite}", city, state, zip_code)
            )
        self.trap(
            "Documents/Invoices/invoices_2024.csv",
            _csv_text(invoices).encode(),
            "csv-invoices-business",
            "medium",
        )

        start = rng.randint(100_000_000, 600_000_000)
        orders: list[Sequence[str]] = []
        for offset in range(12 * self.scale):
            street, suite, city, state, zip_code = people.business_address()
            orders.append(
                (
                    str(start + offset),
                    rng.choice(BUSINESS_NAMES),
                    f"{street} {suite}",
                    city,
                    state,
                    zip_code,
                    f"{rng.randint(1, 400)}.{rng.randint(0, 99):02d}",
                )
            )
        self.trap(
            "Downloads/orders_export.csv",
            _csv_text(orders, crlf=False).encode(),
            "csv-orders-sequential-headerless",
            "medium",
        )

        sender = people.business_address()
        recipient = people.business_address()
        r_first, _, r_last = people.name()
        s_first, _, s_last = people.name()
        letter = (
            f"{BUSINESS_NAMES[1]}\n{sender[0]}, {sender[1]}\n"
            f"{sender[2]}, {sender[3]} {sender[4]}\n\n"
            "January 14, 2025\n\n"
            f"{r_first} {r_last}\nPurchasing Manager\n{BUSINESS_NAMES[0]}\n"
            f"{recipient[0]}, {recipient[1]}\n{recipient[2]}, {recipient[3]} {recipient[4]}\n\n"
            f"Dear {r_first} {r_last},\n\n"
            "Thank you for your order of office supplies. The remaining items ship next "
            "week; the backordered toner will follow separately. Please let us know if the "
            "delivery dock hours have changed.\n\n"
            f"Sincerely,\n\n{s_first} {s_last}\nAccount Manager\n"
        )
        self.trap(
            "Documents/Letters/letter_to_vendor.txt",
            letter.encode(),
            "business-letter",
            "low",
        )

        staff: list[Sequence[str]] = [
            ("Name", "Title", "Office", "Street", "City", "State", "ZIP", "Phone")
        ]
        titles = ("Analyst", "Program Manager", "Paralegal", "Records Officer", "IT Specialist")
        for _ in range(15 * self.scale):
            f_name, _, l_name = people.name()
            street, suite, city, state, zip_code = people.business_address()
            staff.append(
                (
                    f"{f_name} {l_name}",
                    rng.choice(titles),
                    suite,
                    street,
                    city,
                    state,
                    zip_code,
                    f"(555) 555-01{rng.randint(0, 99):02d}",
                )
            )
        self.trap(
            "Documents/Office/staff_directory.csv",
            _csv_text(staff).encode(),
            "staff-directory",
            "low",
        )

        memo = (
            "PRIVILEGED AND CONFIDENTIAL - ATTORNEY WORK PRODUCT\n\n"
            "Re: obligations under section 6103 of the Internal Revenue Code\n\n"
            "Section 6103 makes returns and return information confidential. Return "
            "information is defined broadly in IRC 6103(b)(2) and includes a taxpayer's "
            "identity, the nature and source of income, and whether a return was filed. "
            "Disclosure to another agency is allowed only under one of the exceptions in "
            "section 6103, and the receiving agency must meet the safeguard requirements of "
            "IRC 6103(p)(4), which Publication 1075 describes.\n\n"
            "Where return information is kept outside an approved system, the agency must "
            "report the incident and account for every copy. Unauthorized inspection is "
            "addressed by section 7213A and civil damages by section 7431.\n\n"
            "This memo contains no return information.\n"
        )
        self.trap("Documents/Legal/memo_section_6103.txt", memo.encode(), "legal-memo-6103", "low")

        self.trap("Downloads/firmware.bin", rng.randbytes(64 * 1024), "random-binary", None)
        self.trap("Desktop/data.csv", minimal_png(32, 32, seed=7), "png-named-csv", None)

        words: list[str] = []
        target = 1_000_000 * self.scale
        size = 0
        while size < target:
            sentence = " ".join(rng.choice(LOREM) for _ in range(rng.randint(8, 20)))
            sentence = sentence.capitalize() + ". "
            words.append(sentence)
            size += len(sentence)
            if rng.random() < 0.12:
                words.append("\n\n")
        self.trap("Documents/Notes/lorem.txt", "".join(words).encode(), "prose-no-digits", None)

    # ---- containers: office files, PDF, SQLite, archives and e-mail

    def container(
        self, rel: str, data: bytes, fmt: str, members: dict[str, tuple[MemberTruth, list[str]]]
    ) -> None:
        """A container whose truth is per member; a member's list holds the plain text
        of a trap member (checked for secrets by construction)."""
        self.write(rel, data)
        self.truth.files[rel] = FileTruth.rolled_up(fmt, {m: t for m, (t, _) in members.items()})
        for truth, texts in members.values():
            if truth.kind == "trap":
                self.trap_texts.setdefault(rel, []).extend(texts)

    def member(
        self, fmt: str, rows: Sequence[Taxpayer], severity: str = "critical"
    ) -> tuple[MemberTruth, list[str]]:
        """A positive member holding ``rows``."""
        for t in rows:
            self.secrets.update(t.secrets())
        return MemberTruth("positive", severity, severity, len({t.ssn for t in rows}), fmt), []

    @staticmethod
    def trap_member(fmt: str, max_severity: str | None, text: str) -> tuple[MemberTruth, list[str]]:
        """A trap member whose plain content is ``text``."""
        assert max_severity in (None, "info", "low", "medium")
        return MemberTruth("trap", None, max_severity, 0, fmt), [text]

    def office_positive(self, rel: str, data: bytes, fmt: str, rows: Sequence[Taxpayer]) -> None:
        self.positive(rel, data, fmt, "critical", rows)

    @staticmethod
    def table(rows: Sequence[Taxpayer]) -> list[tuple[str, ...]]:
        """Header and one row per taxpayer: name, dashed TIN, street[, unit], city, state, ZIP."""
        return [("Name", "SSN", "Street", "City", "State", "ZIP")] + [
            (t.full_name, dashed(t.ssn), t.address_line(), t.city, t.state, t.zip) for t in rows
        ]

    def invoice_rows(self, count: int) -> list[tuple[str, ...]]:
        """Invoices to businesses: 9-digit order numbers (shaped like valid SSNs, on purpose)
        beside business names and office addresses."""
        rng, people = self.rng, self.people
        out = [("Order", "Customer", "Street", "Suite", "City", "State", "ZIP", "Amount")]
        for _ in range(count * self.scale):
            street, suite, city, state, zip_code = people.business_address()
            out.append(
                (
                    people.tin(),
                    rng.choice(BUSINESS_NAMES),
                    street,
                    suite,
                    city,
                    state,
                    zip_code,
                    f"{rng.randint(10, 9000)}.{rng.randint(0, 99):02d}",
                )
            )
        return out

    def legal_memo_paragraphs(self) -> list[str]:
        return [
            "PRIVILEGED AND CONFIDENTIAL - ATTORNEY WORK PRODUCT",
            "Re: handling of return information under section 6103",
            "Section 6103 of the Internal Revenue Code makes returns and return information "
            "confidential. IRC 6103(b)(2) defines return information broadly; it includes a "
            "taxpayer's identity and whether a return was filed.",
            "An agency that receives federal tax information must meet the safeguards of IRC "
            "6103(p)(4) as Publication 1075 describes them, and report any copy kept outside "
            "an approved system.",
            "This memo contains no return information.",
        ]

    def containers(self) -> None:
        rng = self.rng

        # A CSV in a zip attached to an e-mail, beside a vendor invoice workbook (a trap).
        rows = self.with_duplicates(self.batch(), 1)
        invoices = self.invoice_rows(8)
        export = formats.zip_archive(
            {
                "q4/taxpayers_q4.csv": taxpayer_csv(rows).encode(),
                "q4/README.txt": b"Quarterly export for the review unit.\n",
            }
        )
        mail = formats.eml(
            "Forwarding the quarterly export and the vendor invoices.\n\nRegards,\nReview unit\n",
            {"export_q4.zip": export, "vendor_invoices.xlsx": formats.xlsx({"Q4": invoices})},
            subject="FW: quarterly export",
        )
        self.container(
            "Mail/Inbox/fw_quarterly_export.eml",
            mail,
            "eml-zip-csv-and-invoice-xlsx",
            {
                "attachments/export_q4.zip/q4/taxpayers_q4.csv": self.member("csv-header", rows),
                "attachments/vendor_invoices.xlsx": self.trap_member(
                    "xlsx-invoices-business", "medium", _csv_text(invoices)
                ),
            },
        )

        # An XLSX attached to an Outlook message.
        rows = self.batch()
        message = formats.msg(
            subject="RE: payee list",
            body="Attached is the payee list you asked for.\n",
            attachments={"payee_list.xlsx": formats.xlsx({"Payees": self.table(rows)})},
        )
        self.container(
            "Mail/Outlook/RE_payee_list.msg",
            message,
            "msg-xlsx",
            {"attachments/payee_list.xlsx": self.member("xlsx-shared-strings", rows)},
        )

        # Office files, a PDF printout and an application database.
        rows = self.with_duplicates(self.batch(), 1)
        self.office_positive(
            "Documents/Tax/records_2024.ods",
            formats.ods({"Taxpayers": self.table(rows), "Notes": [("prepared by", "unit 4")]}),
            "ods",
            rows,
        )
        rows = self.batch()
        self.office_positive(
            "Documents/Tax/legacy_1099_list.xls",
            formats.xls([("1099", self.table(rows))]),
            "xls-biff8",
            rows,
        )
        rows = self.batch()
        addressee, household = rows[0], rows[1:]
        letter = [
            "Department of Revenue - Taxpayer Services",
            "January 14, 2025",
            prose_mention(addressee, rng),
            " ".join(rng.choice(LOREM) for _ in range(60)).capitalize() + ".",
            "The table below lists the other members of the household on file.",
        ]
        self.office_positive(
            "Documents/Letters/household_letter.docx",
            formats.docx(letter, [self.table(household)]),
            "docx-letter-with-table",
            rows,
        )
        rows = self.batch()
        self.office_positive(
            "Documents/Presentations/case_review.pptx",
            formats.pptx([["Case review", "First quarter"], ["Accounts"]], {1: self.table(rows)}),
            "pptx-table",
            rows,
        )
        rows = self.batch()
        self.office_positive(
            "Documents/Letters/summary.odt",
            formats.odt(["Summary of accounts reviewed."], [self.table(rows)]),
            "odt-table",
            rows,
        )
        rows = self.batch()
        self.office_positive(
            "Documents/Letters/notice_2024.rtf",
            formats.rtf(["Accounts referred for review:"], self.table(rows)),
            "rtf-table",
            rows,
        )
        rows = self.with_duplicates(self.batch(), 1)
        lines = [f"{t.full_name}, {dashed(t.ssn)}, {t.full_address()}" for t in rows]
        half = len(lines) // 2
        self.office_positive(
            "Documents/IRS/taxpayer_printout.pdf",
            formats.pdf([["TAXPAYER LIST", *lines[:half]], lines[half:]]),
            "pdf-text-pages",
            rows,
        )
        rows = self.batch()
        clients = [
            (n, t.first, t.last, dashed(t.ssn), t.address_line(), t.city, t.state, t.zip)
            for n, t in enumerate(rows, start=1)
        ]
        columns = ("id", "first_name", "last_name", "ssn", "street", "city", "state", "zip")
        self.office_positive(
            ".local/share/taxprep/clients.db",
            formats.sqlite(
                {
                    "clients": (columns, clients),
                    "settings": (("key", "value"), [("theme", "dark"), ("autosave", "1")]),
                }
            ),
            "sqlite-app-db",
            rows,
        )

        # Archives: a tar.gz backup and a 7z of old exports, each beside plain filler.
        rows = self.with_duplicates(self.batch(), 1)
        backup = formats.tar_archive(
            {
                "Documents/Tax/payees_2023.csv": taxpayer_csv(rows).encode(),
                "Documents/Notes/todo.txt": b"- renew the parking permit\n",
            },
            "gz",
        )
        self.container(
            "Backups/home-backup-2024-12.tar.gz",
            backup,
            "tar-gz-csv",
            {
                "home-backup-2024-12.tar/Documents/Tax/payees_2023.csv": self.member(
                    "csv-header", rows
                )
            },
        )
        rows = self.batch()
        jsonl = "".join(
            json.dumps({"name": t.full_name, "ssn": dashed(t.ssn), "address": t.full_address()})
            + "\n"
            for t in rows
        )
        self.container(
            "Backups/old_exports.7z",
            formats.sevenzip(
                {"exports/records_2022.jsonl": jsonl.encode(), "exports/README.md": b"# exports\n"}
            ),
            "7z-jsonl",
            {"exports/records_2022.jsonl": self.member("json-lines", rows)},
        )

        # Traps inside containers.
        invoices = self.invoice_rows(10)
        self.trap(
            "Documents/Invoices/invoices_q4.xlsx",
            formats.xlsx({"Invoices": invoices}),
            "xlsx-invoices-business",
            "medium",
        )
        self.trap_texts["Documents/Invoices/invoices_q4.xlsx"] = [_csv_text(invoices)]
        memo = self.legal_memo_paragraphs()
        self.trap(
            "Documents/Legal/memo_section_6103.docx",
            formats.docx(memo),
            "docx-legal-memo-6103",
            "info",
        )
        self.trap_texts["Documents/Legal/memo_section_6103.docx"] = ["\n".join(memo)]
        self.container(
            "Downloads/legal_packet.zip",
            formats.zip_archive(
                {"packet/memo_6103.docx": formats.docx(memo), "packet/cover.txt": b"Packet.\n"}
            ),
            "zip-docx-legal-memo",
            {
                "packet/memo_6103.docx": self.trap_member(
                    "docx-legal-memo-6103", "info", "\n".join(memo)
                )
            },
        )

    # ---- filler (not in the truth: must produce no finding)

    def fillers(self) -> int:
        rng = self.rng
        files: dict[str, bytes] = {
            ".bashrc": b"# ~/.bashrc\nexport EDITOR=vim\nalias ll='ls -la'\nHISTSIZE=5000\n",
            ".config/editor/settings.json": json.dumps(
                {"fontSize": 13, "tabSize": 4, "theme": "dark", "rulers": [88, 100]}, indent=2
            ).encode(),
            "Desktop/todo.txt": b"- renew parking permit\n- call the plumber\n- book flights\n",
            "Projects/webapp/README.md": (
                b"# webapp\n\nA small inventory service.\n\n## Run\n\n    make dev && make run\n\n"
                b"The service listens on port 8080 and keeps data in `var/app.db`.\n"
            ),
            "Projects/webapp/src/app.py": (
                b'"""Inventory service."""\n\nfrom flask import Flask\n\n'
                b"app = Flask(__name__)\n\n\n"
                b'@app.get("/items/<int:item_id>")\ndef item(item_id: int) -> dict:\n'
                b'    return {"id": item_id, "stock": 12}\n'
            ),
            "Projects/webapp/pyproject.toml": (
                b'[project]\nname = "webapp"\nversion = "0.3.1"\ndependencies = ["flask>=3"]\n'
            ),
        }
        for index in range(12 * self.scale):
            kind = index % 4
            if kind == 0:
                text = " ".join(rng.choice(LOREM) for _ in range(rng.randint(80, 400)))
                files[f"Documents/Notes/meeting-notes-{index:03d}.md"] = (
                    f"# Meeting notes {index}\n\n{text.capitalize()}.\n"
                ).encode()
            elif kind == 1:
                files[f"Pictures/photo_{index:03d}.png"] = minimal_png(8, 8, seed=index)
            elif kind == 2:
                files[f".cache/thumbnails/{index:03d}.bin"] = rng.randbytes(rng.randint(512, 4096))
            else:
                lines = [
                    f"{rng.choice(('add', 'fix', 'docs', 'test'))}: "
                    f"{' '.join(rng.choice(LOREM) for _ in range(5))} (#{rng.randint(1, 400)})"
                    for _ in range(rng.randint(5, 30))
                ]
                files[f"Projects/webapp/CHANGES-{index:03d}.txt"] = (
                    "\n".join(lines) + "\n"
                ).encode()
        for rel, data in files.items():
            self.write(rel, data)
        return len(files)


def build_home(
    root: Path,
    seed: int = 7,
    scale: int = 1,
    truth_path: Path | None = None,
    *,
    formats: bool = True,
) -> GroundTruth:
    """Write a synthetic home folder under ``root`` and return its ground truth.

    The truth is also written to ``truth_path`` (default ``truth_path_for(root)``,
    beside ``root``); it must lie outside ``root``. Same seed and scale, same bytes.
    ``formats=False`` leaves out the office files, PDF, SQLite, archives and e-mail
    (they are written last, so the other files are the same either way).
    """
    root = Path(root)
    truth_file = Path(truth_path) if truth_path is not None else truth_path_for(root)
    if truth_file.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"truth file {truth_file} must lie outside the scanned tree {root}")
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    root.mkdir(parents=True, exist_ok=True)
    writer = _HomeWriter(root, seed, scale)
    writer.positives()
    writer.traps()
    writer.fillers()
    if formats:
        writer.containers()
    truth = writer.truth
    truth.secrets = sorted(writer.secrets)
    _check_traps_hold_no_secret(root, truth, writer.trap_texts)
    truth.write(truth_file)
    return truth


_WORD = re.compile(r"[^\W_]+")
_TIN_SHAPE = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")


def secrets_in(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets that occur in ``text`` as whole values, case-insensitively.

    Nine-digit TINs (and their dashed form) count in any of the shapes ``AAAGGSSSS``,
    ``AAA-GG-SSSS`` and ``AAA GG SSSS``; ``12 Oak St`` does not occur in
    ``312 Oak Street``. Fast on large text: words are checked against its vocabulary
    before any search.

    >>> secrets_in("Call Ann Lee at 12 Oak St.", ["Ann Lee", "2 Oak St", "Ann Leeds"])
    ['Ann Lee']
    """
    folded = text.casefold()
    vocabulary = set(_WORD.findall(folded))
    tins = {"".join(m.group(1, 3, 4)) for m in _TIN_SHAPE.finditer(text)}
    hits: list[str] = []
    for secret in secrets:
        compact = secret.replace("-", "")
        if len(compact) == 9 and compact.isdigit():
            if compact in tins:
                hits.append(secret)
            continue
        value = secret.casefold()
        if all(word in vocabulary for word in _WORD.findall(value)) and re.search(
            rf"(?<![\w-]){re.escape(value)}(?![\w-])", folded
        ):
            hits.append(secret)
    return hits


def _check_traps_hold_no_secret(
    root: Path, truth: GroundTruth, trap_texts: dict[str, list[str]]
) -> None:
    for rel in truth.traps():
        if secrets_in(readable_text(root / rel), truth.secrets):
            raise AssertionError(f"generator bug: trap {rel} holds a generated secret")
    for rel, texts in trap_texts.items():  # trap members, by construction
        for text in texts:
            if secrets_in(text, truth.secrets):
                raise AssertionError(f"generator bug: a trap member of {rel} holds a secret")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.synthetic.home OUTDIR [--seed N] [--scale N]``: prints counts only."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.synthetic.home",
        description="Write a synthetic home folder (no real people) and its ground truth "
        "beside it (OUTDIR.truth.json).",
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args(argv)
    root: Path = args.outdir
    truth_file = truth_path_for(root)
    if root.exists() and any(root.iterdir()):
        if not truth_file.exists():
            print(f"error: {root} is not empty and was not made by this tool", file=sys.stderr)
            return 2
        shutil.rmtree(root)  # our own earlier output: its truth file sits beside it
    truth = build_home(root, seed=args.seed, scale=args.scale)
    files = [p for p in root.rglob("*") if p.is_file()]
    positives, traps = truth.positives(), truth.traps()
    print(
        f"wrote {len(files)} files, {sum(p.stat().st_size for p in files)} bytes under {root}: "
        f"{len(positives)} positives ({sum(t.records for t in positives.values())} records), "
        f"{len(traps)} traps, {len(files) - len(positives) - len(traps)} filler"
    )
    print(f"ground truth: {truth_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
