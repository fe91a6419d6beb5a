"""E-mail: header fields and bodies as prose, attachments dispatched, hostile MIME bounded."""

from __future__ import annotations

import base64
import contextlib
import io
import random
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftiscan.scanner.errors import ExtractError, LimitExceeded
from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import mail
from ftiscan.scanner.model import Limits, Location, Rows, Segment, Unread

Item = Segment | Rows | Unread
WHERE = Location(Path("/scan/letter.eml"))


def _run(data: bytes, **limits: int) -> list[Item]:
    return list(mail.extract_eml(io.BytesIO(data), WHERE, Limits(**limits)))


def _segments(items: list[Item]) -> list[tuple[str | None, int | None, str]]:
    return [(i.where.member, i.where.line, i.text) for i in items if isinstance(i, Segment)]


def _unread(items: list[Item]) -> list[tuple[str | None, str]]:
    return [(i.where.member, i.reason) for i in items if isinstance(i, Unread)]


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ann Example <ann@example.com>"
    msg["To"] = "Bob Example <bob@example.com>"
    msg["Subject"] = "Steuerbescheid für Ann"
    msg["Date"] = "Mon, 01 Dec 2025 10:00:00 +0000"
    msg["Message-ID"] = "<1@example.com>"
    return msg


def test_mail_plain_message_lines_are_file_lines() -> None:
    """A single unencoded body keeps the message's lines; headers are prose with their lines."""
    data = (
        b"From: Ann <ann@example.com>\n"
        b"To: bob@example.com\n"
        b"Subject: =?utf-8?q?Caf=C3=A9_receipt?=\n"
        b"X-Mailer: synthetic\n"
        b"\n"
        b"Dear taxpayer,\n"
        b"your refund\n"
    )
    assert mail.looks_like_mail(data)
    assert _segments(_run(data)) == [
        (None, 1, "From: Ann <ann@example.com>\n"),
        (None, 2, "To: bob@example.com\n"),
        (None, 3, "Subject: Café receipt\n"),
        (None, 6, "Dear taxpayer,\nyour refund\n"),
    ]


def test_mail_multipart_bodies_and_attachments() -> None:
    """Text and HTML bodies are numbered; a CSV attachment gives rows under its name."""
    msg = _message()
    msg.set_content("Dear taxpayer,\nline two\n")
    msg.add_alternative(
        "<html><body><p>Dear <b>Ann</b></p><script>var x = 1;</script>"
        "<style>p {}</style><p>Main St</p></body></html>",
        subtype="html",
    )
    ssn = valid_ssn(random.Random(5))
    table = f"name,ssn,street\nAnn,{ssn},1 Main St\n".encode()
    msg.add_attachment(table, maintype="text", subtype="csv", filename="people.csv")
    items = _run(msg.as_bytes())
    segments = _segments(items)
    assert segments[:4] == [
        (None, 1, "From: Ann Example <ann@example.com>\n"),
        (None, 2, "To: Bob Example <bob@example.com>\n"),
        (None, 3, "Subject: Steuerbescheid für Ann\n"),
        (None, 4, "Date: Mon, 01 Dec 2025 10:00:00 +0000\n"),
    ]
    assert segments[4] == ("body/1", 1, "Dear taxpayer,\nline two\n")
    html = [text for member, _, text in segments if member == "body/2"]
    assert "".join(html).split() == ["Dear", "Ann", "Main", "St"]
    rows = [i for i in items if isinstance(i, Rows)]
    assert [(r.where.member, r.header, len(r.rows)) for r in rows] == [
        ("attachments/people.csv", ("name", "ssn", "street"), 1)
    ]


def test_mail_encodings_and_charsets() -> None:
    """Base64, quoted-printable and 8bit bodies decode; a bad charset falls back."""
    parts = [
        ("base64", "utf-8", base64.b64encode("Grüße aus Köln\n".encode())),
        ("quoted-printable", "iso-8859-1", b"Gr=FC=DFe aus K=F6ln=\n und mehr\n"),
        ("8bit", "no-such-charset", "Grüße aus Köln\n".encode()),
        ("7bit", "us-ascii", "Grüße\n".encode("cp1252")),
    ]
    body = b"".join(
        b"--XX\nContent-Type: text/plain; charset=%s\nContent-Transfer-Encoding: %s\n\n%s\n"
        % (charset.encode(), cte.encode(), payload)
        for cte, charset, payload in parts
    )
    data = (
        b"From: a@example.com\nTo: b@example.com\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=XX\n\n" + body + b"--XX--\n"
    )
    bodies = [(m, t) for m, _, t in _segments(_run(data)) if m and m.startswith("body/")]
    assert bodies == [
        ("body/1", "Grüße aus Köln\n"),
        ("body/2", "Grüße aus Köln und mehr\n"),
        ("body/3", "Grüße aus Köln\n"),
        ("body/4", "Grüße\n"),
    ]


def test_mail_invalid_base64_part_is_corrupt() -> None:
    """A part whose base64 is broken is unread corrupt; the other parts are read."""
    data = (
        b"From: a@example.com\nTo: b@example.com\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=XX\n\n"
        b"--XX\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!not*base64!!\n"
        b"--XX\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n"
        b"JVBERi0*\n"
        b"--XX\nContent-Type: text/plain\n\nstill read\n"
        b"--XX--\n"
    )
    items = _run(data)
    assert _unread(items) == [("body/1", "corrupt"), ("attachments/a.pdf", "corrupt")]
    assert ("body/2", 1, "still read") in _segments(items)  # the last line break is the delimiter's


def test_mail_attached_zip_and_message() -> None:
    """A ZIP attachment is opened below its name; a forwarded message is read as one."""
    msg = _message()
    msg.set_content("see attachments\n")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("inner.txt", "zip words\n")
    msg.add_attachment(out.getvalue(), maintype="application", subtype="zip", filename="a.zip")
    inner = EmailMessage()
    inner["From"] = "carl@example.com"
    inner["Subject"] = "forwarded"
    inner.set_content("inner body\n")
    msg.add_attachment(inner)
    segments = _segments(_run(msg.as_bytes()))
    assert ("attachments/a.zip/inner.txt", 1, "zip words\n") in segments
    forwarded = [(line, text) for member, line, text in segments if member == "attachments/part-3"]
    assert forwarded[:2] == [(1, "From: carl@example.com\n"), (2, "Subject: forwarded\n")]
    assert forwarded[-1][1] == "inner body\n"


def test_mail_mime_bomb_of_parts() -> None:
    """100,000 parts stop at max_members with one limit:members, quickly."""
    head = (
        b"From: a@example.com\r\nTo: b@example.com\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
    )
    parts = b"--BB\r\nContent-Type: text/plain\r\n\r\nhello\r\n" * 100_000
    started = time.monotonic()
    items = _run(head + parts + b"--BB--\r\n", max_members=50)
    assert time.monotonic() - started < 5
    assert _unread(items) == [(None, "limit:members")]
    assert len([m for m, _, _ in _segments(items) if m and m.startswith("body/")]) == 50


def test_mail_deep_multipart_nesting() -> None:
    """Multipart nesting deeper than max_depth ends with limit:depth for that part."""
    depth = 3000
    data = (
        b"From: a@example.com\r\nTo: b@example.com\r\nMIME-Version: 1.0\r\n"
        + b"".join(
            b"Content-Type: multipart/mixed; boundary=B%d\r\n\r\n--B%d\r\n" % (i, i)
            for i in range(depth)
        )
        + b"Content-Type: text/plain\r\n\r\nhi\r\n"
        + b"".join(b"--B%d--\r\n" % i for i in reversed(range(depth)))
    )
    started = time.monotonic()
    items = _run(data, max_depth=4)
    assert time.monotonic() - started < 5
    assert _unread(items) == [("attachments/part-4", "limit:depth")]


def test_mail_attached_message_beyond_depth() -> None:
    """A forwarded message inside a message at max_depth is unread limit:depth."""
    inner = EmailMessage()
    inner["From"] = "carl@example.com"
    inner.set_content("inner\n")
    msg = _message()
    msg.set_content("outer\n")
    msg.add_attachment(inner)
    items = _run(msg.as_bytes(), max_depth=1)
    assert _unread(items) == [("attachments/part-2", "limit:depth")]


def test_mail_mbox_messages() -> None:
    """Each message of an mbox is a member message-<n>, with the file's lines."""
    data = (
        b"From ann@example.com Mon Dec  1 10:00:00 2025\n"
        b"From: ann@example.com\nSubject: one\n\nfirst body\n\n"
        b"From bob@example.com Mon Dec  1 11:00:00 2025\n"
        b"From: bob@example.com\nSubject: two\n\nsecond body\n"
    )
    assert mail.looks_like_mail(data)
    assert _segments(_run(data)) == [
        ("message-1", 2, "From: ann@example.com\n"),
        ("message-1", 3, "Subject: one\n"),
        ("message-1", 5, "first body\n\n"),
        ("message-2", 8, "From: bob@example.com\n"),
        ("message-2", 9, "Subject: two\n"),
        ("message-2", 11, "second body\n"),
    ]
    items = _run(data, max_members=1)
    assert _unread(items) == [(None, "limit:members")]


def test_mail_bytes_limit() -> None:
    """A message larger than the bytes limit is read up to it, then limit:bytes."""
    data = b"From: a@example.com\nTo: b@example.com\n\n" + b"body line\n" * 10_000
    seen: list[Item] = []
    with pytest.raises(LimitExceeded, match="limit:bytes"):
        seen.extend(mail.extract_eml(io.BytesIO(data), WHERE, Limits(max_decompressed_bytes=500)))
    assert _segments(seen)[0] == (None, 1, "From: a@example.com\n")


def test_mail_looks_like_mail() -> None:
    """Two known header fields in a header block make mail; prose and CSV do not."""
    assert mail.looks_like_mail(b"Received: from x\r\n\tby y\r\nMessage-ID: <1@x>\r\n\r\nhi")
    assert mail.looks_like_mail(b"From a@example.com Mon Dec 1\nFrom: a\nDate: today\n\n")
    assert not mail.looks_like_mail(b"Dear taxpayer,\nFrom: nobody\nSubject: x\n")
    assert not mail.looks_like_mail(b"From: a\nthis is not a header\nSubject: x\n")
    assert not mail.looks_like_mail(b"name,street\nAnn,1 Main St\n")


def test_mail_html_text_skips_script_and_style() -> None:
    """HTML bodies lose tags, scripts and styles; entities are decoded."""
    text = "".join(mail.html_text("<style>x{}</style><p>A&amp;B</p><SCRIPT>bad()</SCRIPT>ok"))
    assert text == "\nA&B\nok"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_mail_arbitrary_bytes_raise_only_extract_error(blob: bytes) -> None:
    """Any bytes after a header block end normally or with ExtractError."""
    data = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" + blob
    with contextlib.suppress(ExtractError):
        _run(data, max_decompressed_bytes=100_000, max_members=50)


def test_mail_speed() -> None:
    """A 10 MB message with a base64 CSV attachment is read at a reasonable rate."""
    msg = _message()
    msg.set_content("see attached\n")
    rng = random.Random(3)
    table = "name,ssn,street\n" + "".join(
        f"Ann{i},{valid_ssn(rng)},{i} Main St\n" for i in range(200_000)
    )
    msg.add_attachment(table.encode(), maintype="text", subtype="csv", filename="p.csv")
    data = msg.as_bytes()
    started = time.monotonic()
    rows = sum(len(i.rows) for i in _run(data) if isinstance(i, Rows))
    assert rows == 200_000
    assert time.monotonic() - started < 30
