"""The engine per part: findings per archive member, unread parts in coverage."""

from __future__ import annotations

import dataclasses
import gzip
import io
import random
import zipfile
from pathlib import Path

from ftiscan.scanner.engine import Context, Coverage, Parts, scan_parts
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.model import FileOutcome, Limits, Location, Rows, Unread


def _rows(member: str | None, n: int, seed: int) -> Rows:
    rng = random.Random(seed)
    rows = [
        (f"Casey Tester{chr(97 + k)}", valid_ssn(rng), f"{10 + k} Oak St", "Austin", "TX", "78701")
        for k in range(n)
    ]
    header = ("Name", "SSN", "Street", "City", "State", "ZIP")
    return Rows(rows, 2, header, Location(Path("box.zip"), member=member))


def test_parts_findings_per_member(ctx: Context) -> None:
    """Records in two members are two findings, each with its member and count."""
    parts = Parts(ctx, assume_provenance=False)
    parts.feed(_rows("a/one.csv", 3, 1))
    parts.feed(_rows("b/two.csv", 2, 2))
    parts.feed(Unread(Location(Path("box.zip"), member="c/secret.xlsx"), "encrypted"))
    found = [(f.get("member"), f["rule"], f["records"]) for f in parts.findings(Path("box.zip"))]
    assert found == [
        ("a/one.csv", "fti.taxpayer-record", 3),
        ("b/two.csv", "fti.taxpayer-record", 2),
    ]
    assert parts.unread == [("c/secret.xlsx", "encrypted")]


def test_parts_gzip_member_named(ctx: Context) -> None:
    """A compressed file's findings name the member inside it."""
    rng = random.Random(3)
    body = "Name,SSN,Street,City,State,ZIP\n" + "".join(
        f"Casey Tester{chr(97 + k)},{valid_ssn(rng)},{10 + k} Oak St,Austin,TX,78701\n"
        for k in range(4)
    )
    result = scan_parts(ctx, io.BytesIO(gzip.compress(body.encode())), Path("/d/people.csv.gz"))
    assert [(f["member"], f["records"]) for f in result.findings] == [("people.csv", 4)]
    assert (result.reason, result.unread) == (None, [])


def test_coverage_counts_unread_parts() -> None:
    """Unread parts are listed with member and reason; the file counts as read in part."""
    coverage = Coverage()
    outcome = FileOutcome(Path("/d/box.zip"), 10, "zip")
    outcome.unread = [("a.xlsx", "encrypted"), ("b.zip", "limit:depth"), ("c.xlsx", "encrypted")]
    coverage.add(outcome)
    coverage.add(FileOutcome(Path("/d/notes.txt"), 5, "text"))
    out = coverage.as_dict()
    assert (out["files_scanned"], out["files_partial"]) == (2, 1)
    assert out["members_unread"] == {"encrypted": 2, "limit:depth": 1}
    assert out["partial"] == {}
    assert out["not_read"][1] == {
        "path": "/d/box.zip",
        "member": "b.zip",
        "reason": "limit:depth",
        "partial": True,
    }


def test_scan_parts_stops_at_time_limit(ctx: Context) -> None:
    """A file that takes longer than max_seconds stops with limit:time, findings kept."""
    options = dataclasses.replace(ctx.options, limits=Limits(max_seconds=0, block_chars=64))
    slow = Context(options, ctx.packs)
    rng = random.Random(9)
    text = "".join(
        f"SSN {valid_ssn(rng)[:3]}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} x\n"
        for _ in range(50)
    )
    result = scan_parts(slow, io.BytesIO(text.encode()), Path("/d/log.txt"))
    assert result.reason == "limit:time"


def test_scan_parts_nested_archives_share_one_budget(ctx: Context) -> None:
    """Archives nested so that each stays within its own byte limit still stop once the
    whole file has produced more than its budget (a 42.zip)."""
    limit = 1024 * 1024
    limits = Limits(max_decompressed_bytes=limit, max_ratio=10**6)
    tight = Context(dataclasses.replace(ctx.options, limits=limits), ctx.packs)

    def zipped(members: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return out.getvalue()

    inner = zipped({"words.txt": b"x " * (limit * 4 // 10)})  # 0.8 of the limit each
    outer = zipped({f"part{n}.zip": inner for n in range(4)})
    result = scan_parts(tight, io.BytesIO(outer), Path("/d/nest.zip"))
    assert result.unread == [("part2.zip/words.txt", "limit:bytes"), ("part3.zip", "limit:bytes")]
    alone = scan_parts(tight, io.BytesIO(zipped({"part0.zip": inner})), Path("/d/one.zip"))
    assert (alone.reason, alone.unread) == (None, [])
