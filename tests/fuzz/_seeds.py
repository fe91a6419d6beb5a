"""Valid files of every format the scanner reads, made once per process for the fuzz tests.

Each seed holds a few synthetic taxpayer records (`tests.synthetic.people`, fixed seed),
so that a mutated file still reaches record assembly and findings, not only the parser.
Seeds are keyed by a short name; a failing example prints that name, never the bytes.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from functools import cache

from tests.fuzz._mutate import Blob
from tests.synthetic import formats
from tests.synthetic.people import People, Taxpayer, dashed

__all__ = [
    "CONTAINER_SEEDS",
    "OLE_SEEDS",
    "SEEDS",
    "ole_streams",
    "ole_tree",
    "seed",
    "zip_members",
]


def _people() -> list[Taxpayer]:
    return People(9).taxpayers(4)


def _table() -> list[list[formats.Cell]]:
    rows: list[list[formats.Cell]] = [["name", "ssn", "street", "city", "state", "zip"]]
    rows += [[p.full_name, dashed(p.ssn), p.street, p.city, p.state, p.zip] for p in _people()]
    return rows


def _csv() -> bytes:
    return "".join(",".join(str(c) for c in row) + "\n" for row in _table()).encode()


def _prose() -> list[str]:
    return [
        f"FEDERAL TAX INFORMATION: {p.full_name}, SSN {dashed(p.ssn)}, {p.full_address()}"
        for p in _people()
    ]


def _fixed() -> bytes:
    return "".join(f"{r[0]!s:<24}{r[1]!s:<12}{r[2]!s:<28}{r[5]!s:<10}\n" for r in _table()).encode()


def _json() -> bytes:
    head, *rows = _table()
    return json.dumps([dict(zip(head, row, strict=True)) for row in rows], indent=1).encode()


def _jsonl() -> bytes:
    head, *rows = _table()
    return "".join(json.dumps(dict(zip(head, row, strict=True))) + "\n" for row in rows).encode()


@cache
def _all() -> dict[str, bytes]:
    text = "\n".join(_prose()).encode() + b"\n"
    table = _table()
    csv = _csv()
    out = {
        "text": text,
        "csv": csv,
        "fixed": _fixed(),
        "json": _json(),
        "jsonl": _jsonl(),
        "gzip": gzip.compress(csv, mtime=0),
        "bzip2": bz2.compress(csv),
        "xz": lzma.compress(csv),
        "zip": formats.zip_archive({"a/people.csv": csv, "notes.txt": text}),
        "tar": formats.tar_archive({"people.csv": csv, "notes.txt": text}),
        "tgz": formats.tar_archive({"people.csv": csv}, "gz"),
        "7z": formats.sevenzip({"people.csv": csv, "notes.txt": text}),
        "xlsx": formats.xlsx({"People": table}),
        "docx": formats.docx(_prose(), [table]),
        "pptx": formats.pptx([_prose()[:2]], {0: table}),
        "ods": formats.ods({"People": table}),
        "odt": formats.odt(_prose(), [table]),
        "pdf": formats.pdf([_prose()[:2], _prose()[2:]], {"people.csv": csv}),
        "xls": formats.xls([("People", table)]),
        "msg": formats.msg(body="\n".join(_prose()), attachments={"people.csv": csv}),
        "eml": formats.eml("\n".join(_prose()), {"people.csv": csv, "inner.zip": b""}),
        "sqlite": formats.sqlite({"people": ([str(c) for c in table[0]], table[1:])}),
        "rtf": formats.rtf(_prose(), table),
        "nested-zip": formats.zip_archive(
            {"inner.zip": formats.zip_archive({"people.csv.gz": gzip.compress(csv, mtime=0)})}
        ),
    }
    out["eml"] = formats.eml(
        "\n".join(_prose()), {"people.csv": csv, "inner.zip": out["zip"], "book.xlsx": out["xlsx"]}
    )
    return out


def seed(name: str) -> bytes:
    """The seed file called ``name`` (a `Blob`: it prints as its length)."""
    return Blob(_all()[name])


SEEDS = (
    "text",
    "csv",
    "fixed",
    "json",
    "jsonl",
    "gzip",
    "bzip2",
    "xz",
    "zip",
    "tar",
    "tgz",
    "7z",
    "xlsx",
    "docx",
    "pptx",
    "ods",
    "odt",
    "pdf",
    "xls",
    "msg",
    "eml",
    "sqlite",
    "rtf",
    "nested-zip",
)
"""Every seed name, in a fixed order (Hypothesis shrinks towards the first)."""

CONTAINER_SEEDS = ("zip", "xlsx", "docx", "pptx", "ods", "odt", "nested-zip")
"""Seeds that are ZIP packages: their members can be mutated before packing."""


def zip_members(name: str) -> dict[str, bytes]:
    """The members of the ZIP seed ``name``, in order."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(seed(name))) as zf:
        return {info.filename: Blob(zf.read(info)) for info in zf.infolist()}


OLE_SEEDS = ("xls", "msg")
"""Seeds that are OLE2 compound files: their streams can be mutated before building."""


def ole_tree(name: str) -> formats.OleTree:
    """The storage tree (dicts) and streams (bytes) the OLE seed ``name`` is built from."""
    if name == "xls":
        return {"Workbook": formats.biff8_workbook([("People", _table())])}
    files = [("people.csv", _csv(), 1)]
    return formats.msg_tree(body="\n".join(_prose()), attachments=files)


def ole_streams(tree: formats.OleTree, prefix: str = "") -> list[str]:
    """The paths (``a/b``) of every stream in ``tree``."""
    out: list[str] = []
    for key, node in tree.items():
        if isinstance(node, dict):
            out += ole_streams(node, f"{prefix}{key}/")
        else:
            out.append(prefix + key)
    return out
