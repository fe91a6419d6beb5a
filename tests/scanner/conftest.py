"""Fixtures for engine tests: a compiled context and an in-memory file scanner."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from ftiscan.scanner.engine import Context, ScanOptions, scan_stream
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.packs import load_packs

Outcome = dict[str, tuple[str, int]]


@pytest.fixture(scope="session")
def ctx() -> Context:
    packs = load_packs()
    return Context(ScanOptions(roots=(), pack_sources=packs.sources, key=b"k" * 32), packs)


@pytest.fixture
def scan_bytes(ctx: Context) -> Callable[[bytes], Outcome]:
    """Scan bytes as a file; return {rule: (severity, records)}."""

    def run(data: bytes) -> Outcome:
        _, findings, reason, _ = scan_stream(ctx, io.BytesIO(data), Path("mem.txt"))
        assert reason is None
        return {str(f["rule"]): (str(f["severity"]), int(f["records"])) for f in findings}

    return run


@pytest.fixture
def ssns() -> Callable[[int], list[str]]:
    """``n`` distinct synthetic SSNs (9 digits) valid by every rule."""

    def make(n: int, seed: int = 1) -> list[str]:
        rng = random.Random(seed)
        out: list[str] = []
        while len(out) < n:
            value = valid_ssn(rng)
            if value not in out:
                out.append(value)
        return out

    return make


def dashed(d: str) -> str:
    return f"{d[:3]}-{d[3:5]}-{d[5:]}"
