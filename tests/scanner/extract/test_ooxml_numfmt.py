"""XLSX number formats: Excel's SSN and ZIP formats bring back the lost leading zeros."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ftiscan.scanner.examples import valid_ssn
from ftiscan.scanner.extract import ooxml
from ftiscan.scanner.model import Limits, Location, Rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="000\\-00\\-0000"/>'
    '<numFmt numFmtId="165" formatCode="00000"/></numFmts>'
    '<cellStyleXfs count="1"><xf numFmtId="164"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/></cellXfs>'
    "</styleSheet>"
)


def _workbook(rows: str) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{CT}"><Override PartName="/xl/workbook.xml" '
            f'ContentType="{SHEET_CT}"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG}"><Relationship Id="r1" Target="xl/workbook.xml" '
            f'Type="{REL}/officeDocument"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="Payees" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{REL}/worksheet"/>'
            f'<Relationship Id="rId2" Target="styles.xml" Type="{REL}/styles"/></Relationships>',
        )
        zf.writestr("xl/styles.xml", STYLES)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>',
        )
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def test_ooxml_numfmt_ssn_and_zip_keep_leading_zeros() -> None:
    """A number styled 000-00-0000 reads as its dashed SSN, 00000 as a 5-digit ZIP; an
    unstyled number stays as written."""
    ssn = "0" + valid_ssn(random.Random(5))[1:]  # an SSN-shaped value with a leading zero
    stored = str(int(ssn))
    rows = (
        f'<row r="1"><c r="A1" s="1"><v>{stored}</v></c><c r="B1" s="2"><v>2134</v></c>'
        f'<c r="C1"><v>{stored}</v></c></row>'
    )
    items = list(ooxml.extract_xlsx(_workbook(rows), Location(Path("p.xlsx")), Limits()))
    [batch] = [i for i in items if isinstance(i, Rows)]
    assert batch.rows == [(f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}", "02134", stored)]


@given(st.integers(0, 999_999_999))
def test_ooxml_numfmt_format_digits_round_trip(number: int) -> None:
    """Formatting with the SSN pattern keeps every digit, zero-padded to nine."""
    text = ooxml.format_digits(str(number), "000-00-0000")
    assert text.replace("-", "") == f"{number:09d}"
    assert [len(part) for part in text.split("-")] == [3, 2, 4]
