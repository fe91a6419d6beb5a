"""Self-test before every scan: the engine must see its own examples and canaries.

Canaries are synthetic taxpayer records (generated here, held only in memory) written
in every layout the extractors support. Each goes through the same extract -> detect
-> records path as a file on disk; each must give exactly the expected rule and record
count. A scanner that cannot see is worse than none, so a failure stops the scan.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import json
import lzma
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftiscan.scanner.engine import Context, scan_stream
from ftiscan.scanner.examples import run_examples, valid_ssn

_FIRST = ["Avery", "Rowan", "Emerson", "Quinn", "Harper"]
_LAST = ["Canaryfield", "Testwood", "Sampleton", "Checkley", "Probewell"]
_STREETS = ["Canary", "Sentinel", "Lantern", "Beacon", "Signal"]
_PLACES = [("Springfield", "IL", "62704"), ("Columbus", "OH", "43215"), ("Austin", "TX", "78701")]
CANARY_RECORDS = 3


@dataclass(frozen=True)
class Canary:
    first: str
    last: str
    ssn: str
    street: str
    city: str
    state: str
    zip: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def dashed(self) -> str:
        return f"{self.ssn[:3]}-{self.ssn[3:5]}-{self.ssn[5:]}"


def canaries(seed: int = 6103) -> list[Canary]:
    rng = random.Random(seed)  # noqa: S311 -- synthetic canaries, not secrets
    people = []
    for i in range(CANARY_RECORDS):
        city, state, zip5 = _PLACES[i % len(_PLACES)]
        people.append(
            Canary(
                _FIRST[i],
                _LAST[i],
                valid_ssn(rng),
                f"{rng.randint(10, 9999)} {_STREETS[i]} Ln",
                city,
                state,
                zip5,
            )
        )
    return people


def _table(people: list[Canary], header: bool) -> list[list[str]]:
    rows = [[p.name, p.dashed, p.street, p.city, p.state, p.zip] for p in people]
    rows.append(rows[0])  # a duplicate row: records count people, not rows
    if header:
        rows.insert(0, ["Name", "SSN", "Street", "City", "State", "ZIP"])
    return rows


def _delimited(people: list[Canary], delimiter: str, header: bool = True) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(_table(people, header))
    return buffer.getvalue().encode("utf-8")


def _json(people: list[Canary]) -> bytes:
    rows = [
        {
            "name": p.name,
            "ssn": p.dashed,
            "street": p.street,
            "city": p.city,
            "state": p.state,
            "zip": p.zip,
        }
        for p in people
    ]
    return json.dumps(rows).encode()


def _jsonl(people: list[Canary]) -> bytes:
    lines = [
        json.dumps({"taxpayer": p.name, "tin": p.ssn, "address": p.street, "zip": p.zip})
        for p in people
    ]
    return ("\n".join(lines) + "\n").encode()


def _fixed(people: list[Canary]) -> bytes:
    lines = [
        f"{p.name:<28}{p.ssn:<11}{p.street:<30}{p.city:<16}{p.state:<4}{p.zip}" for p in people
    ]
    return ("\n".join(lines) + "\n").encode()


def _prose(people: list[Canary]) -> bytes:
    parts = ["Case notes, synthetic self-test.\n"]
    for p in people:
        parts.append(
            f"We spoke with {p.name} today. Taxpayer SSN {p.dashed}; mailing address "
            f"{p.street}, {p.city}, {p.state} {p.zip}. Follow up next week.\n\n"
        )
    return "".join(parts).encode()


def _marked(people: list[Canary]) -> bytes:
    lines = ["FEDERAL TAX INFORMATION - IRC 6103 - DO NOT DISCLOSE"]
    lines += [f"{p.name}, {p.street}, {p.city}, {p.state} {p.zip}" for p in people]
    return ("\n".join(lines) + "\n").encode()


LAYOUTS: dict[str, tuple[Callable[[list[Canary]], bytes], str]] = {
    "csv": (lambda p: _delimited(p, ","), "fti.taxpayer-record"),
    "csv-headerless": (lambda p: _delimited(p, ",", header=False), "fti.taxpayer-record"),
    "tsv": (lambda p: _delimited(p, "\t"), "fti.taxpayer-record"),
    "pipe": (lambda p: _delimited(p, "|"), "fti.taxpayer-record"),
    "semicolon": (lambda p: _delimited(p, ";"), "fti.taxpayer-record"),
    "json": (_json, "fti.taxpayer-record"),
    "jsonl": (_jsonl, "fti.taxpayer-record"),
    "fixed-width": (_fixed, "fti.taxpayer-record"),
    "prose": (_prose, "fti.taxpayer-record"),
    "utf-16": (lambda p: _delimited(p, ",").decode().encode("utf-16"), "fti.taxpayer-record"),
    "gzip": (lambda p: gzip.compress(_delimited(p, ","), mtime=0), "fti.taxpayer-record"),
    "bzip2": (lambda p: bz2.compress(_delimited(p, ",")), "fti.taxpayer-record"),
    "xz": (lambda p: lzma.compress(_delimited(p, ",")), "fti.taxpayer-record"),
    "marked-list": (_marked, "fti.marked-name-address"),
}


@dataclass(frozen=True)
class SelfTest:
    examples: int
    canaries: int
    failures: tuple[str, ...]
    pack_digest: str

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "examples": self.examples,
            "canaries": self.canaries,
            "layouts": sorted(LAYOUTS),
            "failures": list(self.failures),
            "pack_digest": self.pack_digest,
        }


def check_layout(ctx: Context, layout: str, people: list[Canary]) -> bool:
    """One canary file, in memory: exactly the expected rule with every record."""
    make, rule = LAYOUTS[layout]
    _, findings, reason, _ = scan_stream(
        ctx, io.BytesIO(make(people)), Path(f"<self-test>/{layout}")
    )
    if reason is not None:
        return False
    hits = [f for f in findings if f["rule"] == rule]
    return (
        len(hits) == 1 and hits[0]["records"] == len(people) and hits[0]["severity"] == "critical"
    )


def run(ctx: Context) -> SelfTest:
    """Examples of every loaded signature, then a canary in every layout."""
    failures = [r.label for r in run_examples(ctx.detector) if not r.passed]
    examples = sum(len(s.examples_match) + len(s.examples_no_match) for s in ctx.packs.signatures)
    people = canaries()
    failures += [f"canary {name}" for name in LAYOUTS if not check_layout(ctx, name, people)]
    return SelfTest(examples, len(LAYOUTS), tuple(failures), ctx.packs.digest)


def digest(result: SelfTest) -> str:
    """A digest of the self-test outcome, for the report."""
    body = json.dumps(result.as_dict(), sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(body).hexdigest()
