"""Canonical JSON (RFC 8785, JCS) for the value space reports use.

The bytes that are hashed and signed: object keys sorted by their UTF-16 code units,
no whitespace, UTF-8, strings escaped as JCS says (``\\"``, ``\\\\``, ``\\b \\f \\n \\r
\\t``, other control characters as ``\\u00xx``, everything else literal). Values are
objects, arrays, strings, booleans, null and integers within the I-JSON range
(``|n| <= 2**53 - 1``, so every JSON reader sees the same number). Floats are refused:
JCS writes them with ECMAScript's number formatting, and no report needs one, so no
signature ever depends on float formatting. Lone surrogates are refused: they have no
UTF-8 form.

`parse` is the strict reader: it refuses floats, duplicate keys (two readers could
see different values), out-of-range integers, bytes that are not UTF-8, escaped lone
surrogates and nesting
deeper than the interpreter's recursion limit, always as `CanonicalError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_INT", "CanonicalError", "canonical_bytes", "parse"]

MAX_INT = 2**53 - 1
_BMP_SORT_SAFE = "\ud7ff"  # below U+D800, code point order is UTF-16 code unit order
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # may decode to a lone surrogate


class CanonicalError(ValueError):
    """The value cannot be written canonically (a float, a non-string key, ...)."""


def _check(value: Any, path: str = "$") -> bool:
    """Raise for what JCS cannot write; True if some key needs UTF-16 ordering."""
    if isinstance(value, str):
        _check_text(value, path)
        return False
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise CanonicalError(f"{path}: integer outside the I-JSON range (|n| <= 2**53 - 1)")
        return False
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed in canonical JSON")
    if isinstance(value, dict):
        wide = False
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings")
            _check_text(key, path)
            wide = _check(item, f"{path}.{key}") or wide or max(key, default="") > _BMP_SORT_SAFE
        return wide
    if isinstance(value, list | tuple):
        if value and set(map(type, value)) == {str}:
            try:  # a list of strings (fingerprints): one encode tells them all valid
                "".join(value).encode("utf-8")
                return False
            except UnicodeEncodeError:
                pass  # each alone, to name the first bad one
        wide = False
        for index, item in enumerate(value):
            wide = _check(item, f"{path}[{index}]") or wide
        return wide
    raise CanonicalError(f"{path}: {type(value).__name__} is not a JSON value")


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"{path}: lone surrogate at index {exc.start}") from None


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _write_sorted(value: Any, out: list[str]) -> None:
    """The slow path, for keys beyond U+D7FF: sort each object by UTF-16 code units."""
    if isinstance(value, dict):
        out.append("{")
        for n, key in enumerate(sorted(value, key=_utf16)):
            if n:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write_sorted(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _write_sorted(item, out)
        out.append("]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def canonical_bytes(value: Any) -> bytes:
    """The one byte form of ``value`` that is hashed and signed.

    >>> canonical_bytes({"b": [1, True, None], "a": "\\u00e9\\n"}).decode()
    '{"a":"é\\\\n","b":[1,true,null]}'
    """
    try:
        if _check(value):
            parts: list[str] = []
            _write_sorted(value, parts)
            return "".join(parts).encode("utf-8")
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        raise CanonicalError("nested too deeply") from None
    return text.encode("utf-8")


def parse(data: bytes) -> Any:
    """Parse JSON bytes strictly: UTF-8, no floats, no duplicate keys, I-JSON integers."""

    def no_float(text: str) -> Any:
        raise CanonicalError("floats are not allowed in canonical JSON")

    def bounded_int(text: str) -> int:
        if len(text) > 17:  # beyond 2**53 in any case; int() of 4301+ digits raises
            raise CanonicalError("integer outside the I-JSON range (|n| <= 2**53 - 1)")
        number = int(text)
        if abs(number) > MAX_INT:
            raise CanonicalError("integer outside the I-JSON range (|n| <= 2**53 - 1)")
        return number

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in pairs:
            if key in out:
                raise CanonicalError(f"duplicate key {key[:40]!r}")
            out[key] = item
        return out

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(
            text,
            parse_float=no_float,
            parse_int=bounded_int,
            parse_constant=no_float,
            object_pairs_hook=no_duplicates,
        )
        if _SURROGATE_ESCAPE.search(text):
            _check(value)  # a lone surrogate has no UTF-8 form: refuse it here, not later
    except json.JSONDecodeError as exc:
        raise CanonicalError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise CanonicalError("nested too deeply") from None
    return value
