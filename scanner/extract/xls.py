"""Legacy Excel workbooks (.xls, BIFF2 to BIFF8, read with xlrd).

The ``Workbook`` (or ``Book``) stream is taken out of the OLE2 container with olefile
(`ftiscan.scanner.extract.ole`) and handed to xlrd in memory; its size counts against
``limits.max_decompressed_bytes`` before it is read (`LimitExceeded` ("bytes")).
Sheets are loaded one at a time and released after use.

- Every sheet gives `Rows` with ``where.sheet`` = the sheet name and ``first_row`` = the
  sheet row (1-based) of ``rows[0]``; batches of at most ``limits.batch_rows`` rows.
  Leading empty rows are skipped; a title above the table (one-cell rows, see
  `delimited.preamble_rows`) is its own batch; the first row is the header when
  `delimited.looks_like_header` says so, and data then starts at the row after it.
- Cells are text: numbers that are whole are written without ``.0`` (12345.0 ->
  ``12345``), other numbers as Python writes them, dates (by their number format)
  as ISO dates (``2024-04-15`` or ``2024-04-15 13:30:00``), booleans ``TRUE``/``FALSE``,
  errors as Excel shows them (``#N/A``). Trailing empty cells of a row are dropped.
- A workbook protected with a password (a FILEPASS record) raises `ExtractError`
  ("encrypted"); one xlrd cannot parse raises ("corrupt"); a sheet that fails to load
  yields `Unread` (sheet, "corrupt") and the other sheets are read.
- After ``limits.max_text_chars`` characters of cell text, `LimitExceeded` ("bytes").
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, Any

import xlrd

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import ole as _ole
from ftiscan.scanner.extract.delimited import looks_like_header, preamble_rows
from ftiscan.scanner.model import Limits, Location, Rows, Unread

__all__ = ["cell_text", "extract_xls"]

_HEADER_ROWS = 20
_WHOLE = 1e21  # whole floats below this are written as integers


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < _WHOLE:
        return str(int(value))
    return repr(value)


def cell_text(ctype: int, value: Any, datemode: int) -> str:
    """The text of one xlrd cell (see the module docstring).

    >>> cell_text(xlrd.XL_CELL_NUMBER, 457555462.0, 0)  # a void SSN (python-stdnum)
    '457555462'
    >>> cell_text(xlrd.XL_CELL_DATE, 45397.5, 0)
    '2024-04-15 12:00:00'
    """
    if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if ctype == xlrd.XL_CELL_TEXT:
        return str(value)
    if ctype == xlrd.XL_CELL_NUMBER:
        return _number(float(value))
    if ctype == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate_as_datetime(float(value), datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return _number(float(value))
        if moment.hour == moment.minute == moment.second == 0 and float(value).is_integer():
            return str(moment.date().isoformat())
        return str(moment.isoformat(sep=" "))
    if ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if ctype == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(value, "#ERR"))
    return str(value)


def _open_book(data: bytes) -> Any:
    log = io.StringIO()  # xlrd writes warnings to a log; they are dropped unread
    try:
        return xlrd.open_workbook(file_contents=data, on_demand=True, logfile=log)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise ExtractError("encrypted", "xls workbook protected with a password") from exc
        raise ExtractError("corrupt", f"xls workbook unreadable ({type(exc).__name__})") from exc
    except Exception as exc:  # xlrd raises struct.error, IndexError, AssertionError ...
        raise ExtractError("corrupt", f"xls workbook unreadable ({type(exc).__name__})") from exc


def extract_xls(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Rows | Unread]:
    """Yield `Rows` for every sheet of the .xls workbook in ``fh``."""
    container = _ole.open_ole(fh, limits)
    try:
        budget = _ole.Budget(limits.max_decompressed_bytes)
        name = next((n for n in ("Workbook", "Book") if container.exists(n)), None)
        if name is None:
            raise ExtractError("corrupt", "no Workbook stream in the OLE2 file")
        data = _ole.read_stream(container, [name], budget)
    finally:
        container.close()
    book = _open_book(data)
    del data
    try:
        total = 0
        for index, sheet_name in enumerate(book.sheet_names()):
            sheet_where = replace(where, sheet=str(sheet_name))
            try:
                sheet = book.sheet_by_index(index)
            except Exception:  # a damaged sheet substream; the others may be fine
                yield Unread(sheet_where, "corrupt")
                continue
            for batch in _sheet_rows(sheet, book.datemode, sheet_where, limits):
                total += sum(len(cell) for row in batch.rows for cell in row)
                yield batch
                if total > limits.max_text_chars:
                    raise LimitExceeded(
                        "bytes", f"more than {limits.max_text_chars} characters of cells"
                    )
            book.unload_sheet(index)
    finally:
        book.release_resources()


def _row(sheet: Any, index: int, datemode: int) -> tuple[str, ...]:
    cells = [
        cell_text(ctype, value, datemode)
        for ctype, value in zip(sheet.row_types(index), sheet.row_values(index), strict=False)
    ]
    while cells and not cells[-1]:
        cells.pop()
    return tuple(cells)


def _sheet_rows(sheet: Any, datemode: int, where: Location, limits: Limits) -> Iterator[Rows]:
    count = int(sheet.nrows)
    size = max(1, limits.batch_rows)
    start = 0
    while start < count and not _row(sheet, start, datemode):
        start += 1
    if start >= count:
        return
    head = [_row(sheet, i, datemode) for i in range(start, min(count, start + _HEADER_ROWS + 1))]
    lead = preamble_rows(head)
    if lead:
        yield Rows(head[:lead], start + 1, None, where)
        start += lead
        head = head[lead:]
    header: tuple[str, ...] | None = None
    if looks_like_header(head):
        header = head[0]
        start += 1
    for first in range(start, count, size):
        rows = [_row(sheet, i, datemode) for i in range(first, min(count, first + size))]
        yield Rows(rows, first + 1, header, where)
