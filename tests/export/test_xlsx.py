"""The .xlsx export opened by a real spreadsheet: LibreOffice headless opens it with no
options and saves it again, openpyxl reads the cells back: every text exactly as written
(accents, CJK, joined emoji, control characters, formula-like comments as text without an
apostrophe), no formula, numbers as numbers. And why there is an .xlsx at all: the same
LibreOffice reads a CSV with a byte order mark, UTF-8 or UTF-16, as Windows-1252."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.export.hostile_room import ESCAPES, EVE, FORMULAS, MALLORY, MARKDOWN, Seeded, export
from tests.export.libreoffice import to_xlsx


async def test_libreoffice_opens_the_xlsx_as_written(hostile: Seeded, tmp_path: Path) -> None:
    file = tmp_path / "review.xlsx"
    code, _, err = await export(hostile, "-f", "xlsx", "-o", str(file))
    assert code == 0, err
    rows = await to_xlsx(file, tmp_path / "profile")
    csv_file = tmp_path / "review.csv"
    code, _, err = await export(hostile, "-f", "csv", "-o", str(csv_file))
    assert code == 0, err
    written = list(csv.reader(io.StringIO(csv_file.read_text("utf-8-sig"), newline="")))
    assert rows[0] == written[0]
    assert len(rows) == len(written) == 19
    for got, row in zip(rows[1:], written[1:], strict=True):
        marker, _, x, y, w, h, index = got[:7]
        assert isinstance(marker, int) and isinstance(index, int)
        assert all(isinstance(v, int | float) for v in (x, y))
        assert (w is None) == (h is None) == (row[4] == "")
        # The CSV's text columns, without the apostrophe the CSV puts before a formula.
        for value, cell in zip(got[7:], row[7:], strict=True):
            expected = cell[1:] if cell.startswith("'") else cell
            assert ("" if value is None else value) == expected.replace("\r\n", "\n")
    texts = [row[-1] for row in rows[1:]]
    names = {row[10] for row in rows[1:]}
    assert MARKDOWN in texts  # é@bob, 日本@bob, 👨‍👩‍👧 whole
    assert ESCAPES in texts  # control characters kept as characters
    assert set(FORMULAS) <= set(texts)  # text, not run, no apostrophe
    assert {EVE, MALLORY} <= names


async def test_libreoffice_reads_a_csv_with_a_byte_order_mark_as_windows_1252(
    tmp_path: Path,
) -> None:
    """What the .xlsx is for (LibreOffice 7.4, no import options): UTF-8 with a mark and
    UTF-16LE with a mark, tab-separated, both come out as mojibake."""
    line = "marker\ttext\r\n1\té 日本 👨\u200d👩\u200d👧\r\n"
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(b"\xef\xbb\xbf" + line.replace("\t", ",").encode("utf-8"))
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(b"\xff\xfe" + line.encode("utf-16-le"))
    rows = await to_xlsx(utf8, tmp_path / "profile")
    assert rows[0][0] == "\u00ef\u00bb\u00bfmarker" and str(rows[1][1]).startswith("Ã©")
    rows = await to_xlsx(utf16, tmp_path / "profile")
    assert str(rows[0][0]).startswith("\u00ff\u00femarker")
    assert "é 日本" not in " ".join(str(v) for row in rows for v in row)


def test_text_survives_xml_and_the_ooxml_escape() -> None:
    """Pure: what XML cannot hold is written ``_xHHHH_``, a literal ``_xHHHH_`` is kept
    literal, a carriage return is not folded into a line feed; openpyxl's reading of
    the escape gives each text back."""
    from xml.sax.saxutils import unescape as xml_unescape

    from openpyxl.utils.escape import unescape

    from imagechat_tui.export.xlsx import text

    for value in (
        "_x0041_ stays",
        "\x1b[2J\x07",
        "a\r\nb",
        "<b>&amp;</b>",
        "\x00 é 日本 👨\u200d👩",
    ):
        written = text(value)
        assert "\x1b" not in written and "\x00" not in written
        assert unescape(xml_unescape(written.replace("&#13;", "\r"))) == value
