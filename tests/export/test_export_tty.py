"""Exports to a terminal: on a real pty, every text format goes through the app's
inert-text rule (an escape in a comment shows as ␛, the title is not set, the screen
not cleared); to a file or a pipe, the exact text."""

from __future__ import annotations

import asyncio
import os
import pty
import sys
from pathlib import Path

from tests.export.hostile_room import ESCAPES, MALLORY, Seeded, export

RAW = (b"\x1b", b"\x07", "\x9b".encode(), "\u202e".encode())


def _drain(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the pty's other end
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def _export_to_pty(seeded: Seeded, *args: str) -> tuple[int, bytes]:
    leader, follower = pty.openpty()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "imagechat_tui",
            "export",
            str(seeded.image),
            "--server",
            seeded.url,
            "--token",
            seeded.token,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
            env={**os.environ, "COLUMNS": "200", "TERM": "xterm"},
        )
    finally:
        os.close(follower)
    try:
        out = await asyncio.to_thread(_drain, leader)
    finally:
        os.close(leader)
    return await proc.wait(), out


async def test_every_text_format_reaches_a_terminal_inert(hostile: Seeded) -> None:
    for fmt in ("markdown", "csv", "w3c"):
        code, out = await _export_to_pty(hostile, "-f", fmt)
        assert code == 0, out
        assert not [raw for raw in RAW if raw in out], (fmt, out[:400])
        # Shown, not obeyed (Markdown escapes the brackets, as it would anywhere; JSON
        # writes ESC as \u001b itself, and the C1 CSI and the bidi override inert).
        escape = b"\\u001b" if fmt == "w3c" else "␛".encode()
        assert escape in out and b"pwned" in out and b"31mMallory" in out, fmt
        assert "\ufffd31m red \ufffdgnp.exe".encode() in out, fmt


async def test_a_png_or_xlsx_is_refused_on_a_terminal(hostile: Seeded) -> None:
    code, out = await _export_to_pty(hostile, "-f", "png")
    assert code == 2 and b"a PNG would garble the terminal" in out
    code, out = await _export_to_pty(hostile, "-f", "xlsx")
    assert code == 2 and b"an .xlsx file would garble the terminal" in out


async def test_a_file_or_a_pipe_keeps_the_exact_text(hostile: Seeded, tmp_path: Path) -> None:
    for fmt in ("markdown", "csv"):
        file = tmp_path / f"review.{fmt}"
        code, _, err = await export(hostile, "-f", fmt, "-o", str(file))
        assert code == 0, err
        text = file.read_text("utf-8-sig")
        if fmt == "csv":
            assert ESCAPES in text and MALLORY in text  # a file keeps the exact text
        else:  # Markdown is for a renderer: controls are made visible in the file too
            assert "\x1b" not in text
    code, out, err = await export(hostile, "-f", "w3c")  # a pipe
    assert code == 0, err
    assert ESCAPES.encode("unicode_escape") not in out
    import json

    texts = [b["value"] for a in json.loads(out)["first"]["items"] for b in a["body"]]
    assert ESCAPES in texts  # JSON carries the exact text (escaped as \u001b)
