"""The app inside a real tmux (Debian 12: tmux 3.3a, no Sixel): the probe's questions
are answered by tmux itself, no graphics protocol is claimed, and the app draws half
blocks without waiting on answers that never come."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from imagechat_tui.server.node import RunningServer
from tests import x11
from tests.tools import require


def _tmux(socket: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket, "-f", "/dev/null", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


async def test_in_tmux_without_sixel_the_app_uses_half_blocks(
    home: Path, server: RunningServer, mint_token: Callable[..., str]
) -> None:
    require("tmux")
    socket = f"imagechat-graphics-{os.getpid()}"
    image = home / "stripes.png"
    x11.stripes_image().save(image)
    argv = x11.app_argv(image, server.url, mint_token("alice"), "tmux", "auto")
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in x11.app_env(home).items()
        if k in {"IMAGECHAT_HOME", "PYTHONPATH", "PATH"}
    )
    _tmux(socket, "new-session", "-d", "-x", "160", "-y", "48", f"env {env} {shlex.join(argv)}")
    try:
        screen = ""
        async with asyncio.timeout(60):
            while "Connected" not in screen:
                await asyncio.sleep(0.2)
                screen = _tmux(socket, "capture-pane", "-p", "-e")
        assert "\u2580" in screen  # half blocks
        assert "\x1bP" not in screen and "\x1b_G" not in screen
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False, timeout=30)
