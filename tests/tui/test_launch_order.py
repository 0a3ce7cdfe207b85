"""``imagechat-tui FILE`` asks the terminal what it can show before it imports the app or
reads FILE (entry.py, ``terminal_probe.ask``): the replies come back while it works, and
over ssh a whole round trip no longer waits in line before the first frame."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from bench.terminal_bytes_bench import DA1_QUESTION, Terminal


async def test_the_terminal_is_asked_before_the_image_is_read(home: Path, tmp_path: Path) -> None:
    """The image is a FIFO that no one writes: a launch that read it before asking
    would wait there, and the questions would never come (the wait's timeout fails)."""
    image = tmp_path / "shot.png"
    os.mkfifo(image)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
    env |= {"IMAGECHAT_HOME": str(home), "TERM": "xterm-256color"}
    argv = [sys.executable, "-m", "imagechat_tui", str(image)]
    terminal = Terminal(argv, 100, 30, env)
    try:
        await terminal.until_written(DA1_QUESTION, timeout=60)
        assert b"\xe2\x96\x80" not in b"".join(terminal.log)  # nothing drawn: no image yet
    finally:
        os.kill(terminal.pid, signal.SIGKILL)  # blocked on the FIFO: it would start no server
        await terminal.close()
