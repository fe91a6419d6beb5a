"""The built-in signature packs (YAML data) and their JSON Schema."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACK_DIR", "SCHEMA_CHECKED", "SCHEMA_PATH", "builtin_pack_paths"]

PACK_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = PACK_DIR / "schema.json"

#: SHA-256 of ``schema.json``, a NUL byte and a shipped pack, for each pack as the
#: test suite checked it against the schema
#: (``tests/signatures/test_packs_unchecked.py``, which names the digest to put here
#: after a change). Those exact bytes skip the schema check when they load: jsonschema
#: costs about 90 ms of every start. Any other bytes, an edited install's included,
#: are checked like every pack.
SCHEMA_CHECKED = frozenset(
    {
        "e5ccbe88b4f45fbf6745a218df3dafd9d7c3d7a4b261a3d1b022399ecaac0910",  # us-taxpayer.yaml
    }
)


def builtin_pack_paths() -> list[Path]:
    """Every pack shipped inside the wheel, sorted by file name."""
    return sorted(PACK_DIR.glob("*.yaml"))
