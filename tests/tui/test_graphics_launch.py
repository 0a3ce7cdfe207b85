"""``imagechat-tui IMAGE`` in a pseudo-terminal that answers the start-up probe: 24-bit
colour when the terminal says so, whatever ``TERM`` claims; ``--graphics`` checked."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from bench.terminal_bytes_bench import Terminal
from imagechat_tui.server.node import RunningServer
from tests.client.test_terminal_probe import PLAIN_XTERM_256_REPLIES, XTERM_VT340_REPLIES
from tests.tui import helpers
from tests.tui.test_token_and_launch import run_cli

TRUECOLOR_SGR = re.compile(rb"\x1b\[[\d;]*[34]8;2;\d+;\d+;\d+")


async def _first_screen(
    home: Path, server: RunningServer, replies: bytes | None, graphics: str = "halfblock"
) -> bytes:
    helpers.test_image().save(home / "shot.png")
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "TERM": "xterm"}  # xterm's own default
    env.pop("COLORTERM", None)  # ssh does not forward it
    env.pop("IMAGECHAT_TOKEN", None)
    env.pop("IMAGECHAT_GRAPHICS", None)
    argv = [sys.executable, "-m", "imagechat_tui", str(home / "shot.png")]
    argv += ["--server", server.url, "--graphics", graphics]
    terminal = Terminal(argv, 100, 30, env, replies)
    try:
        await terminal.until_written(b"Connected")
        return b"".join(terminal.log)
    finally:
        assert await terminal.close() == 0


async def test_truecolor_when_the_terminal_says_so_although_term_is_plain_xterm(
    home: Path, server: RunningServer
) -> None:
    written = await _first_screen(home, server, XTERM_VT340_REPLIES)
    assert len(TRUECOLOR_SGR.findall(written)) > 100


async def test_no_truecolor_when_the_terminal_does_not_say_so(
    home: Path, server: RunningServer
) -> None:
    written = await _first_screen(home, server, PLAIN_XTERM_256_REPLIES)
    assert TRUECOLOR_SGR.findall(written) == []


async def test_a_terminal_that_answers_nothing_still_gets_the_app(
    home: Path, server: RunningServer
) -> None:
    written = await _first_screen(home, server, None)
    assert b"\xe2\x96\x80" in written  # half blocks
    assert TRUECOLOR_SGR.findall(written) == []


def test_an_unknown_graphics_mode_is_one_line_and_exit_2(home: Path, tmp_path: Path) -> None:
    helpers.test_image().save(tmp_path / "a.png")
    code, err = run_cli(home, str(tmp_path / "a.png"), "--graphics", "ascii")
    assert code == 2
    assert err.strip() == "imagechat-tui: --graphics must be one of auto, kitty, sixel, halfblock."


def test_imagechat_graphics_sets_the_mode_like_the_option(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helpers.test_image().save(tmp_path / "a.png")
    monkeypatch.setenv("IMAGECHAT_GRAPHICS", "ascii")
    code, err = run_cli(home, str(tmp_path / "a.png"))
    assert code == 2
    assert "--graphics must be one of auto, kitty, sixel, halfblock." in err
