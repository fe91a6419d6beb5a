"""OLE2 containers, legacy Excel workbooks and Outlook messages.

Every input is built at test time by `tests.synthetic.formats`: `ole` writes a compound
file (version 3, 512-byte sectors, a mini stream for small streams) from a tree of
names, `biff8_workbook` a BIFF8 workbook stream, `msg_tree` the streams of an .msg file.
Nothing comes from real people; identifiers are generated with ``valid_ssn``.
"""

from __future__ import annotations

import contextlib
import io
import random
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import msg, ole, xls
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread
from tests.synthetic import formats
from tests.synthetic.formats import OneWay

Tree = formats.OleTree
Cell = formats.Cell
Item = Segment | Rows | Unread


def _u(text: str) -> bytes:
    return text.encode("utf-16-le")


def _csv(ssns: list[str]) -> bytes:
    lines = ["name,ssn,street"] + [
        f"Person {i},{s[:3]}-{s[3:5]}-{s[5:]},{i + 1} Main St" for i, s in enumerate(ssns)
    ]
    return ("\n".join(lines) + "\n").encode()


def _ssns(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [valid_ssn(rng) for _ in range(n)]


WHERE = Location(Path("box/file.bin"))


def _run(
    function: object, data: bytes, limits: Limits | None = None, where: Location = WHERE
) -> list[Item]:
    assert callable(function)
    items: Iterator[Item] = function(io.BytesIO(data), where, limits or Limits())
    return list(items)


def _texts(items: list[Item]) -> str:
    return "".join(i.text for i in items if isinstance(i, Segment))


# -- the container -----------------------------------------------------------------------


def test_ole_writer_round_trips_through_olefile() -> None:
    """The test writer makes files olefile reads back, big and small streams alike."""
    data = formats.ole({"Small": b"x" * 100, "Big": b"y" * 5000, "Store": {"Inner": b"z" * 70}})
    reader = olefile.OleFileIO(data)
    assert sorted("/".join(p) for p in reader.listdir()) == ["Big", "Small", "Store/Inner"]
    assert reader.openstream("Big").read() == b"y" * 5000
    assert reader.openstream(["Store", "Inner"]).read() == b"z" * 70
    assert reader.parsing_issues == []


@pytest.mark.parametrize(
    ("tree", "kind"),
    [
        ({"Workbook": b"\0" * 10}, "xls"),
        ({"Book": b"\0" * 10}, "xls"),
        ({"__properties_version1.0": b"\0" * 32}, "msg"),
        ({"__substg1.0_0037001F": _u("x")}, "msg"),
        ({"WordDocument": b"\0" * 10, "1Table": b"\0"}, "doc"),
        ({"PowerPoint Document": b"\0" * 10}, "ppt"),
        ({"EncryptionInfo": b"\0" * 10, "EncryptedPackage": b"\0" * 10}, "ole-encrypted"),
        ({"EncryptionInfo": b"\0" * 10}, "ole2"),
        ({"Contents": b"\0" * 10}, "ole2"),
    ],
)
def test_ole_kind_from_directory_entries(tree: Tree, kind: str) -> None:
    """The kind comes from the root entries, and the stream position is kept."""
    fh = io.BytesIO(formats.ole(tree))
    fh.seek(5)
    assert ole.ole_kind(fh) == kind
    assert fh.tell() == 5


def test_ole_kind_of_damaged_directory_is_corrupt() -> None:
    """An OLE2 signature followed by garbage is corrupt."""
    data = ole.MAGIC + bytes(range(256)) * 8
    with pytest.raises(ExtractError) as caught:
        ole.ole_kind(io.BytesIO(data))
    assert caught.value.reason == "corrupt"


def test_ole_extract_encrypted_office_document() -> None:
    """A password-protected OOXML file (EncryptionInfo + EncryptedPackage) is encrypted."""
    data = formats.ole(
        {"EncryptionInfo": b"\4\0\4\0" + b"\0" * 60, "EncryptedPackage": b"\0" * 600}
    )
    with pytest.raises(ExtractError) as caught:
        _run(ole.extract_ole, data)
    assert caught.value.reason == "encrypted"


def test_ole_extract_word_document_is_unsupported() -> None:
    """A Word 97 document is named as unsupported with its kind."""
    with pytest.raises(ExtractError) as caught:
        _run(ole.extract_ole, formats.ole({"WordDocument": b"\0" * 100}))
    assert (caught.value.reason, caught.value.detail) == ("unsupported", "doc")


def test_ole_extract_reads_non_seekable_stream() -> None:
    """A stream that cannot seek is read into memory, within the bytes limit."""
    data = formats.xls([("S", [["name", "zip"], ["Ann", "20500"]])])
    raw = io.BufferedReader(OneWay(data))
    items = list(ole.extract_ole(raw, WHERE, Limits()))
    assert [(i.first_row, i.rows) for i in items if isinstance(i, Rows)] == [
        (2, [("Ann", "20500")])
    ]
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        list(
            ole.extract_ole(
                io.BufferedReader(OneWay(data)), WHERE, Limits(max_decompressed_bytes=1000)
            )
        )


# -- xls ---------------------------------------------------------------------------------


def test_xls_rows_with_header_sheet_and_integers() -> None:
    """Each sheet gives rows named by sheet, numbered from the header, integers without .0."""
    ssns = _ssns(3)
    people: list[list[Cell]] = [["name", "ssn", "street", "balance"]] + [
        [f"Person {i}", float(s), f"{i + 1} Main St", 12.5] for i, s in enumerate(ssns)
    ]
    other: list[list[Cell]] = [["a", None, "b"], [None], ["c", 4.0]]
    items = _run(xls.extract_xls, formats.xls([("People", people), ("Notes", other)]))
    rows = [i for i in items if isinstance(i, Rows)]
    assert [(r.where.sheet, r.first_row, r.header) for r in rows] == [
        ("People", 2, ("name", "ssn", "street", "balance")),
        ("Notes", 1, None),
    ]
    # A number cell has no leading zeros: Excel shows 012345678 as 12345678 too.
    expected = [
        (f"Person {i}", str(int(s)), f"{i + 1} Main St", "12.5") for i, s in enumerate(ssns)
    ]
    assert rows[0].rows == expected
    assert rows[1].rows == [("a", "", "b"), (), ("c", "4")]


def test_xls_batches_and_leading_empty_rows() -> None:
    """Rows come in batches of batch_rows; leading empty rows are skipped, numbers kept."""
    sheet: list[list[Cell]] = [[None], [None], ["name", "zip"]] + [
        [f"P{i}", f"{20500 + i}"] for i in range(25)
    ]
    items = _run(xls.extract_xls, formats.xls([("S", sheet)]), Limits(batch_rows=10))
    rows = [i for i in items if isinstance(i, Rows)]
    assert [(r.first_row, len(r.rows)) for r in rows] == [(4, 10), (14, 10), (24, 5)]
    assert {r.header for r in rows} == {("name", "zip")}
    assert rows[0].rows[0] == ("P0", "20500")


def test_xls_cell_text_kinds() -> None:
    """Dates, booleans, errors and large whole numbers are written as a user reads them."""
    assert xls.cell_text(3, 45397.0, 0) == "2024-04-15"
    assert xls.cell_text(4, 1, 0) == "TRUE"
    assert xls.cell_text(5, 0x2A, 0) == "#N/A"
    assert xls.cell_text(2, 1e20, 0) == "100000000000000000000"
    assert xls.cell_text(2, -3.25, 0) == "-3.25"


def test_xls_with_filepass_is_encrypted() -> None:
    """A workbook with a FILEPASS record is reported as encrypted."""
    with pytest.raises(ExtractError) as caught:
        _run(xls.extract_xls, formats.xls([("S", [["x"]])], filepass=True))
    assert caught.value.reason == "encrypted"


def test_xls_damaged_workbook_stream_is_corrupt() -> None:
    """A Workbook stream that is not BIFF is corrupt; no stream at all is corrupt too."""
    for tree in ({"Workbook": b"\x09\x08\x02\x00" + b"\xff" * 300}, {"Other": b"\0" * 10}):
        with pytest.raises(ExtractError) as caught:
            _run(xls.extract_xls, formats.ole(tree))
        assert caught.value.reason == "corrupt"


def test_xls_workbook_larger_than_the_bytes_limit() -> None:
    """A Workbook stream larger than max_decompressed_bytes is not read."""
    sheet: list[list[Cell]] = [[f"row {i}", float(i)] for i in range(2000)]
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _run(xls.extract_xls, formats.xls([("S", sheet)]), Limits(max_decompressed_bytes=10_000))


def test_xls_text_limit() -> None:
    """Past max_text_chars the rows read are kept and the bytes limit is raised."""
    sheet: list[list[Cell]] = [[f"row number {i}"] for i in range(3000)]
    seen: list[Item] = []
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        seen.extend(
            xls.extract_xls(
                io.BytesIO(formats.xls([("S", sheet)])),
                WHERE,
                Limits(max_text_chars=5000, batch_rows=100),
            )
        )
    assert 0 < sum(len(i.rows) for i in seen if isinstance(i, Rows)) < 3000


# -- msg ---------------------------------------------------------------------------------


def test_msg_headers_and_body_lines() -> None:
    """Headers come first, then an empty line and the body, with its line numbers."""
    ssn = _ssns(1)[0]
    body = f"Hello,\nthe number is {ssn[:3]}-{ssn[3:5]}-{ssn[5:]}.\n"
    items = _run(msg.extract_msg, formats.ole(formats.msg_tree(body=body)))
    text = _texts(items)
    assert text.splitlines() == [
        "From: Pat Example <pat@example.test>",
        "To: Lee Sample <lee@example.test>",
        "Cc: Kim Test <kim@example.test>",
        "Subject: Quarterly list",
        "Date: 2024-04-15 12:00:00+00:00",
        "",
        "Hello,",
        f"the number is {ssn[:3]}-{ssn[3:5]}-{ssn[5:]}.",
    ]
    assert items[0].where == WHERE.__class__(WHERE.path, line=1)


def test_msg_attachment_goes_to_the_registry() -> None:
    """A CSV attachment gives rows under member attachments/<name>."""
    ssns = _ssns(4)
    data = formats.ole(formats.msg_tree(attachments=[("people.csv", _csv(ssns), 1)]))
    items = _run(msg.extract_msg, data)
    rows = [i for i in items if isinstance(i, Rows)]
    assert [(r.where.member, r.first_row, len(r.rows)) for r in rows] == [
        ("attachments/people.csv", 2, 4)
    ]
    assert rows[0].header == ("name", "ssn", "street")


def test_msg_embedded_message_is_read_recursively() -> None:
    """An attached message is read one level deeper, its attachments under its member."""
    ssns = _ssns(2)
    inner = formats.msg_tree(
        subject="Forwarded", header=24, attachments=[("list.csv", _csv(ssns), 1)]
    )
    outer = formats.msg_tree(attachments=[("fwd.msg", inner, 5), ("note.txt", b"plain note\n", 1)])
    where = Location(Path("mail.pst"), member="inbox/0001.msg")
    items = _run(msg.extract_msg, formats.ole(outer), where=where)
    members = [(type(i).__name__, i.where.member) for i in items]
    assert members == [
        ("Segment", "inbox/0001.msg"),
        ("Segment", "inbox/0001.msg/attachments/fwd.msg"),
        ("Rows", "inbox/0001.msg/attachments/fwd.msg/attachments/list.csv"),
        ("Segment", "inbox/0001.msg/attachments/note.txt"),
    ]
    assert "Subject: Forwarded" in items[1].text  # type: ignore[union-attr]


def test_msg_depth_limit() -> None:
    """At max_depth attachments are not opened: Unread limit:depth for each."""
    inner = formats.msg_tree(header=24)
    data = formats.ole(
        formats.msg_tree(attachments=[("fwd.msg", inner, 5), ("a.csv", _csv(_ssns(1)), 1)])
    )
    items = _run(msg.extract_msg, data, Limits(max_depth=0))
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        ("attachments/fwd.msg", "limit:depth"),
        ("attachments/a.csv", "limit:depth"),
    ]


def test_msg_deeply_nested_messages_stop_at_depth() -> None:
    """A message inside a message ... ends with limit:depth at the configured depth."""
    tree = formats.msg_tree(header=24, subject="level 9")
    for level in range(8, 0, -1):
        tree = formats.msg_tree(
            header=24, subject=f"level {level}", attachments=[("m.msg", tree, 5)]
        )
    items = _run(
        msg.extract_msg,
        formats.ole(formats.msg_tree(attachments=[("m.msg", tree, 5)])),
        Limits(max_depth=3),
    )
    unread = [i for i in items if isinstance(i, Unread)]
    assert [(u.where.member, u.reason) for u in unread] == [
        ("attachments/m.msg/attachments/m.msg/attachments/m.msg/attachments/m.msg", "limit:depth")
    ]


def test_msg_member_limit_and_duplicate_names() -> None:
    """Past max_members one Unread limit:members; repeated names are told apart."""
    files = [("same.txt", f"note {i}\n".encode(), 1) for i in range(5)]
    items = _run(
        msg.extract_msg, formats.ole(formats.msg_tree(attachments=files)), Limits(max_members=3)
    )
    assert [i.where.member for i in items if isinstance(i, Segment)][1:] == [
        "attachments/same.txt",
        "attachments/same.txt~2",
        "attachments/same.txt~3",
    ]
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        (None, "limit:members")
    ]


def test_msg_unsupported_and_ole_object_attachments() -> None:
    """An attachment of an unsupported kind and an OLE object are named Unread."""
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
    ole_object: Tree = {"\x01Ole": b"\0" * 20, "CONTENTS": b"\0" * 10}
    data = formats.ole(formats.msg_tree(attachments=[("pic.png", png, 1), ("obj", ole_object, 6)]))
    items = _run(msg.extract_msg, data)
    assert [(i.where.member, i.reason) for i in items if isinstance(i, Unread)] == [
        ("attachments/pic.png", "unsupported:png"),
        ("attachments/obj", "unsupported:ole-object"),
    ]


def test_msg_html_body_when_no_plain_body() -> None:
    """Without a plain body the HTML body is read as text, lines after the headers."""
    html = b"<html><head><style>p{}</style></head><body><p>Dear Lee,</p><p>List below</p></body>"
    data = formats.ole(formats.msg_tree(body=None, extra={"__substg1.0_10130102": html}))
    lines = _texts(_run(msg.extract_msg, data)).splitlines()
    assert lines[-3:] == ["", "Dear Lee,", "List below"]


def test_msg_rtf_body_when_no_other_body() -> None:
    """The compressed RTF body is decompressed and read as RTF, numbered after headers."""
    rtf = rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard First line\par Second line\par}"
    data = formats.ole(
        formats.msg_tree(body=None, extra={"__substg1.0_10090102": formats.lzfu(rtf)})
    )
    items = _run(msg.extract_msg, data)
    body = [i for i in items if isinstance(i, Segment) and "First" in i.text]
    assert [(b.where.line, b.text) for b in body] == [(7, "First line\nSecond line\n")]


def test_msg_decompress_rtf_back_reference() -> None:
    """A back reference into the preset dictionary copies its bytes ("{\\rtf1" at 0)."""
    body = b"\x03" + struct.pack(">H", 0 << 4 | 4) + struct.pack(">H", 213 << 4)
    data = struct.pack("<IIII", len(body) + 12, 6, 0x75465A4C, 0) + body
    assert msg.decompress_rtf(data, 100) == b"{\\rtf1"
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        msg.decompress_rtf(struct.pack("<IIII", 12, 10**9, 0x75465A4C, 0), 1000)
    with pytest.raises(ExtractError, match="corrupt"):
        msg.decompress_rtf(struct.pack("<IIII", 12, 10, 0x12345678, 0), 1000)


def test_msg_without_message_streams_is_corrupt() -> None:
    """An OLE2 file without message properties is not an .msg: corrupt."""
    with pytest.raises(ExtractError) as caught:
        _run(msg.extract_msg, formats.ole({"Something": b"\0" * 10}))
    assert caught.value.reason == "corrupt"


def test_msg_streams_sharing_sectors_hit_the_bytes_limit() -> None:
    """Streams read add up against max_decompressed_bytes."""
    big = _u("x" * 40_000)
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        _run(
            msg.extract_msg,
            formats.ole(formats.msg_tree(body="y" * 40_000)),
            Limits(max_decompressed_bytes=len(big)),
        )


def test_ole_dispatch_of_xls_and_msg() -> None:
    """extract_ole reads workbooks and messages by their kind."""
    items = _run(ole.extract_ole, formats.ole(formats.msg_tree()))
    assert _texts(items).startswith("From: Pat Example")
    items = _run(ole.extract_ole, formats.xls([("S", [["a", "b"]])]))
    assert [(i.where.sheet, i.rows) for i in items if isinstance(i, Rows)] == [("S", [("a", "b")])]


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for pos, value in edits:
        out[pos % len(out)] = value
    return bytes(out)


_SAMPLE_MSG = formats.ole(formats.msg_tree(attachments=[("a.csv", _csv(_ssns(2)), 1)]))
_SAMPLE_XLS = formats.xls([("S", [["name", "zip"], ["Ann", "20500"]])])


@settings(max_examples=200, deadline=None)
@given(
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8),
    which=st.sampled_from(["msg", "xls", "raw"]),
    raw=st.binary(max_size=2048),
)
def test_ole_damaged_files_raise_only_extract_errors(
    edits: list[tuple[int, int]], which: str, raw: bytes
) -> None:
    """Damaged containers and arbitrary bytes end in items or ExtractError, nothing else."""
    if which == "raw":
        data = ole.MAGIC + raw
    else:
        data = _mutate(_SAMPLE_MSG if which == "msg" else _SAMPLE_XLS, edits)
    fh: IO[bytes] = io.BytesIO(data)
    with contextlib.suppress(ExtractError):
        list(ole.extract_ole(fh, WHERE, Limits(max_decompressed_bytes=1 << 20)))
