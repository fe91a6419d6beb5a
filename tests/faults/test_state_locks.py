"""Several connections to one state database in one process (the daemon's threads).

Closing any descriptor of a file drops every POSIX lock the process holds on it. A
`State` that opened the database file itself to check it was writable (59769e6) thus
dropped the locks of the other connections of its process; SQLite then took the
closing connection for the last one and checkpointed and deleted the WAL under the
others: 'disk I/O error', 'database disk image is malformed' in the daemon.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ftiscan.agent.state import State
from ftiscan.scanner.model import FileOutcome
from ftiscan.scanner.walk import FileEntry


def _item(n: int) -> tuple[FileEntry, FileOutcome, None]:
    path = Path(f"/nowhere/{n}.csv")
    return FileEntry(path, path.parent, 10, 7, n, 5, 6), FileOutcome(path, 10, "csv"), None


_WRITER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("INSERT INTO meta (key, value) VALUES (?, 'v')", (sys.argv[2],))
db.close()
"""


def test_a_second_connection_in_the_process_leaves_the_first_intact(tmp_path: Path) -> None:
    """One connection stays open while others of the process open and close, and
    another process writes between: every write lands, the database stays intact."""
    db = tmp_path / "state.sqlite3"
    with State(db) as first:
        for n in range(50):
            first.record([_item(n)])
        for n in range(5):
            with State(db) as second:
                second.record([_item(100 + n)])
                subprocess.run([sys.executable, "-c", _WRITER, str(db), f"k{n}"], check=True)
            first.record([_item(200 + n)])
        assert first.check() == "ok"
        assert first.counts()["tracked"] == 60
    with State(db) as again:
        assert again.check() == "ok"
        assert again.counts()["tracked"] == 60
        assert [again.get(f"k{n}") for n in range(5)] == ["v"] * 5
