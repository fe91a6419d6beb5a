"""Every pack loads, every example behaves, and a malformed pack is refused precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftiscan.scanner.detect import Detector
from ftiscan.scanner.errors import PackError
from ftiscan.scanner.examples import run_examples
from ftiscan.scanner.packs import compile_pack, load_packs, pack_set_from_sources
from ftiscan.signatures import builtin_pack_paths

GOOD = """\
pack: local
version: 2
signatures:
  - id: local.ssn
    title: SSN in a local format
    kind: tin
    entity: ssn
    pattern: 'SSN#(\\d{9})'
    group: 1
    validator: ssn
    score: 60
    examples:
      match: ["SSN#{ssn_bare}"]
      no_match: ["SSN#000000000"]
"""


def _pack(tmp_path: Path, text: str, name: str = "local.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_packs_builtin_load() -> None:
    """The shipped packs load and carry one digest over all of them."""
    packs = load_packs()
    assert [p.name for p in packs.packs] == ["us-taxpayer"]
    assert packs.digest.startswith("sha256:")
    assert len(packs.digest) == 71
    assert len(packs.signatures) == len(packs.packs[0].signatures)
    assert builtin_pack_paths()[0].name == "us-taxpayer.yaml"


def test_packs_every_example_behaves() -> None:
    """Each signature's own positive and negative examples give the stated result."""
    results = run_examples(Detector(load_packs()))
    assert len(results) >= 40
    assert [r.label for r in results if not r.passed] == []


def test_packs_user_pack_adds_signatures(tmp_path: Path) -> None:
    """A folder given with --signatures adds its packs to the built-in ones."""
    _pack(tmp_path, GOOD)
    packs = load_packs([tmp_path])
    assert [p.name for p in packs.packs] == ["us-taxpayer", "local"]
    results = [r for r in run_examples(Detector(packs)) if r.signature == "local.ssn"]
    assert [(r.expected, r.passed) for r in results] == [(True, True), (False, True)]


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "reason"),
    [
        ("score: 60", "score: 0.5", 11, 12, "0.5 is not of type 'integer'"),
        ("score: 60", "score: 160", 11, 12, "160 is greater than the maximum of 100"),
        ("validator: ssn", "validator: sin", 10, 16, "unknown validator 'sin'"),
        ("pattern: 'SSN#(\\d{9})'", "pattern: 'SSN#(\\d{9}'", 8, 14, "pattern does not compile"),
        ("group: 1", "group: 2", 9, 12, "group 2 but the pattern has 1 groups"),
        ("kind: tin", "kind: tins", 6, 11, "'tins' is not one of"),
        ("    score: 60", "    score: 60\n    scroe: 1", 12, 5, "scroe"),
        ("    title: SSN in a local format\n", "", 4, 5, "'title' is a required property"),
        ("version: 2", "version: 2\nversion: 3", 3, 1, "duplicate key 'version'"),
        ('match: ["SSN#{ssn_bare}"]', 'match: ["SSN#{ssn_bare}"', 14, 7, "YAML: expected ','"),
    ],
)
def test_packs_malformed_names_line_column_reason(
    tmp_path: Path, old: str, new: str, line: int, column: int, reason: str
) -> None:
    """A malformed pack raises PackError with the file, line, column and reason."""
    assert old in GOOD
    path = _pack(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(PackError) as info:
        compile_pack(path, path.read_bytes())
    error = info.value
    assert (error.path, error.line) == (path, line)
    assert error.column == column
    assert reason in error.reason
    assert str(error).startswith(f"{path}:{line}:{column}: ")


def test_packs_duplicate_id_across_packs_refused(tmp_path: Path) -> None:
    """Two packs defining the same signature id are refused, naming both."""
    clash = GOOD.replace("local.ssn", "us.ssn.dashed").replace("pack: local", "pack: other")
    path = _pack(tmp_path, clash, "other.yaml")
    with pytest.raises(PackError, match=r"signature id 'us\.ssn\.dashed' also in .*us-taxpayer"):
        load_packs([path])


def test_packs_all_or_nothing(tmp_path: Path) -> None:
    """One bad pack among good ones stops the whole set from loading."""
    _pack(tmp_path, GOOD, "a.yaml")
    _pack(
        tmp_path, GOOD.replace("pack: local", "pack: b").replace("score: 60", "score: x"), "b.yaml"
    )
    with pytest.raises(PackError) as info:
        load_packs([tmp_path])
    assert info.value.path.name == "b.yaml"


def test_packs_empty_and_binary_refused(tmp_path: Path) -> None:
    """An empty file and a non-UTF-8 file are refused at line 1."""
    empty = _pack(tmp_path, "", "empty.yaml")
    with pytest.raises(PackError, match="empty pack"):
        compile_pack(empty, b"")
    with pytest.raises(PackError, match="not UTF-8"):
        compile_pack(empty, b"pack: \xff\xfe")


def test_packs_same_pack_twice_refused() -> None:
    """Loading one pack twice is an error, not a silent merge."""
    source = (str(builtin_pack_paths()[0]), builtin_pack_paths()[0].read_bytes())
    with pytest.raises(PackError, match="loaded twice"):
        pack_set_from_sources([source, source])
