"""Fixed-width records: columns inferred from the spaces that line up.

`infer_columns` looks at a sample of lines: a position that is a space (or past the end
of the line) in at least 95 % of the lines separates columns, and each run of other
positions is a column. A column's cell runs from its start to the next column's start
(so a value that spills into the gap is kept whole) and is stripped; the last column
runs to the end of the line. The first line is a header when it has no digits and its
words sit inside the columns. Rows are numbered like lines (the header is row 1);
blank lines are skipped. Lines longer than ``limits.max_line_chars`` are read in pieces,
each piece a row with the line's number.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import IO

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract import _decode
from ftiscan.scanner.extract.delimited import sample_lines
from ftiscan.scanner.model import Limits, Location, Rows

__all__ = ["extract", "infer_columns", "is_header_line"]

_SAMPLE_LINES = 200
_TOKEN = re.compile(r"\S+")


def infer_columns(lines: Sequence[str], threshold: float = 0.95) -> list[int]:
    """Start positions of the columns of ``lines`` (the first is always 0).

    >>> infer_columns(["AB  12", "CD  34", "EF  56"])
    [0, 4]
    """
    rows = [line for line in lines if line.strip()]
    if not rows:
        return [0]
    width = max(len(line) for line in rows)
    need = math.ceil(threshold * len(rows))
    padded = [line.ljust(width) for line in rows]
    gap = [column.count(" ") >= need for column in zip(*padded, strict=True)]
    starts = [0]
    for position in range(1, width):
        if gap[position - 1] and not gap[position]:
            starts.append(position)
    if gap and gap[0] and len(starts) > 1:
        starts.pop(0)
        starts[0] = 0
    return starts


def is_header_line(line: str, starts: Sequence[int]) -> bool:
    """Whether ``line`` names the columns starting at ``starts``: words, no digits.

    >>> is_header_line("NAME  ZIP", [0, 6])
    True
    """
    if any(ch.isdigit() for ch in line) or not any(ch.isalpha() for ch in line):
        return False
    tokens = [(match.start(), match.end()) for match in _TOKEN.finditer(line)]
    if len(tokens) < 2:
        return False
    bounds = [*starts[1:], math.inf]
    inside = 0
    for start, end in tokens:
        for column, first in enumerate(starts):
            if first <= start < bounds[column]:
                inside += end <= bounds[column]
                break
    return inside * 5 >= len(tokens) * 4


def _cells(line: str, spans: Sequence[tuple[int, int | None]]) -> tuple[str, ...]:
    return tuple([line[start:end].strip() for start, end in spans])


def extract(fh: IO[bytes], where: Location, limits: Limits) -> Iterator[Rows]:
    """Yield `Rows` batches from the fixed-width file in the binary stream ``fh``."""
    head, stream = _decode.sniff(fh)
    codec = _decode.detect(head)
    lines = sample_lines(_decode.decode(head, codec), len(head) < _decode.HEAD_BYTES, _SAMPLE_LINES)
    starts = infer_columns(lines[1:] if len(lines) > 2 else lines)
    has_header = bool(lines) and is_header_line(lines[0], starts)
    spans: list[tuple[int, int | None]] = list(zip(starts, [*starts[1:], None], strict=True))
    wrapper = io.TextIOWrapper(stream, encoding=codec, errors=_decode.ERRORS, newline="")
    try:
        yield from _rows(wrapper, spans, has_header, where, limits)
    finally:
        with contextlib.suppress(ValueError):
            wrapper.detach()  # never close the caller's stream


def _rows(
    wrapper: io.TextIOWrapper,
    spans: Sequence[tuple[int, int | None]],
    has_header: bool,
    where: Location,
    limits: Limits,
) -> Iterator[Rows]:
    header: tuple[str, ...] | None = None
    batch: list[tuple[str, ...]] = []
    first_row = 1
    number = 1
    batch_rows = max(1, limits.batch_rows)
    limit = max(1, limits.max_line_chars)

    def flush() -> Rows:
        nonlocal batch
        out = Rows(batch, first_row, header, replace(where, line=first_row))
        batch = []
        return out

    try:
        while line := wrapper.readline(limit):
            ends = line.endswith(("\n", "\r"))
            text = line.rstrip("\r\n")
            if number == 1 and has_header and header is None:
                header = _cells(text, spans)
            elif text.strip():
                if batch and number != first_row + len(batch):
                    yield flush()
                if not batch:
                    first_row = number
                batch.append(_cells(text, spans))
                if len(batch) >= batch_rows:
                    yield flush()
            if ends:
                number += 1
    except ExtractError:
        if batch:
            yield flush()
        raise
    if batch:
        yield flush()
