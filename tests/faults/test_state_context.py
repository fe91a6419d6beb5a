"""Outcomes in the state carry the scan context they were made under.

Before, one context was kept for the whole database and written only when a scan
finished: a first scan (or the first after a pack update) killed before its end had
stored every outcome it read, yet the next scan read every file again; and a process
scanning under another context (other packs, other approved folders) could store
outcomes that a scan under the current context then reused.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ftiscan.agent.state import SCHEMA_VERSION, State
from ftiscan.scanner.model import FileOutcome
from ftiscan.scanner.walk import FileEntry

FINDING = {
    "path": "",
    "rule": "fti.taxpayer-record",
    "severity": "critical",
    "records": 3,
    "masked": ["***-**-****"],
    "fingerprints": ["ab" * 32],
    "locations": [{"row": 2}],
}


def _entry(path: Path, ino: int = 1) -> FileEntry:
    return FileEntry(path, path.parent, 10, 7, ino, 5, 6)


def _outcome(path: Path) -> FileOutcome:
    return FileOutcome(path, 10, "csv", [{**FINDING, "path": str(path)}])


def test_an_outcome_is_reused_only_under_its_own_context(tmp_path: Path) -> None:
    """Stored under context A: found by path, by move and by digest under A only;
    stored again under B by another process: no longer found under A."""
    path, moved, copy = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    db = tmp_path / "state.sqlite3"
    with State(db) as a:
        a.use_context("sha256:a")
        a.record([(_entry(path), _outcome(path), "d" * 64)])
        assert a.unchanged(_entry(path)) is not None
        assert a.by_digest("d" * 64, 10, copy) is not None
        assert a.moved(_entry(moved)) is not None  # the old path does not exist
        with State(db) as b:
            b.use_context("sha256:b")
            assert b.unchanged(_entry(path)) is None
            assert b.by_digest("d" * 64, 10, copy) is None
            assert b.moved(_entry(moved)) is None
            b.record([(_entry(path), _outcome(path), "d" * 64)])
            assert b.unchanged(_entry(path)) is not None
        assert a.unchanged(_entry(path)) is None
        assert a.by_digest("d" * 64, 10, copy) is None


def test_a_version_2_state_keeps_its_outcomes_under_the_context_it_held(tmp_path: Path) -> None:
    """A version 2 database (one context in ``meta``) is upgraded in place: its rows
    belong to that context, so the next scan under it reuses them and one under
    another context does not."""
    db = tmp_path / "state.sqlite3"
    kept = tmp_path / "kept.csv"
    with State(db) as state:
        state.record([(_entry(kept), _outcome(kept), None)])
        state.set("scan_context", "sha256:old")
    raw = sqlite3.connect(db)
    raw.execute("ALTER TABLE files DROP COLUMN context")
    raw.execute("PRAGMA user_version=2")
    raw.commit()
    raw.close()
    with State(db) as state:
        state.use_context("sha256:old")
        assert state.unchanged(_entry(kept)) is not None
        state.use_context("sha256:new")
        assert state.unchanged(_entry(kept)) is None
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert raw.execute("SELECT context FROM files").fetchall() == [("sha256:old",)]
    finally:
        raw.close()
