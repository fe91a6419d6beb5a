"""RTF text and tables: escapes, code pages, skipped destinations, nesting, limits."""

from __future__ import annotations

import contextlib
import io
import random
import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import rtf
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

WHERE = Location(Path("letters/notice.rtf"))
Item = Segment | Rows | Unread


def _run(data: bytes, limits: Limits | None = None) -> list[Item]:
    return list(rtf.extract_rtf(io.BytesIO(data), WHERE, limits or Limits()))


def _text(items: list[Item]) -> str:
    return "".join(i.text for i in items if isinstance(i, Segment))


def _dashed(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def test_rtf_paragraphs_are_lines() -> None:
    """Paragraphs and line breaks end lines; control words and their spaces vanish."""
    ssn = _dashed(valid_ssn(random.Random(2)))
    doc = (
        rb"{\rtf1\ansi\deff0{\fonttbl{\f0\froman Times;}}{\colortbl;\red0\green0\blue0;}"
        b"\n\\pard\\plain\\f0\\fs24 Taxpayer: {\\b Pat Example}\\par\n"
        + b"SSN "
        + ssn.encode()
        + rb"\line 12 Oak St\par Done.}"
    )
    items = _run(doc)
    assert [(i.where.line, i.text) for i in items if isinstance(i, Segment)] == [
        (1, f"Taxpayer: Pat Example\nSSN {ssn}\n12 Oak St\nDone.\n")
    ]


def test_rtf_escapes_and_code_pages() -> None:
    """\\'hh bytes use the code page, \\uN skips its fallback, surrogate pairs are joined."""
    doc = (
        rb"{\rtf1\ansi\ansicpg1252 caf\'e9 \u8364? {\uc2\u20320\'3f\'3fx}"
        rb" \u-10179?\u-8694? \{brace\} back\\slash \emdash\tab\~end\par}"
    )
    assert _text(_run(doc)) == "café € 你x \U0001f60a {brace} back\\slash \u2014\t\u00a0end\n"
    japanese = rb"{\rtf1\ansi\ansicpg932 \'82\'a0\'82\'a2\par}"
    assert _text(_run(japanese)) == "\u3042\u3044\n"
    mac = rb"{\rtf1\mac \'8e\par}"
    assert _text(_run(mac)) == "\u00e9\n"


def test_rtf_skips_destinations_without_document_text() -> None:
    """Font tables, info, pictures, \\* groups and field instructions give no text."""
    doc = (
        rb"{\rtf1{\fonttbl{\f0 Arial;}}{\stylesheet{\s0 Normal;}}{\info{\author Some One}"
        rb"{\title Secret}}{\*\generator Writer;}{\pict\pngblip 89504e470d0a}"
        rb"{\field{\*\fldinst HYPERLINK \"http://example.test\"}{\fldrslt click}} here"
        rb"{\*\unknowndest hidden}\bin3 {}x visible\par}"
    )
    assert _text(_run(doc)) == "click here visible\n"


def test_rtf_tables_are_rows() -> None:
    """Table rows are Rows with a header, the table number and the line of the first row."""
    rng = random.Random(4)
    ssns = [_dashed(valid_ssn(rng)) for _ in range(3)]
    rows = b"".join(
        rb"\trowd\cellx2000\cellx4000\pard\intbl Person %d\cell %s\cell\row" % (i, s.encode())
        for i, s in enumerate(ssns)
    )
    doc = (
        rb"{\rtf1\pard Intro line\par"
        rb"\trowd\cellx2000\cellx4000\pard\intbl name\cell ssn\cell\row "
        + rows
        + rb"\pard Between\par\trowd\pard\intbl a\cell b\par c\cell\row\pard After\par}"
    )
    items = _run(doc)
    summary = [(type(i).__name__, i.where.line, i.where.sheet) for i in items]
    assert summary == [
        ("Segment", 1, None),
        ("Rows", 3, "table 1"),
        ("Segment", 6, None),
        ("Rows", 7, "table 2"),
        ("Segment", 8, None),
    ]
    first, second = (i for i in items if isinstance(i, Rows))
    assert (first.header, first.first_row, first.rows) == (
        ("name", "ssn"),
        2,
        [(f"Person {i}", s) for i, s in enumerate(ssns)],
    )
    assert (second.header, second.first_row, second.rows) == (None, 1, [("a", "b\nc")])
    assert [i.text for i in items if isinstance(i, Segment)] == [
        "Intro line\n",
        "Between\n",
        "After\n",
    ]


def test_rtf_table_batches() -> None:
    """A long table comes in batches of batch_rows with running row numbers."""
    body = b"".join(rb"\intbl r%d\cell v\cell\row" % i for i in range(25))
    items = _run(rb"{\rtf1 " + body + b"}", Limits(batch_rows=10))
    assert [(i.first_row, len(i.rows), i.where.line) for i in items if isinstance(i, Rows)] == [
        (1, 10, 1),
        (11, 10, 11),
        (21, 5, 21),
    ]


def test_rtf_100000_nested_groups() -> None:
    """100,000 nested braces are read without recursion, quickly."""
    depth = 100_000
    doc = b"{\\rtf1 " + b"{\\b " * depth + b"deep text\\par" + b"}" * depth + b"}"
    start = time.monotonic()
    assert _text(_run(doc)) == "deep text\n"
    assert time.monotonic() - start < 5


def test_rtf_alternating_group_states_are_bounded() -> None:
    """A hostile file that changes state at every one of 200,000 levels ends as corrupt."""
    doc = b"{\\rtf1 " + b"{\\uc1 {\\uc2 " * 100_001 + b"x"
    with pytest.raises(ExtractError) as caught:
        _run(doc)
    assert caught.value.reason == "corrupt"


def test_rtf_text_limit_keeps_what_was_read() -> None:
    """Past max_text_chars the text read is yielded, then the bytes limit is raised."""
    doc = b"{\\rtf1 " + b"".join(b"paragraph %d\\par " % i for i in range(5000)) + b"}"
    seen: list[Item] = []
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        seen.extend(rtf.extract_rtf(io.BytesIO(doc), WHERE, Limits(max_text_chars=2000)))
    text = _text(seen)
    assert text.startswith("paragraph 0\nparagraph 1\n")
    assert 1500 < len(text) <= 2000


def test_rtf_long_paragraph_is_cut_into_blocks() -> None:
    """A paragraph longer than block_chars is cut at spaces into bounded blocks."""
    words = " ".join(f"word{i}" for i in range(3000))
    items = _run(b"{\\rtf1 " + words.encode() + b"\\par}", Limits(block_chars=1000))
    segments = [i for i in items if isinstance(i, Segment)]
    assert len(segments) > 10
    assert all(len(s.text) <= 1000 and s.where.line == 1 for s in segments)
    assert "".join(s.text for s in segments) == words + "\n"


def test_rtf_chunk_boundaries_do_not_matter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading in tiny chunks gives the same text as reading at once."""
    doc = (
        rb"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 A;}} caf\'e9 \u8364? x\bin5 {{{{{ y"
        rb"{\*\x hidden} \intbl a\cell b\cell\row z\par}"
    ) * 20
    whole = _run(doc)
    for size in (1, 7, 65, 100):
        monkeypatch.setattr(rtf, "_CHUNK", size)
        assert _run(doc) == whole


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=4096), prefix=st.booleans())
def test_rtf_arbitrary_bytes_raise_only_extract_errors(raw: bytes, prefix: bool) -> None:
    """Any bytes end in items or an ExtractError, never another exception."""
    data = (b"{\\rtf1 " if prefix else b"") + raw
    with contextlib.suppress(ExtractError):
        _run(data, Limits(max_text_chars=10_000))


@settings(max_examples=100, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(
            [
                b"{",
                b"}",
                b"\\par ",
                b"\\cell ",
                b"\\row ",
                b"\\intbl ",
                b"\\pard ",
                b"ab ",
                b"\\'e9",
                b"\\u8364?",
                b"\\*",
                b"\\bin2 xy",
                b"\\uc0 ",
                b"\\",
                b"\n",
            ]
        ),
        max_size=60,
    )
)
@example(parts=[b"ab ", b"\\row ", b"\\", b"\\u8364?", b"\\cell "])  # a table with a header
def test_rtf_token_soup_lines_are_consistent(parts: list[bytes]) -> None:
    """Whatever the tokens, segment lines count up by the newlines before them; a table's
    line is that of its first data row (its header, if any, is the line before), as for
    delimited tables."""
    try:
        items = _run(b"{\\rtf1 " + b"".join(parts) + b"}")
    except ExtractError:
        return
    line = 1
    for item in items:
        assert isinstance(item, Segment | Rows)
        header = isinstance(item, Rows) and item.header is not None
        assert item.where.line == line + (1 if header else 0)
        line += (
            item.text.count("\n")
            if isinstance(item, Segment)
            else len(item.rows) + (1 if item.header is not None else 0)
        )
