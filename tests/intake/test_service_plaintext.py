"""End to end with the real CLI: a report of synthetic taxpayer records is accepted,
and neither the intake database nor its export holds any of their plaintext."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
from pathlib import Path

from ftiscan.reports.intake.service import Intake
from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic.people import People, dashed


def _cli(base: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FTISCAN), *args],
        capture_output=True,
        text=True,
        env=private_env(base),
        check=False,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_intake_holds_no_plaintext(tmp_path: Path) -> None:
    """Scan a CSV of synthetic taxpayers, send the report: no TIN, name or street line
    in the SQLite files or the export; the fleet counts the records."""
    people = People(8).taxpayers(4)
    tree = tmp_path / "home"
    tree.mkdir()
    with (tree / "clients.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "ssn", "street", "city", "state", "zip"])
        for p in people:
            writer.writerow([p.full_name, dashed(p.ssn), p.street, p.city, p.state, p.zip])
    report = tmp_path / "out" / "report.json"
    scan = _cli(tmp_path, "scan", str(tree), "--report", str(report), "--quiet", "--jobs", "1")
    assert scan.returncode == 1, scan.stderr[-2000:]  # found
    exported = _cli(tmp_path, "key", "export")
    assert exported.returncode == 0, exported.stderr
    db = tmp_path / "intake" / "intake.db"
    intake = Intake.open(str(db), tmp_path / "intake" / "intake.key")
    try:
        tokens, _ = intake.issue_tokens(1, 60)
        intake.enroll(tokens[0], exported.stdout, "laptop.example.gov", {})
        assert intake.accept(report.read_bytes())[0] is True
        host = intake.fleet()["hosts"][0]
        assert (host["highest"], host["records"]) == ("critical", 4)
        intake.export(tmp_path / "export")
    finally:
        intake.close()
    blobs = [path.read_bytes() for path in (tmp_path / "intake").glob("intake.db*")]
    blobs += [path.read_bytes() for path in (tmp_path / "export").rglob("*") if path.is_file()]
    for path in (tmp_path / "export" / "reports").rglob("*.dsse.json"):  # the payloads, decoded
        blobs.append(base64.b64decode(json.loads(path.read_bytes())["payload"]))
    assert len(blobs) > 5
    secrets = {s.encode("utf-8") for p in people for s in p.secrets()}
    leaked = sum(1 for s in secrets if any(s in blob for blob in blobs))
    assert leaked == 0  # how many, never which
