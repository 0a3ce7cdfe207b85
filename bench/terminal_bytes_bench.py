"""Bytes the app writes to the terminal for remote changes, vs a full repaint.

Run: .venv/bin/python bench/terminal_bytes_bench.py [--size 160x48]

The real app runs in a pseudo-terminal (truecolor) against a real server on loopback;
every byte it writes is counted. A second client creates one marker; the bytes written
until the screen is quiet again are compared with the first full paint of the screen.
Then the app opens that marker's thread (``]``) and the second client replies to it:
the bytes written for the reply are counted too.
Target: under 2 KB for the remote marker and for the remote reply.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import fcntl
import os
import pty
import signal
import struct
import sys
import tempfile
import termios
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from imagechat_tui.auth import TenantStore
from imagechat_tui.client.connection import Connection
from imagechat_tui.model import Actor
from imagechat_tui.protocol import AddComment, CreateOp, NewChat, NewComment, UpdateOp, User
from imagechat_tui.replica import Replica
from imagechat_tui.server.node import ServerConfig, start_server

# What a plain terminal (no graphics, no 24-bit colour query answers) says to the app's
# start-up probe: only the device attributes, which every terminal answers.
PLAIN_TERMINAL_REPLIES = b"\x1b[?62;22c"
DA1_QUESTION = b"\x1b[c"


class Terminal:
    """A pty running the app; counts what it writes. Answers the app's start-up probe
    with ``replies`` once its last question (DA1) arrives; None: answers nothing."""

    def __init__(
        self,
        argv: list[str],
        cols: int,
        rows: int,
        env: dict[str, str],
        replies: bytes | None = PLAIN_TERMINAL_REPLIES,
    ) -> None:
        self.replies = replies
        self.answered = False
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
        if self.replies is not None and not self.answered and DA1_QUESTION in data:
            self.answered = True  # (the probe writes its questions in one write)
            os.write(self.fd, self.replies)

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

    async def until_written(self, needle: bytes, timeout: float = 30.0) -> None:
        """Wait until ``needle`` appears in what the app wrote."""
        async with asyncio.timeout(timeout):
            while needle not in b"".join(self.log):
                await asyncio.sleep(0.02)

    async def close(self) -> int:
        """Quit the app with ``q`` (killed if still running 10 s later); its exit code.
        The output is read until it exits: an app blocked writing to a full pty (its last
        frames, Sixel data through ssh) could never exit."""
        with contextlib.suppress(OSError):
            os.write(self.fd, b"q")
        deadline = time.monotonic() + 10
        while (waited := os.waitpid(self.pid, os.WNOHANG)) == (0, 0):  # noqa: ASYNC222 - WNOHANG
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                waited = os.waitpid(self.pid, 0)  # noqa: ASYNC222 - killed: at once
                break
            await asyncio.sleep(0.05)
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(waited[1])


@dataclass(frozen=True, slots=True)
class Measured:
    full_paint: int  # bytes of the first full paint of the screen
    marker: int  # bytes written for one remote marker
    written: bytes  # exactly what was written for the marker
    reply: int | None = None  # bytes written for a remote reply to the open marker
    reply_written: bytes = b""  # exactly what was written for the reply


def bench_image(path: Path) -> None:
    image = Image.new("RGB", (1600, 900), (30, 60, 120))
    draw = ImageDraw.Draw(image)
    for i in range(0, 1600, 100):
        draw.rectangle((i + 10, 40, i + 80, 90), fill=(200, i % 256, 80))
    image = Image.blend(image, Image.effect_noise((1600, 900), 30).convert("RGB"), 0.2)
    image.save(path)


async def measure(
    cols: int, rows: int, home: Path, settle: float = 1.0, *, reply: bool = True
) -> Measured:
    """Run the app in a ``cols`` x ``rows`` pty against a real server in ``home``; count
    the bytes of its first paint and of one marker created by another client; with
    ``reply``, open that marker's thread and count the bytes of the other client's
    reply to it. The screen counts as done when nothing was written for ``settle``
    seconds."""
    image_path = home / "shot.png"
    bench_image(image_path)
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
    bob: Connection | None = None
    task: asyncio.Task[None] | None = None
    try:
        # The first paint (not just the start-up probe's questions): wait until connected.
        await terminal.until_written(b"Connected", timeout=60.0)
        full_paint = await terminal.quiet(settle * 2)

        before_bob = terminal.total
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
        # Bob's arrival updates the indicator ("2 viewing"): wait for that, it is not
        # part of the marker.
        await terminal.changed_since(before_bob)
        await terminal.quiet(settle)
        before = terminal.total
        terminal.log.clear()
        chat_id = str(uuid.uuid4())
        bob.submit(
            CreateOp(
                broadcastId=str(uuid.uuid4()),
                chat=NewChat(id=chat_id, x=40.0, y=60.0, text="remote marker"),
            )
        )
        await terminal.changed_since(before)
        marker_bytes = await terminal.quiet(settle) - before
        measured = Measured(full_paint, marker_bytes, b"".join(terminal.log))
        if not reply:
            return measured

        # Open the marker's thread (] selects the next marker), then bob replies.
        before = terminal.total
        os.write(terminal.fd, b"]")
        await terminal.changed_since(before)
        await terminal.quiet(settle)
        before = terminal.total
        terminal.log.clear()
        bob.submit(
            UpdateOp(
                broadcastId=str(uuid.uuid4()),
                chatId=chat_id,
                change=AddComment(comment=NewComment(id=str(uuid.uuid4()), text="remote reply")),
            )
        )
        await terminal.changed_since(before)
        reply_bytes = await terminal.quiet(settle) - before
        return dataclasses.replace(
            measured, reply=reply_bytes, reply_written=b"".join(terminal.log)
        )
    finally:
        await terminal.close()
        if bob is not None and task is not None:
            await bob.close()
            await task
        await server.close()


async def main(cols: int, rows: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="imagechat-bench-"))
    measured = await measure(cols, rows, home)
    if os.environ.get("BENCH_DUMP"):  # what exactly was written, for inspection
        Path(os.environ["BENCH_DUMP"]).write_bytes(measured.written)  # noqa: ASYNC240
        Path(os.environ["BENCH_DUMP"] + ".reply").write_bytes(measured.reply_written)  # noqa: ASYNC240
    full_paint = measured.full_paint
    print(f"terminal {cols}x{rows}, truecolor")
    print(f"full paint of the screen       : {full_paint:8d} bytes")
    for label, written in (
        ("one remote marker", measured.marker),
        ("remote reply, thread open", measured.reply or 0),
    ):
        less = full_paint / max(1, written)
        met = "met" if written < 2048 else "NOT met"
        print(f"{label:<31}: {written:8d} bytes  ({less:.0f}x less; < 2048: {met})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    asyncio.run(main(width, height))
