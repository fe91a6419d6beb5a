"""Fixtures of the fuzz tests: one compiled scan context for the whole session."""

from __future__ import annotations

import pytest

from ftiscan.scanner.engine import Context, ScanOptions
from ftiscan.scanner.model import Limits
from ftiscan.scanner.packs import load_packs

FUZZ_LIMITS = Limits(
    max_file_bytes=8 * 1024 * 1024,
    max_text_chars=8 * 1024 * 1024,
    max_line_chars=256 * 1024,
    max_decompressed_bytes=4 * 1024 * 1024,
    max_members=200,
    max_seconds=60,
)
"""Limits small enough that a mutated file that expands hits them quickly."""


@pytest.fixture(scope="session")
def fuzz_ctx() -> Context:
    """The built-in packs compiled once, with `FUZZ_LIMITS`."""
    packs = load_packs()
    options = ScanOptions(roots=(), pack_sources=packs.sources, key=b"f" * 32, limits=FUZZ_LIMITS)
    return Context(options, packs)
