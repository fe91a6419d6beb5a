"""Mutated files of every format through the real engine: a coverage reason, never a crash.

Each example takes a valid seed file (`tests.fuzz._seeds`: CSV, JSON, fixed width,
gzip/bzip2/xz, ZIP, TAR, 7z, XLSX, DOCX, PPTX, ODS, ODT, PDF, XLS, MSG, Word, EML,
SQLite, RTF, nested archives) and damages it (`tests.fuzz._mutate`), or the members of
a ZIP package before packing, then scans it with `scan_parts`, the function every
worker runs per file. The properties: it returns (no exception escapes), the file's
stop reason and every unread part's reason come from the coverage vocabulary and are
never the engine's catch-all ``error:<Exception>`` (which says an extractor let a raw
exception out), and each finding has the report's shape. Files are read in memory,
under small limits (`FUZZ_LIMITS`), and with a hang guard.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from ftiscan.scanner import extract as extractors
from ftiscan.scanner import identify
from ftiscan.scanner.engine import Context, StreamResult, scan_parts
from tests.fuzz import _seeds
from tests.fuzz._guard import no_hang
from tests.fuzz._mutate import Blob, Edit, apply, edits
from tests.fuzz._profile import fuzz_settings

REASON = re.compile(
    r"(corrupt|encrypted|changed|unreadable|no-text-layer|unsupported(:[a-z0-9_.+-]+)?"
    r"|limit:(bytes|ratio|depth|members|time|lines|text|chars|line))"
)
"""Every coverage reason an extractor may give; ``error:...`` is not among them."""

SEVERITIES = {"info", "low", "medium", "high", "critical"}


def _scan(ctx: Context, data: bytes, name: str = "fuzzed.bin") -> StreamResult:
    with no_hang():
        return scan_parts(ctx, io.BytesIO(data), Path(name))


def _check(result: StreamResult) -> None:
    """The properties every scanned stream must have."""
    assert result.kind in identify.KINDS or result.kind == "unknown"
    if result.reason is not None:
        assert REASON.fullmatch(result.reason), f"stop reason {result.reason!r} ({result.kind})"
    for _member, reason in result.unread:
        assert REASON.fullmatch(reason), f"unread reason {reason!r} ({result.kind})"
    for finding in result.findings:
        _check_finding(finding)


def _check_finding(finding: dict[str, Any]) -> None:
    assert finding["severity"] in SEVERITIES
    assert isinstance(finding["records"], int)
    assert finding["records"] >= 0
    assert isinstance(finding["rule"], str)


def test_fuzz_seeds_scan_clean(fuzz_ctx: Context) -> None:
    """Every seed, unharmed, is read to the end with findings: the mutations start from
    files the scanner reads, not from files it already refuses."""
    for name in _seeds.SEEDS:
        result = _scan(fuzz_ctx, _seeds.seed(name))
        assert result.reason is None, name
        assert result.unread == [], name
        assert result.findings, name
        _check(result)


@fuzz_settings(4)
@given(st.sampled_from(_seeds.SEEDS), edits())
@example("zip", [Edit("truncate", 30)])
@example("pdf", [Edit("set", 1900, data=b"\xff\xff\xff\xff")])
def test_fuzz_mutated_file_ends_in_coverage(
    fuzz_ctx: Context, name: str, changes: list[Edit]
) -> None:
    """A seed with bytes flipped, set, inserted, deleted, cut or repeated is scanned to
    a result whose reasons are coverage reasons."""
    _check(_scan(fuzz_ctx, apply(_seeds.seed(name), changes)))


@fuzz_settings(3)
@given(st.sampled_from(_seeds.CONTAINER_SEEDS), st.data())
def test_fuzz_mutated_package_member_ends_in_coverage(
    fuzz_ctx: Context, name: str, data: st.DataObject
) -> None:
    """A ZIP package (XLSX, DOCX, PPTX, ODS, ODT, nested ZIP) whose member (XML, CSV,
    inner archive) is damaged before packing, so the damage gets past the CRC check
    and reaches the member's parser."""
    members = _seeds.zip_members(name)
    target = data.draw(st.sampled_from(sorted(members)), label="member")
    members[target] = apply(members[target], data.draw(edits(), label="edits"))
    stored = data.draw(st.booleans(), label="stored")
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    _check(_scan(fuzz_ctx, _seeds_zip(members, method)))


@fuzz_settings(2)
@given(st.sampled_from(_seeds.OLE_SEEDS), st.data())
def test_fuzz_mutated_ole_stream_ends_in_coverage(
    fuzz_ctx: Context, name: str, data: st.DataObject
) -> None:
    """An OLE2 file (XLS, MSG) whose stream (BIFF8 records, message properties, an
    attachment) is damaged before the compound file is built, so the damage gets past
    the container and reaches xlrd and the message reader."""
    from tests.synthetic import formats

    tree = _seeds.ole_tree(name)
    target = data.draw(st.sampled_from(_seeds.ole_streams(tree)), label="stream")
    node = tree
    *folders, leaf = target.split("/")
    for folder in folders:
        child = node[folder]
        assert isinstance(child, dict)
        node = child
    stream = node[leaf]
    assert isinstance(stream, bytes)
    node[leaf] = apply(stream, data.draw(edits(), label="edits"))
    _check(_scan(fuzz_ctx, Blob(formats.ole(tree))))


def _seeds_zip(members: dict[str, bytes], method: int) -> bytes:
    from tests.synthetic import formats

    return Blob(formats.zip_archive(members, method))


_MAGICS = (
    b"",
    b"\x1f\x8b\x08",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"PK\x03\x04",
    b"7z\xbc\xaf\x27\x1c",
    b"%PDF-1.7\n",
    bytes.fromhex("d0cf11e0a1b11ae1"),
    b"{\\rtf1 ",
    b"SQLite format 3\x00",
    b"From: a@example.invalid\nSubject: x\n\n",
    b'[{"a": ',
    b'{"a": 1}\n{"b": ',
    b"a,b,c\n1,2,3\n",
)


@fuzz_settings(2)
@given(st.sampled_from(_MAGICS), st.binary(max_size=4096))
def test_fuzz_magic_then_noise_ends_in_coverage(
    fuzz_ctx: Context, magic: bytes, noise: bytes
) -> None:
    """A file that starts like a format (its magic number or first bytes) and goes on
    with arbitrary bytes is identified and read, or refused with a coverage reason."""
    _check(_scan(fuzz_ctx, Blob(magic + noise)))


@fuzz_settings(2)
@given(st.binary(max_size=identify.HEAD_BYTES + 64))
def test_fuzz_identify_any_header(head: bytes) -> None:
    """`identify` names a known kind for any header, and `extract` agrees on it."""
    kind = identify.identify(head)
    assert kind in identify.KINDS
    assert (
        kind == "empty"
        or kind in extractors.CONTAINERS
        or kind in extractors.EXTRACTORS
        or (kind in extractors.UNSUPPORTED)
    )


def test_rtf_of_bare_braces_stops_at_the_time_limit(fuzz_ctx: Context) -> None:
    """Found by the hostile-input probe: megabytes of ``{`` yield no text for tens of
    seconds, and the engine checks its clock only between items, so ``max_seconds`` did
    not stop such a file. The reader now checks it per 1 MiB chunk: with no time left,
    it stops after the first chunk, and the file is read in part (``limit:time``; before
    the fix, this took seconds and ended with no reason)."""
    from dataclasses import replace

    from ftiscan.scanner.engine import ScanOptions

    options = fuzz_ctx.options
    hurried = Context(
        ScanOptions(
            roots=(),
            pack_sources=options.pack_sources,
            key=options.key,
            limits=replace(options.limits, max_seconds=0),
        ),
        fuzz_ctx.packs,
    )
    braces = b"{\\rtf1 " + b"{" * (3 * 1024 * 1024)
    result = _scan(hurried, Blob(braces))
    assert (result.kind, result.reason) == ("rtf", "limit:time")


def _hurried(ctx: Context) -> Context:
    """``ctx`` with no time at all per file (``max_seconds=0``)."""
    from dataclasses import replace

    from ftiscan.scanner.engine import ScanOptions

    limits = replace(ctx.options.limits, max_seconds=0)
    options = ScanOptions(roots=(), pack_sources=ctx.options.pack_sources, key=ctx.options.key)
    return Context(replace(options, limits=limits), ctx.packs)


def test_office_part_of_empty_elements_stops_at_the_time_limit(fuzz_ctx: Context) -> None:
    """Found by the hostile-input probe: a stored DOCX whose paragraph holds millions of
    empty runs (or an XLSX of millions of empty rows) yields nothing for half a minute,
    so the engine's check between items never saw ``max_seconds`` pass. The office
    readers now check it per read of a part: such a file stops with ``limit:time``."""
    from tests.synthetic import formats

    runs = "<w:r/>" * 400_000
    members = dict(_seeds.zip_members("docx"))
    body = f"<w:body><w:p>{runs}</w:p></w:body>"
    members["word/document.xml"] = Blob(
        f'<w:document xmlns:w="{formats.WORD}">{body}</w:document>'.encode()
    )
    data = _seeds_zip(members, zipfile.ZIP_STORED)
    result = _scan(_hurried(fuzz_ctx), data)
    assert (result.kind, result.reason) == ("zip", "limit:time")
    assert _scan(fuzz_ctx, data).reason is None  # with time, it is read to its end


def test_office_part_with_unknown_xml_encoding_is_corrupt(fuzz_ctx: Context) -> None:
    """Found by the hostile-input probe: a sheet declaring ``encoding="x-bogus"`` let
    LookupError out of the XML guard, and the whole file ended as the engine's
    catch-all ``error:LookupError``; now that part is unread as ``corrupt`` and the rest
    of the workbook is read."""
    members = dict(_seeds.zip_members("xlsx"))
    sheet = next(name for name in members if name.startswith("xl/worksheets/"))
    body = members[sheet].split(b"?>", 1)[-1] if members[sheet].startswith(b"<?xml") else b""
    members[sheet] = Blob(b'<?xml version="1.0" encoding="x-bogus"?>' + (body or members[sheet]))
    result = _scan(fuzz_ctx, _seeds_zip(members, zipfile.ZIP_DEFLATED))
    assert (result.kind, result.reason) == ("zip", None)
    assert result.unread == [("", "corrupt")]


def test_sqlite_text_not_utf8_reads_the_whole_table(fuzz_ctx: Context) -> None:
    """Found by the hostile-input probe: one TEXT value that is not UTF-8 (a Latin-1
    export) made sqlite3 raise for the batch holding it, and the table ended there as
    ``corrupt``: the records in that batch and after it were never looked at. Now the
    value is read as Latin-1 and every row is read."""
    import sqlite3
    import tempfile

    from ftiscan.scanner.extract import sqlitedb
    from ftiscan.scanner.model import Limits, Location, Rows

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "legacy.db"
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE people (name TEXT, city TEXT)")
        conn.execute("INSERT INTO people VALUES (CAST(x'4a6f73e9' AS TEXT), 'Ely')")
        conn.executemany("INSERT INTO people VALUES (?, ?)", [("Ann", "Ely")] * 9)
        conn.commit()
        conn.close()
        data = path.read_bytes()
    items = list(sqlitedb.extract_sqlite(io.BytesIO(data), Location(Path("l.db")), Limits()))
    assert [type(item).__name__ for item in items] == ["Rows"]
    (rows,) = items
    assert isinstance(rows, Rows)
    assert len(rows) == 10
    assert rows.rows[0][0] == "Jos\u00e9"
