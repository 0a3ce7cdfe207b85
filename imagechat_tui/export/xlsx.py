"""A spreadsheet (.xlsx, Office Open XML) with the CSV export's rows: what LibreOffice and
Excel open right by default, text included, where a CSV cannot be (LibreOffice 7.4 reads
a CSV opened with no import options as Windows-1252 whatever its byte order mark says:
``é`` becomes ``Ã©``, and so it does UTF-16 with a mark; tests/export/test_xlsx.py).

Written with the standard library: one sheet, every text an inline string (a cell of
type text is never evaluated, so no apostrophe is needed against formulas), the
columns that are numbers as numbers. XML cannot carry most control characters; OOXML
writes them as ``_xHHHH_`` (and a literal ``_xHHHH_`` in the text as ``_x005F_xHHHH_``),
which Excel, LibreOffice and openpyxl read back as the character. The file is the same
bytes for the same review (fixed zip times).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Final
from xml.sax.saxutils import escape

from imagechat_tui.export import Review
from imagechat_tui.export.csvrows import COLUMNS, table

_MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: Columns whose values are numbers (marker number, position, comment index).
_NUMERIC: Final = frozenset({"marker", "x", "y", "w", "h", "comment"})
#: What XML 1.0 cannot hold, and a literal escape that would otherwise be read as one.
_UNSAFE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")

_PARTS: Final = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheets><sheet name="Review" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def text(value: str) -> str:
    """``value`` as the content of an OOXML ``<t>``: escaped for XML, control characters
    as ``_xHHHH_``, carriage returns kept (an XML reader would turn them into line feeds)."""
    coded = _UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return escape(coded).replace("\r", "&#13;")


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _cell(ref: str, value: str, numeric: bool) -> str:
    if not value:
        return ""
    if numeric:
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text(value)}</t></is></c>'


def sheet(review: Review) -> str:
    lines = [f'<worksheet xmlns="{_MAIN}"><sheetData>']
    for r, row in enumerate([list(COLUMNS), *table(review)], start=1):
        cells = "".join(
            _cell(f"{_column(i)}{r}", value, r > 1 and COLUMNS[i] in _NUMERIC)
            for i, value in enumerate(row)
        )
        lines.append(f'<row r="{r}">{cells}</row>')
    lines.append("</sheetData></worksheet>")
    return "".join(lines)


def render(review: Review) -> bytes:
    out = io.BytesIO()
    parts = {**_PARTS, "xl/worksheets/sheet1.xml": sheet(review)}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _HEAD + body)
    return out.getvalue()
