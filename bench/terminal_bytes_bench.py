"""Bytes the app writes to the terminal when one remote marker arrives, vs a full repaint.

Run: .venv/bin/python bench/terminal_bytes_bench.py [--size 160x48]

The real app runs in a pseudo-terminal (truecolor) against a real server on loopback;
every byte it writes is counted. A second client creates one marker; the bytes written
until the screen is quiet again are compared with the first full paint of the screen.
Target: under 2 KB for the remote marker.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import struct
import sys
import tempfile
import termios
import time
import uuid
from pathlib import Path

from PIL import Image, ImageDraw

from imagechat_tui.auth import TenantStore
from imagechat_tui.client.connection import Connection
from imagechat_tui.model import Actor
from imagechat_tui.protocol import CreateOp, NewChat, User
from imagechat_tui.replica import Replica
from imagechat_tui.server.node import ServerConfig, start_server


class Terminal:
    """A pty running the app; counts what it writes."""

    def __init__(self, argv: list[str], cols: int, rows: int, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.set_blocking(self.fd, False)
        self.total = 0
        self.log: list[bytes] = []
        self.last_write = time.monotonic()
        asyncio.get_running_loop().add_reader(self.fd, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            asyncio.get_running_loop().remove_reader(self.fd)
            return
        self.total += len(data)
        self.log.append(data)
        self.last_write = time.monotonic()

    async def changed_since(self, total: int, timeout: float = 5.0) -> None:
        """Wait until something more than ``total`` bytes was written."""
        async with asyncio.timeout(timeout):
            while self.total == total:
                await asyncio.sleep(0.01)

    async def quiet(self, seconds: float = 1.0) -> int:
        """Wait until nothing was written for ``seconds``; the total so far."""
        while time.monotonic() - self.last_write < seconds:
            await asyncio.sleep(0.05)
        return self.total

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)
        os.write(self.fd, b"q")
        os.waitpid(self.pid, 0)


async def main(cols: int, rows: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="imagechat-bench-"))
    image_path = home / "shot.png"
    image = Image.new("RGB", (1600, 900), (30, 60, 120))
    draw = ImageDraw.Draw(image)
    for i in range(0, 1600, 100):
        draw.rectangle((i + 10, 40, i + 80, 90), fill=(200, i % 256, 80))
    image = Image.blend(image, Image.effect_noise((1600, 900), 30).convert("RGB"), 0.2)
    image.save(image_path)
    server = await start_server(ServerConfig(port=0, home=home))
    store = TenantStore.in_home(home)
    env = {
        **os.environ,
        "IMAGECHAT_HOME": str(home),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    argv = [sys.executable, "-m", "imagechat_tui", str(image_path), "--server", server.url]
    argv += ["--token", store.mint(tenant="local", user_id="alice"), "--room", "bench"]
    terminal = Terminal(argv, cols, rows, env)
    full_paint = await terminal.quiet(2.0)

    replica = Replica("bench", Actor(User(id="bob", name="bob")))
    bob = Connection(
        server.url,
        store.mint(tenant="local", user_id="bob"),
        replica,
        on_state=lambda s: None,
        on_received=lambda r: None,
    )
    task = asyncio.create_task(bob.run())
    while not bob.connected:
        await asyncio.sleep(0.02)
    await terminal.quiet(1.0)  # presence updates the indicator; not part of the marker
    before = terminal.total
    terminal.log.clear()
    bob.submit(
        CreateOp(
            broadcastId=str(uuid.uuid4()),
            chat=NewChat(id=str(uuid.uuid4()), x=40.0, y=60.0, text="remote marker"),
        )
    )
    await terminal.changed_since(before)
    marker_bytes = await terminal.quiet(1.0) - before
    if os.environ.get("BENCH_DUMP"):  # what exactly was written, for inspection
        with open(os.environ["BENCH_DUMP"], "wb") as dump:  # noqa: ASYNC230 - after timing
            dump.write(b"".join(terminal.log))
    terminal.close()
    await bob.close()
    await task
    await server.close()
    print(f"terminal {cols}x{rows}, truecolor")
    print(f"full paint of the screen : {full_paint:8d} bytes")
    print(
        f"one remote marker        : {marker_bytes:8d} bytes  ({full_paint / max(1, marker_bytes):.0f}x less)"
    )
    print(f"target < 2048 bytes      : {'met' if marker_bytes < 2048 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    asyncio.run(main(width, height))
