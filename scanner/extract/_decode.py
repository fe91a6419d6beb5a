"""Encoding detection and incremental decoding that never fails.

`detect` picks a codec from the first bytes of a file:

1. a byte order mark: ``utf-8-sig``, ``utf-16`` (the codec reads the BOM and its order);
2. UTF-16 without a BOM, from the NUL pattern: text that is mostly ASCII has a NUL in
   every odd byte (``utf-16-le``) or every even byte (``utf-16-be``);
3. ``utf-8`` when the sample is valid UTF-8 (a multi-byte sequence cut by the end of the
   sample is fine);
4. else ``ftiscan-cp1252``: Windows-1252 whose five undefined bytes (0x81, 0x8D, 0x8F,
   0x90, 0x9D) decode as Latin-1 control characters, so decoding never fails.

`iter_text` decodes a stream in large chunks with an incremental decoder and the
``ftiscan-fallback`` error handler: a byte that is not valid UTF-8 after the sample
decodes as Windows-1252 (a file that mixes both stays readable), and any other bad
sequence becomes U+FFFD. A late bad byte therefore never stops a scan.

`sniff` reads the head of a stream without losing it, also from streams that cannot
seek (decompression streams).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from ftiscan.scanner.errors import ExtractError

if TYPE_CHECKING:
    from typing_extensions import Buffer

HEAD_BYTES = 64 * 1024
"""How many bytes identification and encoding detection read."""

CP1252 = "ftiscan-cp1252"
"""Codec name of Windows-1252 with the undefined bytes mapped as Latin-1."""

ERRORS = "ftiscan-fallback"
"""Error handler name used by every decoder here (see the module docstring)."""

_SAMPLE = 4096  # bytes looked at for the UTF-16 NUL pattern

_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


def _cp1252_table() -> str:
    chars = []
    for value in range(256):
        try:
            chars.append(bytes([value]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(value))
    return "".join(chars)


_DECODING_TABLE = _cp1252_table()
_ENCODING_TABLE = codecs.charmap_build(_DECODING_TABLE)


def _cp1252_decode(data: Buffer, errors: str = "strict") -> tuple[str, int]:
    return codecs.charmap_decode(data, errors, _DECODING_TABLE)


def _cp1252_encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return codecs.charmap_encode(text, errors, _ENCODING_TABLE)


class _Cp1252IncrementalDecoder(codecs.IncrementalDecoder):
    def decode(self, input: Buffer, final: bool = False) -> str:
        return codecs.charmap_decode(input, self.errors, _DECODING_TABLE)[0]


class _Cp1252IncrementalEncoder(codecs.IncrementalEncoder):
    def encode(self, input: str, final: bool = False) -> bytes:
        return codecs.charmap_encode(input, self.errors, _ENCODING_TABLE)[0]


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != CP1252.replace("-", "_"):
        return None
    return codecs.CodecInfo(
        name=CP1252,
        encode=_cp1252_encode,
        decode=_cp1252_decode,
        incrementalencoder=_Cp1252IncrementalEncoder,
        incrementaldecoder=_Cp1252IncrementalDecoder,
    )


def _fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Windows-1252; anything else becomes U+FFFD."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    if exc.encoding.replace("_", "-").lower().startswith("utf-8"):
        bad = exc.object[exc.start : exc.end]
        return codecs.charmap_decode(bad, "strict", _DECODING_TABLE)[0], exc.end
    return "\ufffd", exc.end


codecs.register(_search)
codecs.register_error(ERRORS, _fallback)


def _utf16_without_bom(sample: bytes) -> str | None:
    sample = sample[: len(sample) // 2 * 2]
    half = len(sample) // 2
    if not half:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= half * 0.3 and even <= max(half * 0.05, odd / 4):
        return "utf-16-le"
    if even >= half * 0.3 and odd <= max(half * 0.05, even / 4):
        return "utf-16-be"
    return None


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sequence cut by the end of the sample is not an error (at most 3 bytes),
        # unless the sample is the whole file.
        return (
            len(head) >= HEAD_BYTES
            and exc.reason == "unexpected end of data"
            and exc.start >= len(head) - 3
        )
    return True


def detect(head: bytes) -> str:
    """The codec name to decode a file whose first bytes are ``head``.

    A ``head`` shorter than `HEAD_BYTES` is taken as the whole file.

    >>> detect(b"\\xef\\xbb\\xbfname")
    'utf-8-sig'
    >>> detect("name".encode("utf-16-le"))
    'utf-16-le'
    >>> detect("caf\\u00e9".encode("cp1252"))
    'ftiscan-cp1252'
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:_SAMPLE]
    if b"\x00" in sample:
        utf16 = _utf16_without_bom(sample)
        if utf16:
            return utf16
    if head.isascii() or _is_utf8(head):
        return "utf-8"
    return CP1252


def decode(data: bytes, codec: str) -> str:
    """Decode ``data`` completely, never failing (a cut sequence at the end is replaced)."""
    return codecs.decode(data, codec, ERRORS)


def iter_text(fh: IO[bytes], codec: str, chunk: int = 1024 * 1024) -> Iterator[str]:
    """Decode ``fh`` from its current position in chunks of ``chunk`` bytes.

    Yields non-empty strings; a multi-byte sequence split between two reads is joined.
    """
    decoder = codecs.getincrementaldecoder(codec)(ERRORS)
    # read1 returns what one underlying read gives: when a later read fails (a
    # truncated compressed stream), the bytes before the damage were already yielded.
    read = getattr(fh, "read1", fh.read)
    while True:
        data = read(chunk)
        if not data:
            break
        text = decoder.decode(data)
        if text:
            yield text
    text = decoder.decode(b"", True)
    if text:
        yield text


def bom_length(codec: str) -> int:
    """Bytes taken by the byte order mark that ``codec`` consumes (0 if none)."""
    return {"utf-8-sig": 3, "utf-16": 2}.get(codec, 0)


def byte_length(text: str, codec: str) -> int:
    """Bytes ``text`` took in the file, exact unless the decoder substituted bad bytes."""
    if codec == CP1252:
        return len(text)
    if codec.startswith("utf-16"):
        if text.isascii() or max(text, default="\0") <= "\uffff":
            return 2 * len(text)
        return len(text.encode("utf-16-le", "surrogatepass"))
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


class _Prefixed(io.RawIOBase):
    """A raw stream that serves ``head`` and then the rest of ``rest``.

    If reading the head failed with ``error``, the error is raised after the head.
    """

    def __init__(self, head: bytes, rest: IO[bytes], error: ExtractError | None = None) -> None:
        super().__init__()
        self.head = head
        self._rest = rest
        self._pos = 0
        self._error = error
        self._read = getattr(rest, "read1", rest.read)

    @property
    def at_start(self) -> bool:
        return self._pos == 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos < len(self.head):
            size = min(len(view), len(self.head) - self._pos)
            view[:size] = self.head[self._pos : self._pos + size]
            self._pos += size
            return size
        if self._error is not None:
            raise self._error
        data = self._read(len(view))
        size = len(data)
        view[:size] = data
        self._pos += size
        return size


def sniff(fh: IO[bytes], size: int = HEAD_BYTES) -> tuple[bytes, IO[bytes]]:
    """Read the first ``size`` bytes and return them with a stream that starts at them.

    A seekable stream is read and rewound; another is wrapped so that the head is
    served again. Wrapping twice is avoided. If reading fails with `ExtractError` after
    some bytes (a truncated compressed stream), those bytes are returned and the
    stream raises the error once they have been read again.
    """
    if isinstance(fh, io.BufferedReader) and isinstance(fh.raw, _Prefixed) and fh.raw.at_start:
        head = fh.raw.head
        if len(head) >= size:
            return head[:size], fh
    seekable = False
    try:
        seekable = fh.seekable()
    except (OSError, ValueError):
        seekable = False
    start = fh.tell() if seekable else 0
    head, error = _read_full(fh, size)
    if error is not None and not head:
        raise error
    if seekable and error is None:
        fh.seek(start)
        return head, fh
    stream = io.BufferedReader(_Prefixed(head, fh, error), buffer_size=1024 * 1024)
    return head, stream


def _read_full(fh: IO[bytes], size: int) -> tuple[bytes, ExtractError | None]:
    parts: list[bytes] = []
    got = 0
    read = getattr(fh, "read1", fh.read)
    try:
        while got < size:
            data = read(size - got)
            if not data:
                break
            parts.append(data)
            got += len(data)
    except ExtractError as exc:
        return b"".join(parts), exc
    return b"".join(parts), None
