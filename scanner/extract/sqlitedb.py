"""SQLite databases: every table's rows, read from an in-memory copy.

The file's bytes are read from ``fh`` (at most ``limits.max_decompressed_bytes``, else
`LimitExceeded` ("bytes") before anything is read) and loaded into a private in-memory
database with ``Connection.deserialize``: SQLite never opens the scanned file, so it
cannot lock it, write a journal beside it or replay a ``-wal`` file. A ``-wal`` file
beside the database is therefore not read: rows committed to it but not yet checkpointed
into the database are not seen (the engine scans the ``-wal`` file as a file of its
own). The copy is opened with ``PRAGMA query_only`` and ``trusted_schema=OFF``.

Each table (``sqlite_master`` type ``table``; views, indexes and SQLite's own tables are
not read) yields `Rows` with ``where.sheet`` = the table name and ``header`` = its column
names. For a table with a rowid, ``first_row`` is the rowid of ``rows[0]`` and a batch
holds consecutive rowids only (a gap starts a new batch), so row ``first_row + i`` is
rowid ``first_row + i``; a ``WITHOUT ROWID`` table (or one whose columns shadow every
rowid alias) is numbered 1, 2, ... in primary-key order. Batches hold at most
``limits.batch_rows`` rows and about ``limits.block_chars`` characters.

Virtual tables are not read (FTS keeps its text in shadow tables, which are tables).
Values: text as is (text that is not UTF-8 is read as Latin-1), numbers in their usual
form, NULL as ``""``; a blob that is UTF-8
text becomes a cell, other blobs are ``""`` (skipped). A database that cannot be read at
all raises `ExtractError` ("corrupt"); a table that fails while being read yields the rows
before the damage and `Unread(where, "corrupt")` with ``where.sheet`` set, and the other
tables are read. More than ``limits.max_members`` tables: ``Unread(where,
"limit:members")`` after the first ones.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from typing import IO

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract._streams import read_bounded
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["MAGIC", "extract_sqlite"]

MAGIC = b"SQLite format 3\x00"

_ROWID_ALIASES = ("rowid", "_rowid_", "oid")
_READ = 1024 * 1024
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return ""
        return "" if _CONTROLS.search(text) else text
    return str(value)


def _text(value: bytes) -> str:
    """A TEXT value: UTF-8, or Latin-1 when it is not (legacy exports). sqlite3's own
    decoding raises for the batch holding such a value, which lost the rest of the
    table."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _open(data: bytes) -> sqlite3.Connection:
    if len(data) > 19 and data[18:20] == b"\x02\x02":
        # WAL mode in the header: an in-memory database cannot use WAL, so read the copy
        # as a rollback-journal database (the scanned file is not touched).
        data = data[:18] + b"\x01\x01" + data[20:]
    conn = sqlite3.connect(":memory:")
    conn.text_factory = _text
    try:
        conn.deserialize(data)
        conn.execute("PRAGMA query_only=1")
        conn.execute("PRAGMA trusted_schema=OFF")
    except (sqlite3.Error, OverflowError, ValueError, MemoryError) as exc:
        conn.close()
        raise ExtractError("corrupt", f"sqlite: {type(exc).__name__}") from exc
    return conn


def _tables(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
        ).fetchall()
    except sqlite3.Error as exc:
        raise ExtractError("corrupt", f"sqlite schema: {type(exc).__name__}") from exc
    # Virtual tables keep their data in shadow tables (read as tables), or elsewhere.
    return [
        str(name)
        for name, sql in rows
        if not str(name).lower().startswith("sqlite_")
        and not str(sql or "").lstrip().upper().startswith("CREATE VIRTUAL")
    ]


def _select(conn: sqlite3.Connection, table: str) -> tuple[sqlite3.Cursor, bool]:
    """A cursor over the table's rows (rowid first when it has one) and whether it has."""
    columns = [str(row[1]).lower() for row in conn.execute(f"PRAGMA table_info({_quote(table)})")]
    alias = next((name for name in _ROWID_ALIASES if name not in columns), None)
    if alias is not None:
        try:
            cursor = conn.execute(
                f"SELECT {alias}, * FROM {_quote(table)} ORDER BY {alias}"  # noqa: S608  # quoted identifiers
            )
        except sqlite3.OperationalError:
            pass  # WITHOUT ROWID
        else:
            return cursor, True
    return conn.execute(f"SELECT * FROM {_quote(table)}"), False  # noqa: S608  # quoted


def _table_rows(
    conn: sqlite3.Connection, table: str, where: Location, limits: Limits
) -> Iterator[Rows]:
    cursor, has_rowid = _select(conn, table)
    names = [str(column[0]) for column in cursor.description or ()]
    header = tuple(names[1:] if has_rowid else names)
    batch: list[tuple[str, ...]] = []
    first = 0
    expected = 0
    chars = 0
    ordinal = 0
    size = max(1, limits.batch_rows)
    while True:
        fetched = cursor.fetchmany(size)
        if not fetched:
            break
        for record in fetched:
            ordinal += 1
            if has_rowid:
                number = int(record[0])
                cells = tuple(_cell(value) for value in record[1:])
            else:
                number = ordinal
                cells = tuple(_cell(value) for value in record)
            if batch and (number != expected or len(batch) >= size or chars >= limits.block_chars):
                yield Rows(batch, first, header, where)
                batch, chars = [], 0
            if not batch:
                first = number
            batch.append(cells)
            chars += sum(len(cell) for cell in cells)
            expected = number + 1
    if batch:
        yield Rows(batch, first, header, where)


def extract_sqlite(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield the rows of every table of the SQLite database ``fh`` (see the module)."""
    del depth  # blobs are not handed on as members
    data = read_bounded(fh, limits.max_decompressed_bytes)
    conn = _open(data)
    del data
    try:
        tables = _tables(conn)
        for number, table in enumerate(tables, start=1):
            if number > limits.max_members:
                yield Unread(where, "limit:members")
                return
            table_where = replace(where, sheet=table)
            try:
                yield from _table_rows(conn, table, table_where, limits)
            except sqlite3.Error:
                yield Unread(table_where, "corrupt")
    finally:
        conn.close()
