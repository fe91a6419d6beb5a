"""The intake's database: SQLite (WAL) by default, PostgreSQL for fleets.

`open_store` takes a file path (SQLite) or a ``postgresql://`` URL. Both speak the
same SQL (``?`` placeholders, rewritten for psycopg), hold the same tables and give
the same guarantees, so that `ftiscan.reports.intake.service.Intake` is written once:

* one transaction per write (`Store.write`): SQLite takes the write lock at ``BEGIN
  IMMEDIATE``; PostgreSQL serialises the writers of one agent on its ``agents`` row
  (``SELECT ... FOR UPDATE``, `Tx.lock_agent`);
* the UNIQUE constraints do the once-only work: a second process storing the same
  report, or another report under a used (agent, sequence), fails with `Conflict`,
  and the caller looks again (`Intake.accept` then answers with the stored receipt);
* a writer that waits longer than ``busy_timeout`` seconds for a lock gets `Busy`; a
  database that cannot be reached or written gets `Unavailable`. Neither is a crash:
  the service answers ``unavailable`` (503, Retry-After) and the agent sends again.

Schema (migration ``0001-initial``; migrations are named, each runs in one transaction
with its row in ``migrations``, and an applied one is never edited). The database
holds no plaintext: reports carry none (masked shapes and keyed fingerprints only).

=============  ==============================================================
table          columns
=============  ==============================================================
migrations     name PK, applied_at
meta           key PK, value (``current_pack``, ``current_edm``: set by counsel)
agents         key_id PK, public_key (PEM), host_id, host (JSON), enrolled_at
               (first enrolment), last_enrolled_at, revoked_at
tokens         digest PK (SHA-256 hex of the token: the token itself is never
               stored), created_at, expires_at, expires_us, used_at, used_by
reports        report_id PK, agent -> agents, sequence, digest UNIQUE (of the
               envelope), previous, envelope (bytes exactly as signed), mode
               (scan, sweep, batch, heartbeat), started, ended (agent clock),
               received_at, received_us (intake clock: first storage), highest,
               records, findings, pack_digest, edm_digest, policy_digest,
               holdings (JSON: what the report says the host holds or no longer
               holds, `ftiscan.reports.intake.fleet`), receipt (bytes), source
               (``http`` or ``bundle``); UNIQUE (agent, sequence)
fingerprints   agent, report_id -> reports, fingerprint; PK (report_id,
               fingerprint); index on fingerprint (correlation across machines)
inventory      host_id PK, imported_at (counsel's list of in-scope machines)
rejections     digest, code, agent, sequence, report_id, at; PK (digest, code):
               forks and replays refused, kept so the fleet view can count them
=============  ==============================================================

Times are ISO 8601 UTC text (``2026-12-02T10:00:00Z``); ``*_us`` columns hold the
same moment as integer microseconds since the epoch, for ordering and comparison.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ftiscan.scanner.errors import FtiscanError

__all__ = [
    "MIGRATIONS",
    "Busy",
    "Conflict",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "StoreError",
    "Tx",
    "Unavailable",
    "is_postgres_url",
    "open_store",
]

Row = tuple[Any, ...]

_INITIAL = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    host_id TEXT NOT NULL,
    host TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    last_enrolled_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS agents_host ON agents (host_id);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    expires_us BIGINT NOT NULL,
    used_at TEXT,
    used_by TEXT
);
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    agent TEXT NOT NULL REFERENCES agents (key_id),
    sequence BIGINT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    previous TEXT,
    envelope {blob} NOT NULL,
    mode TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_us BIGINT NOT NULL,
    highest TEXT,
    records BIGINT NOT NULL,
    findings BIGINT NOT NULL,
    pack_digest TEXT,
    edm_digest TEXT,
    policy_digest TEXT,
    holdings TEXT NOT NULL,
    receipt {blob} NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (agent, sequence)
);
CREATE INDEX IF NOT EXISTS reports_received ON reports (received_us);
CREATE TABLE IF NOT EXISTS fingerprints (
    agent TEXT NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (report_id),
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (report_id, fingerprint)
);
CREATE INDEX IF NOT EXISTS fingerprints_fingerprint ON fingerprints (fingerprint);
CREATE TABLE IF NOT EXISTS inventory (
    host_id TEXT PRIMARY KEY,
    imported_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    digest TEXT NOT NULL,
    code TEXT NOT NULL,
    agent TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    report_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (digest, code)
)
"""

#: Named migrations in order; each is a list of statements (``{blob}``: the bytes type).
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("0001-initial", [s.strip() for s in _INITIAL.split(";") if s.strip()]),
]

_PG_URL = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)


class StoreError(FtiscanError):
    """The database refused or failed an operation."""


class Conflict(StoreError):
    """A UNIQUE or PRIMARY KEY constraint refused a row (someone stored it first)."""


class Busy(StoreError):
    """A lock was not granted within the busy timeout (another writer holds it)."""


class Unavailable(StoreError):
    """The database cannot be reached, opened or written."""


def is_postgres_url(db: str) -> bool:
    """Whether ``db`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return _PG_URL.match(db) is not None


class Tx:
    """One transaction's statements (``?`` placeholders)."""

    def __init__(self, store: Store, cursor: Any) -> None:
        self._store = store
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        self._store._run(self._cursor, sql, params)
        return int(self._cursor.rowcount)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._store._run(self._cursor, sql, params)
        return [tuple(row) for row in self._cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self._store._run(self._cursor, sql, params)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def lock_agent(self, key_id: str) -> bool:
        """Serialise the writers of one agent's chain until this transaction ends
        (SQLite: already, by its one write lock); False if the agent is unknown."""
        sql = "SELECT key_id FROM agents WHERE key_id = ?"
        if self._store.dialect == "postgresql":
            sql += " FOR UPDATE"
        row = self.one(sql, (key_id,))
        return row is not None


class Store:
    """A database with the intake's schema; one connection per thread."""

    dialect = ""
    blob_type = ""

    def __init__(self, busy_timeout: float) -> None:
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._closed = False

    # --- what each backend provides -------------------------------------------------
    def _connect(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _begin(self, cursor: Any, write: bool) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _translate(self, exc: Exception) -> StoreError | None:  # pragma: no cover
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def describe(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------
    def _connection(self) -> Any:
        if self._closed:
            raise Unavailable("the intake database is closed (shutting down)")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)
            with contextlib.suppress(Exception):
                conn.close()

    def _run(self, cursor: Any, sql: str, params: Sequence[Any]) -> None:
        try:
            cursor.execute(self._sql(sql), tuple(params))
        except Exception as exc:
            translated = self._translate(exc)
            if translated is None:
                raise
            raise translated from exc

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[Tx]:
        try:
            conn = self._connection()
            cursor = conn.cursor()
            self._begin(cursor, write)
        except StoreError:
            self._drop_connection()
            raise
        except Exception as exc:
            self._drop_connection()
            translated = self._translate(exc)
            if translated is None:
                raise
            raise translated from exc
        try:
            yield Tx(self, cursor)
            self._run(cursor, "COMMIT", ())
        except BaseException as exc:
            try:
                cursor.execute("ROLLBACK")
            except Exception:
                self._drop_connection()  # the connection is gone; the next one starts afresh
            if isinstance(exc, Unavailable):
                self._drop_connection()
            raise
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def write(self) -> contextlib.AbstractContextManager[Tx]:
        """A read-write transaction: committed when the block ends, rolled back on error."""
        return self._transaction(True)

    def read(self) -> contextlib.AbstractContextManager[Tx]:
        """A read-only transaction (one consistent snapshot)."""
        return self._transaction(False)

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet; return their names."""
        applied: list[str] = []
        with self.write() as tx:
            self._migration_lock(tx)
            tx.execute(
                "CREATE TABLE IF NOT EXISTS migrations "
                "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in tx.all("SELECT name FROM migrations")}
            for name, statements in MIGRATIONS:
                if name in done:
                    continue
                for statement in statements:
                    tx.execute(statement.replace("{blob}", self.blob_type))
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                tx.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, stamp))
                applied.append(name)
        return applied

    def _migration_lock(self, tx: Tx) -> None:
        """Keep two processes that open a new database at once from both migrating."""

    def close(self) -> None:
        """Close every connection (of every thread); later use raises `Unavailable`."""
        self._closed = True
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()


class SqliteStore(Store):
    """A SQLite file in WAL mode, ``synchronous=FULL`` (a stored report survives a
    power cut), foreign keys on, waiting ``busy_timeout`` for the write lock."""

    dialect = "sqlite"
    blob_type = "BLOB"

    def __init__(self, path: Path, busy_timeout: float = 5.0) -> None:
        super().__init__(busy_timeout)
        self.path = path

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def _connect(self) -> Any:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # transactions are begun explicitly
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise Unavailable(f"{self.path}: cannot open the intake database ({exc})") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            conn.close()
            raise self._translate(exc) or Unavailable(str(exc)) from exc
        if mode is None or str(mode[0]).lower() != "wal":
            conn.close()
            raise Unavailable(f"{self.path}: cannot switch the database to WAL mode")
        return conn

    def _begin(self, cursor: Any, write: bool) -> None:
        self._run(cursor, "BEGIN IMMEDIATE" if write else "BEGIN", ())

    def _translate(self, exc: Exception) -> StoreError | None:
        if isinstance(exc, sqlite3.IntegrityError):
            return Conflict(f"{self.path}: {exc}")
        if isinstance(exc, sqlite3.OperationalError):
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                return Busy(
                    f"{self.path}: the database is locked by another writer "
                    f"(waited {self.busy_timeout:g} s)"
                )
            return Unavailable(f"{self.path}: {exc}")
        if isinstance(exc, sqlite3.Error):
            return Unavailable(f"{self.path}: {exc}")
        return None


class PostgresStore(Store):
    """A PostgreSQL database (psycopg 3), autocommit connections with explicit
    transactions; ``lock_timeout`` is the busy timeout."""

    dialect = "postgresql"
    blob_type = "BYTEA"

    def __init__(self, url: str, busy_timeout: float = 5.0) -> None:
        super().__init__(busy_timeout)
        self.url = url
        try:
            import psycopg  # noqa: F401  (the intake extra)
        except ImportError as exc:  # pragma: no cover - the extra is installed in tests
            raise Unavailable("PostgreSQL needs psycopg: pip install 'ftiscan[intake]'") from exc

    def describe(self) -> str:
        return "postgresql:" + _without_password(self.url)

    def _connect(self) -> Any:
        import psycopg

        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=max(1, int(self.busy_timeout)),
                options=f"-c lock_timeout={int(self.busy_timeout * 1000)}",
            )
        except psycopg.Error as exc:
            raise Unavailable(f"{self.describe()}: cannot connect ({_first_line(exc)})") from exc
        return conn

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _begin(self, cursor: Any, write: bool) -> None:
        self._run(cursor, "BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ", ())

    def _migration_lock(self, tx: Tx) -> None:
        tx.one("SELECT pg_advisory_xact_lock(?)", (6103_0001,))

    def _translate(self, exc: Exception) -> StoreError | None:
        import psycopg
        from psycopg import errors

        where = self.describe()
        if isinstance(exc, errors.UniqueViolation | errors.IntegrityError):
            return Conflict(f"{where}: {_first_line(exc)}")
        if isinstance(
            exc,
            errors.LockNotAvailable
            | errors.QueryCanceled
            | errors.DeadlockDetected
            | errors.SerializationFailure,
        ):
            return Busy(f"{where}: waited for a lock held by another writer ({_first_line(exc)})")
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return Unavailable(f"{where}: {_first_line(exc)}")
        if isinstance(exc, psycopg.Error):
            return Unavailable(f"{where}: {_first_line(exc)}")
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _without_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def open_store(db: str | Path, busy_timeout: float = 5.0) -> Store:
    """The store for ``db`` (a SQLite path or a PostgreSQL URL), migrated."""
    text = str(db)
    store: Store
    if is_postgres_url(text):
        store = PostgresStore(text, busy_timeout)
    else:
        store = SqliteStore(Path(db), busy_timeout)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
