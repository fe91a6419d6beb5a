"""Spawned scan workers do not run the console script (the whole CLI) again."""

from __future__ import annotations

import sys
import types

import pytest

from ftiscan.agent.cli import workers_skip_main


def test_main_file_hidden_during_scan_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    main = types.ModuleType("__main__")
    main.__file__ = "/venv/bin/ftiscan"
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    with workers_skip_main():
        assert getattr(main, "__file__", None) is None
    assert main.__file__ == "/venv/bin/ftiscan"


def test_restored_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    main = types.ModuleType("__main__")
    main.__file__ = "/venv/bin/ftiscan"
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    with pytest.raises(RuntimeError), workers_skip_main():
        raise RuntimeError
    assert main.__file__ == "/venv/bin/ftiscan"


def test_module_main_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    main = types.ModuleType("__main__")
    main.__file__ = "/src/ftiscan/__main__.py"
    main.__spec__ = types.SimpleNamespace(name="ftiscan.__main__")  # type: ignore[assignment]
    monkeypatch.setitem(sys.modules, "__main__", main)
    with workers_skip_main():
        assert main.__file__ == "/src/ftiscan/__main__.py"
