"""Outlook messages (.msg): headers, body and attachments, read from the OLE2 streams.

A .msg file is an OLE2 container ([MS-OXMSG]): each property of the message is a stream
``__substg1.0_IIIITTTT`` (property id, type) or an entry of ``__properties_version1.0``;
recipients and attachments are storages of their own. This reader uses olefile only
(`ftiscan.scanner.extract.ole`); nothing is written anywhere and no process is started.

- The message is rendered like an e-mail: header lines ``From:``, ``To:``, ``Cc:``,
  ``Bcc:``, ``Subject:``, ``Date:`` (those present, from lines 1), an empty line, then
  the body; `Segment` blocks carry ``where.line`` in that rendering.
- The body is the plain text body; without one, the HTML body as text (tags dropped,
  block elements end lines, empty lines dropped, cells separated by tabs); without
  one, the RTF body (LZFu-decompressed, read by `ftiscan.scanner.extract.rtf`).
- Attachments are handed to the registry as members ``attachments/<file name>`` joined
  onto ``where.member`` (a repeated name gets ``~2``, ``~3`` ...). An attached message is
  read the same way, one level deeper; OLE objects are `Unread` ("unsupported:ole-object");
  links to files elsewhere carry no data and are skipped. A member that fails yields
  `Unread` (member, reason) and the others are read.
- Limits: bytes read out of streams (decompressed RTF included) against
  ``limits.max_decompressed_bytes`` (`LimitExceeded` ("bytes")); attachments past
  ``limits.max_members`` give one `Unread` (message, "limit:members"); a member at
  ``limits.max_depth`` gives `Unread` (member, "limit:depth").
- A container without message streams, or one olefile cannot parse: `ExtractError`
  ("corrupt").
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import posixpath
import struct
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from typing import IO

import olefile

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.extract import _decode, rtf, text
from ftiscan.scanner.extract import ole as _ole
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

__all__ = ["decompress_rtf", "extract_msg", "html_text"]

_PROPS = "__properties_version1.0"
_ATTACH = "__attach_version1.0_#"
_RECIP = "__recip_version1.0_#"
_EMBEDDED = "__substg1.0_3701000D"

_SUBJECT, _SENDER_NAME, _SENDER_ADDRESS, _SENDER_SMTP = 0x0037, 0x0C1A, 0x0C1F, 0x5D01
_DISPLAY_TO, _DISPLAY_CC, _DISPLAY_BCC = 0x0E04, 0x0E03, 0x0E02
_BODY, _HTML, _RTF = 0x1000, 0x1013, 0x1009
_SUBMIT_TIME, _DELIVERY_TIME = 0x0039, 0x0E06
_CODEPAGE, _INTERNET_CPID = 0x3FFD, 0x3FDE
_RECIP_TYPE, _DISPLAY_NAME, _EMAIL, _SMTP = 0x0C15, 0x3001, 0x3003, 0x39FE
_LONG_NAME, _SHORT_NAME, _DATA, _METHOD = 0x3707, 0x3704, 0x3701, 0x3705
_PT_LONG, _PT_SYSTIME = 0x0003, 0x0040
_PT_STRING8, _PT_UNICODE, _PT_BINARY = 0x001E, 0x001F, 0x0102
_BY_VALUE, _EMBEDDED_MSG, _OLE_OBJECT = 1, 5, 6
_RECIP_KINDS = {1: "To", 2: "Cc", 3: "Bcc"}

# [MS-OXRTFCP] 2.1.2.1: the dictionary a compressed RTF stream starts with.
_RTF_PREFIX = (
    b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
    b"\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
    b"{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
)
_LZFU, _MELA = 0x75465A4C, 0x414C454D
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)


def decompress_rtf(data: bytes, limit: int) -> bytes:
    """The RTF of a PR_RTF_COMPRESSED stream ([MS-OXRTFCP]), at most ``limit`` bytes.

    Raises `ExtractError` ("corrupt") for a bad header and `LimitExceeded` ("bytes")
    past ``limit``.

    >>> decompress_rtf(b"\\x0f\\x00\\x00\\x00\\x03\\x00\\x00\\x00MELA\\x00\\x00\\x00\\x00{x}", 99)
    b'{x}'
    """
    if len(data) < 16:
        raise ExtractError("corrupt", "compressed RTF header cut")
    comp_size, raw_size, magic, _crc = struct.unpack_from("<IIII", data)
    if raw_size > limit:
        raise LimitExceeded("bytes", f"compressed RTF of {raw_size} bytes")
    if magic == _MELA:
        return data[16 : 16 + raw_size]
    if magic != _LZFU:
        raise ExtractError("corrupt", "compressed RTF of an unknown kind")
    body = data[16 : 4 + comp_size]
    window = bytearray(_RTF_PREFIX.ljust(4096, b" "))
    write = len(_RTF_PREFIX)
    out = bytearray()
    pos, size = 0, len(body)
    while pos < size:
        control = body[pos]
        pos += 1
        for bit in range(8):
            if pos >= size:
                break
            if control >> bit & 1:
                if pos + 1 >= size:
                    return bytes(out[:raw_size])
                ref = body[pos] << 8 | body[pos + 1]
                pos += 2
                offset, length = ref >> 4, (ref & 0xF) + 2
                if offset == write:
                    return bytes(out[:raw_size])
                for _ in range(length):
                    byte = window[offset]
                    out.append(byte)
                    window[write] = byte
                    offset, write = (offset + 1) & 0xFFF, (write + 1) & 0xFFF
            else:
                byte = body[pos]
                pos += 1
                out.append(byte)
                window[write] = byte
                write = (write + 1) & 0xFFF
        if len(out) > limit:
            raise LimitExceeded("bytes", f"compressed RTF beyond {limit} bytes")
    return bytes(out[:raw_size])


class _HtmlText(HTMLParser):
    _BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "tr",
            "li",
            "ul",
            "ol",
            "table",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "pre",
            "blockquote",
            "hr",
            "dt",
            "dd",
            "title",
        ]
    )
    _SKIP = frozenset(("script", "style", "head"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(" ".join(data.split()) if "\n" in data else data)


def html_text(html: str) -> str:
    """The text of an HTML body: tags dropped, block elements on lines of their own.

    >>> html_text("<p>Ann <b>Lee</b></p><table><tr><td>1</td><td>2</td></tr></table>")
    'Ann Lee\\n\\t1\\t2'
    """
    parser = _HtmlText()
    for start in range(0, len(html), 1 << 20):
        parser.feed(html[start : start + (1 << 20)])
    parser.close()
    lines = (line.rstrip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line.strip())


def _codec(codepage: int | None) -> str:
    if codepage in (None, 0, 1200):
        return _decode.CP1252
    if codepage == 65001:
        return "utf-8"
    if codepage == 20127:
        return "ascii"
    try:
        return codecs.lookup(f"cp{codepage}").name
    except LookupError:
        return _decode.CP1252


class _Message:
    """One message (or an attached one) inside an opened container."""

    def __init__(
        self, ole: olefile.OleFileIO, prefix: list[str], budget: _ole.Budget, header: int
    ) -> None:
        self.ole, self.prefix, self.budget = ole, prefix, budget
        self.names = self._children(prefix)
        self.props = self._fixed(prefix, header)
        self.codec = _codec(self.props.get(_CODEPAGE))

    def _children(self, prefix: list[str]) -> dict[str, str]:
        try:
            entry = self.ole.root
            for name in prefix:
                entry = next(kid for kid in entry.kids if kid.name.lower() == name.lower())
            return {str(kid.name).lower(): str(kid.name) for kid in entry.kids}
        except Exception as exc:
            raise ExtractError("corrupt", f"msg storage unreadable ({type(exc).__name__})") from exc

    def _fixed(self, prefix: list[str], header: int) -> dict[int, int]:
        """Fixed-size properties (integers and times) of the storage at ``prefix``."""
        names = self.names if prefix == self.prefix else self._children(prefix)
        name = names.get(_PROPS.lower())
        if name is None:
            return {}
        data = _ole.read_stream(self.ole, [*prefix, name], self.budget)
        out: dict[int, int] = {}
        for pos in range(header, len(data) - 15, 16):
            tag, _flags, value = struct.unpack_from("<IIQ", data, pos)
            kind, prop = tag & 0xFFFF, tag >> 16
            if kind == _PT_LONG:
                out[prop] = value & 0xFFFFFFFF
            elif kind == _PT_SYSTIME:
                out[prop] = value
        return out

    def raw(
        self, prop: int, kinds: tuple[int, ...], prefix: list[str] | None = None
    ) -> bytes | None:
        path = self.prefix if prefix is None else prefix
        names = self.names if prefix is None else self._children(path)
        for kind in kinds:
            name = names.get(f"__substg1.0_{prop:04x}{kind:04x}")
            if name is not None:
                return _ole.read_stream(self.ole, [*path, name], self.budget)
        return None

    def string(self, prop: int, prefix: list[str] | None = None) -> str | None:
        path = self.prefix if prefix is None else prefix
        names = self.names if prefix is None else self._children(path)
        if f"__substg1.0_{prop:04x}001f" in names:
            data = self.raw(prop, (_PT_UNICODE,), prefix)
            return None if data is None else _decode.decode(data, "utf-16-le").rstrip("\x00")
        data = self.raw(prop, (_PT_STRING8,), prefix)
        return None if data is None else _decode.decode(data, self.codec).rstrip("\x00")

    def storages(self, start: str) -> list[str]:
        return sorted(name for low, name in self.names.items() if low.startswith(start.lower()))


def _header_lines(message: _Message) -> list[str]:
    lines: list[str] = []
    name, address = message.string(_SENDER_NAME), message.string(_SENDER_SMTP)
    address = address or message.string(_SENDER_ADDRESS)
    if name or address:
        sender = f"{name} <{address}>" if name and address else name or address
        lines.append(f"From: {sender}")
    groups: dict[int, list[str]] = {}
    for storage in message.storages(_RECIP):
        path = [*message.prefix, storage]
        kind = message._fixed(path, 8).get(_RECIP_TYPE, 1)
        who = message.string(_DISPLAY_NAME, path)
        where = message.string(_SMTP, path) or message.string(_EMAIL, path)
        label = f"{who} <{where}>" if who and where and who != where else who or where
        if label:
            groups.setdefault(kind, []).append(label)
    for kind, field in _RECIP_KINDS.items():
        display = {1: _DISPLAY_TO, 2: _DISPLAY_CC, 3: _DISPLAY_BCC}[kind]
        value = "; ".join(groups[kind]) if kind in groups else message.string(display)
        if value:
            lines.append(f"{field}: {value}")
    subject = message.string(_SUBJECT)
    if subject is not None:
        lines.append(f"Subject: {subject}")
    stamp = message.props.get(_SUBMIT_TIME) or message.props.get(_DELIVERY_TIME)
    if stamp:
        try:
            moment = _FILETIME_EPOCH + dt.timedelta(microseconds=stamp // 10)
            lines.append(f"Date: {moment.isoformat(sep=' ')}")
        except OverflowError:
            pass
    return [" ".join(line.split()) for line in lines]


def _html_body(message: _Message) -> str | None:
    data = message.raw(_HTML, (_PT_BINARY, _PT_UNICODE, _PT_STRING8))
    if data is None:
        return None
    if f"__substg1.0_{_HTML:04x}001f" in message.names:
        html = _decode.decode(data, "utf-16-le")
    else:
        cpid = message.props.get(_INTERNET_CPID)
        codec = _codec(cpid) if cpid else _decode.detect(data[: _decode.HEAD_BYTES])
        html = _decode.decode(data, codec)
    return html_text(html)


def _lines(body: str, where: Location, limits: Limits, first: int) -> Iterator[Segment]:
    if body:
        yield from text.extract_text(iter([body]), where, limits, codec="", first_line=first)


def _read_message(
    message: _Message, where: Location, limits: Limits, depth: int
) -> Iterator[Segment | Rows | Unread]:
    head = _header_lines(message)
    body = message.string(_BODY)
    if body is None:
        body = _html_body(message)
    if body is not None:
        rendered = "\n".join(head) + ("\n\n" if head else "") + body.replace("\r\n", "\n")
        yield from _lines(rendered, where, limits, 1)
    else:
        if head:
            yield from _lines("\n".join(head) + "\n", where, limits, 1)
        data = message.raw(_RTF, (_PT_BINARY,))
        if data is not None:
            room = message.budget.limit - message.budget.used
            source = decompress_rtf(data, room)
            message.budget.take(len(source))
            first = len(head) + 2 if head else 1
            yield from rtf.extract_rtf(io.BytesIO(source), where, limits, depth, first_line=first)
    yield from _attachments(message, where, limits, depth)


def _member(where: Location, name: str) -> Location:
    inner = f"attachments/{name}"
    return replace(
        where,
        member=f"{where.member}/{inner}" if where.member else inner,
        line=None,
        page=None,
        byte_start=None,
        byte_end=None,
    )


def _name(message: _Message, path: list[str], number: int, seen: dict[str, int]) -> str:
    raw = message.string(_LONG_NAME, path) or message.string(_SHORT_NAME, path)
    raw = raw or message.string(_DISPLAY_NAME, path) or ""
    name = posixpath.basename(raw.replace("\\", "/")).strip() or f"attachment{number}"
    count = seen.get(name.lower(), 0) + 1
    seen[name.lower()] = count
    return name if count == 1 else f"{name}~{count}"


def _attachments(
    message: _Message, where: Location, limits: Limits, depth: int
) -> Iterator[Segment | Rows | Unread]:
    from ftiscan.scanner.extract import extract as dispatch

    seen: dict[str, int] = {}
    for number, storage in enumerate(message.storages(_ATTACH), start=1):
        if number > limits.max_members:
            yield Unread(where, "limit:members")
            return
        path = [*message.prefix, storage]
        try:
            name = _name(message, path, number, seen)
        except ExtractError as exc:
            yield Unread(_member(where, f"attachment{number}"), exc.reason)
            continue
        inner = _member(where, name)
        try:
            method = message._fixed(path, 8).get(_METHOD, _BY_VALUE)
            children = message._children(path)
            if _EMBEDDED.lower() in children:
                sub = [*path, children[_EMBEDDED.lower()]]
                if method == _OLE_OBJECT and _PROPS.lower() not in message._children(sub):
                    yield Unread(inner, "unsupported:ole-object")
                    continue
                if depth >= limits.max_depth:
                    yield Unread(inner, "limit:depth")
                    continue
                embedded = _Message(message.ole, sub, message.budget, 24)
                yield from _read_message(embedded, inner, limits, depth + 1)
                continue
            data = message.raw(_DATA, (_PT_BINARY,), path)
            if data is None:
                continue  # a link to a file elsewhere: no data here
            if depth >= limits.max_depth:
                yield Unread(inner, "limit:depth")
                continue
            _, items = dispatch(io.BytesIO(data), inner, limits, depth + 1)
            yield from items
        except LimitExceeded as exc:
            if exc.reason == "limit:bytes" and message.budget.used > message.budget.limit:
                raise  # the budget of the whole file is spent
            yield Unread(inner, exc.reason)
        except ExtractError as exc:
            reason = f"unsupported:{exc.detail}" if exc.reason == "unsupported" else exc.reason
            yield Unread(inner, reason)


def extract_msg(
    fh: IO[bytes], where: Location, limits: Limits, depth: int = 0
) -> Iterator[Segment | Rows | Unread]:
    """Yield the headers, body and attachments of the Outlook message in ``fh``."""
    container = _ole.open_ole(fh, limits)
    try:
        budget = _ole.Budget(limits.max_decompressed_bytes)
        message = _Message(container, [], budget, 32)
        if not any(
            low == _PROPS.lower() or low.startswith("__substg1.0_") for low in message.names
        ):
            raise ExtractError("corrupt", "no message properties in the OLE2 file")
        yield from _read_message(message, where, limits, depth)
    finally:
        container.close()
