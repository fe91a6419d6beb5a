"""The built-in signature packs (YAML data) and their JSON Schema."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACK_DIR", "SCHEMA_PATH", "builtin_pack_paths"]

PACK_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = PACK_DIR / "schema.json"


def builtin_pack_paths() -> list[Path]:
    """Every pack shipped inside the wheel, sorted by file name."""
    return sorted(PACK_DIR.glob("*.yaml"))
