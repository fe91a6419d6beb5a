"""The scan policy: approved locations, excludes and the per-file limits, from YAML.

```yaml
# policy.yaml
version: 1
approved: ["/srv/fti-vault", "/home/*/Approved/*"]   # findings there are info
exclude: ["*.iso", "/home/*/.cache"]
edm: fti.edm                # exact-data-match index (relative to this file), optional
limits:                     # ClamAV's MaxScanSize/MaxFileSize/MaxRecursion/MaxFiles
  max_file_size: 512M       # larger files are not read (limit:size)
  max_decompressed: 1G      # bytes out of one archive or stream (limit:bytes)
  max_ratio: 200            # uncompressed : compressed (limit:ratio)
  max_depth: 4              # nested archives, attachments, streams (limit:depth)
  max_members: 10000        # members per archive, attachments per message (limit:members)
  max_text: 256M            # characters of text per file (limit:bytes)
  max_seconds: 300          # time per file (limit:time)
```

Every key is optional; what is left out keeps its safe default. A malformed policy is
refused with file, line, column and reason (`ConfigError`), never half applied. The
policy's SHA-256 (of the file's bytes) goes into every report as ``policy_digest``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ftiscan.scanner.errors import ConfigError
from ftiscan.scanner.model import Limits

__all__ = ["LIMIT_FIELDS", "Policy", "load_policy", "parse_size"]

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}

LIMIT_FIELDS: dict[str, tuple[str, bool]] = {
    "max_file_size": ("max_file_bytes", True),
    "max_decompressed": ("max_decompressed_bytes", True),
    "max_ratio": ("max_ratio", False),
    "max_depth": ("max_depth", False),
    "max_members": ("max_members", False),
    "max_text": ("max_text_chars", True),
    "max_seconds": ("max_seconds", False),
}
"""Policy key -> (`Limits` field, whether the value is a byte size like ``512M``)."""


def parse_size(value: object) -> int:
    """A byte size: ``1048576``, ``512K``, ``100M``, ``2G``, ``1GiB``.

    >>> parse_size("100M"), parse_size(2048), parse_size("1GiB")
    (104857600, 2048, 1073741824)
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = str(value).strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    number = text[: len(text) - len(unit)].strip()
    if not number.isdigit():
        raise ValueError(f"{value!r} is not a size like 100M")
    return int(number) * _UNITS[unit]


@dataclass(frozen=True)
class Policy:
    approved: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    digest: str | None = None
    source: Path | None = None
    edm: Path | None = None  # the exact-data-match index the scans use


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps each node's position for error messages."""


def _node_at(root: yaml.Node, *keys: str, key_node: bool = False) -> yaml.Node:
    """The value node at ``keys`` (or the node of the last key itself)."""
    node = root
    for n, key in enumerate(keys):
        if not isinstance(node, yaml.MappingNode):
            break
        for k, v in node.value:
            if k.value == key:
                node = k if key_node and n == len(keys) - 1 else v
                break
    return node


def _error(path: Path, node: yaml.Node, reason: str) -> ConfigError:
    mark = node.start_mark
    return ConfigError(path, mark.line + 1, reason, mark.column + 1)


def _strings(path: Path, root: yaml.Node, doc: dict[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _error(path, _node_at(root, key), f"{key} must be a list of non-empty strings")
    return tuple(value)


def _limits(path: Path, root: yaml.Node, doc: dict[str, Any]) -> Limits:
    given = doc.get("limits", {})
    if not isinstance(given, dict):
        raise _error(path, _node_at(root, "limits"), "limits must be a mapping")
    limits = Limits()
    for key, value in given.items():
        node = _node_at(root, "limits", str(key))
        if key not in LIMIT_FIELDS:
            known = ", ".join(LIMIT_FIELDS)
            where = _node_at(root, "limits", str(key), key_node=True)
            raise _error(path, where, f"unknown limit {key!r} (known: {known})")
        attr, sized = LIMIT_FIELDS[key]
        try:
            number = parse_size(value) if sized else value
        except ValueError as exc:
            raise _error(path, node, f"limits.{key}: {exc}") from None
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise _error(path, node, f"limits.{key} must be a positive integer, got {value!r}")
        limits = replace(limits, **{attr: number})
    return limits


def _parse(path: Path) -> tuple[bytes, yaml.Node | None, Any]:
    """The file's bytes, its YAML node tree (for positions) and its value; any defect,
    also one PyYAML reports as a plain Python error, is a `ConfigError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, 0, f"cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
        root = yaml.compose(text, Loader=_Loader)
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        # The bytes before the bad one decode: count the line's characters up to it.
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode()) + 1
        raise ConfigError(path, line, f"not UTF-8 text (byte {exc.start})", column) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError(path, line, f"not valid YAML: {exc.problem}", column) from None
    except yaml.reader.ReaderError as exc:  # a control character: no mark, a position
        before = text[: exc.position]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        raise ConfigError(path, line, f"not valid YAML: {exc.reason}", column) from None
    except RecursionError:
        raise ConfigError(path, 1, "not valid YAML: nested too deeply", 1) from None
    except (ValueError, TypeError, AttributeError, OverflowError, IndexError) as exc:
        # PyYAML's constructors on a value its explicit tag does not fit: "!!timestamp
        # 2001-13-01" is ValueError, "!!int" with no value IndexError.
        raise ConfigError(path, 1, f"not valid YAML: {exc}", 1) from None
    return data, root, doc


def load_policy(path: Path) -> Policy:
    """Read and check the policy at ``path``; raise `ConfigError` for any defect."""
    data, root, doc = _parse(path)
    if root is None or doc is None:
        return Policy(digest="sha256:" + hashlib.sha256(data).hexdigest(), source=path)
    if not isinstance(doc, dict):
        raise _error(path, root, "a policy is a mapping (version, approved, exclude, limits, edm)")
    unknown = sorted(set(map(str, doc)) - {"version", "approved", "exclude", "limits", "edm"})
    if unknown:
        where = _node_at(root, unknown[0], key_node=True)
        raise _error(path, where, f"unknown key {unknown[0]!r}")
    if doc.get("version", 1) != 1:
        raise _error(path, _node_at(root, "version"), "version must be 1")
    edm = doc.get("edm")
    if edm is not None and (not isinstance(edm, str) or not edm.strip()):
        raise _error(path, _node_at(root, "edm"), "edm must be the path of an index file")
    return Policy(
        approved=_strings(path, root, doc, "approved"),
        excludes=_strings(path, root, doc, "exclude"),
        limits=_limits(path, root, doc),
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        source=path,
        edm=None if edm is None else path.parent / Path(edm).expanduser(),
    )
