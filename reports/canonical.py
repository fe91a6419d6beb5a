"""Canonical JSON: sorted keys, no whitespace, UTF-8, no floats.

For the value space reports use (objects, arrays, strings, integers, booleans,
null) this is the RFC 8785 (JCS) form: JCS differs only in how it writes floats,
and floats are refused here, so signatures never depend on float formatting.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["CanonicalError", "canonical_bytes", "parse"]


class CanonicalError(ValueError):
    """The value cannot be written canonically (a float, a non-string key, ...)."""


def _check(value: Any, path: str = "$") -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed in canonical JSON")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_bytes(value: Any) -> bytes:
    """The one byte form of ``value`` that is hashed and signed."""
    _check(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def parse(data: bytes) -> Any:
    """Parse JSON bytes, refusing floats and duplicate keys."""

    def no_float(text: str) -> Any:
        raise CanonicalError("floats are not allowed in canonical JSON")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in pairs:
            if key in out:
                raise CanonicalError(f"duplicate key {key!r}")
            out[key] = item
        return out

    return json.loads(data, parse_float=no_float, object_pairs_hook=no_duplicates)
