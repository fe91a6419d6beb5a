"""The intake store on both backends: migrations, several processes at once, kill -9
in the middle of accept, a database locked by another writer or not there at all."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from ftiscan.reports import dsse
from ftiscan.reports.intake.service import Intake, IntakeError
from ftiscan.reports.intake.store import (
    MIGRATIONS,
    Busy,
    SqliteStore,
    Unavailable,
    is_postgres_url,
    open_store,
)
from tests.intake.conftest import SyntheticAgent, enroll_agent, finding

ROOT = Path(__file__).resolve().parents[2]


def _worker(
    db: str, key: Path, out: Path, files: list[Path], env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.intake.worker", db, str(key), str(out)]
        + [str(f) for f in files],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _stored_count(intake: Intake) -> int:
    with intake.store.read() as tx:
        row = tx.one("SELECT COUNT(*) FROM reports")
    assert row is not None
    return int(row[0])


def test_store_migrations_named_and_applied_once(db_url: str) -> None:
    """A new database gets every migration once; opening it again applies none."""
    store = open_store(db_url)
    try:
        with store.read() as tx:
            names = [r[0] for r in tx.all("SELECT name FROM migrations ORDER BY name")]
        assert names == [name for name, _ in MIGRATIONS]
        assert store.migrate() == []
        assert store.dialect == ("postgresql" if is_postgres_url(db_url) else "sqlite")
    finally:
        store.close()


def test_store_sqlite_is_wal(tmp_path: Path) -> None:
    """SQLite runs in WAL mode, so readers never wait for the writer."""
    store = open_store(tmp_path / "intake.db")
    try:
        with store.read() as tx:
            assert tx.one("PRAGMA journal_mode") == ("wal",)
            assert tx.one("PRAGMA foreign_keys") == (1,)
    finally:
        store.close()


def test_store_closed_answers_unavailable(intake: Intake) -> None:
    """After close, the intake answers unavailable (503 with Retry-After), never a crash."""
    agent = SyntheticAgent()
    intake.close()
    with pytest.raises(IntakeError) as caught:
        intake.accept(agent.report())
    assert (caught.value.code, caught.value.status) == ("unavailable", 503)
    assert caught.value.retry_after == 5.0
    with pytest.raises(IntakeError) as caught:
        intake.check()
    assert caught.value.code == "unavailable"


def test_store_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    """A PostgreSQL server that is not there, or a SQLite file that cannot be made:
    unavailable, with where and why."""
    with pytest.raises(IntakeError) as caught:
        Intake.open("postgresql://nobody@127.0.0.1:9/none", tmp_path / "k", busy_timeout=1)
    assert caught.value.code == "unavailable"
    assert "postgresql:postgresql://nobody@127.0.0.1:9/none: cannot connect" in caught.value.reason
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(IntakeError) as caught:
        Intake.open(str(blocker / "intake.db"), tmp_path / "k")
    assert caught.value.code == "unavailable"
    assert str(blocker / "intake.db") in caught.value.reason


def test_store_password_not_shown(tmp_path: Path) -> None:
    """A URL's password never appears in a message."""
    with pytest.raises(IntakeError) as caught:
        Intake.open("postgresql://user:s3cret@127.0.0.1:9/db", tmp_path / "k", busy_timeout=1)
    assert "s3cret" not in str(caught.value)
    assert "user:***@" in caught.value.reason


def test_store_sqlite_locked_waits_then_unavailable(tmp_path: Path) -> None:
    """Another writer holding the SQLite lock: accept waits for it; past the busy
    timeout it answers unavailable (retry after 1 s); then it works again."""
    db = tmp_path / "intake.db"
    intake = Intake.open(str(db), tmp_path / "intake.key", busy_timeout=0.2)
    agent = enroll_agent(intake)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(IntakeError) as caught:
            intake.accept(agent.report())
        assert (caught.value.code, caught.value.retry_after) == ("unavailable", 1.0)
        assert "locked by another writer (waited 0.2 s)" in caught.value.reason
    finally:
        holder.execute("ROLLBACK")
    assert intake.accept(agent.envelopes[1])[0] is True
    intake.close()
    patient = Intake.open(str(db), tmp_path / "intake.key", busy_timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        assert patient.accept(agent.report())[0] is True  # waited for the lock
    finally:
        release.join()
        holder.close()
        patient.close()


def test_store_postgres_locked_agent_unavailable(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL: a writer holding the agent's row past lock_timeout -> unavailable."""
    import psycopg

    intake = Intake.open(pg_url, tmp_path / "intake.key", busy_timeout=0.2)
    try:
        agent = enroll_agent(intake)
        with psycopg.connect(pg_url) as holder:
            holder.execute(
                "SELECT key_id FROM agents WHERE key_id = %s FOR UPDATE", (agent.key_id,)
            )
            with pytest.raises(IntakeError) as caught:
                intake.accept(agent.report())
            assert (caught.value.code, caught.value.retry_after) == ("unavailable", 1.0)
            holder.rollback()
        assert intake.accept(agent.envelopes[1])[0] is True
    finally:
        intake.close()


def test_store_busy_and_unavailable_are_store_errors(tmp_path: Path) -> None:
    """The SQLite translation: locked is Busy, anything else of SQLite Unavailable."""
    store = SqliteStore(tmp_path / "x.db")
    assert isinstance(store._translate(sqlite3.OperationalError("database is locked")), Busy)
    assert isinstance(store._translate(sqlite3.OperationalError("disk I/O error")), Unavailable)
    assert store._translate(ValueError("x")) is None


def test_store_concurrent_processes_store_each_report_once(
    db_url: str, intake_key: Path, tmp_path: Path
) -> None:
    """Four processes send the same 24 reports of 3 agents at once, each in its own
    order: every report is stored exactly once, one process is told it stored it,
    and every process holds the same receipt for it."""
    intake = Intake.open(db_url, intake_key)
    agents = [enroll_agent(intake, SyntheticAgent(f"host-{n}.example.gov")) for n in range(3)]
    files: list[Path] = []
    for number, agent in enumerate(agents):
        for _ in range(8):
            envelope = agent.report(findings=[finding(f"/home/user/{number}.csv")])
            path = tmp_path / f"a{number}-{agent.sequence:02d}.dsse.json"
            path.write_bytes(envelope)
            files.append(path)
    intake.close()
    outs = [tmp_path / f"out-{n}.jsonl" for n in range(4)]
    procs = []
    for number, out in enumerate(outs):
        order = list(files)
        random.Random(number).shuffle(order)
        procs.append(_worker(db_url, intake_key, out, order))
    time.sleep(0.5)  # let them all open the database; then start them together
    for out in outs:
        out.with_name(out.name + ".go").write_text("")
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    results = [json.loads(line) for out in outs for line in out.read_text().splitlines()]
    assert all("code" not in r for r in results), [r for r in results if "code" in r]
    stored_by = Counter(r["file"] for r in results if r["stored"])
    assert stored_by == Counter({f.name: 1 for f in files})
    receipts: dict[str, set[str]] = {}
    for r in results:
        receipts.setdefault(r["file"], set()).add(r["receipt"])
    assert all(len(v) == 1 for v in receipts.values())
    again = Intake.open(db_url, intake_key)
    try:
        assert _stored_count(again) == 24
        for path in files:
            stored, receipt = again.accept(path.read_bytes())
            assert stored is False
            assert base64.b64encode(receipt).decode("ascii") in receipts[path.name]
        assert [h["chain"]["gaps"] for h in again.fleet()["hosts"]] == [[], [], []]
    finally:
        again.close()


@pytest.mark.parametrize(
    ("point", "kept"),
    [("intake-verified", 0), ("intake-stored", 0), ("intake-committed", 1)],
)
def test_store_kill_9_in_accept_stores_once_or_not(
    db_url: str, intake_key: Path, tmp_path: Path, point: str, kept: int
) -> None:
    """kill -9 of the intake in the middle of accept: after a restart the report is
    stored once or not at all, and the resend stores it (or finds it) once."""
    intake = Intake.open(db_url, intake_key)
    agent = enroll_agent(intake)
    envelope = agent.report(findings=[finding("/home/user/a.csv")])
    intake.close()
    path, out = tmp_path / "report.dsse.json", tmp_path / "out.jsonl"
    path.write_bytes(envelope)
    out.with_name(out.name + ".go").write_text("")
    proc = _worker(db_url, intake_key, out, [path], {"FTISCAN_CRASH_AT": point})
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    again = Intake.open(db_url, intake_key)
    try:
        assert _stored_count(again) == kept
        stored, receipt = again.accept(envelope)
        assert stored is (kept == 0)
        assert again.accept(envelope) == (False, receipt)
        assert _stored_count(again) == 1
        with again.store.read() as tx:
            assert tx.one("SELECT COUNT(*) FROM fingerprints") == (1,)
            row = tx.one("SELECT digest FROM reports")
        assert row == (dsse.digest(envelope),)
    finally:
        again.close()
