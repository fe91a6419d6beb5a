"""Scan workers compile their parent's pack sources without the schema check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ftiscan.scanner import packs as packs_module
from ftiscan.scanner.errors import PackError
from ftiscan.scanner.packs import load_packs, pack_set_from_sources
from ftiscan.signatures import SCHEMA_CHECKED, builtin_pack_paths


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


def test_shipped_packs_pass_the_schema_under_their_recorded_digest() -> None:
    # The load-time skip (`SCHEMA_CHECKED`) rests on this check: every shipped pack's
    # exact bytes pass the schema, and their digest is the one recorded.
    validator = packs_module._schema_validator()
    for path in builtin_pack_paths():
        data = path.read_bytes()
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(data))]
        assert errors == [], path.name
        digest = packs_module.schema_checked_digest(data)
        assert digest in SCHEMA_CHECKED, (
            f"{path.name} changed: after this test passes, put {digest} in "
            "ftiscan.signatures.SCHEMA_CHECKED"
        )
    assert len(SCHEMA_CHECKED) == len(builtin_pack_paths())


def _imports_jsonschema(pack: str | None) -> bool:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ftiscan.scanner.errors import PackError\n"
        "from ftiscan.scanner.packs import load_packs\n"
        f"extra = [Path({pack!r})] if {pack!r} else []\n"
        "try:\n"
        "    load_packs(extra)\n"
        "except PackError as exc:\n"
        "    print(exc.reason.split(':')[0], file=sys.stderr)\n"
        "print('jsonschema' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split() == ["True"]


def test_shipped_packs_load_without_the_schema_library() -> None:
    assert not _imports_jsonschema(None)


def test_a_pack_of_other_bytes_is_checked_against_the_schema(tmp_path: Path) -> None:
    # The shipped pack with one score out of range: not the bytes recorded, so it
    # is checked and refused.
    data = builtin_pack_paths()[0].read_text(encoding="utf-8")
    assert "    score: 50\n" in data
    edited = data.replace("    score: 50\n", "    score: 1000\n", 1)
    pack = tmp_path / "edited.yaml"
    pack.write_text(edited, encoding="utf-8")
    with pytest.raises(PackError, match="1000"):
        load_packs([pack], builtin=False)
    assert _imports_jsonschema(str(pack))
