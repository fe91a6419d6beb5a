"""Plain text extraction: whole-line blocks with the right line numbers and byte ranges."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _decode, text
from ftiscan.scanner.model import Limits, Location, Segment

WHERE = Location(Path("notes.txt"))


def _segments(data: bytes, **limits: int) -> list[Segment]:
    return list(text.extract(io.BytesIO(data), WHERE, Limits(**limits)))


@settings(max_examples=100)
@given(
    lines=st.lists(st.text(alphabet="ab é\t,", max_size=40), min_size=1, max_size=60),
    block=st.integers(1, 120),
    crlf=st.booleans(),
)
def test_text_line_numbers_are_right(lines: list[str], block: int, crlf: bool) -> None:
    """The segment holding line k starts at the right number and holds whole lines."""
    end = "\r\n" if crlf else "\n"
    data = "".join(line + end for line in lines).encode("utf-8")
    segments = _segments(data, block_chars=block)
    assert "".join(s.text for s in segments) == data.decode("utf-8")
    expected = 1
    for segment in segments:
        assert segment.where.line == expected
        assert segment.text.endswith("\n")
        expected += segment.text.count("\n")


@settings(max_examples=50)
@given(
    lines=st.lists(st.text(alphabet="xy é€😀", max_size=20), min_size=1, max_size=30),
    codec=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]),
    block=st.integers(1, 50),
)
def test_text_byte_ranges_match_the_raw_bytes(lines: list[str], codec: str, block: int) -> None:
    """Each segment's byte range re-decodes to its text (no substitutions)."""
    content = "plain ascii header\n" * 3 + "".join("x" + line + "\n" for line in lines)
    if codec == "cp1252":
        content = content.replace("😀", "").replace("€", "e")
    data = content.encode(codec)
    segments = _segments(data, block_chars=block)
    detected = _decode.detect(data)
    if detected == "utf-16":
        detected = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    elif detected == "utf-8-sig":
        detected = "utf-8"
    for segment in segments:
        start, end = segment.where.byte_start, segment.where.byte_end
        assert start is not None
        assert end is not None
        assert data[start:end].decode(detected) == segment.text


def test_text_long_line_is_cut_and_kept() -> None:
    """A line longer than max_line_chars is cut into pieces carrying its number."""
    data = b"first\n" + (b"word " * 1000) + b"\nlast\n"
    segments = _segments(data, block_chars=64, max_line_chars=300)
    assert "".join(s.text for s in segments) == data.decode()
    assert all(len(s.text) <= 300 for s in segments)
    assert {s.where.line for s in segments if "word" in s.text} == {2}
    assert segments[-1].where.line == 3
    assert all(s.text.endswith((" ", "\n")) for s in segments)  # cut at a space


def test_text_limit_keeps_what_was_read() -> None:
    """After max_text_chars the text so far is yielded, then the limit is raised."""
    data = b"line\n" * 100
    seen: list[Segment] = []
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        seen.extend(text.extract(io.BytesIO(data), WHERE, Limits(max_text_chars=52)))
    assert "".join(s.text for s in seen) == data.decode()[:52]


def test_text_read_error_yields_pending_text_first() -> None:
    """An ExtractError while reading yields the decoded text, then propagates."""

    class Broken(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            self.calls += 1
            if self.calls > 1:
                raise ExtractError("corrupt", "truncated gzip stream")
            memoryview(buffer).cast("B")[:11] = b"one\ntwo\nthr"
            return 11

    seen: list[Segment] = []
    with pytest.raises(ExtractError, match="truncated"):
        seen.extend(text.extract(io.BufferedReader(Broken()), WHERE, Limits()))  # type: ignore[arg-type]
    assert "".join(s.text for s in seen) == "one\ntwo\nthr"


def test_text_classic_mac_line_ends() -> None:
    """A file whose lines end with a lone CR is numbered by those."""
    segments = _segments(b"a\rb\rc\r", block_chars=2)
    assert [(s.text, s.where.line) for s in segments] == [("a\r", 1), ("b\r", 2), ("c\r", 3)]


def test_text_utf16_lines() -> None:
    """UTF-16 text is decoded, and its byte ranges count two bytes a character."""
    data = "one\ntwo\n".encode("utf-16")
    segments = _segments(data, block_chars=4)
    assert [(s.text, s.where.line, s.where.byte_start) for s in segments] == [
        ("one\n", 1, 2),
        ("two\n", 2, 10),
    ]
