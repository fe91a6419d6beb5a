"""Each package re-exports a sorted ``__all__`` (ruff RUF022 order) whose names exist."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "ftiscan.agent",
    "ftiscan.reports",
    "ftiscan.reports.intake",
    "ftiscan.scanner",
    "ftiscan.scanner.extract",
    "ftiscan.scanner.validators",
    "ftiscan.signatures",
]


def _isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions and modules."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_public_api_all_sorted_and_present(name: str) -> None:
    """``__all__`` is sorted and every name in it is importable from the package."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    assert [n for n in exported if not hasattr(module, n)] == []
