"""Encoding detection and incremental decoding: round trips and never failing."""

from __future__ import annotations

import codecs
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.extract import _decode

# Mostly-ASCII words with accents and other scripts: what names and addresses look like.
_WORD = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 ,.-#")
        + list("éèüñçÅøßœ€’“”")
        + ["中", "д", "λ", "😀"]
    ),
    min_size=1,
    max_size=30,
)
_TEXT = st.lists(_WORD, min_size=1, max_size=40).map("\n".join)
_CP1252_TEXT = st.text(
    alphabet=st.sampled_from(list("abcdefXYZ 0123456789,.\n") + list("éèüñçÅøßœ€’“”")),
    min_size=1,
    max_size=300,
)


def _decode_all(data: bytes, chunk: int) -> str:
    codec = _decode.detect(data[: _decode.HEAD_BYTES])
    return "".join(_decode.iter_text(io.BytesIO(data), codec, chunk))


def _ascii_heavy(text: str) -> bool:
    return sum(ch.isascii() for ch in text) * 10 >= len(text) * 8


@settings(max_examples=150)
@given(text=_TEXT, chunk=st.integers(1, 64))
def test_decode_round_trips_utf8(text: str, chunk: int) -> None:
    """UTF-8 text comes back unchanged, whatever the chunk boundaries."""
    assert _decode_all(text.encode("utf-8"), chunk) == text


@settings(max_examples=150)
@given(text=_TEXT, chunk=st.integers(1, 64))
def test_decode_round_trips_utf8_sig_and_utf16_bom(text: str, chunk: int) -> None:
    """Text behind a byte order mark comes back without the mark."""
    assert _decode_all(text.encode("utf-8-sig"), chunk) == text
    assert _decode_all(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), chunk) == text
    assert _decode_all(codecs.BOM_UTF16_BE + text.encode("utf-16-be"), chunk) == text


@settings(max_examples=150)
@given(text=_TEXT, chunk=st.integers(1, 64), order=st.sampled_from(["utf-16-le", "utf-16-be"]))
def test_decode_round_trips_utf16_without_bom(text: str, chunk: int, order: str) -> None:
    """Mostly-ASCII UTF-16 without a BOM is found by its NUL pattern."""
    if not _ascii_heavy(text):
        return
    data = text.encode(order)
    assert _decode.detect(data) == order
    assert _decode_all(data, chunk) == text


@settings(max_examples=150)
@given(text=_CP1252_TEXT, chunk=st.integers(1, 64))
def test_decode_round_trips_cp1252(text: str, chunk: int) -> None:
    """Windows-1252 text comes back, unless its bytes are also valid UTF-8."""
    data = text.encode("cp1252")
    decoded = _decode_all(data, chunk)
    if decoded != text:
        assert _decode.detect(data) == "utf-8"
        assert decoded == data.decode("utf-8")


@given(data=st.binary(max_size=2000), chunk=st.integers(1, 64))
def test_decode_never_fails(data: bytes, chunk: int) -> None:
    """Any bytes decode with whatever codec was detected."""
    assert isinstance(_decode_all(data, chunk), str)


def test_detect_utf8_cut_inside_a_sequence() -> None:
    """A multi-byte sequence cut by the end of the sample still means UTF-8."""
    data = ("x" * _decode.HEAD_BYTES + "€").encode("utf-8")
    for end in range(_decode.HEAD_BYTES, len(data) + 1):
        assert _decode.detect(data[end - _decode.HEAD_BYTES : end]) == "utf-8"
    assert _decode.detect(data[-2:]) == _decode.CP1252  # a whole file cannot be cut


def test_cp1252_undefined_bytes_decode_as_latin1() -> None:
    """The five bytes cp1252 leaves undefined decode as the same code points."""
    data = bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0xE9])
    assert _decode.decode(data, _decode.CP1252) == "\x81\x8d\x8f\x90\x9d\u00e9"
    assert _decode.decode(data, _decode.CP1252).encode(_decode.CP1252) == data


def test_late_bad_byte_falls_back_to_cp1252() -> None:
    """A byte that is not UTF-8 after an ASCII sample decodes as Windows-1252."""
    data = b"a" * (_decode.HEAD_BYTES + 10) + b"caf\xe9\n"
    assert _decode_all(data, 4096).endswith("caf\u00e9\n")


def test_sniff_keeps_the_head_of_unseekable_streams() -> None:
    """The head is served again by the stream sniff returns."""

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(min(len(buffer), 7))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = bytes(range(256)) * 1000
    head, stream = _decode.sniff(io.BufferedReader(Pipe(data)))  # type: ignore[arg-type]
    assert head == data[: _decode.HEAD_BYTES]
    again, same = _decode.sniff(stream)
    assert again == head
    assert same is stream
    assert stream.read() == data
