"""ZIP, TAR and 7z archives: every member read in memory, never extracted to disk.

Each regular member is handed to the registry (`ftiscan.scanner.extract.extract`) one
level deeper (``depth + 1``) as a bounded stream, so a CSV in a ZIP gives rows and a ZIP
in a TAR is opened in turn. Locations keep the path; ``member`` is the member's name as
stored (a leading ``/`` removed; ``..``, backslashes and the like stay: a name is only
ever displayed, never used as a path on disk), joined with ``/`` onto the outer member
(``mail.eml/attachments/a.zip`` -> ``mail.eml/attachments/a.zip/data.csv``).

What is not read is yielded as `Unread` and reading goes on with the next member:

- an encrypted member (ZIP flag bit 0, a 7z folder with an AES coder): ``encrypted``
  (no password is tried);
- a member with a bad CRC, truncated or undecodable data: ``corrupt`` (what was found in
  it before the damage stays);
- a ZIP compression method the standard library lacks (deflate64, PPMd ...):
  ``unsupported:zip-<method>``; a member the registry cannot read: ``unsupported:<kind>``;
- one member that comes out more than ``limits.max_ratio`` times larger than its
  compressed data (checked once more than 1 MiB is out): ``limit:ratio``;
- past ``limits.max_members`` members: one ``Unread(where, "limit:members")``, then stop;
- an archive inside ``limits.max_depth`` containers: one ``Unread(where, "limit:depth")``
  for the whole archive, which is not opened.

`LimitExceeded` ends the whole archive (after what was found): more than
``limits.max_decompressed_bytes`` out of all members together (``bytes``, counted as the
bytes really come out, never from the sizes in the headers), or all members together
more than ``limits.max_ratio`` times their compressed size (``ratio``). `ExtractError`
("corrupt") ends an archive whose directory cannot be read, or a TAR cut short;
("encrypted") a 7z whose header is encrypted. A stream that cannot seek is read into
memory first (ZIP and 7z need random access), at most ``max_decompressed_bytes``.

TAR is read as a stream (it may come out of a gzip, bzip2 or xz layer): links, devices
and FIFOs are never followed or opened, only skipped (they are neither members nor
unread). `office_reader` is the hook through which office documents (OOXML, ODF) that
are ZIP files are read by their own reader.
"""

from __future__ import annotations

import io
import lzma
import queue
import stat
import struct
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _budget
from ftiscan.scanner.extract._streams import random_access, read_bounded
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = [
    "SEVEN_ZIP_MAGIC",
    "OfficeReader",
    "dispatch_member",
    "extract_7z",
    "extract_tar",
    "extract_zip",
    "is_7z",
    "is_tar",
    "member_location",
    "office_reader",
]

Item = Segment | Rows | Unread

OfficeReader = Callable[[zipfile.ZipFile, Location, Limits, int], Iterator[Item]]
"""A reader of a ZIP-based document: ``reader(zf, where, limits, depth)``."""

SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"

_RATIO_AFTER = 1024 * 1024
_CHUNK = 64 * 1024
_BUFFER = 256 * 1024
_CD_BYTES_PER_MEMBER = 1024  # a central directory larger than this per allowed member
_ZIP_METHODS = {
    1: "shrink",
    6: "implode",
    9: "deflate64",
    10: "terse",
    18: "terse",
    19: "lz77",
    93: "zstd",
    94: "mp3",
    95: "xz",
    96: "jpeg",
    97: "wavpack",
    98: "ppmd",
    99: "aes",
}
_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    tarfile.TarError,
    struct.error,
)


def office_reader(zf: zipfile.ZipFile) -> OfficeReader | None:
    """The reader for a ZIP that is an office document (OOXML or ODF, decided from its
    member list: ``[Content_Types].xml``, ``mimetype``), else None (read as an archive)."""
    from ftiscan.scanner.extract import odf, ooxml

    for module in (ooxml, odf):
        kind = module.office_kind(zf)
        if kind is not None:
            reader: OfficeReader = module.READERS[kind]
            return reader
    return None


def member_location(where: Location, name: str) -> Location:
    """The location of member ``name`` inside the container at ``where``.

    >>> from pathlib import Path
    >>> member_location(Location(Path("a.zip")), "/x/data.csv").member
    'x/data.csv'
    >>> member_location(Location(Path("m.eml"), member="attachments/a.zip"), "b.csv").member
    'attachments/a.zip/b.csv'
    """
    name = name.lstrip("/") or "unnamed"
    member = f"{where.member}/{name}" if where.member else name
    return Location(where.path, member=member)


def _reason(exc: ExtractError) -> str:
    if exc.reason == "unsupported":
        return f"unsupported:{exc.detail or 'unknown'}"
    return exc.reason


def dispatch_member(
    stream: IO[bytes], where: Location, limits: Limits, depth: int
) -> Iterator[Item]:
    """Hand one member to the registry at ``depth + 1``; its `ExtractError` becomes `Unread`.

    What the member's extractor yielded before the error stays yielded.
    """
    from ftiscan.scanner.extract import extract as dispatch

    try:
        _, items = dispatch(stream, where, limits, depth + 1)
        yield from items
    except ExtractError as exc:
        yield Unread(where, _reason(exc))


def _random_access(fh: IO[bytes], limits: Limits) -> IO[bytes]:
    return random_access(fh, limits.max_decompressed_bytes)


@dataclass(slots=True)
class _Budget:
    """Bytes out of (and compressed bytes into) the members of one archive.

    ``out`` counts every byte that came out (the bytes limit); the overall ratio counts
    only members that were not stopped by their own ratio (they are reported apart).
    """

    limits: Limits
    out: int = 0
    ratio_out: int = 0
    ratio_in: int = 0
    stop: LimitExceeded | None = None

    def add(self, out: int, into: int) -> None:
        _budget.charge(out)  # the budget of the whole file, across nested containers
        self.out += out
        self.ratio_out += out
        self.ratio_in += into

    def check(self) -> None:
        """Raise `LimitExceeded` (and remember it) when the whole archive must stop."""
        limits = self.limits
        if self.stop is None:
            if self.out > limits.max_decompressed_bytes:
                self.stop = LimitExceeded("bytes", f"more than {limits.max_decompressed_bytes} out")
            elif self.ratio_out > _RATIO_AFTER and self.ratio_out > limits.max_ratio * max(
                1, self.ratio_in
            ):
                self.stop = LimitExceeded("ratio", f"archive more than {limits.max_ratio}:1")
        if self.stop is not None:
            raise self.stop


class _CountingSource(io.RawIOBase):
    """The archive file as ZipFile reads it, counting the bytes read."""

    def __init__(self, fh: IO[bytes]) -> None:
        super().__init__()
        self._fh = fh
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def read(self, size: int | None = -1) -> bytes:
        data = self._fh.read(-1 if size is None else size)
        self.count += len(data)
        return data

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


class _Member(io.RawIOBase):
    """One member's data as it comes out, with the archive's limits enforced."""

    def __init__(
        self,
        inner: IO[bytes],
        budget: _Budget,
        consumed: Callable[[], int],
    ) -> None:
        super().__init__()
        self._inner, self._budget, self._consumed = inner, budget, consumed
        self._start_in = consumed()
        self._counted_in = 0
        self.out = 0
        self.failed: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        budget = self._budget
        if self.failed is not None:
            raise ExtractError(self.failed, "member data")
        if budget.stop is not None:
            raise budget.stop
        try:
            data = self._inner.read(min(len(view), _CHUNK))
        except ExtractError as exc:
            self.failed = exc.reason
            raise
        except _MEMBER_ERRORS as exc:
            self.failed = "corrupt"
            raise ExtractError("corrupt", f"member data: {type(exc).__name__}") from exc
        size = len(data)
        view[:size] = data
        self.out += size
        member_in = self._consumed() - self._start_in
        budget.add(size, member_in - self._counted_in)
        self._counted_in = member_in
        limits = budget.limits
        if budget.out <= limits.max_decompressed_bytes and (
            self.out > _RATIO_AFTER and self.out > limits.max_ratio * max(1, member_in)
        ):
            budget.ratio_out -= self.out
            budget.ratio_in -= member_in
            self.failed = "limit:ratio"
            raise LimitExceeded("ratio", f"member more than {limits.max_ratio}:1")
        budget.check()
        return size


def _end_of_central_directory(fh: IO[bytes]) -> tuple[int, int] | None:
    """(entries, central directory bytes) declared at the end of a ZIP, if found."""
    try:
        size = fh.seek(0, io.SEEK_END)
        start = max(0, size - (22 + 65535))
        fh.seek(start)
        tail = fh.read(size - start)
    except (OSError, ValueError):
        return None
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        return None
    entries, cd_size = struct.unpack("<10xHI6x", tail[pos : pos + 22])
    locator = tail[pos - 20 : pos] if pos >= 20 else b""
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and locator.startswith(b"PK\x06\x07"):
        (offset,) = struct.unpack("<8xQ4x", locator)
        try:
            fh.seek(offset)
            record = fh.read(56)
        except (OSError, ValueError, OverflowError):
            return None
        if len(record) == 56 and record.startswith(b"PK\x06\x06"):
            entries, cd_size = struct.unpack("<32xQQ8x", record)
    return entries, cd_size


def _zip_member_name(info: zipfile.ZipInfo, number: int) -> str:
    name = info.filename.lstrip("/")
    return name or f"member-{number}"


def extract_zip(fh: IO[bytes], where: Location, limits: Limits, depth: int = 0) -> Iterator[Item]:
    """Yield what the extractors of the members of the ZIP ``fh`` yield (see the module)."""
    if depth >= limits.max_depth:
        yield Unread(where, "limit:depth")
        return
    raw = _random_access(fh, limits)
    start = raw.tell()
    declared = _end_of_central_directory(raw)
    if declared is not None and declared[1] > _CD_BYTES_PER_MEMBER * max(1, limits.max_members):
        # zipfile parses the whole directory up front: do not let it hold millions of entries.
        yield Unread(where, "limit:members")
        return
    raw.seek(start)
    source = _CountingSource(raw)
    try:
        zf = zipfile.ZipFile(source)
    except (*_MEMBER_ERRORS, MemoryError) as exc:
        raise ExtractError("corrupt", f"zip directory: {type(exc).__name__}") from exc
    with zf:
        reader = office_reader(zf)
        if reader is not None:
            yield from reader(zf, where, limits, depth)
            return
        yield from _zip_members(zf, source, where, limits, depth)


def _zip_members(
    zf: zipfile.ZipFile, source: _CountingSource, where: Location, limits: Limits, depth: int
) -> Iterator[Item]:
    budget = _Budget(limits)
    members = 0
    for number, info in enumerate(zf.infolist(), start=1):
        if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
            continue
        members += 1
        if members > limits.max_members:
            yield Unread(where, "limit:members")
            return
        member_where = member_location(where, _zip_member_name(info, number))
        if info.flag_bits & 0x1:
            yield Unread(member_where, "encrypted")
            continue
        if info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
            zipfile.ZIP_BZIP2,
            zipfile.ZIP_LZMA,
        ):
            method = _ZIP_METHODS.get(info.compress_type, str(info.compress_type))
            yield Unread(member_where, f"unsupported:zip-{method}")
            continue
        try:
            inner = zf.open(info)
        except (*_MEMBER_ERRORS, MemoryError):
            yield Unread(member_where, "corrupt")
            continue
        with inner:
            member = _Member(inner, budget, lambda: source.count)
            stream = io.BufferedReader(member, buffer_size=_BUFFER)
            for item in dispatch_member(stream, member_where, limits, depth):
                if budget.stop is not None:
                    raise budget.stop  # the Unread of the member that hit it says no more
                yield item
        if budget.stop is not None:
            raise budget.stop


# --- TAR -------------------------------------------------------------------------------


def _octal(field: bytes) -> int | None:
    digits = field.replace(b"\x00", b" ").strip()
    if not digits or any(ch not in b"01234567" for ch in digits):
        return None
    return int(digits, 8)


def is_tar(head: bytes) -> bool:
    """Whether ``head`` starts with a tar header: ustar magic at 257, or a v7 header checksum.

    >>> import io, tarfile
    >>> out = io.BytesIO()
    >>> with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tf:
    ...     tf.addfile(tarfile.TarInfo("a.txt"), io.BytesIO(b""))
    >>> is_tar(out.getvalue()), is_tar(b"name,zip\\n" * 100)
    (True, False)
    """
    if len(head) < 512:
        return False
    block = head[:512]
    stored = _octal(block[148:156])
    if stored is None or not block[0]:
        return False
    if block[257:263] in (b"ustar\x00", b"ustar "):
        return True
    unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    signed = sum(struct.unpack("148b", block[:148])) + 8 * 0x20
    signed += sum(struct.unpack("356b", block[156:]))
    if stored not in (unsigned, signed):
        return False
    # v7: a name, then octal mode/uid/gid/size/mtime fields.
    return all(_octal(block[a:b]) is not None for a, b in ((100, 108), (124, 136), (136, 148)))


class _TarSource(io.RawIOBase):
    """The tar stream, remembering whether it ended in the middle of a block."""

    def __init__(self, fh: IO[bytes]) -> None:
        super().__init__()
        self._read = getattr(fh, "read1", fh.read)
        self.count = 0
        self.eof = False
        self.tail = b""
        self.error: ExtractError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._read(len(view))
        except ExtractError as exc:
            self.error = exc
            raise
        size = len(data)
        if not size:
            self.eof = True
        view[:size] = data
        self.count += size
        self.tail = (self.tail + data)[-512:] if size < 512 else data[-512:]
        return size


def _tar_truncated(source: _TarSource) -> bool:
    if not source.eof:
        return False  # tarfile stopped at the end-of-archive block
    return source.count % 512 != 0 or source.tail.count(0) != len(source.tail)


def extract_tar(fh: IO[bytes], where: Location, limits: Limits, depth: int = 0) -> Iterator[Item]:
    """Yield what the extractors of the regular members of the tar stream ``fh`` yield."""
    if depth >= limits.max_depth:
        yield Unread(where, "limit:depth")
        return
    source = _TarSource(fh)
    buffered = io.BufferedReader(source, buffer_size=_BUFFER)
    try:
        tf = tarfile.open(fileobj=buffered, mode="r|")  # noqa: SIM115  # "with tf" below
    except (*_MEMBER_ERRORS, MemoryError) as exc:
        if source.error is not None:
            raise source.error from exc
        raise ExtractError("corrupt", f"tar header: {type(exc).__name__}") from exc
    budget = _Budget(replace(limits, max_ratio=2**62))  # a tar is not compressed
    members = 0
    number = 0
    with tf:
        while True:
            try:
                info = tf.next()
            except (*_MEMBER_ERRORS, MemoryError) as exc:
                if source.error is not None:
                    raise source.error from exc
                raise ExtractError("corrupt", f"tar header: {type(exc).__name__}") from exc
            if info is None:
                break
            number += 1
            # Stream mode keeps every header read otherwise (unbounded memory).
            tf.members.clear()  # type: ignore[attr-defined]  # not in typeshed
            if not info.isreg():
                continue
            members += 1
            if members > limits.max_members:
                yield Unread(where, "limit:members")
                return
            member_where = member_location(where, info.name or f"member-{number}")
            try:
                inner = tf.extractfile(info)
            except (*_MEMBER_ERRORS, MemoryError):
                yield Unread(member_where, "corrupt")
                continue
            if inner is None:  # pragma: no cover - isreg() members always have data
                continue
            member = _Member(inner, budget, lambda: 0)
            stream = io.BufferedReader(member, buffer_size=_BUFFER)
            yield from dispatch_member(stream, member_where, limits, depth)
            if source.error is not None:
                raise source.error
            if budget.stop is not None:
                raise budget.stop
    if _tar_truncated(source):
        raise ExtractError("corrupt", "truncated tar archive")


# --- 7z --------------------------------------------------------------------------------


def is_7z(head: bytes) -> bool:
    """Whether ``head`` starts with the 7z signature."""
    return head.startswith(SEVEN_ZIP_MAGIC)


class _Cancelled(Exception):
    """The consumer of a 7z archive stopped reading: the worker thread ends."""


_7Z_BLOCK = 1024 * 1024
_7Z_QUEUE = 8  # chunks of at most _7Z_BLOCK between the worker and the reader


def _small_7z_blocks() -> None:
    """Make py7zr decompress at most `_7Z_BLOCK` bytes per step (it allows up to 128 MB).

    py7zr asks ``py7zr.py7zr.get_memory_limit()`` for the size of each decompression
    step; a bomb would otherwise allocate that much before a limit is checked. This
    changes py7zr for the whole process (ftiscan is its only user here) and is skipped if
    a later py7zr no longer has that function.
    """
    import py7zr.py7zr as core

    original = getattr(core, "get_memory_limit", None)
    if original is None or getattr(original, "_ftiscan", False):
        return

    def limited() -> int:
        return min(int(original()), _7Z_BLOCK)

    limited._ftiscan = True  # type: ignore[attr-defined]  # marks the wrapper
    core.get_memory_limit = limited  # type: ignore[attr-defined]  # imported there, not exported


class _Chunks(io.RawIOBase):
    """One 7z member, read from the chunks the worker thread hands over."""

    def __init__(self, get: Callable[[], tuple[str, object]]) -> None:
        super().__init__()
        self._get = get
        self._pending = memoryview(b"")
        self.ended = False
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            if self.error is not None:
                raise _7z_error(self.error)
            if self.ended:
                return 0
            kind, payload = self._get()
            if kind == "data":
                assert isinstance(payload, bytes)
                self._pending = memoryview(payload)
            elif kind == "end":
                self.ended = True
            else:
                assert isinstance(payload, BaseException)
                self.error = payload
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def drain(self) -> None:
        """Skip what the member's extractor did not read, up to the member's end."""
        self._pending = memoryview(b"")
        while not self.ended and self.error is None:
            kind, payload = self._get()
            if kind == "end":
                self.ended = True
            elif kind == "error":
                assert isinstance(payload, BaseException)
                self.error = payload


def _7z_error(exc: BaseException) -> ExtractError:
    """Our error for what the py7zr worker raised."""
    import py7zr.exceptions

    if isinstance(exc, ExtractError):
        return exc
    if isinstance(exc, py7zr.exceptions.DecompressionBombError):
        return LimitExceeded("bytes", "7z output too large")
    if isinstance(exc, MemoryError):
        return LimitExceeded("bytes", "7z output does not fit in memory")
    if isinstance(exc, py7zr.exceptions.UnsupportedCompressionMethodError):
        return ExtractError("unsupported", "7z")
    return ExtractError("corrupt", f"7z data: {type(exc).__name__}")


def extract_7z(fh: IO[bytes], where: Location, limits: Limits, depth: int = 0) -> Iterator[Item]:
    """Yield what the extractors of the members of the 7z archive ``fh`` yield.

    py7zr decompresses in a worker thread into memory (one member at a time, handed over
    through a queue of one), never to disk; the consumer reads each member from memory.
    """
    if depth >= limits.max_depth:
        yield Unread(where, "limit:depth")
        return
    try:
        import py7zr
        import py7zr.exceptions
    except ImportError:  # pragma: no cover - py7zr is a dependency
        yield Unread(where, "unsupported:7z")
        return
    raw = _random_access(fh, limits)
    if not isinstance(raw, io.IOBase):  # py7zr wants an io.IOBase
        raw = io.BytesIO(read_bounded(raw, limits.max_decompressed_bytes))
    try:
        archive = py7zr.SevenZipFile(
            # py7zr's own check is a backstop: ours (in Sink.write) comes first.
            raw,
            mode="r",
            max_extract_size=limits.max_decompressed_bytes + 4 * _7Z_BLOCK,
        )
    except py7zr.exceptions.PasswordRequired as exc:
        raise ExtractError("encrypted", "7z header is encrypted") from exc
    except py7zr.exceptions.UnsupportedCompressionMethodError as exc:
        raise ExtractError("unsupported", "7z") from exc
    except Exception as exc:  # py7zr raises many kinds on damaged headers
        raise ExtractError("corrupt", f"7z header: {type(exc).__name__}") from exc
    with archive:
        yield from _7z_members(archive, raw, where, limits, depth)


def _7z_members(
    archive: object, raw: IO[bytes], where: Location, limits: Limits, depth: int
) -> Iterator[Item]:
    import py7zr
    import py7zr.exceptions
    import py7zr.helpers
    import py7zr.io

    assert isinstance(archive, py7zr.SevenZipFile)
    files = [info for info in archive.list() if not info.is_directory and not info.is_symlink]
    over = len(files) > limits.max_members
    files = files[: limits.max_members]
    if archive.needs_password():
        for number, info in enumerate(files, start=1):
            yield Unread(member_location(where, info.filename or f"member-{number}"), "encrypted")
        if over:
            yield Unread(where, "limit:members")
        return
    wanted: list[str] = []
    for info in files:
        try:
            py7zr.helpers.get_sanitized_output_path(info.filename, None)
        except (py7zr.exceptions.Bad7zFile, ValueError, OSError):
            # py7zr refuses to hand out members whose names climb out of a folder.
            yield Unread(member_location(where, info.filename), "unsupported:7z-path")
            continue
        wanted.append(info.filename)
    if wanted:
        yield from _7z_read(archive, raw, wanted, where, limits, depth)
    if over:
        yield Unread(where, "limit:members")


def _7z_read(
    archive: object,
    raw: IO[bytes],
    wanted: list[str],
    where: Location,
    limits: Limits,
    depth: int,
) -> Iterator[Item]:
    import py7zr
    import py7zr.io

    assert isinstance(archive, py7zr.SevenZipFile)
    _small_7z_blocks()
    start = raw.tell()
    budget = _Budget(limits)
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=_7Z_QUEUE)
    cancel = threading.Event()

    def put(kind: str, payload: object = None) -> None:
        while not cancel.is_set():
            try:
                handoff.put((kind, payload), timeout=0.05)
            except queue.Full:
                continue
            return
        raise _Cancelled

    class Sink(py7zr.io.Py7zIO):
        """One member: its bytes go to the reader as they come out, limits checked."""

        def __init__(self, name: str) -> None:
            self.out = 0
            put("start", name)

        def write(self, s: bytes | bytearray) -> int:
            if cancel.is_set():
                raise _Cancelled
            self.out += len(s)
            # Compressed bytes read so far (a solid archive is one stream: the ratio is
            # that of the whole archive).
            budget.add(len(s), max(0, raw.tell() - start - budget.ratio_in))
            budget.check()
            put("data", bytes(s))
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return self.out

        def close(self) -> None:
            put("end")

    class Factory(py7zr.io.WriterFactory):
        def create(self, filename: str) -> py7zr.io.Py7zIO:
            return Sink(filename)

    def work() -> None:
        try:
            archive.extract(targets=wanted, factory=Factory())
            put("done")
        except _Cancelled:
            return
        except BaseException as exc:  # handed to the reader, which wraps it
            try:
                put("error", exc)
            except _Cancelled:
                return

    def get() -> tuple[str, object]:
        return handoff.get()

    worker = threading.Thread(target=work, name="ftiscan-7z", daemon=True)
    worker.start()
    last: Location | None = None
    try:
        while True:
            kind, payload = handoff.get()
            if kind == "done":
                break
            if kind == "error":
                assert isinstance(payload, BaseException)
                error = _7z_error(payload)
                if budget.stop is None and last is not None and error.reason == "corrupt":
                    yield Unread(last, "corrupt")  # a CRC checked after the member ended
                raise error from payload
            if kind != "start":  # pragma: no cover - the worker sends start first
                continue
            member_where = member_location(where, str(payload))
            chunks = _Chunks(get)
            stream = io.BufferedReader(chunks, buffer_size=_BUFFER)
            reported = False
            for item in dispatch_member(stream, member_where, limits, depth):
                if budget.stop is not None:
                    raise budget.stop
                reported = reported or (isinstance(item, Unread) and item.where == member_where)
                yield item
            chunks.drain()
            if budget.stop is not None:
                raise budget.stop
            if chunks.error is not None:
                error = _7z_error(chunks.error)
                if not reported:
                    yield Unread(member_where, error.reason)
                raise error from chunks.error
            last = member_where
    finally:
        cancel.set()
        while worker.is_alive():
            try:
                handoff.get(timeout=0.05)
            except queue.Empty:
                continue
        worker.join()
