"""LibreOffice headless as a spreadsheet user's program: it opens a file with no import
options (or the ones given) and saves it as .xlsx, which openpyxl reads back."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import openpyxl
from openpyxl.utils.escape import unescape

from tests.tools import require


async def to_xlsx(file: Path, profile: Path, *infilter: str) -> list[list[object]]:
    """The cells LibreOffice read from ``file`` (none of them a formula)."""
    require("libreoffice")
    out = file.parent / "converted"
    proc = await asyncio.create_subprocess_exec(
        str(shutil.which("libreoffice")),
        f"-env:UserInstallation={profile.as_uri()}",  # its own profile: no lock shared
        "--headless",
        *infilter,
        "--convert-to",
        "xlsx",
        "--outdir",
        str(out),
        str(file),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    made = out / (file.stem + ".xlsx")
    assert proc.returncode == 0 and made.exists(), err.decode()
    sheet = openpyxl.load_workbook(made).active
    assert sheet is not None
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    # A control character is stored as _x001b_ in the file (OOXML): read it back as it is.
    return [
        [unescape(c.value) if isinstance(c.value, str) else c.value for c in row]
        for row in sheet.iter_rows()
    ]
