"""Benchmark signing and verification: throughput and the size of a large report.

    python -m bench.signing [--findings 10000] [--small 300]

Builds a report of ``--findings`` synthetic findings (through the engine's own
`FileFindings`, ten records and locations each, keyed fingerprints only), then times
canonical serialisation + Ed25519 DSSE signing, a durable journal append (fsync +
link), and verification (envelope, strict parse, schema). Also signs and verifies
``--small`` one-finding reports for a per-report rate. Prints sizes and times only.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ftiscan.agent.journal import Journal
from ftiscan.reports import dsse
from ftiscan.reports.canonical import canonical_bytes
from ftiscan.reports.report import build_report
from ftiscan.reports.verify import verify_reports
from ftiscan.scanner.findings import FileFindings

__all__ = ["main", "payload"]


def payload(n_findings: int, per_finding: int = 10) -> dict[str, Any]:
    key = secrets.token_bytes(32)
    findings: list[dict[str, Any]] = []
    for n in range(n_findings):
        acc = FileFindings(key)
        for k in range(per_finding):
            value = f"{n:05d}{k:04d}"  # a counter, hashed at once: no TIN is ever formed
            acc.add("fti.taxpayer-record", "tin", value, {"row": k + 2, "column": 2}, "*********")
        findings.extend(acc.findings(f"/home/user/Documents/export_{n:05d}.csv", None, False))
    coverage = {
        "files_seen": n_findings,
        "files_scanned": n_findings,
        "files_skipped": 0,
        "files_partial": 0,
        "bytes_seen": 0,
        "bytes_scanned": 0,
        "skipped": {},
        "partial": {},
        "kinds": {"csv": n_findings},
        "not_read": [],
        "members_unread": {},
        "not_read_unlisted": 0,
    }
    now = time.time()
    return build_report(
        roots=[Path("/home/user")],
        findings=findings,
        coverage=coverage,
        started=now,
        ended=now,
        tool_version="bench",
        packs={
            "digest": "sha256:" + "0" * 64,
            "packs": [
                {
                    "name": "us-taxpayer",
                    "version": 1,
                    "digest": "sha256:" + "0" * 64,
                    "signatures": 1,
                }
            ],
        },
        selftest={
            "passed": True,
            "examples": 0,
            "canaries": 0,
            "layouts": [],
            "failures": [],
            "pack_digest": "sha256:" + "0" * 64,
        },
        options={},
    )


def _timed(label: str, func: Any, repeat: int = 1) -> Any:
    start = time.perf_counter()
    for _ in range(repeat):
        result = func()
    seconds = (time.perf_counter() - start) / repeat
    print(f"  {label:<34} {seconds * 1000:9.1f} ms")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signing")
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=300)
    args = parser.parse_args(argv)
    key = Ed25519PrivateKey.generate()
    keys = {dsse.key_id(key.public_key()): key.public_key()}
    big = payload(args.findings)
    big["chain"] = {"key_id": dsse.key_id(key.public_key()), "sequence": 1, "previous": None}
    print(f"report of {args.findings} findings")
    body = _timed("canonical JSON", lambda: canonical_bytes(big))
    envelope = _timed("DSSE sign (Ed25519)", lambda: dsse.sign(body, key))
    print(f"  {'payload size':<34} {len(body) / 1e6:9.2f} MB")
    print(f"  {'envelope size':<34} {len(envelope) / 1e6:9.2f} MB")
    _timed("verify signature only", lambda: dsse.verify(envelope, keys))
    outcome = _timed(
        "verify: envelope + parse + schema", lambda: verify_reports([("r", envelope)], keys)
    )
    assert outcome.ok, outcome.files[0].detail
    with tempfile.TemporaryDirectory() as state:
        journal = Journal(Path(state), key)
        del big["chain"]
        _timed("journal append (sign, fsync, link)", lambda: journal.append(dict(big)))
        small = payload(1)
        start = time.perf_counter()
        signed = [journal.append(dict(small)).envelope for _ in range(args.small)]
        sign_rate = args.small / (time.perf_counter() - start)
        start = time.perf_counter()
        result = verify_reports([(str(n), e) for n, e in enumerate(signed)], keys)
        verify_rate = args.small / (time.perf_counter() - start)
        assert result.ok
    print(f"one-finding reports ({args.small})")
    print(f"  {'signed + journalled':<34} {sign_rate:9.0f} reports/s")
    print(f"  {'verified (with schema and chain)':<34} {verify_rate:9.0f} reports/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
