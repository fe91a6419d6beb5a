"""End to end: the real CLI on a generated home folder, scored against its ground truth.

The tree (`tests/synthetic/home.py`) holds taxpayer records in every supported layout
beside the traps that must stay below high. The tests spawn the installed `ftiscan`
with its worker processes and read only what a user gets: exit code, standard output,
standard error (on a terminal, with progress) and the report file.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.agent.conftest import FTISCAN, private_env, run_on_pty
from tests.synthetic.home import GroundTruth, build_home, secrets_in
from tests.synthetic.report import (
    file_severities,
    load_report,
    member_misses,
    member_severities,
    score,
)

pytestmark = pytest.mark.slow

SEED = 11


class Scanned:
    """One scan of the generated tree: what the user saw, and the truth."""

    def __init__(self, base: Path) -> None:
        self.root = base / "home"
        self.truth: GroundTruth = build_home(self.root, seed=SEED)
        self.report_path = base / "out" / "report.json"
        self.tmp = base / "tmp"
        self.tmp.mkdir()
        self.keys, self.state = base / "keys", base / "state"
        self.env = private_env(base)
        env = {**self.env, "TMPDIR": str(self.tmp), "COLUMNS": "120"}
        stdout_file = base / "stdout.json"
        self.returncode, terminal = run_on_pty(
            [str(FTISCAN), "scan", str(self.root), "--report", str(self.report_path)],
            env,
            stdout_file,
        )
        self.stdout = stdout_file.read_text(encoding="utf-8")
        self.stderr = terminal.decode("utf-8", errors="replace")
        self.report = load_report(self.report_path)


_CONTAINERS = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\xff\xfe", b"\xfe\xff")
# zip (and office packages), OLE2 (xls, msg), SQLite, 7z, PDF: read, though binary
_READ_BINARY = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"SQLite format 3\x00", b"7z\xbc\xaf", b"%PDF-")


def _opaque(data: bytes) -> bool:
    """Binary that no supported reader opens: NUL bytes outside compressed or UTF-16
    streams, or PNG (judged here without the scanner's own identification)."""
    if data.startswith(b"\x89PNG"):
        return True
    if data.startswith(_READ_BINARY):
        return False
    return b"\0" in data and not data.startswith(_CONTAINERS) and b"\0\n" not in data[:200]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    return Scanned(tmp_path_factory.mktemp("e2e"))


def test_e2e_scan_exit_1_with_json_on_pipe_and_progress_on_tty(scanned: Scanned) -> None:
    """Found records exit 1; piped stdout is the JSON report; the TTY shows progress."""
    assert scanned.returncode == 1, scanned.stderr[-2000:]
    assert json.loads(scanned.stdout)["id"] == scanned.report["id"]
    files = sum(1 for p in scanned.root.rglob("*") if p.is_file())
    assert f"{files}/{files} files" in scanned.stderr


def test_e2e_scan_flags_exactly_the_positives(scanned: Scanned) -> None:
    """Every positive is found at its exact severity and record count; no trap reaches
    high, and no file outside the truth is flagged."""
    severities = file_severities(scanned.report, scanned.root, scanned.root)
    result = score(scanned.truth, severities)
    positives = scanned.truth.positives()
    assert result.false_negatives == []
    assert result.false_positives == []
    assert result.trap_violations == []
    assert result.records_mismatch == []
    assert sorted(result.true_positives) == sorted(positives)
    assert {rel: severities[rel] for rel in positives} == {
        rel: (t.severity, t.records) for rel, t in positives.items()
    }
    total = sum(t.records for t in positives.values())
    assert scanned.report["summary"]["records_high_or_critical"] == total


def test_e2e_scan_finds_each_container_member_exactly(scanned: Scanned) -> None:
    """Inside archives and e-mail, each positive member is found at its exact severity
    and records, no trap member goes past its allowed severity, filler members stay
    clean."""
    containers = [rel for rel, t in scanned.truth.files.items() if t.members]
    assert len(containers) >= 5
    members = member_severities(scanned.report, scanned.root, scanned.root)
    misses = member_misses(scanned.truth, members)
    assert [str(m) for m in misses] == []


def test_e2e_scan_coverage_names_every_file_not_read(scanned: Scanned) -> None:
    """Every file is seen once; each one not read is a binary listed with its reason, and
    every text file was read."""
    coverage = scanned.report["coverage"]
    files = sorted(p for p in scanned.root.rglob("*") if p.is_file())
    assert coverage["files_seen"] == len(files)
    binary = {str(p) for p in files if _opaque(p.read_bytes())}
    assert {e["path"] for e in coverage["not_read"]} == binary
    assert coverage["skipped"] == {"unsupported:unknown": len(binary)}
    assert coverage["files_scanned"] == len(files) - len(binary)
    assert coverage["partial"] == {}
    assert scanned.report["scan"]["selftest"]["passed"] is True


def test_e2e_scan_leaks_no_plaintext(scanned: Scanned) -> None:
    """No generated TIN, name or street line is in the report, stdout, the progress on
    stderr, the key folder, the state folder (the agent's chain) or any temporary file
    the scan left behind."""
    texts = {
        "report": scanned.report_path.read_text(encoding="utf-8"),
        "stdout": scanned.stdout,
        "stderr": scanned.stderr,
    }
    for folder in (scanned.tmp, scanned.keys, scanned.state, scanned.report_path.parent):
        for path in folder.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
                if path.name.endswith(".json"):  # a signed envelope: its payload is base64
                    texts[f"{path} payload"] = json.dumps(load_report(path))
    leaked = {where: len(secrets_in(text, scanned.truth.secrets)) for where, text in texts.items()}
    assert leaked == dict.fromkeys(texts, 0)
    assert sorted(p.name for p in scanned.report_path.parent.iterdir()) == ["report.json"]


def test_e2e_scan_text_summary_lists_files_without_values(scanned: Scanned) -> None:
    """The text summary names each flagged file and its record count, never a value."""
    done = subprocess.run(
        [str(FTISCAN), "scan", str(scanned.root), "--format", "text", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=scanned.env,
    )
    assert done.returncode == 1
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    for rel, truth in scanned.truth.positives().items():
        wanted = {
            f" [{name}]" if name else "": (m.severity, m.records)
            for name, m in truth.members.items()
            if m.kind == "positive"
        } or {"": (truth.severity, truth.records)}
        for shown_member, (severity, records) in wanted.items():
            shown = re.compile(re.escape(str(scanned.root / rel) + shown_member) + "$")
            if not shown_member and not truth.members:
                shown = re.compile(re.escape(str(scanned.root / rel)) + r"( \[[^\]]+\])?$")
            line = next(x for x in lines if shown.search(x))
            assert line.split()[:2] == [severity, str(records)], (rel, shown_member)
    assert secrets_in(done.stdout, scanned.truth.secrets) == []


def test_e2e_scan_report_verifies_against_schema(scanned: Scanned) -> None:
    """The signed report of the whole home (every format) verifies: signature, canonical
    form and the payload schema."""
    done = subprocess.run(
        [str(FTISCAN), "verify", str(scanned.report_path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=scanned.env,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert json.loads(done.stdout)["valid"] is True
