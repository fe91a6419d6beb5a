"""SQLite: tables as rows with rowids, read from an in-memory copy, damage reported."""

from __future__ import annotations

import contextlib
import io
import os
import random
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import sqlitedb
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

Item = Segment | Rows | Unread
WHERE = Location(Path("/scan/app.db"))


def _db(path: Path, rows: int = 5, wal: bool = False) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, ssn TEXT, photo BLOB)")
    rng = random.Random(9)
    conn.executemany(
        "INSERT INTO people VALUES (?, ?, ?, ?)",
        [(i, f"Ann{i}", valid_ssn(rng), b"\x89PNG\x00\x01") for i in range(1, rows + 1)],
    )
    conn.commit()
    conn.close()
    return path


def _run(data: bytes, **limits: int) -> list[Item]:
    return list(sqlitedb.extract_sqlite(io.BytesIO(data), WHERE, Limits(**limits)))


def test_sqlitedb_rows_with_rowids(tmp_path: Path) -> None:
    """Rows carry the table as sheet, the columns as header and rowids as row numbers."""
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (name TEXT, note BLOB, n REAL, z)")
    for rowid in (1, 2, 3, 10, 11, 40):
        conn.execute(
            "INSERT INTO t (rowid, name, note, n, z) VALUES (?, ?, ?, ?, NULL)",
            (rowid, f"Ann{rowid}", b"text blob" if rowid % 2 else b"\x00\xff", 1.5),
        )
    conn.execute("CREATE VIEW v AS SELECT * FROM t")
    conn.commit()
    conn.close()
    items = _run(path.read_bytes())
    assert [(i.where.sheet, i.first_row, i.header, len(i.rows)) for i in items] == [
        ("t", 1, ("name", "note", "n", "z"), 3),
        ("t", 10, ("name", "note", "n", "z"), 2),
        ("t", 40, ("name", "note", "n", "z"), 1),
    ]
    first = items[0]
    assert isinstance(first, Rows)
    assert first.rows == [
        ("Ann1", "text blob", "1.5", ""),
        ("Ann2", "", "1.5", ""),
        ("Ann3", "text blob", "1.5", ""),
    ]


def test_sqlitedb_without_rowid_and_shadowed_rowid(tmp_path: Path) -> None:
    """WITHOUT ROWID tables and tables whose columns shadow every rowid alias are ordinal."""
    path = tmp_path / "kv.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    conn.executemany("INSERT INTO kv VALUES (?, ?)", [("b", "2"), ("a", "1")])
    conn.execute("CREATE TABLE odd (rowid TEXT, _rowid_ TEXT, oid TEXT)")
    conn.executemany("INSERT INTO odd VALUES (?, ?, ?)", [("x", "y", "z")] * 3)
    conn.commit()
    conn.close()
    items = _run(path.read_bytes())
    assert [(i.where.sheet, i.first_row, len(i.rows)) for i in items] == [
        ("kv", 1, 2),
        ("odd", 1, 3),
    ]
    assert isinstance(items[0], Rows)
    assert items[0].rows == [("a", "1"), ("b", "2")]


def test_sqlitedb_batches(tmp_path: Path) -> None:
    """Batches hold at most batch_rows rows and number on from the last one."""
    items = _run(_db(tmp_path / "a.db", rows=25).read_bytes(), batch_rows=10)
    assert [(i.first_row, len(i.rows)) for i in items] == [(1, 10), (11, 10), (21, 5)]
    assert all(isinstance(i, Rows) and i.rows[0][2].isdigit() for i in items)


def test_sqlitedb_file_untouched_and_wal_header(tmp_path: Path) -> None:
    """A WAL-mode database is read from its bytes; no journal or -wal file is created."""
    path = _db(tmp_path / "wal.db", rows=3, wal=True)
    before = sorted(os.listdir(tmp_path))
    stat = path.stat()
    with path.open("rb") as fh:
        items = list(sqlitedb.extract_sqlite(fh, WHERE, Limits()))
    assert sum(len(i.rows) for i in items if isinstance(i, Rows)) == 3
    assert sorted(os.listdir(tmp_path)) == before
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def test_sqlitedb_corrupt(tmp_path: Path) -> None:
    """A database with garbage after its header is corrupt."""
    data = bytearray(_db(tmp_path / "c.db").read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)
    with pytest.raises(ExtractError, match="corrupt"):
        _run(bytes(data))
    with pytest.raises(ExtractError, match="corrupt"):
        _run(sqlitedb.MAGIC + b"\x00" * 10)


def test_sqlitedb_damaged_table_others_read(tmp_path: Path) -> None:
    """A table whose pages are damaged is unread corrupt; the other tables are read."""
    path = tmp_path / "two.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size=1024")
    conn.execute("CREATE TABLE a (v TEXT)")
    conn.execute("CREATE TABLE b (v TEXT)")
    conn.executemany("INSERT INTO a VALUES (?)", [("a" * 100,)] * 200)
    conn.executemany("INSERT INTO b VALUES (?)", [("b" * 100,)] * 5)
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    # Damage the interior pages of table a (its rows live on pages after the root).
    for page in range(4, 10):
        data[page * 1024 : page * 1024 + 8] = b"\xff" * 8
    items = _run(bytes(data))
    unread = [(i.where.sheet, i.reason) for i in items if isinstance(i, Unread)]
    assert unread == [("a", "corrupt")]
    assert [len(i.rows) for i in items if isinstance(i, Rows) and i.where.sheet == "b"] == [5]


def test_sqlitedb_bytes_limit(tmp_path: Path) -> None:
    """A database larger than max_decompressed_bytes is not loaded."""
    data = _db(tmp_path / "big.db", rows=50).read_bytes()
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _run(data, max_decompressed_bytes=len(data) - 1)


def test_sqlitedb_table_limit(tmp_path: Path) -> None:
    """Past max_members tables, one limit:members and no more tables."""
    path = tmp_path / "many.db"
    conn = sqlite3.connect(path)
    for n in range(6):
        conn.execute(f"CREATE TABLE t{n} (v TEXT)")
        conn.execute(f"INSERT INTO t{n} VALUES ('x')")  # noqa: S608  # fixed test names
    conn.commit()
    conn.close()
    items = _run(path.read_bytes(), max_members=2)
    assert [(i.where.sheet, type(i).__name__) for i in items] == [
        ("t0", "Rows"),
        ("t1", "Rows"),
        (None, "Unread"),
    ]
    assert isinstance(items[-1], Unread)
    assert items[-1].reason == "limit:members"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_sqlitedb_arbitrary_bytes_raise_only_extract_error(blob: bytes) -> None:
    """Any bytes after the SQLite magic end normally or with ExtractError."""
    with contextlib.suppress(ExtractError):
        _run(sqlitedb.MAGIC + blob, max_decompressed_bytes=100_000)


def test_sqlitedb_speed(tmp_path: Path) -> None:
    """200,000 rows are read at a reasonable rate."""
    data = _db(tmp_path / "speed.db", rows=200_000).read_bytes()
    started = time.monotonic()
    rows = sum(len(i.rows) for i in _run(data) if isinstance(i, Rows))
    assert rows == 200_000
    assert time.monotonic() - started < 20
