"""The CSV export opened by a real spreadsheet: LibreOffice headless converts it to
.xlsx with no import options, and openpyxl reads the cells back. No cell is a formula
(a leading space or tab included); every cell is the comment's text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.export.hostile_room import FORMULAS, MARKDOWN, Seeded, export
from tests.export.libreoffice import to_xlsx as _to_xlsx


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
