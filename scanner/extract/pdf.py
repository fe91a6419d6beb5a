"""PDF: the text layer of every page, read with PDFium (pypdfium2).

- Each page's text gives `Segment` blocks of whole lines with ``where.page`` = the page
  (1-based) and ``where.line`` = the line within that page (1-based), as PDFium orders
  the text; blocks hold at most ``limits.block_chars`` characters. The values of the
  page's text form fields (a filled-in form keeps them outside the page content) and
  the contents of its comments follow, one per line.
- A page without text (a scan) yields `Unread` (page, "no-text-layer"), at most 20 of
  them, then one `Unread` (file, "no-text-layer") for the rest; a PDF none of whose pages
  holds text yields nothing and raises `ExtractError` ("no-text-layer", "N pages, no
  text") once its attachments were read. A page PDFium cannot load: `Unread` (page,
  "corrupt").
- Embedded files (the document's attachments) are handed to the registry as members
  ``attachments/<name>`` joined onto ``where.member`` (a repeated name gets ``~2`` ...),
  one level deeper; at
  ``limits.max_depth`` they give `Unread` (member, "limit:depth"), past
  ``limits.max_members`` one `Unread` (file, "limit:members"). An attachment larger than
  the bytes left (``limits.max_decompressed_bytes``, counted over all attachments) gives
  `Unread` (member, "limit:bytes").
- A PDF that needs a password: `ExtractError` ("encrypted"); one PDFium cannot open:
  ("corrupt"). After ``limits.max_text_chars`` characters, `LimitExceeded` ("bytes").

The file is read in place when the stream can seek (PDFium asks for the blocks it
needs), else into memory, at most ``limits.max_decompressed_bytes`` (`LimitExceeded`
("bytes")). Nothing is written. PDFium is not thread-safe, even across documents: every
call into it holds one process-wide lock, released before anything is yielded.
"""

from __future__ import annotations

import ctypes
import io
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import IO, Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ftiscan.scanner.errors import ExtractError
from ftiscan.scanner.extract import text
from ftiscan.scanner.extract._streams import random_access
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["MAX_PAGE_NOTES", "extract_pdf"]

MAX_PAGE_NOTES = 20
"""Pages without text reported one by one; the rest get one summary `Unread`."""

_LOCK = threading.RLock()
_ENCRYPTED = (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY)
_FIELDS = (
    pdfium_c.FPDF_FORMFIELD_TEXTFIELD,
    pdfium_c.FPDF_FORMFIELD_COMBOBOX,
    pdfium_c.FPDF_FORMFIELD_LISTBOX,
)
_COMMENTS = (pdfium_c.FPDF_ANNOT_TEXT, pdfium_c.FPDF_ANNOT_FREETEXT)


def _source(fh: IO[bytes], limits: Limits) -> IO[bytes] | bytes:
    stream = random_access(fh, limits.max_decompressed_bytes)
    if isinstance(stream, io.BytesIO) or callable(getattr(stream, "readinto", None)):
        return stream
    return stream.read()  # pragma: no cover - a seekable stream without readinto


def _open(source: IO[bytes] | bytes) -> pdfium.PdfDocument:
    with _LOCK:
        try:
            doc = pdfium.PdfDocument(source)
        except pdfium.PdfiumError as exc:
            if exc.err_code in _ENCRYPTED:
                raise ExtractError("encrypted", "PDF needs a password") from exc
            raise ExtractError("corrupt", "PDFium cannot open the file") from exc
        except Exception as exc:  # ctypes errors from a broken stream
            raise ExtractError("corrupt", f"PDF unreadable ({type(exc).__name__})") from exc
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # XFA forms this PDFium build cannot load
                doc.init_forms()
        except pdfium.PdfiumError:
            pass  # without a form environment, field values are not read
        return doc


def _wide(call: Callable[[Any, int], int]) -> str:
    """A UTF-16 string from a PDFium getter that takes (buffer, size in bytes)."""
    size = int(call(None, 0))
    if size <= 2:
        return ""
    buffer = (pdfium_c.FPDF_WCHAR * (size // 2))()
    call(buffer, size)
    return bytes(buffer)[: size - 2].decode("utf-16-le", "replace")


def _annotation_text(doc: pdfium.PdfDocument, page: pdfium.PdfPage) -> list[str]:
    """Values of text form fields and the contents of comments on ``page``."""
    out: list[str] = []
    form = doc.formenv
    for index in range(int(pdfium_c.FPDFPage_GetAnnotCount(page))):
        annot = pdfium_c.FPDFPage_GetAnnot(page, index)
        if not annot:
            continue
        try:
            kind = pdfium_c.FPDFAnnot_GetSubtype(annot)
            if kind == pdfium_c.FPDF_ANNOT_WIDGET and form:
                if pdfium_c.FPDFAnnot_GetFormFieldType(form, annot) in _FIELDS:
                    out.append(_wide(partial(pdfium_c.FPDFAnnot_GetFormFieldValue, form, annot)))
            elif kind in _COMMENTS:
                out.append(_wide(partial(pdfium_c.FPDFAnnot_GetStringValue, annot, b"Contents")))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return [value for value in out if value.strip()]


def _page_text(doc: pdfium.PdfDocument, index: int) -> str | None:
    """The text of page ``index`` with ``\\n`` line ends, or None if it cannot load."""
    with _LOCK:
        try:
            page = doc[index]
        except pdfium.PdfiumError:
            return None
        try:
            textpage = page.get_textpage()
            try:
                value = str(textpage.get_text_range())
            finally:
                textpage.close()
            extra = _annotation_text(doc, page)
        except pdfium.PdfiumError:
            return None
        finally:
            page.close()
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if extra:
        lines = "\n".join(" ".join(item.split()) for item in extra)
        value = f"{value}\n{lines}" if value.strip() else lines
    return value


def _attachment(
    doc: pdfium.PdfDocument, index: int, room: int
) -> tuple[str, bytes | None, str | None]:
    """(name, data, reason): data is None when the attachment is not read, for reason."""
    with _LOCK:
        try:
            handle = doc.get_attachment(index)
            name = str(handle.get_name())
        except pdfium.PdfiumError:
            return f"attachment{index + 1}", None, "corrupt"
        size = ctypes.c_ulong()
        if not pdfium_c.FPDFAttachment_GetFile(handle, None, 0, ctypes.byref(size)):
            return name, None, "corrupt"
        if size.value > room:
            return name, None, "limit:bytes"
        try:
            data = bytes(handle.get_data())
        except pdfium.PdfiumError:
            return name, None, "corrupt"
    return name, data, None


def _member(where: Location, name: str, seen: dict[str, int]) -> Location:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
    count = seen[base.lower()] = seen.get(base.lower(), 0) + 1
    inner = f"attachments/{base}" if count == 1 else f"attachments/{base}~{count}"
    return replace(
        where,
        member=f"{where.member}/{inner}" if where.member else inner,
        page=None,
        line=None,
        byte_start=None,
        byte_end=None,
    )


def _attachments(
    doc: pdfium.PdfDocument, where: Location, limits: Limits, depth: int
) -> Iterator[Segment | Rows | Unread]:
    from ftiscan.scanner.extract import extract as dispatch

    with _LOCK:
        count = int(doc.count_attachments())
    room = limits.max_decompressed_bytes
    seen: dict[str, int] = {}
    for index in range(count):
        if index >= limits.max_members:
            yield Unread(where, "limit:members")
            return
        name, data, reason = _attachment(doc, index, room)
        inner = _member(where, name, seen)
        if data is None:
            yield Unread(inner, reason or "corrupt")
            continue
        room -= len(data)
        if depth >= limits.max_depth:
            yield Unread(inner, "limit:depth")
            continue
        try:
            _, items = dispatch(io.BytesIO(data), inner, limits, depth + 1)
            yield from items
        except ExtractError as exc:
            why = f"unsupported:{exc.detail}" if exc.reason == "unsupported" else exc.reason
            yield Unread(inner, why)


def extract_pdf(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield the text of every page of the PDF in ``fh`` (see the module docstring)."""
    doc = _open(_source(fh, limits))
    try:
        with _LOCK:
            pages = len(doc)
        blank: list[int] = []  # pages without text, reported once a page with text is seen
        blank_count = 0
        seen_text = False
        total = 0
        for index in range(pages):
            number = index + 1
            page_where = replace(where, page=number, line=None)
            value = _page_text(doc, index)
            if value is None:
                yield Unread(page_where, "corrupt")
                continue
            if not value.strip():
                blank_count += 1
                if blank_count <= MAX_PAGE_NOTES:
                    if seen_text:
                        yield Unread(page_where, "no-text-layer")
                    else:
                        blank.append(number)
                continue
            if not seen_text:
                seen_text = True
                for early in blank:
                    yield Unread(replace(where, page=early, line=None), "no-text-layer")
                blank.clear()
            if not value.endswith("\n"):
                value += "\n"
            room = limits.max_text_chars - total
            total += len(value)
            yield from text.extract_text(
                iter([value]), page_where, replace(limits, max_text_chars=room), codec=""
            )
        if seen_text and blank_count > MAX_PAGE_NOTES:
            yield Unread(where, "no-text-layer")
        yield from _attachments(doc, where, limits, depth)
        if not seen_text and pages:
            raise ExtractError("no-text-layer", f"{pages} pages, no text")
    finally:
        with _LOCK:
            doc.close()
