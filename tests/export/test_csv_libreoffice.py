"""The CSV export opened by a real spreadsheet: LibreOffice headless converts it to
.xlsx with no import options, and openpyxl reads the cells back. No cell is a formula
(a leading space or tab included); every cell is the comment's text."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from pathlib import Path

import openpyxl
from openpyxl.utils.escape import unescape

from tests.export.hostile_room import FORMULAS, MARKDOWN, Seeded, export
from tests.tools import require


async def _to_xlsx(csv_file: Path, profile: Path, *infilter: str) -> list[list[object]]:
    require("libreoffice")
    out = csv_file.parent / "xlsx"
    proc = await asyncio.create_subprocess_exec(
        str(shutil.which("libreoffice")),
        f"-env:UserInstallation={profile.as_uri()}",  # its own profile: no lock shared
        "--headless",
        *infilter,
        "--convert-to",
        "xlsx",
        "--outdir",
        str(out),
        str(csv_file),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    made = out / (csv_file.stem + ".xlsx")
    assert proc.returncode == 0 and made.exists(), err.decode()
    sheet = openpyxl.load_workbook(made).active
    assert sheet is not None
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    # A control character is stored as _x001b_ in the file (OOXML): read it back as it is.
    return [
        [unescape(c.value) if isinstance(c.value, str) else c.value for c in row]
        for row in sheet.iter_rows()
    ]


async def test_libreoffice_reads_no_formula_and_every_cell_as_text(
    hostile: Seeded, tmp_path: Path
) -> None:
    file = tmp_path / "review.csv"
    code, _, err = await export(hostile, "-f", "csv", "-o", str(file))
    assert code == 0, err
    rows = await _to_xlsx(file, tmp_path / "profile")
    written = list(csv.reader(io.StringIO(file.read_text("utf-8-sig"), newline="")))
    assert len(rows) == len(written) == 19  # multi-line cells stay one row each
    # LibreOffice 7.4 (Debian 12) reads a CSV as Windows-1252 when converting with no
    # options, byte order mark or not: the mark shows in the first cell, and every cell
    # of ASCII is the same (the next test tells it UTF-8, and all cells are).
    assert rows[0][0] == "\u00ef\u00bb\u00bfmarker"
    rows[0][0] = "marker"
    for got, wrote in zip(rows, written, strict=True):
        for value, cell in zip(got, wrote, strict=True):
            if cell.isascii():
                assert ("" if value is None else str(value)) == cell.replace("\r\n", "\n")
    column = [row[-1] for row in rows[1:]]
    # Each formula-like comment, a leading space or tab included, is text with its
    # apostrophe: shown, never run.
    for formula in FORMULAS:
        assert "'" + formula in column, formula
    assert all(not str(v).lstrip().startswith(("=", "+", "-", "@")) for v in column)


async def test_the_csv_is_utf8_with_a_byte_order_mark(hostile: Seeded, tmp_path: Path) -> None:
    file = tmp_path / "review.csv"
    code, _, err = await export(hostile, "-f", "csv", "-o", str(file))
    assert code == 0, err
    data = file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # what Excel goes by to read UTF-8
    # LibreOffice 7.4 ignores the mark when converting with no options: told UTF-8
    # (filter option 76), it reads every character, the joined emoji included.
    rows = await _to_xlsx(file, tmp_path / "profile", "--infilter=CSV:44,34,76")
    written = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [["" if v is None else str(v) for v in row] for row in rows] == [
        [cell.replace("\r\n", "\n") for cell in row] for row in written
    ]
    assert MARKDOWN in [row[-1] for row in rows]  # the joined emoji included
