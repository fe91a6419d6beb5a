"""End to end: taxpayer records inside containers, found through the real CLI.

One synthetic record set is written, at test time, into every container the scanner
reads (zip, tar.gz, 7z, e-mail with attachments, SQLite, PDF, nested archives), beside
hostile files (a zip bomb, an encrypted member, nesting beyond the depth limit, a
truncated archive). The scan must find each copy with its member and exact record
count, name every part it could not read with its reason, and leak nothing.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
from pathlib import Path

import pytest

from ftiscan.scanner.examples import valid_ssn
from tests.agent.conftest import FTISCAN, private_env
from tests.synthetic import formats
from tests.synthetic.home import secrets_in
from tests.synthetic.report import load_report

pytestmark = pytest.mark.slow

PEOPLE = 5
HEADER = ("Name", "SSN", "Street", "City", "State", "ZIP")
MAIL_BODY = "See the attached export.\n"


def _people(seed: int) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    first = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper"]
    last = ["Quill", "Marsh", "Brandt", "Okafor", "Lindqvist", "Moreau", "Tanaka"]
    out = []
    for k in range(PEOPLE):
        ssn = valid_ssn(rng)
        out.append(
            (
                f"{first[k]} {last[(k + seed) % len(last)]}",
                f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}",
                f"{100 + 7 * k + seed} Juniper Ave",
                "Austin",
                "TX",
                "78701",
            )
        )
    return out


def _csv(rows: list[tuple[str, ...]]) -> bytes:
    return ("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n").encode()


def _sqlite(rows: list[tuple[str, ...]], path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("create table payees (name, ssn, street, city, state, zip)")
        db.executemany("insert into payees values (?, ?, ?, ?, ?, ?)", rows)
    db.close()


def _xlsx_of(rows: list[tuple[str, ...]]) -> bytes:
    """A workbook whose sheet "Payees" holds the header and rows as inline strings."""
    return formats.xlsx({"Payees": [HEADER, *rows]}, shared_strings=False)


def _docx_of(rows: list[tuple[str, ...]]) -> bytes:
    """A letter whose paragraphs each name one taxpayer, their SSN and home address."""
    return formats.docx([f"{r[0]}, SSN {r[1]}, {r[2]}, {r[3]}, {r[4]} {r[5]}" for r in rows])


def _encrypted_flag(data: bytes) -> bytes:
    """Mark the first member of a zip as encrypted (local and central header)."""
    raw = bytearray(data)
    raw[6] |= 1
    central = raw.find(b"PK\x01\x02")
    raw[central + 8] |= 1
    return bytes(raw)


class Tree:
    """Every container, its expected (member -> records), and the secrets written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.expected: dict[tuple[str, str | None], int] = {}
        self.unread: set[tuple[str, str, str]] = set()
        self.secrets: list[str] = []
        root.mkdir(parents=True)
        sets = [_people(seed) for seed in range(12)]
        for rows in sets:
            for row in rows:
                self.secrets += [row[0], row[1], row[2]]
        self._write(
            "exports.zip",
            formats.zip_archive({"q1/payees.csv": _csv(sets[0])}),
            [("q1/payees.csv", 5)],
        )
        self._write(
            "backup.tar.gz",
            formats.tar_archive({"data/p.csv": _csv(sets[1])}, "gz"),
            [("backup.tar/data/p.csv", 5)],
        )
        self._write("old.7z", formats.sevenzip({"p.csv": _csv(sets[2])}), [("p.csv", 5)])
        inner = formats.zip_archive({"deep/p.csv": _csv(sets[3])})
        mail = formats.eml(MAIL_BODY, {"export.zip": inner, "list.csv": _csv(sets[4])})
        self._write(
            "Mail/fwd.eml",
            mail,
            [("attachments/export.zip/deep/p.csv", 5), ("attachments/list.csv", 5)],
        )
        self._write("Documents/payees.xlsx", _xlsx_of(sets[9]), [(None, 5)])
        self._write("Documents/letter.docx", _docx_of(sets[10]), [(None, 5)])
        sheet = formats.eml(MAIL_BODY, {"payees.xlsx": _xlsx_of(sets[11])})
        self._write("Mail/sheet.eml", sheet, [("attachments/payees.xlsx", 5)])
        _sqlite(sets[5], root / "app.db")
        self.expected[("app.db", None)] = 5
        pages = [[", ".join(row) for row in sets[6]], None]
        self._write("printout.pdf", formats.pdf(pages), [(None, 5)])
        self.unread.add(("printout.pdf", "", "no-text-layer"))
        secret = _encrypted_flag(
            formats.zip_archive({"a.csv": _csv(sets[7]), "b.csv": _csv(sets[8])})
        )
        self._write("locked.zip", secret, [("b.csv", 5)])
        self.unread.add(("locked.zip", "a.csv", "encrypted"))
        nested = b"plain words\n"
        for level in range(6):
            nested = formats.zip_archive({f"level{level}.zip" if level else "note.txt": nested})
        (root / "nested.zip").write_bytes(nested)
        bomb = formats.zip_archive({"spaces.txt": b"x " * (32 * 1024 * 1024)})
        (root / "bomb.zip").write_bytes(bomb)
        (root / "cut.zip").write_bytes(formats.zip_archive({"x.csv": _csv(sets[0])})[:-30])

    def _write(self, rel: str, data: bytes, members: list[tuple[str | None, int]]) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        for member, records in members:
            self.expected[(rel, member)] = records


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tree, dict[str, object], str]:
    base = tmp_path_factory.mktemp("formats")
    tree = Tree(base / "home")
    report = base / "report.json"
    done = subprocess.run(
        [str(FTISCAN), "scan", str(tree.root), "--report", str(report), "--format", "text", "-q"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=private_env(base),
    )
    assert done.returncode == 1, done.stderr[-2000:]
    verified = subprocess.run(
        [str(FTISCAN), "verify", str(report)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=private_env(base),
    )
    assert verified.returncode == 0, verified.stdout[-2000:]  # signature and schema
    return tree, load_report(report), done.stdout + done.stderr


def test_formats_every_copy_found_with_member_and_records(
    scanned: tuple[Tree, dict[str, object], str],
) -> None:
    """Each container's copy is a critical finding with its member and 5 records."""
    tree, report, _ = scanned
    found = {
        (str(Path(f["path"]).relative_to(tree.root)), f.get("member")): f["records"]
        for f in report["findings"]  # type: ignore[attr-defined]  # report is a JSON object
        if f["severity"] == "critical"
    }
    assert found == tree.expected


def test_formats_unread_parts_named_with_reasons(
    scanned: tuple[Tree, dict[str, object], str],
) -> None:
    """The encrypted member, the image-only page, the bomb, the depth and the truncated
    archive are each in coverage with their reason; nothing else is missing."""
    tree, report, _ = scanned
    coverage = report["coverage"]
    listed = {
        (str(Path(e["path"]).relative_to(tree.root)), e.get("member", ""), e["reason"])
        for e in coverage["not_read"]  # type: ignore[index]  # JSON object
    }
    assert tree.unread <= listed
    assert {(path, reason) for path, _, reason in listed} == {
        ("printout.pdf", "no-text-layer"),
        ("locked.zip", "encrypted"),
        ("bomb.zip", "limit:ratio"),
        ("nested.zip", "limit:depth"),
        ("cut.zip", "corrupt"),
    }


def test_formats_scan_leaks_nothing(scanned: tuple[Tree, dict[str, object], str]) -> None:
    """No name, TIN or street of the records is in the report or the output."""
    tree, report, output = scanned
    assert secrets_in(json.dumps(report) + output, tree.secrets) == []


def test_formats_spreadsheet_locations_name_sheet_and_cell(
    scanned: tuple[Tree, dict[str, object], str],
) -> None:
    """A finding in a workbook says where as Sheet!cell: sheet, row, column and cell."""
    _, report, _ = scanned
    [finding] = [
        f
        for f in report["findings"]  # type: ignore[attr-defined]  # report is a JSON object
        if f["path"].endswith("payees.xlsx") and "member" not in f
    ]
    assert finding["locations"][0] == {"sheet": "Payees", "row": 2, "column": 2, "cell": "B2"}
