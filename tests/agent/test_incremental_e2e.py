"""`ftiscan scan --incremental`: the real CLI, twice and more, on a generated home.

What a user relies on: a rescan of an unchanged tree reads nothing again and reports
the same findings; a changed file is read again; a renamed or copied file is not; a
deleted file that held findings is reported gone once; a change of what decides an
outcome (here the approved locations) makes the scan read everything again.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic.home import GroundTruth, build_home
from tests.synthetic.report import load_report

pytestmark = pytest.mark.slow


class Tree:
    def __init__(self, base: Path) -> None:
        self.root = base / "home"
        self.truth: GroundTruth = build_home(self.root, seed=5)
        self.env = private_env(base)
        self.out = base / "out"
        self.runs = 0

    def scan(self, *extra: str) -> dict[str, Any]:
        self.runs += 1
        report = self.out / f"report-{self.runs}.json"
        done = subprocess.run(
            [
                *(str(FTISCAN), "scan", str(self.root), "--incremental", "--quiet"),
                *("--format", "json", "--report", str(report), *extra),
            ],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        return load_report(report)

    def positive(self, kind: str = ".csv") -> Path:
        """A plain positive file of this kind (records in the file itself)."""
        for rel, truth in sorted(self.truth.positives().items()):
            if rel.endswith(kind) and not truth.members:
                return self.root / rel
        raise AssertionError(f"no {kind} positive")


def _by_path(report: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for f in report["findings"]:
        out.setdefault(f["path"], []).append((f["rule"], f["records"]))
    return out


def test_incremental_rescans_read_only_what_changed(tmp_path: Path) -> None:
    """Unchanged, changed, renamed, copied, deleted, and a changed context, in turn."""
    tree = Tree(tmp_path)
    first = tree.scan()
    scanned = first["coverage"]["files_scanned"]
    assert first["coverage"]["files_reused"] == 0
    assert first["coverage"]["gone"] == []

    second = tree.scan()
    assert second["coverage"]["files_reused"] == scanned
    assert second["findings"] == first["findings"]
    assert second["summary"] == first["summary"]

    changed = tree.positive(".txt")
    changed.write_text(changed.read_text(encoding="utf-8") + "\nnote\n", encoding="utf-8")
    third = tree.scan()
    assert third["coverage"]["files_reused"] == scanned - 1
    assert _by_path(third) == _by_path(first)
    assert third["coverage"]["cleared"] == []

    original = changed.read_text(encoding="utf-8")
    changed.write_text("Meeting notes: nothing to report.\n", encoding="utf-8")  # edited clean
    cleaned = tree.scan()
    held = len(_by_path(first)[str(changed)])
    assert cleaned["coverage"]["cleared"] == [{"path": str(changed), "findings": held}]
    assert str(changed) not in _by_path(cleaned)
    changed.write_text(original, encoding="utf-8")
    assert _by_path(tree.scan()) == _by_path(first)

    victim = tree.positive(".csv")
    renamed = victim.with_name("renamed-" + victim.name)
    victim.rename(renamed)
    copied = tree.root / "copy-of-renamed.csv"
    shutil.copyfile(renamed, copied)
    fourth = tree.scan()
    assert fourth["coverage"]["files_reused"] == scanned + 1  # the copy too: same content
    before = _by_path(first)
    after = _by_path(fourth)
    assert after[str(renamed)] == before[str(victim)]
    assert after[str(copied)] == before[str(victim)]
    assert str(victim) not in after
    assert [g["path"] for g in fourth["coverage"]["gone"]] == [str(victim)]
    assert fourth["coverage"]["gone"][0]["findings"] == len(before[str(victim)])

    copied.unlink()
    fifth = tree.scan()
    assert [g["path"] for g in fifth["coverage"]["gone"]] == [str(copied)]
    assert fifth["coverage"]["files_reused"] == scanned

    sixth = tree.scan("--approved", str(tree.root / "Documents"))
    assert sixth["coverage"]["files_reused"] == 0  # approved locations change severities
    assert sixth["coverage"]["gone"] == []


@pytest.mark.parametrize("point", ["journal-written", "news-signed"])
def test_news_survives_a_kill_while_its_report_is_signed(tmp_path: Path, point: str) -> None:
    """A kill -9 after the state marked a file gone, before (journal-written) or after
    (news-signed) its report was durable: the next scan reports it gone exactly once
    over the whole chain."""
    tree = Tree(tmp_path)
    first = tree.scan()
    victim = tree.positive(".csv")
    held = len(_by_path(first)[str(victim)])
    victim.unlink()
    killed = subprocess.run(
        [str(FTISCAN), "scan", str(tree.root), "--incremental", "--quiet", "--format", "json"],
        capture_output=True,
        text=True,
        env={**tree.env, "FTISCAN_CRASH_AT": point},
        timeout=300,
        check=False,
    )
    assert killed.returncode == -9
    after = tree.scan()
    chain = sorted((tmp_path / "state" / "chain").glob("*/*.dsse.json"))
    told = [g for path in chain for g in load_report(path)["coverage"].get("gone", [])]
    assert [(g["path"], g["findings"]) for g in told] == [(str(victim), held)]
    in_after = [g["path"] for g in after["coverage"]["gone"]]
    assert in_after == ([str(victim)] if point == "journal-written" else [])
    assert after["coverage"]["files_reused"] == first["coverage"]["files_scanned"] - 1


def test_stored_content_digests_are_keyed(tmp_path: Path) -> None:
    """The state keeps no plain SHA-256 of any file: a small file holding only an SSN
    would be brute-forced from it. Each stored digest is an HMAC under the install's key."""
    import hashlib
    import sqlite3

    tree = Tree(tmp_path)
    tree.scan()
    db = sqlite3.connect(tmp_path / "state" / "state.sqlite3")
    try:
        rows = db.execute("SELECT path, digest FROM files WHERE digest IS NOT NULL").fetchall()
    finally:
        db.close()
    assert len(rows) >= 10
    plain = sum(
        1 for path, digest in rows if hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest
    )
    assert plain == 0
    assert all(len(digest) == 64 for _, digest in rows)
