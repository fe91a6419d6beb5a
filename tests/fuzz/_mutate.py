"""Mutations of valid files: flip, set, insert, delete, truncate and duplicate bytes.

A fuzz test draws a seed (a valid file made by `tests.synthetic.formats`) and a list of
`Edit`s; `apply` makes the damaged file. Edits are drawn, not bytes, so that a failing
example prints as a seed name and a few small edits (no generated taxpayer value ever
shows in the output). Positions are taken modulo the length, so every edit applies to
every seed; ``interesting`` values are those that break length and count fields (0,
all ones, sign bits) in ZIP, OLE2, 7z, SQLite and PDF cross-reference structures.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hypothesis import strategies as st

__all__ = ["Blob", "Edit", "apply", "edits", "text_edits"]


class Blob(bytes):
    """Bytes that show as their length only: pytest prints the arguments of a failing
    frame, and a seed holds synthetic taxpayer values that no test output may carry."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


_INTERESTING = (
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x80",
    struct.pack("<I", 0xFFFFFFFE),
    struct.pack("<Q", 1 << 63),
    b"<<" * 8,
    b"[[[[" * 8,
    b"{" * 64,
    b"999999999999",
    b"-1",
    b"\r\n",
    b"\n\n",
    b'"',
    b"\\",
    b"<?xml",
    b'<?xml version="1.0" encoding="x-bogus"?>',
    b"<!ENTITY a 'b'>",
    b"\xef\xbb\xbf",
    b"\xfe\xff",
)


@dataclass(frozen=True)
class Edit:
    """One change: ``op`` at ``pos`` (taken modulo the length) with ``data`` or ``size``."""

    op: str  # flip | set | insert | delete | truncate | duplicate
    pos: int
    size: int = 1
    data: bytes = b""

    def __call__(self, blob: bytearray) -> None:
        if not blob:
            if self.op == "insert":
                blob += self.data
            return
        at = self.pos % len(blob)
        if self.op == "flip":
            blob[at] ^= 1 << (self.size % 8)
        elif self.op == "set":
            blob[at : at + len(self.data)] = self.data
        elif self.op == "insert":
            blob[at:at] = self.data
        elif self.op == "delete":
            del blob[at : at + self.size]
        elif self.op == "truncate":
            del blob[at:]
        elif self.op == "duplicate":
            blob[at:at] = blob[at : at + self.size] * 2
        else:  # pragma: no cover - the strategy draws only the ops above
            raise ValueError(self.op)


_POS = st.integers(0, 1 << 20)
_BYTES = st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=16))


def edits(max_size: int = 6) -> st.SearchStrategy[list[Edit]]:
    """Lists of 1 to ``max_size`` edits."""
    one = st.one_of(
        st.builds(Edit, st.just("flip"), _POS, st.integers(0, 7)),
        st.builds(Edit, st.just("set"), _POS, data=_BYTES),
        st.builds(Edit, st.just("insert"), _POS, data=_BYTES),
        st.builds(Edit, st.just("delete"), _POS, st.integers(1, 512)),
        st.builds(Edit, st.just("truncate"), _POS),
        st.builds(Edit, st.just("duplicate"), _POS, st.integers(1, 4096)),
    )
    return st.lists(one, min_size=1, max_size=max_size)


def apply(seed: bytes, changes: list[Edit]) -> Blob:
    """``seed`` with every edit applied in order (a `Blob`: it prints as its length)."""
    blob = bytearray(seed)
    for change in changes:
        change(blob)
    return Blob(blob)


_YAML_TOKENS = (
    b": ",
    b"- ",
    b"\n- ",
    b"  ",
    b"\t",
    b"\n",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!!python/object:os.system ",
    b"!!binary ",
    b"!!timestamp 2001-13-01",
    b"!!int ",
    b"!!float ",
    b"? ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"'",
    b'"',
    b"~",
    b"null",
    b"true",
    b"0x1f",
    b"1e999",
    b".nan",
    b"-1",
    b"99999999999999999999",
    b"%YAML 1.1\n",
    b"---\n",
    b"...\n",
    b"#",
    b"|\n",
    b">-\n",
    b"\\u0000",
    b"\x00",
    b"\x85",
    b"\xef\xbb\xbf",
    b"(?P<a>",
    b"(a+)+",
    b"[z-a]",
    b"\\",
)


def text_edits(max_size: int = 4) -> st.SearchStrategy[list[Edit]]:
    """Edits for YAML and JSON text: insert or overwrite syntax tokens, cut and repeat
    lines' worth of text, and the byte edits of `edits`."""
    token = st.sampled_from(_YAML_TOKENS)
    one = st.one_of(
        st.builds(Edit, st.just("insert"), _POS, data=token),
        st.builds(Edit, st.just("set"), _POS, data=token),
        st.builds(Edit, st.just("delete"), _POS, st.integers(1, 80)),
        st.builds(Edit, st.just("duplicate"), _POS, st.integers(1, 200)),
        st.builds(Edit, st.just("truncate"), _POS),
        st.builds(Edit, st.just("flip"), _POS, st.integers(0, 7)),
    )
    return st.lists(one, min_size=1, max_size=max_size)
