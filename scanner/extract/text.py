"""Plain text: blocks of whole lines, each with the number of its first line.

The file is decoded in chunks of 1 MiB and cut at line ends with ``str.rfind`` and
``str.count`` (C loops), so nothing walks the text character by character in Python.

- A block holds whole lines and about ``limits.block_chars`` characters; a line longer
  than that forms a block of its own.
- A line longer than ``limits.max_line_chars`` is cut into pieces of at most that many
  characters, at the last whitespace in the final 1 KiB of a piece when there is one
  (so that a word is rarely split); every piece carries the line's number.
- Lines end at ``\\n`` (``\\r\\n`` included). A sample without ``\\n`` but with ``\\r``
  (classic Mac) ends lines at ``\\r``.
- ``where.byte_start``/``byte_end`` are offsets in the raw bytes of the stream. They are
  exact for UTF-8, Windows-1252 and UTF-16, unless the decoder had to substitute
  invalid bytes (then later offsets drift by the difference).
- After ``limits.max_text_chars`` characters the blocks read so far are yielded and
  `LimitExceeded` ("bytes") is raised.
- If reading fails with an `ExtractError` (a truncated compressed stream), the text
  decoded so far is yielded first, then the error is raised again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import IO

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _decode
from ftiscan.scanner.model import Limits, Location, Segment

__all__ = ["extract", "extract_text"]

_CHUNK = 1024 * 1024
_WORD_SLACK = 1024


def extract(fh: IO[bytes], where: Location, limits: Limits) -> Iterator[Segment]:
    """Yield `Segment` blocks of whole lines from the binary stream ``fh``."""
    head, stream = _decode.sniff(fh)
    codec = _decode.detect(head)
    sample = _decode.decode(head[: _decode.HEAD_BYTES], codec)
    sep = "\r" if "\n" not in sample and "\r" in sample else "\n"
    yield from extract_text(
        _decode.iter_text(stream, codec, _CHUNK),
        where,
        limits,
        codec=codec,
        sep=sep,
    )


def extract_text(
    pieces: Iterator[str],
    where: Location,
    limits: Limits,
    *,
    codec: str = "utf-8",
    sep: str = "\n",
    first_line: int = 1,
) -> Iterator[Segment]:
    """Cut already decoded ``pieces`` into blocks (see the module docstring).

    ``codec`` only serves to compute byte offsets; pass ``codec=""`` to omit them.
    """
    block_chars = max(1, limits.block_chars)
    max_line = max(1, limits.max_line_chars)
    line = first_line
    offset = _decode.bom_length(codec)
    pending = ""
    total = 0
    limit_hit = False

    def cut(final: bool) -> Iterator[Segment]:
        nonlocal pending, line, offset
        start = 0
        size = len(pending)
        while start < size:
            if not final and size - start < block_chars:
                break
            end = pending.rfind(sep, start, start + block_chars)
            if end >= 0:
                end += 1
            else:
                end = pending.find(sep, start + block_chars, start + max_line)
                if end >= 0:
                    end += 1
                elif size - start >= max_line:
                    # A line longer than max_line_chars: cut it, preferably at a space.
                    end = start + max_line
                    space = max(
                        pending.rfind(" ", end - _WORD_SLACK, end),
                        pending.rfind("\t", end - _WORD_SLACK, end),
                    )
                    if space > start:
                        end = space + 1
                elif final:
                    end = size
                else:
                    break
            text = pending[start:end]
            nbytes = _decode.byte_length(text, codec) if codec else 0
            yield Segment(
                text,
                replace(
                    where,
                    line=line,
                    byte_start=offset if codec else None,
                    byte_end=offset + nbytes if codec else None,
                ),
            )
            offset += nbytes
            line += text.count(sep)
            start = end
        pending = pending[start:]

    try:
        for piece in pieces:
            total += len(piece)
            if total > limits.max_text_chars:
                piece = piece[: len(piece) - (total - limits.max_text_chars)]
                limit_hit = True
            pending = pending + piece if pending else piece
            yield from cut(final=limit_hit)
            if limit_hit:
                break
    except ExtractError:
        yield from cut(final=True)
        raise
    yield from cut(final=True)
    if limit_hit:
        raise LimitExceeded("bytes", f"more than {limits.max_text_chars} characters of text")
