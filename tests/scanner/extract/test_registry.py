"""The extractor registry: identification, dispatch, empty and unsupported kinds."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import ftiscan.scanner.extract as registry
from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract import CONTAINERS, EXTRACTORS, UNSUPPORTED, extract
from ftiscan.scanner.identify import KINDS
from ftiscan.scanner.model import Limits, Location, Rows, Segment

WHERE = Location(Path("file"))


def test_registry_all_is_sorted() -> None:
    """The package re-exports a sorted __all__ (isort style, as ruff's RUF022 keeps it)."""

    def style(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert registry.__all__ == sorted(registry.__all__, key=style)


def test_registry_covers_every_kind() -> None:
    """Every identified kind has one extractor or is declared unsupported."""
    assert set(EXTRACTORS) | set(CONTAINERS) | UNSUPPORTED | {"empty"} == set(KINDS)
    assert not set(EXTRACTORS) & UNSUPPORTED
    assert not set(CONTAINERS) & (UNSUPPORTED | set(EXTRACTORS))


def test_registry_empty_stream() -> None:
    """An empty file is kind empty with nothing to scan."""
    kind, items = extract(io.BytesIO(b""), WHERE, Limits())
    assert kind == "empty"
    assert list(items) == []


@pytest.mark.parametrize("head", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, bytes(range(256))])
def test_registry_unsupported(head: bytes) -> None:
    """Kinds without an extractor raise unsupported with the kind."""
    with pytest.raises(ExtractError, match="unsupported") as caught:
        extract(io.BytesIO(head), WHERE, Limits())
    assert caught.value.reason == "unsupported"
    assert caught.value.detail in UNSUPPORTED


def test_registry_dispatches_by_content(tmp_path: Path) -> None:
    """A CSV named .jpg is read as a table; prose as text segments."""
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"name,zip,city\nAnn,20500,Springfield\nBob,20501,Shelbyville\n")
    with path.open("rb") as fh:
        kind, items = extract(fh, Location(path), Limits())
        batches = list(items)
    assert kind == "csv"
    assert isinstance(batches[0], Rows)
    assert batches[0].header == ("name", "zip", "city")
    kind, items = extract(io.BytesIO(b"Dear taxpayer\nthanks\n"), WHERE, Limits())
    assert kind == "text"
    assert [s.text for s in items if isinstance(s, Segment)] == ["Dear taxpayer\nthanks\n"]


def test_registry_keeps_the_callers_stream_open() -> None:
    """Extraction never closes the stream it was given."""
    fh = io.BytesIO(b"a,b,c\n1,2,3\n4,5,6\n")
    _, items = extract(fh, WHERE, Limits())
    list(items)
    assert not fh.closed
