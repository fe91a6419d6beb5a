"""Scan workers compile their parent's pack sources without the schema check."""

from __future__ import annotations

import subprocess
import sys

from ftiscan.scanner.packs import load_packs, pack_set_from_sources


def test_unchecked_compile_gives_the_same_packs() -> None:
    packs = load_packs(())
    again = pack_set_from_sources(packs.sources, check_schema=False)
    assert again.digest == packs.digest
    assert again.threshold == packs.threshold
    assert [s.id for p in again.packs for s in p.signatures] == [
        s.id for p in packs.packs for s in p.signatures
    ]
    assert [s.pattern for p in again.packs for s in p.signatures] == [
        s.pattern for p in packs.packs for s in p.signatures
    ]


def test_worker_start_up_imports_no_schema_library() -> None:
    code = (
        "import sys\n"
        "from ftiscan.scanner import engine\n"
        "from ftiscan.scanner.packs import load_packs\n"
        "sources = load_packs(()).sources\n"
        "for name in [m for m in sys.modules if m.startswith('jsonschema')]:\n"
        "    del sys.modules[name]\n"
        "options = engine.ScanOptions(roots=(), pack_sources=sources, key=b'k' * 32)\n"
        "engine._init_worker(options)\n"
        "print('jsonschema' in sys.modules, 'pypdfium2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
