"""Search bytes for generated plaintext in every form and every layer, counting only.

The no-leak test (`tests/leak/test_no_leak.py`) hands this module every byte the
product wrote. `Needles` holds the forms a value may take once written: a TIN dashed,
plain, spaced or dotted; a name as ``First Last``, ``Last, First``, ``Last First``,
with its middle name or initial, in any case; a street line with or without its unit.
`search_bytes` looks for them in the text of a blob and of what the blob holds:

* the text as UTF-8 and, when the blob has a NUL byte, as UTF-16 LE and BE at both
  byte alignments (every needle holds an ASCII character, so its UTF-16 form holds a
  NUL byte: a blob without one cannot hold a UTF-16 copy);
* JSON ``\\uXXXX`` escapes, HTML/XML character references and URL %-escapes undone;
* base64 runs (standard and URL-safe alphabets, at each of the four alignments, since a
  run cut by a SQLite overflow page may start anywhere), gzip streams, ZIP members, and
  the logical content of SQLite databases (read from a copy with its WAL applied),
  each searched again in turn, a few layers deep.

Hits are counted by (where, layer, kind) and never hold the value: a failing test
says ``ssn-dashed in state/state.sqlite3-wal [raw]`` and nothing more.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import html
import io
import re
import shutil
import sqlite3
import tempfile
import urllib.parse
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Needles", "Search", "sqlite_dump"]

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_BASE64 = re.compile(rb"[A-Za-z0-9+/_-]{24,}={0,2}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_HEX = re.compile(rb"[0-9a-f]+")
_NULS = re.compile(rb"\x00{3,}")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GZIP_MAGIC = b"\x1f\x8b\x08"
MAX_DEPTH = 4  # layers below the raw bytes (zip > envelope > base64 > ...)
MAX_INFLATE = 64 * 1024 * 1024  # bytes out of one gzip stream


@dataclass(frozen=True, slots=True, repr=False)
class _Needle:
    text: str  # casefolded
    kind: str
    words: tuple[str, ...]  # the words (or digit runs) it is made of
    pattern: re.Pattern[str]

    def __repr__(self) -> str:
        return f"<needle {self.kind}>"  # never the value: test failures print reprs


def _tin_kind(digits: str) -> str:
    return "itin" if digits.startswith("9") else "ssn"


@dataclass(slots=True, repr=False)
class Needles:
    """The forms of every generated value that must never be written (its ``repr``
    shows counts only: test failures print reprs)."""

    tins: list[_Needle] = field(default_factory=list)
    words: list[_Needle] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _tin_index: dict[str, list[_Needle]] = field(default_factory=dict)  # by first digit run
    _word_index: dict[str, list[_Needle]] = field(default_factory=dict)  # by first word

    def _add_word_needle(self, value: str, kind: str) -> None:
        text = " ".join(value.casefold().split())
        if not text or text in self._seen:
            return
        self._seen.add(text)
        pattern = re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")
        needle = _Needle(text, kind, tuple(_WORD.findall(text)), pattern)
        self.words.append(needle)
        self._word_index.setdefault(needle.words[0], []).append(needle)

    def add_tin(self, digits: str) -> None:
        """A nine-digit SSN or ITIN, in each written form."""
        assert len(digits) == 9
        assert digits.isdigit()
        kind = _tin_kind(digits)
        parts = (digits[:3], digits[3:5], digits[5:])
        for form, text in (
            ("plain", digits),
            ("dashed", "-".join(parts)),
            ("spaced", " ".join(parts)),
            ("dotted", ".".join(parts)),
        ):
            if text in self._seen:
                continue
            self._seen.add(text)
            pattern = re.compile(rf"(?<!\d){re.escape(text)}(?!\d)")
            words = tuple(_DIGITS.findall(text))
            needle = _Needle(text, f"{kind}-{form}", words, pattern)
            self.tins.append(needle)
            self._tin_index.setdefault(words[0], []).append(needle)

    def add_name(self, first: str, middle: str, last: str, suffix: str = "") -> None:
        """A person's name as rosters, letters and labels write it."""
        initial = f"{middle[0]}." if middle else ""
        lasts = [last, f"{last} {suffix}"] if suffix else [last]
        for surname in lasts:
            self._add_word_needle(f"{first} {surname}", "name-first-last")
            self._add_word_needle(f"{surname}, {first}", "name-last-first")
            self._add_word_needle(f"{surname} {first}", "name-last-first")
            if middle:
                for mid in {middle, initial, middle[0]}:
                    self._add_word_needle(f"{first} {mid} {surname}", "name-full")
                    self._add_word_needle(f"{surname}, {first} {mid}", "name-last-first-middle")

    def add_street(self, line: str) -> None:
        """A street line (house number, street, suffix; with or without its unit)."""
        self._add_word_needle(line, "street-line")

    def __len__(self) -> int:
        return len(self.tins) + len(self.words)

    def __repr__(self) -> str:
        return f"<Needles: {len(self.tins)} TIN forms, {len(self.words)} name and street forms>"

    def count(self, text: str) -> Counter[str]:
        """Occurrences by kind of every needle in ``text`` (case-insensitive, whole
        words: ``12 Oak St`` is not in ``312 Oak Street``)."""
        found: Counter[str] = Counter()
        digits = set(_DIGITS.findall(text))
        for first in digits & self._tin_index.keys():
            for needle in self._tin_index[first]:
                if all(w in digits for w in needle.words) and needle.text in text:
                    found[needle.kind] += len(needle.pattern.findall(text))
        folded = " ".join(text.casefold().split())
        vocabulary = set(_WORD.findall(folded))
        for first in vocabulary & self._word_index.keys():
            for needle in self._word_index[first]:
                if all(w in vocabulary for w in needle.words) and needle.text in folded:
                    found[needle.kind] += len(needle.pattern.findall(folded))
        return +found


def sqlite_dump(path: Path) -> str:
    """The logical content of the SQLite database at ``path`` (with its ``-wal``),
    read from a copy so that the original and its WAL stay byte for byte."""
    with tempfile.TemporaryDirectory(prefix="leak-sqlite-") as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(tmp) / "copy.db-wal")
        db = sqlite3.connect(copy)
        try:
            return "\n".join(db.iterdump())
        finally:
            db.close()


def _texts(data: bytes) -> Iterator[tuple[str, str]]:
    """(layer name, text) for the ways ``data`` may hold text.

    Runs of three or more NUL bytes (free pages, padding) become ``00 0a 0a 00``: no
    needle holds U+0000, and in UTF-16 the NUL next to a character is kept on each side
    (a character that changes alignment is found by the decode at the other offset)."""
    data = _NULS.sub(b"\x00\n\n\x00", data)
    yield "utf-8", data.decode("utf-8", errors="replace")
    if b"\x00" in data:
        for codec in ("utf-16-le", "utf-16-be"):
            for skip in (0, 1):
                yield f"{codec}@{skip}", data[skip:].decode(codec, errors="replace")


def _unescaped(text: str) -> Iterator[tuple[str, str]]:
    """``text`` with each escape mechanism undone (only those it seems to use)."""
    yield "", text
    if "\\u" in text:
        yield "+json-escapes", _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "&" in text:
        yield "+html-entities", html.unescape(text)
    if _URL_ESCAPE.search(text):
        yield "+url-escapes", urllib.parse.unquote_plus(text)


def _holds_text(data: bytes) -> bool:
    """True if ``data`` may hold text: UTF-8, UTF-16 (one NUL byte in four or more), or a
    gzip or ZIP stream. Misaligned decodes and signatures (random bytes) hold none."""
    if data.startswith((_GZIP_MAGIC, b"PK")) or data.count(0) * 4 >= len(data):
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _base64_layers(data: bytes) -> Iterator[bytes]:
    """What each base64 run of ``data`` decodes to, at each alignment, when it may hold
    text (runs of lower-case hex, such as digests and fingerprints, are not base64)."""
    for match in _BASE64.finditer(data):
        if _HEX.fullmatch(match.group()):
            continue
        run = match.group().rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
        for skip in range(4):
            body = run[skip:]
            body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
            with contextlib.suppress(binascii.Error, ValueError):
                decoded = base64.b64decode(body + b"=" * (-len(body) % 4), validate=True)
                if len(decoded) >= 16 and _holds_text(decoded):
                    yield decoded


def _gzip_layers(data: bytes) -> Iterator[bytes]:
    start = data.find(_GZIP_MAGIC)
    while start != -1:
        inflater = zlib.decompressobj(wbits=31)
        with contextlib.suppress(zlib.error):
            out = inflater.decompress(data[start:], MAX_INFLATE)
            if out:
                yield out
        start = data.find(_GZIP_MAGIC, start + 1)


def _zip_layers(data: bytes) -> Iterator[tuple[str, bytes]]:
    if not data.startswith(b"PK"):
        return
    broken = (zipfile.BadZipFile, OSError, EOFError, ValueError)
    with contextlib.suppress(*broken), zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.file_size <= MAX_INFLATE:
                yield info.filename, archive.read(info)


@dataclass(slots=True, repr=False)
class Search:
    """Searches blobs and folders for `Needles`; keeps what it looked at, by count."""

    needles: Needles
    hits: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # where, layer, kind
    files: int = 0
    size: int = 0  # bytes read from files
    layers: Counter[str] = field(default_factory=Counter)  # layers opened, by kind
    _memo: dict[tuple[bytes, int], tuple[list[tuple[str, str, int]], Counter[str]]] = field(
        default_factory=dict
    )

    def __repr__(self) -> str:
        return f"<Search: {self.files} files, {self.size} bytes, {sum(self.hits.values())} hits>"

    def text(self, where: str, layer: str, text: str) -> None:
        """Count the needles in one text (no decoding, no layers)."""
        for kind, n in self.needles.count(text).items():
            self.hits[(where, layer, kind)] += n

    def blob(self, where: str, data: bytes, layer: str = "raw") -> None:
        """Search ``data`` in every text form, then what it holds, layer by layer."""
        hits, layers = self._walk(data, 0)
        for inner, kind, n in hits:
            self.hits[(where, f"{layer}{inner}", kind)] += n
        self.layers.update(layers)

    def _walk(self, data: bytes, depth: int) -> tuple[list[tuple[str, str, int]], Counter[str]]:
        """(layer below this one, kind, count) of every hit in ``data`` and the layers
        opened; kept by content digest (the same envelope lies in the chain, the
        bundle, the export and the intake database)."""
        key = (hashlib.sha256(data).digest(), depth)
        if key in self._memo:
            return self._memo[key]
        hits: list[tuple[str, str, int]] = []
        layers: Counter[str] = Counter()
        for codec, text in _texts(data):
            for escape, plain in _unescaped(text):
                for kind, n in self.needles.count(plain).items():
                    hits.append((f":{codec}{escape}", kind, n))
        below: list[tuple[str, bytes]] = []
        if depth < MAX_DEPTH:
            for name, member in _zip_layers(data):
                layers["zip"] += 1
                below.append((f">zip:{name}", member))
            for inflated in _gzip_layers(data):
                layers["gzip"] += 1
                below.append((">gzip", inflated))
            decoded = list(_base64_layers(data))
            if decoded:
                layers["base64"] += len(decoded)
                # One layer for all runs: joined by a newline, never across a boundary.
                below.append((">base64", b"\n".join(decoded)))
        for prefix, inner_data in below:
            inner_hits, inner_layers = self._walk(inner_data, depth + 1)
            hits.extend((prefix + inner, kind, n) for inner, kind, n in inner_hits)
            layers.update(inner_layers)
        self._memo[key] = (hits, layers)
        return hits, layers

    def file(self, path: Path, where: str) -> None:
        """Search one file's raw bytes (all of them: free pages, free lists, slack) and,
        for a SQLite database, its logical content too."""
        data = path.read_bytes()
        self.files += 1
        self.size += len(data)
        self.blob(where, data)
        if data.startswith(_SQLITE_MAGIC):
            self.layers["sqlite"] += 1
            dumped = sqlite_dump(path).encode("utf-8")
            self.blob(where, dumped, "sqlite-dump")

    def folder(self, root: Path, label: str, skip: Iterable[Path] = ()) -> None:
        """Search every regular file under ``root`` (dot files too)."""
        skipped = {p.resolve() for p in skip}
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.resolve() not in skipped:
                self.file(path, f"{label}/{path.relative_to(root).as_posix()}")

    def report(self) -> list[str]:
        """The hits as ``kind in where [layer]`` lines (never a value), sorted."""
        return sorted(
            f"{kind} x{n} in {where} [{layer}]" for (where, layer, kind), n in self.hits.items()
        )
