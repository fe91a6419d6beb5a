"""E-mail: RFC 5322 messages with MIME parts (``.eml``), and mbox files of several.

The message is read into memory (at most ``limits.max_decompressed_bytes``; beyond, what
was read is scanned and `LimitExceeded` ("bytes") follows). MIME structure is split here
(boundaries found with one regular expression per multipart), header blocks are parsed
with the standard ``email`` package, so that the number of parts and their nesting are
bounded before any work is done per part (the standard parser takes quadratic time on
100,000 parts and recurses on deep nesting).

What it yields, and where:

- the header fields From, To, Cc, Reply-To, Subject and Date as prose, RFC 2047 words
  decoded: one `Segment` per field, ``where.line`` = the line the field starts on in the
  message (in the file for the message itself and for each message of an mbox, whose
  ``member`` is ``message-<n>``; within the member for an attached message);
- each text body (``text/plain``, and ``text/html`` stripped to its text without scripts
  and styles) decoded from its transfer encoding (base64, quoted-printable, 7bit, 8bit)
  and charset (an unknown or wrong charset falls back to the encoding detector of
  `ftiscan.scanner.extract._decode`): a message that is not multipart and whose body is
  not encoded keeps the message's ``member`` and file lines; any other body gets
  ``member`` ``body/<n>`` (the n-th text body of that message) and lines counted within
  the decoded body;
- attachments (parts with a file name, and parts that are not text) are handed to the
  registry one level deeper, ``member`` ``attachments/<file name>`` (or
  ``attachments/part-<n>``, n numbering the parts of the message depth first); an
  attached message (``message/rfc822``) is read as a message, with its own members below
  its name.

`Unread`: a part whose base64 is not base64 (bad characters or length): ``corrupt``, the
other parts are read; past ``limits.max_members`` parts in one message: one
``limit:members`` for the message, then nothing more of it; multipart nesting (or
attached messages) deeper than ``limits.max_depth`` containers: ``limit:depth`` for the
part that would go deeper.
"""

from __future__ import annotations

import base64
import binascii
import email.header
import email.message
import email.policy
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import IO

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _decode
from ftiscan.scanner.extract._streams import read_bounded
from ftiscan.scanner.extract.archive import dispatch_member, member_location
from ftiscan.scanner.extract.text import extract_text
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["PROSE_HEADERS", "extract_eml", "html_text", "looks_like_mail"]

Item = Segment | Rows | Unread

PROSE_HEADERS = ("from", "to", "cc", "reply-to", "subject", "date")
"""Header fields yielded as prose (others are not scanned)."""

_KNOWN = frozenset(
    {"from", "to", "subject", "date", "message-id", "mime-version", "received", "return-path"}
)
_FIELD = re.compile(rb"([!-9;-~]+)[ \t]*:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MBOX_FROM = re.compile(rb"(?:\A|\n\r?\n)(From [^\n]*\n)")
_HEAD_LINES = 100
_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    | {"blockquote", "pre", "hr", "section", "article", "header", "footer", "title"}
)
_CELL_TAGS = frozenset({"td", "th"})
_IDENTITY = frozenset({"", "7bit", "8bit", "binary"})
_HTML_CHUNK = 256 * 1024


def looks_like_mail(head: bytes) -> bool:
    """Whether ``head`` starts like an RFC 5322 message or an mbox file.

    The first lines (up to a blank line, at most 100) must all be header fields or their
    continuations, among them at least two of From, To, Subject, Date, Message-ID,
    MIME-Version, Received and Return-Path. An mbox starts with a ``From `` line.

    >>> looks_like_mail(b"From: a@example.com\\r\\nSubject: hi\\r\\n\\r\\nbody")
    True
    >>> looks_like_mail(b"Subject: only one known field\\nX-Other: y\\n\\nbody")
    False
    """
    lines = head.split(b"\n")
    if len(head) >= _decode.HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    known: set[str] = set()
    seen = 0
    for line in lines[:_HEAD_LINES]:
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if not seen:
                return False
            continue
        match = _FIELD.match(line)
        if match is None:
            return False
        seen += 1
        name = match.group(1).decode("ascii").lower()
        if name in _KNOWN:
            known.add(name)
    return len(known) >= 2


class _HtmlText(HTMLParser):
    """Text of an HTML document: no tags, no scripts or styles; blocks end lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts = []
        return text


def html_text(markup: str) -> Iterator[str]:
    """The text of ``markup`` (see `_HtmlText`), in pieces.

    >>> "".join(html_text("<p>Dear <b>taxpayer</b></p><script>x=1</script>"))
    '\\nDear taxpayer\\n'
    """
    parser = _HtmlText()
    for start in range(0, len(markup), _HTML_CHUNK):
        parser.feed(markup[start : start + _HTML_CHUNK])
        text = parser.take()
        if text:
            yield text
    parser.close()
    text = parser.take()
    if text:
        yield text


def _text(data: bytes, charset: str | None) -> str:
    """``data`` decoded with ``charset`` when it is a text codec, else as detected."""
    if charset:
        name = charset.strip().lower()
        if not (name in ("us-ascii", "ascii") and not data.isascii()):
            try:
                return data.decode(name, _decode.ERRORS)  # refuses non-text codecs
            except (LookupError, ValueError, UnicodeError):
                pass
    return _decode.decode(data, _decode.detect(data[: _decode.HEAD_BYTES]))


def _header_text(raw: bytes) -> str:
    """A header value: unfolded, 8-bit bytes detected, RFC 2047 words decoded."""
    value = re.sub(rb"\r?\n(?=[ \t])", b"", raw).strip()
    text = _text(value, "utf-8")
    try:
        pieces = email.header.decode_header(text)
    except (ValueError, IndexError, binascii.Error):
        return text
    out: list[str] = []
    for piece, charset in pieces:
        out.append(piece if isinstance(piece, str) else _text(piece, charset))
    return "".join(out)


class _Lines:
    """Line numbers of byte offsets in ``data``, counted forward from the last one asked."""

    def __init__(self, data: bytes, first: int = 1) -> None:
        self._data, self._pos, self._line = data, 0, first
        self._first = first

    def at(self, offset: int) -> int:
        if offset < self._pos:
            self._pos, self._line = 0, self._first
        self._line += self._data.count(b"\n", self._pos, offset)
        self._pos = offset
        return self._line


@dataclass(slots=True)
class _Part:
    """A MIME entity: its header fields (with lines) and where its body starts."""

    fields: list[tuple[str, int, bytes]]  # (lower-case name, line offset, raw value)
    message: email.message.Message
    body_start: int


def _parse_headers(data: bytes, start: int, stop: int) -> _Part:
    """The header block of the entity at ``data[start:stop]``.

    An entity whose first line is not a header field has no headers (its body starts at
    once), as one that starts with a blank line.
    """
    if data.startswith(b"\r\n", start, stop):
        end, body = start, start + 2
    elif data.startswith(b"\n", start, stop) or _FIELD.match(data, start, stop) is None:
        end, body = start, start + (1 if data.startswith(b"\n", start, stop) else 0)
    else:
        match = _HEADER_END.search(data, start, stop)
        end, body = (stop, stop) if match is None else (match.start(), match.end())
    found: list[tuple[str, int, list[bytes]]] = []
    for line, raw in enumerate(data[start:end].split(b"\n")):
        if raw[:1] in (b" ", b"\t") and found:
            found[-1][2].append(raw)
        else:
            match_field = _FIELD.match(raw)
            if match_field is not None:
                name = match_field.group(1).decode("ascii").lower()
                found.append((name, line, [raw[match_field.end() :]]))
    fields = [(name, line, b"\n".join(value)) for name, line, value in found]
    message = email.message.Message(policy=email.policy.compat32)
    for name, _, value in fields:
        if name in ("content-type", "content-disposition", "content-transfer-encoding"):
            unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", value).strip()
            message[name] = unfolded.decode("latin-1")
    return _Part(fields, message, body)


@dataclass(slots=True)
class _Walk:
    """The state of reading one message."""

    where: Location
    limits: Limits
    depth: int
    parts: int = 0
    bodies: int = 0
    stopped: bool = False


def _decode_body(data: bytes, cte: str) -> bytes | None:
    """The body decoded from its transfer encoding; None when base64 is not base64."""
    if cte == "base64":
        cleaned = re.sub(rb"[ \t\r\n]+", b"", data)
        cleaned += b"=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned, validate=True)
        except (binascii.Error, ValueError):
            return None
    if cte == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


def _content(part: _Part) -> tuple[str, str | None, str | None, str, str | None]:
    """(content type, charset, file name, transfer encoding, boundary), never raising."""
    msg = part.message
    try:
        ctype = msg.get_content_type()
        charset = msg.get_content_charset()
        filename = msg.get_filename()
        boundary = msg.get_boundary()
        disposition = msg.get_content_disposition()
    except (ValueError, LookupError, IndexError, TypeError, UnicodeError):
        ctype, charset, filename, boundary, disposition = "text/plain", None, None, None, None
    cte = str(msg.get("content-transfer-encoding", "")).strip().lower()
    if filename is None and disposition == "attachment":
        filename = ""
    return ctype, charset, filename, cte, boundary


def _read_message(
    data: bytes, where: Location, limits: Limits, depth: int, first_line: int = 1
) -> Iterator[Item]:
    walk = _Walk(where, limits, depth)
    lines = _Lines(data, first_line)
    top = _parse_headers(data, 0, len(data))
    for name, offset, value in top.fields:
        if name in PROSE_HEADERS:
            text = _header_text(value)
            label = name.title()
            yield Segment(f"{label}: {text}\n", replace(where, line=lines.at(0) + offset))
    yield from _entity(walk, data, top, 0, len(data), lines, level=0, top_level=True)


def _entity(
    walk: _Walk,
    data: bytes,
    part: _Part,
    start: int,
    end: int,
    lines: _Lines,
    level: int,
    top_level: bool = False,
) -> Iterator[Item]:
    """The body of ``part`` (headers at ``data[start:]``, entity ending at ``end``)."""
    limits = walk.limits
    ctype, charset, filename, cte, boundary = _content(part)
    body_start = min(part.body_start, end)
    if not top_level:
        walk.parts += 1
        if walk.parts > limits.max_members:
            walk.stopped = True
            yield Unread(walk.where, "limit:members")
            return
    number = walk.parts
    if ctype.startswith("multipart/") and boundary and filename is None:
        if walk.depth + level >= limits.max_depth:
            yield Unread(_attachment(walk, filename, number), "limit:depth")
            return
        yield from _multipart(walk, data, boundary, body_start, end, lines, level + 1)
        return
    is_text = ctype in ("text/plain", "text/html") and filename is None
    if ctype == "message/rfc822" and cte in _IDENTITY:
        where = _attachment(walk, filename, number)
        if walk.depth + 1 >= limits.max_depth:
            yield Unread(where, "limit:depth")
            return
        yield from _read_message(data[body_start:end], where, limits, walk.depth + 1)
        return
    raw = data[body_start:end]
    decoded = _decode_body(raw, cte)
    if is_text:
        walk.bodies += 1
        in_place = top_level and cte in _IDENTITY
        where = walk.where if in_place else _body(walk, walk.bodies)
        if decoded is None:
            yield Unread(where, "corrupt")
            return
        text = _text(decoded, charset)
        pieces = html_text(text) if ctype == "text/html" else iter((text,))
        first = lines.at(body_start) if in_place else 1
        try:
            yield from extract_text(pieces, where, limits, codec="", first_line=first)
        except ExtractError as exc:
            yield Unread(where, exc.reason)
        return
    where = _attachment(walk, filename, number)
    if decoded is None:
        yield Unread(where, "corrupt")
        return
    # Attachments are one level below the message, however deep its multipart nesting.
    yield from dispatch_member(io.BytesIO(decoded), where, limits, walk.depth)


def _body(walk: _Walk, number: int) -> Location:
    return member_location(walk.where, f"body/{number}")


def _attachment(walk: _Walk, filename: str | None, number: int) -> Location:
    name = (filename or "").replace("\x00", "").lstrip("/") or f"part-{number}"
    return member_location(walk.where, f"attachments/{name}")


def _multipart(
    walk: _Walk,
    data: bytes,
    boundary: str,
    start: int,
    end: int,
    lines: _Lines,
    level: int,
) -> Iterator[Item]:
    """The parts between the delimiter lines of ``boundary`` in ``data[start:end]``."""
    delimiter = re.compile(
        rb"(?m)^--" + re.escape(boundary.encode("latin-1", "replace")) + rb"(--)?[ \t]*\r?$"
    )
    spans: list[tuple[int, int]] = []
    part_start: int | None = None
    for match in delimiter.finditer(data, start, end):
        if part_start is not None:
            stop = match.start()
            if data[stop - 2 : stop] == b"\r\n":  # the line break belongs to the delimiter
                stop -= 2
            elif data[stop - 1 : stop] == b"\n":
                stop -= 1
            spans.append((part_start, max(part_start, stop)))
            if len(spans) > walk.limits.max_members:
                break
        if match.group(1):  # the close delimiter
            part_start = None
            break
        newline = data.find(b"\n", match.end(), end)
        part_start = end if newline < 0 else newline + 1
    if part_start is not None and (not spans or len(spans) <= walk.limits.max_members):
        spans.append((part_start, end))  # no close delimiter: the part runs to the end
    for part_start, part_end in spans:
        if walk.stopped:
            return
        part = _parse_headers(data, part_start, part_end)
        yield from _entity(walk, data, part, part_start, part_end, lines, level)


def _messages(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of the messages of an mbox (each after its ``From `` line)."""
    previous: tuple[int, int] | None = None
    for match in _MBOX_FROM.finditer(data):
        if previous is not None:
            yield previous[1], match.start(1)
        previous = match.start(1), match.end(1)
    if previous is not None:
        yield previous[1], len(data)


def _read_capped(fh: IO[bytes], limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of ``fh``, and whether there was more."""
    start = fh.tell() if fh.seekable() else None
    try:
        return read_bounded(fh, limit), False
    except LimitExceeded:
        pass
    if start is not None:
        fh.seek(start)
        return fh.read(limit), True
    return b"", True  # pragma: no cover - the registry hands over seekable or prefixed streams


def extract_eml(fh: IO[bytes], where: Location, limits: Limits, depth: int = 0) -> Iterator[Item]:
    """Yield the header fields, bodies and attachments of the message or mbox ``fh``."""
    if depth >= limits.max_depth:
        yield Unread(where, "limit:depth")
        return
    data, truncated = _read_capped(fh, limits.max_decompressed_bytes)
    if data.startswith(b"From "):
        lines = _Lines(data)
        for number, (start, end) in enumerate(_messages(data), start=1):
            if number > limits.max_members:
                yield Unread(where, "limit:members")
                break
            member = member_location(where, f"message-{number}")
            yield from _read_message(data[start:end], member, limits, depth, lines.at(start))
    else:
        yield from _read_message(data, where, limits, depth)
    if truncated:
        raise LimitExceeded("bytes", f"message larger than {limits.max_decompressed_bytes} bytes")
