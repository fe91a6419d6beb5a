"""Tests for the validators package surface."""

from __future__ import annotations

import pkgutil

import ftiscan.scanner.validators as validators


def test_validators_all_is_sorted_and_complete() -> None:
    """`__all__` is sorted and names every public module of the package."""
    modules = {
        info.name
        for info in pkgutil.iter_modules(validators.__path__)
        if not info.name.startswith("_")
    }
    assert validators.__all__ == sorted(validators.__all__)
    assert set(validators.__all__) == modules


def test_validators_identifier_modules_have_the_fixed_shape() -> None:
    """Every identifier module offers compact, validate, is_valid and mask."""
    for name in ("dln", "ein", "itin", "mft", "name_control", "ssn", "tax_period", "zipcode"):
        module = getattr(validators, name)
        for function in ("compact", "validate", "is_valid", "mask"):
            assert callable(getattr(module, function)), f"{name}.{function}"
        doc = module.__doc__ or ""
        assert doc.splitlines()[0].strip(), name
