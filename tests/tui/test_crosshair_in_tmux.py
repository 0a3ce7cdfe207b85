"""The crosshair in a real tmux, in its default 256 colours and in 24-bit: a plus five
cells wide and tall, which stands out from a light image and from a dark one."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from rich.color import Color

from imagechat_tui.server.node import RunningServer
from tests import x11
from tests.tools import require
from tests.tui.test_in_tmux import _tmux

SGR = re.compile(r"\x1b\[([0-9;]*)m")
RGB = tuple[int, int, int]


def cells(line: str) -> list[tuple[str, RGB | None, RGB | None]]:
    """Each character of a ``capture-pane -e`` line with its foreground and background."""
    out: list[tuple[str, RGB | None, RGB | None]] = []
    fg: RGB | None = None
    bg: RGB | None = None
    at = 0
    for match in [*SGR.finditer(line), None]:
        end = match.start() if match else len(line)
        out += [(ch, fg, bg) for ch in line[at:end]]
        if match is None:
            break
        at = match.end()
        codes = [int(c) if c else 0 for c in match.group(1).split(";")]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                fg = bg = None
            elif code in (38, 48) and codes[i + 1] == 5:
                rgb = Color.from_ansi(codes[i + 2]).get_truecolor()
                fg, bg = (tuple(rgb), bg) if code == 38 else (fg, tuple(rgb))  # type: ignore[assignment]
                i += 2
            elif code in (38, 48) and codes[i + 1] == 2:
                rgb3 = (codes[i + 2], codes[i + 3], codes[i + 4])
                fg, bg = (rgb3, bg) if code == 38 else (fg, rgb3)
                i += 4
            i += 1
    return out


def luminance(rgb: RGB) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = map(channel, rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("colours", ["256", "24-bit"])
@pytest.mark.parametrize("shade", [(250, 250, 250), (10, 10, 10)], ids=["light", "dark"])
async def test_the_crosshair_stands_out_on_light_and_dark_images(
    colours: str,
    shade: RGB,
    home: Path,
    server: RunningServer,
    mint_token: Callable[..., str],
) -> None:
    require("tmux")
    socket = f"imagechat-crosshair-{os.getpid()}-{colours}-{shade[0]}"
    image = home / "plain.png"
    Image.new("RGB", (400, 300), shade).save(image)
    argv = x11.app_argv(image, server.url, mint_token("alice"), "cross", "halfblock")
    wanted = {"IMAGECHAT_HOME", "PYTHONPATH", "PATH"}
    env = {k: v for k, v in x11.app_env(home).items() if k in wanted}
    if colours == "24-bit":
        env["COLORTERM"] = "truecolor"
    assigned = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    _tmux(
        socket,
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "36",
        f"env -u COLORTERM {assigned} {shlex.join(argv)}",
    )
    try:
        screen = ""
        async with asyncio.timeout(60):
            while "Connected" not in screen or "┼" not in screen:
                await asyncio.sleep(0.2)
                screen = _tmux(socket, "capture-pane", "-p", "-e")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False, timeout=30)
    rows = [cells(line) for line in screen.splitlines()]
    y, x = next(
        (y, [c[0] for c in row].index("┼"))
        for y, row in enumerate(rows)
        if any(c[0] == "┼" for c in row)
    )
    mark = [rows[y][x - 1], rows[y][x], rows[y][x + 1], rows[y - 1][x], rows[y + 1][x]]
    assert [c[0] for c in mark] == ["─", "┼", "─", "│", "│"]
    if colours == "24-bit":
        assert "\x1b[38;2;" in screen
    image_colour = rows[y][x - 4][2] or rows[y][x - 4][1]
    assert image_colour is not None
    for _, fg, bg in mark:
        assert fg is not None and bg is not None
        # The glyph against its cell, and the cell or the glyph against the image.
        assert contrast(fg, bg) >= 7
        assert max(contrast(fg, image_colour), contrast(bg, image_colour)) >= 7
