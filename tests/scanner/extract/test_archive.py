"""ZIP, TAR and 7z: members dispatched, names kept, limits and damage reported per member."""

from __future__ import annotations

import io
import random
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import archive
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread
from tests.synthetic import formats

Item = Segment | Rows | Unread
WHERE = Location(Path("/scan/box.zip"))
PASSWORD = "synthetic-test-password"  # noqa: S105  # encrypts test archives only


def _csv(rows: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    lines = [b"name,ssn,street,zip"]
    for i in range(rows):
        ssn = valid_ssn(rng)
        lines.append(b"Ann%d,%s,%d Main St,%05d" % (i, ssn.encode(), i + 1, 20500 + i % 99))
    return b"\n".join(lines) + b"\n"


def _all(items: Iterator[Item]) -> list[Item]:
    return list(items)


def _members(items: list[Item]) -> list[tuple[str, str | None]]:
    return [(type(item).__name__, item.where.member) for item in items]


def _unread(items: list[Item]) -> list[tuple[str | None, str]]:
    return [(item.where.member, item.reason) for item in items if isinstance(item, Unread)]


def _rows(items: list[Item]) -> list[tuple[str, ...]]:
    return [row for item in items if isinstance(item, Rows) for row in item.rows]


def test_archive_zip_members_dispatched() -> None:
    """A CSV member gives rows and a text member segments, each named by its member path."""
    data = formats.zip_archive(
        {"dir/people.csv": _csv(40), "notes/letter.txt": b"Dear taxpayer\nthanks\n"}
    )
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits()))
    assert len(_rows(items)) == 40
    assert {item.where.member for item in items} == {"dir/people.csv", "notes/letter.txt"}
    letter = [item for item in items if isinstance(item, Segment)]
    assert [(s.where.line, s.text) for s in letter] == [(1, "Dear taxpayer\nthanks\n")]
    assert all(item.where.path == WHERE.path for item in items)


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_archive_zip_every_stdlib_method(method: int) -> None:
    """Stored, deflate, bzip2 and lzma members are read alike."""
    data = formats.zip_archive({"people.csv": _csv(25)}, method)
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits()))
    assert len(_rows(items)) == 25


def test_archive_zip64_member() -> None:
    """A member written with zip64 extensions is read."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("big.csv", "w", force_zip64=True) as member,
    ):
        member.write(_csv(10))
    items = _all(archive.extract_zip(io.BytesIO(out.getvalue()), WHERE, Limits()))
    assert len(_rows(items)) == 10


def test_archive_zip_hostile_names_kept_as_names() -> None:
    """Absolute, climbing and backslashed names are only names; a leading slash goes."""
    data = formats.zip_archive(
        {"/etc/abs.txt": b"one\n", "../../up.txt": b"two\n", "win\\dir\\b.txt": b"three\n"}
    )
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits()))
    assert _members(items) == [
        ("Segment", "etc/abs.txt"),
        ("Segment", "../../up.txt"),
        ("Segment", "win\\dir\\b.txt"),
    ]


def test_archive_zip_not_seekable_is_read_into_memory() -> None:
    """A ZIP from a stream that cannot seek is read up to the bytes limit."""

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # bytes buffer
            return self._inner.readinto(buffer)

    data = formats.zip_archive({"people.csv": _csv(5)})
    items = _all(archive.extract_zip(io.BufferedReader(Pipe(data)), WHERE, Limits()))
    assert len(_rows(items)) == 5
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _all(
            archive.extract_zip(
                io.BufferedReader(Pipe(data)), WHERE, Limits(max_decompressed_bytes=100)
            )
        )


def test_archive_zip_encrypted_member() -> None:
    """A member with the encryption flag is unread (encrypted); the others are read."""
    data = bytearray(formats.zip_archive({"secret.csv": _csv(3), "open.txt": b"plain words\n"}))
    # Set bit 0 of the general purpose flags of the first member, locally and centrally.
    data[6] |= 1
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    items = _all(archive.extract_zip(io.BytesIO(bytes(data)), WHERE, Limits()))
    assert _unread(items) == [("secret.csv", "encrypted")]
    assert [item.where.member for item in items if isinstance(item, Segment)] == ["open.txt"]


def test_archive_zip_bad_crc_member_is_corrupt() -> None:
    """A member whose data do not match its CRC is corrupt; the next member is read."""
    data = bytearray(
        formats.zip_archive({"a.txt": b"alpha line\n" * 10, "b.txt": b"beta\n"}, zipfile.ZIP_STORED)
    )
    start = data.find(b"alpha")
    data[start : start + 5] = b"omega"
    items = _all(archive.extract_zip(io.BytesIO(bytes(data)), WHERE, Limits()))
    assert _unread(items) == [("a.txt", "corrupt")]
    assert ("Segment", "b.txt") in _members(items)


def test_archive_zip_truncated_directory_is_corrupt() -> None:
    """A ZIP cut before its central directory cannot be read at all."""
    data = formats.zip_archive({"people.csv": _csv(200)})
    with pytest.raises(ExtractError, match="corrupt"):
        _all(archive.extract_zip(io.BytesIO(data[: len(data) // 2]), WHERE, Limits()))


def test_archive_zip_unsupported_method() -> None:
    """A member compressed with a method zipfile lacks is unread with the method's name."""
    data = bytearray(formats.zip_archive({"a.txt": b"words\n"}, zipfile.ZIP_STORED))
    for offset in (8, data.find(b"PK\x01\x02") + 10):
        data[offset : offset + 2] = (9).to_bytes(2, "little")
    items = _all(archive.extract_zip(io.BytesIO(bytes(data)), WHERE, Limits()))
    assert _unread(items) == [("a.txt", "unsupported:zip-deflate64")]


def test_archive_zip_bomb_member_hits_ratio() -> None:
    """A member of 100 MB of text in a small ZIP stops at the ratio limit; others are read."""
    data = formats.zip_archive({"bomb.txt": b"a" * 100_000_000, "after.txt": b"after\n"})
    assert len(data) < 200_000
    started = time.monotonic()
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits()))
    assert time.monotonic() - started < 5
    assert _unread(items) == [("bomb.txt", "limit:ratio")]
    assert ("Segment", "after.txt") in _members(items)


def test_archive_zip_total_bytes_limit() -> None:
    """All members together past max_decompressed_bytes end the archive with bytes."""
    members = {f"m{i}.txt": b"line %d\n" % i * 20_000 for i in range(10)}
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _all(
            archive.extract_zip(
                io.BytesIO(formats.zip_archive(members)),
                WHERE,
                Limits(max_decompressed_bytes=500_000),
            )
        )


def test_archive_zip_overall_ratio() -> None:
    """Many members each under 1 MiB but all far too compressible end with ratio."""
    members = {f"m{i}.txt": b"a" * 1_000_000 for i in range(30)}
    with pytest.raises(LimitExceeded, match="limit:ratio"):
        _all(archive.extract_zip(io.BytesIO(formats.zip_archive(members)), WHERE, Limits()))


def test_archive_zip_member_limit() -> None:
    """Past max_members, one limit:members for the archive and nothing more."""
    data = formats.zip_archive({f"m{i}.txt": b"word %d\n" % i for i in range(20)})
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits(max_members=5)))
    assert [i.where.member for i in items if isinstance(i, Segment)] == [
        f"m{i}.txt" for i in range(5)
    ]
    assert _unread(items) == [(None, "limit:members")]


def test_archive_zip_huge_directory_refused() -> None:
    """A central directory far larger than max_members allows is not parsed."""
    data = formats.zip_archive({f"{i:04d}-{'x' * 200}.txt": b"" for i in range(50)})
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits(max_members=2)))
    assert _unread(items) == [(None, "limit:members")]


def test_archive_zip_nested_depth() -> None:
    """ZIPs inside ZIPs are opened down to max_depth, then limit:depth names the member."""
    data = formats.zip_archive({"people.csv": _csv(3)})
    for level in range(3):
        data = formats.zip_archive({f"level{level}.zip": data})
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits(max_depth=4)))
    assert [i.where.member for i in items if isinstance(i, Rows)] == [
        "level2.zip/level1.zip/level0.zip/people.csv"
    ]
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits(max_depth=2)))
    assert _unread(items) == [("level2.zip/level1.zip", "limit:depth")]


def test_archive_zip_inside_member_keeps_outer_member() -> None:
    """An archive that is itself a member names its members below the outer member."""
    where = Location(Path("/scan/mail.eml"), member="attachments/a.zip")
    items = _all(
        archive.extract_zip(io.BytesIO(formats.zip_archive({"b.csv": _csv(2)})), where, Limits())
    )
    assert {item.where.member for item in items} == {"attachments/a.zip/b.csv"}


def test_archive_zip_unsupported_member() -> None:
    """A member the registry cannot read is unread with its kind."""
    data = formats.zip_archive({"pic.png": b"\x89PNG\r\n\x1a\n" + bytes(64)})
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits()))
    assert _unread(items) == [("pic.png", "unsupported:png")]


def test_archive_office_reader_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the office hook returns a reader, it reads the ZIP instead of the member walk."""
    calls: list[tuple[str, ...]] = []

    def reader(zf: zipfile.ZipFile, where: Location, limits: Limits, depth: int) -> Iterator[Item]:
        calls.append(tuple(zf.namelist()))
        yield Segment("from the office reader\n", where)

    monkeypatch.setattr(archive, "office_reader", lambda zf: reader)
    items = _all(
        archive.extract_zip(
            io.BytesIO(formats.zip_archive({"word/document.xml": b"<w/>"})), WHERE, Limits()
        )
    )
    assert calls == [("word/document.xml",)]
    assert [item.text for item in items if isinstance(item, Segment)] == [
        "from the office reader\n"
    ]
    assert archive.office_reader.__name__ == "<lambda>"


def test_archive_office_reader_default_is_none() -> None:
    """The default hook reads every ZIP as an archive."""
    with zipfile.ZipFile(io.BytesIO(formats.zip_archive({"a.txt": b"x"}))) as zf:
        assert archive.office_reader(zf) is None


def test_archive_tar_members_and_specials_skipped() -> None:
    """Regular members are read; links, FIFOs and devices are neither read nor unread."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind in (
            ("link", tarfile.SYMTYPE),
            ("hard", tarfile.LNKTYPE),
            ("fifo", tarfile.FIFOTYPE),
            ("dev", tarfile.CHRTYPE),
            ("dir", tarfile.DIRTYPE),
        ):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            tf.addfile(info)
        data = _csv(30)
        info = tarfile.TarInfo("dir/people.csv")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    items = _all(archive.extract_tar(io.BytesIO(out.getvalue()), WHERE, Limits()))
    assert {item.where.member for item in items} == {"dir/people.csv"}
    assert len(_rows(items)) == 30
    assert _unread(items) == []


def test_archive_tar_member_limit() -> None:
    """Past max_members regular members, one limit:members and nothing more."""
    data = formats.tar_archive({f"m{i}.txt": b"word\n" for i in range(10)})
    items = _all(archive.extract_tar(io.BytesIO(data), WHERE, Limits(max_members=3)))
    assert [i.where.member for i in items if isinstance(i, Segment)] == [
        "m0.txt",
        "m1.txt",
        "m2.txt",
    ]
    assert _unread(items) == [(None, "limit:members")]


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_archive_tar_truncated(cut: float) -> None:
    """A tar cut short raises corrupt after what was read before the cut."""
    data = formats.tar_archive({"a.txt": b"first member\n", "people.csv": _csv(5000)})
    seen: list[Item] = []
    with pytest.raises(ExtractError, match="corrupt"):
        seen.extend(archive.extract_tar(io.BytesIO(data[: int(len(data) * cut)]), WHERE, Limits()))
    assert ("Segment", "a.txt") in _members(seen)


def test_archive_tar_cut_between_headers() -> None:
    """A tar cut inside a header (not at a block boundary) is corrupt too."""
    data = formats.tar_archive({"a.txt": b"first\n", "b.txt": b"second\n"})
    with pytest.raises(ExtractError, match="corrupt"):
        _all(archive.extract_tar(io.BytesIO(data[: 1024 + 100]), WHERE, Limits()))


def test_archive_tar_in_zip_depth() -> None:
    """A tar member of a ZIP is opened one level deeper and names its members below it."""
    data = formats.zip_archive({"backup.tar": formats.tar_archive({"people.csv": _csv(4)})})
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits()))
    assert [i.where.member for i in items if isinstance(i, Rows)] == ["backup.tar/people.csv"]
    items = _all(archive.extract_zip(io.BytesIO(data), WHERE, Limits(max_depth=1)))
    assert _unread(items) == [("backup.tar", "limit:depth")]


def test_archive_is_tar() -> None:
    """ustar, GNU and v7 headers are tar; text and zeros are not."""
    for fmt in (tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=fmt) as tf:
            info = tarfile.TarInfo("a.txt")
            info.size = 1
            tf.addfile(info, io.BytesIO(b"x"))
        assert archive.is_tar(out.getvalue())
    v7 = bytearray(formats.tar_archive({"a.txt": b"x"})[:512])
    v7[257:265] = bytes(8)
    v7[148:156] = b" " * 8
    v7[148:156] = b"%06o\x00 " % sum(v7)
    assert archive.is_tar(bytes(v7))
    v7[0] ^= 1
    assert not archive.is_tar(bytes(v7))
    assert not archive.is_tar(bytes(1024))
    assert not archive.is_tar(b"name,zip\n" * 200)


def test_archive_7z_members() -> None:
    """7z members are read from memory and named; empty members give nothing."""
    data = formats.sevenzip(
        {"dir/people.csv": _csv(12), "letter.txt": b"Dear taxpayer\n", "empty.txt": b""}
    )
    assert archive.is_7z(data)
    items = _all(archive.extract_7z(io.BytesIO(data), WHERE, Limits()))
    assert _members(items) == [("Rows", "dir/people.csv"), ("Segment", "letter.txt")]
    assert len(_rows(items)) == 12


def test_archive_7z_encrypted_members() -> None:
    """A 7z with encrypted data lists its members as encrypted."""
    data = formats.sevenzip({"people.csv": _csv(3), "b.txt": b"x\n"}, password=PASSWORD)
    items = _all(archive.extract_7z(io.BytesIO(data), WHERE, Limits()))
    assert _unread(items) == [("people.csv", "encrypted"), ("b.txt", "encrypted")]


def test_archive_7z_encrypted_header() -> None:
    """A 7z whose header is encrypted cannot be read at all."""
    data = formats.sevenzip({"people.csv": _csv(3)}, password=PASSWORD, header=True)
    with pytest.raises(ExtractError, match="encrypted"):
        _all(archive.extract_7z(io.BytesIO(data), WHERE, Limits()))


def test_archive_7z_bomb_stops_early() -> None:
    """200 MB of zeros in a small 7z stop at the limits in bounded time."""
    data = formats.sevenzip({"zeros.txt": b"a" * 200_000_000})
    assert len(data) < 100_000
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="limit:ratio"):
        _all(archive.extract_7z(io.BytesIO(data), WHERE, Limits()))
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _all(archive.extract_7z(io.BytesIO(data), WHERE, Limits(max_decompressed_bytes=3_000_000)))
    assert time.monotonic() - started < 10


def test_archive_7z_corrupt() -> None:
    """Damaged 7z data or a damaged header is corrupt."""
    data = bytearray(formats.sevenzip({"a.txt": b"some text line\n" * 200}))
    with pytest.raises(ExtractError, match="corrupt"):
        _all(archive.extract_7z(io.BytesIO(bytes(data[:40])), WHERE, Limits()))
    data[40:60] = b"\xff" * 20
    with pytest.raises(ExtractError, match="corrupt"):
        _all(archive.extract_7z(io.BytesIO(bytes(data)), WHERE, Limits()))


def test_archive_7z_member_limit_and_early_close() -> None:
    """Past max_members, limit:members; closing the iterator early ends the worker."""
    data = formats.sevenzip({f"m{i}.txt": b"word %d\n" % i for i in range(8)})
    items = _all(archive.extract_7z(io.BytesIO(data), WHERE, Limits(max_members=3)))
    assert [i.where.member for i in items if isinstance(i, Segment)] == [
        "m0.txt",
        "m1.txt",
        "m2.txt",
    ]
    assert _unread(items) == [(None, "limit:members")]
    items_iter = archive.extract_7z(io.BytesIO(data), WHERE, Limits())
    assert isinstance(next(items_iter), Segment)
    items_iter.close()  # type: ignore[attr-defined]  # a generator


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(["zip", "tar", "7z"]))
def test_archive_arbitrary_bytes_raise_only_extract_error(blob: bytes, kind: str) -> None:
    """Any bytes given to an archive reader end normally or with ExtractError."""
    prefix = {"zip": b"PK\x03\x04", "tar": b"", "7z": archive.SEVEN_ZIP_MAGIC}[kind]
    reader = {"zip": archive.extract_zip, "tar": archive.extract_tar, "7z": archive.extract_7z}
    limits = Limits(max_decompressed_bytes=1_000_000, max_members=50)
    try:
        for _ in reader[kind](io.BytesIO(prefix + blob), WHERE, limits):
            pass
    except ExtractError:
        pass


def test_archive_zip_speed() -> None:
    """A realistic 20 MB CSV in a ZIP is read at a reasonable rate (no quadratic path)."""
    data = formats.zip_archive({"people.csv": _csv(300_000)})
    started = time.monotonic()
    rows = _rows(_all(archive.extract_zip(io.BytesIO(data), WHERE, Limits())))
    assert len(rows) == 300_000
    assert time.monotonic() - started < 30
