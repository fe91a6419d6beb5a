"""End to end: counsel builds an index, an agent scans reformatted copies with it.

The copies (`tests/synthetic/edm.py`) hold parts of the disclosed list in every layout
the issue names (mail-merge sheet, labels, CRM JSON and JSON Lines, memos in text and
DOCX, an XLSX and a DOCX table, a headerless CSV), diluted among strangers, beside
look-alike lists of strangers. The real CLI builds the index and scans; the tests
read only the exit code, the output and the signed report.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic.edm import (
    EdmTruth,
    disclosed_list,
    stranger_list,
    write_copies,
    write_disclosed_csv,
)
from tests.synthetic.report import load_report

pytestmark = pytest.mark.slow

RULE = "fti.edm-record"


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FTISCAN), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )


class Scanned:
    def __init__(self, base: Path) -> None:
        rng = random.Random(5)
        self.disclosed = disclosed_list(rng, 3000)
        strangers = stranger_list(rng, 600, self.disclosed)
        self.source = base / "counsel" / "disclosed.csv"
        self.source.parent.mkdir()
        write_disclosed_csv(self.source, self.disclosed)
        self.root = base / "copies"
        self.truth: EdmTruth = write_copies(self.root, self.disclosed, strangers, rng, per_file=60)
        self.env = private_env(base)
        self.index = base / "fti.edm"
        self.built = _run(self.env, "edm", "build", str(self.source), "-o", str(self.index))
        self.report_path = base / "out" / "report.json"
        self.scan = _run(
            self.env,
            *("scan", str(self.root), "--edm", str(self.index)),
            *("--report", str(self.report_path), "--format", "json", "--quiet"),
        )
        self.report = load_report(self.report_path) if self.report_path.exists() else {}

    def edm_records(self) -> dict[str, int]:
        """Relative path -> records of the EDM finding (0 when there is none)."""
        found = dict.fromkeys(self.truth.files, 0)
        for finding in self.report["findings"]:
            if finding["rule"] == RULE:
                rel = Path(finding["path"]).relative_to(self.root).as_posix()
                found[rel] = found.get(rel, 0) + finding["records"]
        return found


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    return Scanned(tmp_path_factory.mktemp("edm-e2e"))


def test_edm_scan_counts_disclosed_records_in_every_layout(scanned: Scanned) -> None:
    """Each reformatted copy is critical with exactly its number of disclosed records
    (strangers around them not counted); look-alike lists of strangers never hit."""
    assert scanned.built.returncode == 0, scanned.built.stderr
    assert scanned.scan.returncode == 1, scanned.scan.stderr
    found = scanned.edm_records()
    expected = {rel: f.records for rel, f in scanned.truth.files.items()}
    wrong = sorted(rel for rel in expected if found.get(rel) != expected[rel])
    assert wrong == [], {rel: (found.get(rel), expected[rel]) for rel in wrong}
    assert sum(expected.values()) > 0
    for finding in scanned.report["findings"]:
        if finding["rule"] == RULE:
            assert finding["severity"] == "critical"
            assert finding["masked"] == []


def test_edm_scan_report_names_the_index(scanned: Scanned) -> None:
    """The report carries the index's digest; nothing the scan printed holds a value."""
    digest = scanned.report["scan"]["edm_digest"]
    shown = _run(scanned.env, "edm", "inspect", str(scanned.index))
    assert digest.startswith("sha256:")
    assert digest.removeprefix("sha256:") in shown.stdout
    output = scanned.scan.stdout + scanned.scan.stderr + scanned.built.stdout
    output += scanned.built.stderr + json.dumps(scanned.report)
    leaked = sum(any(s in output for s in p.secrets()) for p in scanned.disclosed)
    assert leaked == 0


def test_edm_scan_refuses_a_bad_index(scanned: Scanned, tmp_path: Path) -> None:
    """A damaged or truncated index, or a missing fleet key, stops the scan (exit 2)
    with the reason: it never runs without the index it was asked to use."""
    damaged = tmp_path / "damaged.edm"
    data = bytearray(scanned.index.read_bytes())
    data[-10] ^= 0x01
    damaged.write_bytes(bytes(data))
    truncated = tmp_path / "truncated.edm"
    truncated.write_bytes(scanned.index.read_bytes()[:-100])
    for index, reason in ((damaged, "bad-signature"), (truncated, "truncated")):
        done = _run(scanned.env, "scan", str(scanned.root), "--edm", str(index), "--quiet")
        assert done.returncode == 2
        assert done.stderr.startswith(f"ftiscan: error: {index}: {reason}: ")
    keyless = {**scanned.env, "FTISCAN_KEY_DIR": str(tmp_path / "other-keys")}
    shutil.copytree(Path(scanned.env["FTISCAN_KEY_DIR"]), tmp_path / "other-keys")
    (tmp_path / "other-keys" / "fleet.key").unlink()
    done = _run(keyless, "scan", str(scanned.root), "--edm", str(scanned.index), "--quiet")
    assert done.returncode == 2
    assert done.stderr.startswith(f"ftiscan: error: {scanned.index}: an index is keyed with")


def test_edm_scan_takes_the_index_named_in_the_policy(scanned: Scanned, tmp_path: Path) -> None:
    """``edm:`` in the policy is the index of a scan without --edm: same records."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\nedm: {scanned.index}\n", encoding="utf-8")
    report = tmp_path / "report.json"
    memo = scanned.root / "Documents" / "Notes"
    done = _run(
        scanned.env, "scan", str(memo), "--policy", str(policy), "--report", str(report), "--quiet"
    )
    assert done.returncode == 1, done.stderr
    got = load_report(report)
    assert got["scan"]["edm_digest"] == scanned.report["scan"]["edm_digest"]
    records = {Path(f["path"]).name: f["records"] for f in got["findings"] if f["rule"] == RULE}
    expected = {
        Path(rel).name: f.records
        for rel, f in scanned.truth.files.items()
        if rel.startswith("Documents/Notes/") and f.records
    }
    assert records == expected
