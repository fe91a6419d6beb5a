"""The threat model (docs/threat-model.md) names only tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "threat-model.md"
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_threat_model_names_only_tests_that_exist() -> None:
    """Every ``file::test`` the threat model cites is a test function in that file."""
    cited = _REFERENCE.findall(DOC.read_text(encoding="utf-8"))
    assert len(cited) > 60
    missing = sorted(
        f"{file}::{name}"
        for file, name in set(cited)
        if not (ROOT / file).is_file() or name not in _tests_in(ROOT / file)
    )
    assert missing == []
