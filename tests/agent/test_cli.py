"""The command line contract: exit codes, formats, errors, progress."""

from __future__ import annotations

import json
import random
from pathlib import Path

from ftiscan.scanner.examples import valid_ssn
from tests.agent.conftest import FTISCAN, Run, private_env, run_on_pty
from tests.synthetic.report import load_report


def _records_csv(path: Path, n: int = 3, seed: int = 5) -> None:
    rng = random.Random(seed)
    rows = ["Name,SSN,Street,City,State,ZIP"]
    for k in range(n):
        d = valid_ssn(rng)
        rows.append(
            f"Casey Tester{chr(97 + k)},{d[:3]}-{d[3:5]}-{d[5:]},{10 + k} Oak St,Austin,TX,78701"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_cli_scan_found_exit_1_and_report_written(tmp_path: Path, run_cli: Run) -> None:
    """Taxpayer records give exit 1, a report file in a new folder, and JSON on stdout."""
    _records_csv(tmp_path / "home" / "docs" / "export.csv")
    (tmp_path / "home" / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    report = tmp_path / "out" / "deep" / "report.json"
    done = run_cli("scan", str(tmp_path / "home"), "--report", str(report), "--format", "json")
    assert done.returncode == 1, done.stderr
    stdout = json.loads(done.stdout)
    on_disk = load_report(report)
    assert on_disk["id"] == stdout["id"]
    assert [(f["rule"], f["severity"], f["records"]) for f in on_disk["findings"]] == [
        ("fti.taxpayer-record", "critical", 3)
    ]
    assert on_disk["coverage"]["files_seen"] == 2
    assert on_disk["coverage"]["files_scanned"] == 2
    assert on_disk["scan"]["selftest"]["passed"] is True
    assert on_disk["summary"]["verdict"] == "found"


def test_cli_scan_clean_exit_0(tmp_path: Path, run_cli: Run) -> None:
    """A tree without taxpayer data exits 0 and says clean."""
    (tmp_path / "a.txt").write_text("lunch at noon\n", encoding="utf-8")
    done = run_cli("scan", str(tmp_path / "a.txt"), "--format", "text")
    assert done.returncode == 0, done.stderr
    assert "CLEAN" in done.stdout
    assert "self-test: passed" in done.stdout


def test_cli_scan_default_format_json_when_piped(tmp_path: Path, run_cli: Run) -> None:
    """Without --format, piped standard output gets JSON."""
    (tmp_path / "a.txt").write_text("x\n", encoding="utf-8")
    done = run_cli("scan", str(tmp_path))
    assert json.loads(done.stdout)["summary"]["verdict"] == "clean"
    assert done.stderr == ""


def test_cli_malformed_pack_exit_2_with_position(tmp_path: Path, run_cli: Run) -> None:
    """A malformed user pack stops the scan before it starts: exit 2, file:line:col."""
    packs = tmp_path / "packs"
    packs.mkdir()
    bad = packs / "bad.yaml"
    bad.write_text("pack: bad\nversion: 1\nsignatures:\n  - id: Bad Id\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("x\n", encoding="utf-8")
    done = run_cli("scan", str(tmp_path / "a.txt"), "--signatures", str(packs))
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{bad}:4:5: signatures.0: 'title' is a required property" in done.stderr


def test_cli_failing_selftest_stops_scan(tmp_path: Path, run_cli: Run) -> None:
    """A pack whose own example fails makes the self-test fail: exit 2, nothing scanned."""
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "wrong.yaml").write_text(
        "pack: wrong\nversion: 1\nsignatures:\n"
        "  - id: wrong.marking\n    title: never fires\n    kind: marking\n    strength: weak\n"
        "    keywords: [zzzz]\n    pattern: 'zzzz'\n    score: 10\n"
        "    examples: {match: ['no such word here']}\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    done = run_cli("scan", str(packs), "--signatures", str(packs), "--report", str(report))
    assert done.returncode == 2
    assert "self-test failed, not scanning: wrong.marking match[0]" in done.stderr
    assert not report.exists()


def test_cli_signatures_test_and_lint(tmp_path: Path, run_cli: Run) -> None:
    """`signatures test` passes the built-in examples; `lint` names a bad file's line."""
    done = run_cli("signatures", "test")
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip().endswith("passed, 0 failed")
    bad = tmp_path / "p.yaml"
    bad.write_text("pack: p\nversion: one\nsignatures: []\n", encoding="utf-8")
    lint = run_cli("signatures", "lint", str(bad))
    assert lint.returncode == 1
    assert lint.stderr.startswith(f"{bad}:2:10: version: 'one' is not of type 'integer'")


def test_cli_progress_on_tty_quiet_with_flag(tmp_path: Path) -> None:
    """On a terminal, progress goes to stderr with file counts; --quiet silences it."""
    for k in range(30):
        (tmp_path / "t" / f"d{k % 3}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "t" / f"d{k % 3}" / f"f{k}.txt").write_text("hello\n" * 2000, encoding="utf-8")

    def progress(*extra: str) -> bytes:
        env = {**private_env(tmp_path), "COLUMNS": "120"}
        args = [str(FTISCAN), "scan", str(tmp_path / "t"), "--format", "json", "--jobs", "1"]
        return run_on_pty([*args, *extra], env)[1]

    shown = progress()
    assert b"files" in shown
    assert b"30/30 files" in shown
    assert progress("--quiet") == b""
