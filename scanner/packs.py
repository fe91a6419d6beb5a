"""Signature packs: load YAML, check it against the schema, compile it.

A pack is all or nothing: any error (YAML syntax, schema, a regex that does not
compile, an unknown validator, a duplicate id across packs) raises `PackError`
naming file, line, column and reason, and no pack of the set is used.

Packs travel to worker processes as their source bytes (`PackSet.sources`) and are
compiled again there, so nothing unpicklable crosses a process boundary.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ftiscan.scanner.errors import PackError
from ftiscan.scanner.validators import (
    dln,
    ein,
    itin,
    mft,
    name_control,
    ssn,
    tax_period,
)
from ftiscan.signatures import SCHEMA_CHECKED, SCHEMA_PATH, builtin_pack_paths

if TYPE_CHECKING:  # imported where packs are checked: scan workers only compile them
    import jsonschema

Validator = Callable[[str], bool]

_SEPARATORS = str.maketrans("", "", "- ")
_MAX_DEPTH = 64  # nesting levels in a pack (the shipped one uses 5)


def _digits9(check: Callable[[str], bool]) -> Validator:
    """Wrap a 9-digit hot-path check so it takes the matched text."""

    def validate(text: str) -> bool:
        digits = text.translate(_SEPARATORS)
        return len(digits) == 9 and digits.isdigit() and check(digits)

    return validate


NINE_DIGIT_VALIDATORS = frozenset({"ssn", "itin", "ein"})
"""Validators that accept only nine digits plus dashes and spaces (`_digits9`); the
detector relies on it to look for their matches only where nine digits are."""

VALIDATORS: dict[str, Validator] = {
    "ssn": _digits9(ssn.is_valid_digits),
    "itin": _digits9(itin.is_valid_digits),
    "ein": _digits9(ein.is_valid_digits),
    "dln": dln.is_valid,
    "mft": mft.is_valid,
    "tax_period": tax_period.is_valid,
    "name_control": name_control.is_valid,
}


@dataclass(frozen=True, slots=True)
class Signature:
    """One compiled element of a pack."""

    id: str
    title: str
    kind: str
    score: int
    pack: str
    entity: str = ""
    strength: str = ""
    pattern: re.Pattern[str] | None = None
    group: int = 0
    keywords: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    validator_name: str = ""
    validator: Validator | None = None
    context_words: tuple[str, ...] = ()
    before_chars: int = 60
    boost: int = 0
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    version: int
    path: Path
    digest: str
    threshold: int
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class PackSet:
    """The packs a scan uses, with one digest over all of them."""

    packs: tuple[Pack, ...]
    sources: tuple[tuple[str, bytes], ...]
    digest: str
    threshold: int
    signatures: tuple[Signature, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "signatures", tuple(sig for pack in self.packs for sig in pack.signatures)
        )

    def of_kind(self, kind: str) -> tuple[Signature, ...]:
        return tuple(sig for sig in self.signatures if sig.kind == kind)

    def describe(self) -> dict[str, Any]:
        """The part of the report that names the packs (no patterns, just identities)."""
        return {
            "digest": self.digest,
            "packs": [
                {
                    "name": p.name,
                    "version": p.version,
                    "digest": p.digest,
                    "signatures": len(p.signatures),
                }
                for p in self.packs
            ],
        }


# --- YAML with positions ---------------------------------------------------------------


class _Located:
    """Maps a JSON path inside a YAML document to its (line, column), 1-based."""

    def __init__(self) -> None:
        self.marks: dict[tuple[str | int, ...], tuple[int, int]] = {}
        self.keys: dict[tuple[str | int, ...], tuple[int, int]] = {}

    def position(self, path: Iterable[str | int]) -> tuple[int, int]:
        key = tuple(path)
        while key not in self.marks and key:
            key = key[:-1]
        return self.marks.get(key, (1, 1))


def _construct(
    node: yaml.Node, path: tuple[str | int, ...], located: _Located, source: Path
) -> Any:
    located.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if len(path) > _MAX_DEPTH:  # the schema check and compile recurse: refuse it here
        line, col = located.marks[path]
        raise PackError(source, line, col, f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise PackError(source, line, col, "mapping keys must be plain strings")
            if key in out:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise PackError(source, line, col, f"duplicate key {key!r}")
            located.keys[(*path, key)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[key] = _construct(value_node, (*path, key), located, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, (*path, index), located, source)
            for index, item in enumerate(node.value)
        ]
    # Scalars: let the safe constructor resolve the tag (int, bool, str, ...). An explicit
    # tag on a value it does not fit (``!!float abc``, ``!!timestamp 2001-13-01``) makes
    # PyYAML raise plain Python errors.
    try:
        return yaml.SafeLoader(b"").construct_object(node, deep=True)
    except (ValueError, TypeError, AttributeError, OverflowError, IndexError):
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        tag = str(node.tag).rsplit(":", 1)[-1]
        raise PackError(source, line, col, f"YAML: not a valid {tag} value") from None


def _compose(text: str) -> yaml.Node | None:
    """The node tree of ``text``: by libyaml when PyYAML has it (ten times faster, and
    every scan and worker process reads the built-in packs), else by PyYAML's own
    parser, which also words the error of a document libyaml rejects (so that messages
    do not depend on how PyYAML was built)."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        with contextlib.suppress(yaml.YAMLError, RecursionError):
            return yaml.compose(text, Loader=fast)
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _parse(source: Path, data: bytes) -> tuple[Any, _Located]:
    located = _Located()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(source, 1, 1, f"not UTF-8 (byte {exc.start})") from exc
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PackError(source, line, col, f"YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise PackError(source, 1, 1, f"YAML: {exc}") from exc
    except RecursionError:  # PyYAML's composer recurses per nesting level
        raise PackError(source, 1, 1, "YAML: nested too deeply") from None
    if node is None:
        raise PackError(source, 1, 1, "empty pack")
    try:
        return _construct(node, (), located, source), located
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PackError(source, line, col, f"YAML: {exc.problem}") from exc


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    import jsonschema  # about 0.1 s and 7 MB: not in scan workers

    return jsonschema.Draft202012Validator(json.loads(_schema_bytes()))


@cache
def _schema_bytes() -> bytes:
    return SCHEMA_PATH.read_bytes()


def schema_checked_digest(data: bytes) -> str:
    """What `SCHEMA_CHECKED` holds for pack bytes that passed the schema check."""
    return hashlib.sha256(_schema_bytes() + b"\0" + data).hexdigest()


def _schema_error_text(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "pack"
    return f"{where}: {error.message}"


# --- compile ----------------------------------------------------------------------------


def _compile_signature(
    raw: dict[str, Any], pack_name: str, index: int, source: Path, located: _Located
) -> Signature:
    base = ("signatures", index)
    line, _ = located.position(base)

    def fail(key: str, reason: str) -> PackError:
        line, col = located.position((*base, key))
        return PackError(source, line, col, reason)

    pattern = None
    if "pattern" in raw:
        try:
            with warnings.catch_warnings():
                # "Possible set difference" and the like: a future Python reads the
                # pattern differently, so its meaning would change under the pack.
                warnings.simplefilter("error", FutureWarning)
                pattern = re.compile(raw["pattern"])
        except re.error as exc:
            raise fail("pattern", f"pattern does not compile: {exc}") from exc
        except FutureWarning as exc:
            raise fail("pattern", f"pattern is ambiguous ({exc}): escape it") from None
        group = int(raw.get("group", 0))
        if group > pattern.groups:
            raise fail("group", f"group {group} but the pattern has {pattern.groups} groups")
    validator = None
    if "validator" in raw:
        validator = VALIDATORS.get(raw["validator"])
        if validator is None:
            known = ", ".join(sorted(VALIDATORS))
            raise fail("validator", f"unknown validator {raw['validator']!r} (known: {known})")
    context = raw.get("context", {})
    examples = raw.get("examples", {})
    return Signature(
        id=raw["id"],
        title=raw["title"],
        kind=raw["kind"],
        score=raw["score"],
        pack=pack_name,
        entity=raw.get("entity", ""),
        strength=raw.get("strength", ""),
        pattern=pattern,
        group=int(raw.get("group", 0)),
        keywords=tuple(word.lower() for word in raw.get("keywords", ())),
        words=tuple(" ".join(word.lower().split()) for word in raw.get("words", ())),
        validator_name=raw.get("validator", ""),
        validator=validator,
        context_words=tuple(word.lower() for word in context.get("words", ())),
        before_chars=int(context.get("before_chars", 60)),
        boost=int(context.get("boost", 0)),
        examples_match=tuple(examples.get("match", ())),
        examples_no_match=tuple(examples.get("no_match", ())),
        line=line,
    )


def compile_pack(source: Path, data: bytes, *, check_schema: bool = True) -> Pack:
    """Parse, schema-check and compile one pack; raise PackError on the first problem.

    ``check_schema=False`` skips the schema check, for bytes that already passed it
    (a scan worker compiles the sources its parent loaded); so do the shipped packs'
    bytes, checked by the tests (`SCHEMA_CHECKED`)."""
    doc, located = _parse(source, data)
    if check_schema and schema_checked_digest(data) in SCHEMA_CHECKED:
        check_schema = False
    errors = (
        sorted(_schema_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
        if check_schema
        else []
    )
    if errors:
        # The first error in the file; at one place, the deepest names the field to fix.
        error = min(
            errors, key=lambda e: (located.position(e.absolute_path), -len(e.absolute_path))
        )
        line, col = located.position(error.absolute_path)
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            # Point at the unexpected key itself, not at the object holding it.
            for key in error.instance if isinstance(error.instance, dict) else ():
                if f"'{key}'" in error.message:
                    line, col = located.keys[(*error.absolute_path, key)]
                    break
        raise PackError(source, line, col, _schema_error_text(error))
    seen: dict[str, int] = {}
    signatures = []
    for index, raw in enumerate(doc["signatures"]):
        sig = _compile_signature(raw, doc["pack"], index, source, located)
        if sig.id in seen:
            line, col = located.position(("signatures", index, "id"))
            raise PackError(
                source, line, col, f"duplicate id {sig.id!r} (first at line {seen[sig.id]})"
            )
        seen[sig.id] = sig.line
        signatures.append(sig)
    return Pack(
        name=doc["pack"],
        version=doc["version"],
        path=source,
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        threshold=int(doc.get("threshold", 50)),
        signatures=tuple(signatures),
    )


def pack_set_from_sources(
    sources: Sequence[tuple[str, bytes]], *, check_schema: bool = True
) -> PackSet:
    """Compile every source; all packs load or none does (``check_schema``: see
    `compile_pack`)."""
    packs: list[Pack] = []
    ids: dict[str, str] = {}
    names: set[str] = set()
    for name, data in sources:
        pack = compile_pack(Path(name), data, check_schema=check_schema)
        if pack.name in names:
            raise PackError(pack.path, 1, 1, f"pack {pack.name!r} is loaded twice")
        names.add(pack.name)
        for sig in pack.signatures:
            if sig.id in ids:
                raise PackError(
                    pack.path, sig.line, 1, f"signature id {sig.id!r} also in {ids[sig.id]}"
                )
            ids[sig.id] = str(pack.path)
        packs.append(pack)
    if not packs:
        raise PackError(Path("."), 1, 1, "no signature pack to load")
    combined = hashlib.sha256()
    for pack in sorted(packs, key=lambda p: p.name):
        combined.update(f"{pack.name}\0{pack.digest}\n".encode())
    return PackSet(
        packs=tuple(packs),
        sources=tuple(sources),
        digest="sha256:" + combined.hexdigest(),
        threshold=max(pack.threshold for pack in packs),
    )


def pack_paths(extra_dirs: Sequence[Path] = (), builtin: bool = True) -> list[Path]:
    """The built-in packs, then every *.yaml/*.yml of each extra folder (or file)."""
    paths = list(builtin_pack_paths()) if builtin else []
    for entry in extra_dirs:
        if entry.is_dir():
            paths.extend(sorted([*entry.glob("*.yaml"), *entry.glob("*.yml")]))
        else:
            paths.append(entry)
    return paths


def load_packs(extra_dirs: Sequence[Path] = (), builtin: bool = True) -> PackSet:
    """Load the built-in packs plus the user's; raise PackError naming the first bad one."""
    sources = []
    for path in pack_paths(extra_dirs, builtin):
        try:
            sources.append((str(path), path.read_bytes()))
        except OSError as exc:
            raise PackError(path, 1, 1, f"cannot read pack: {exc.strerror}") from exc
    return pack_set_from_sources(sources)
