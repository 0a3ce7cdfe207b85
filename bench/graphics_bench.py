"""Terminal bytes in Kitty and Sixel modes against re-sending the whole image.

Run: python bench/graphics_bench.py [--size 160x48]

The real app runs in a pseudo-terminal that answers the start-up probe like kitty
(Kitty graphics, 9x19 cells) or like ``xterm -ti vt340`` (Sixel, 10x20 cells by
default), or like a plain terminal (half blocks), against a real server on loopback.
Every byte the app writes is counted for: the first full paint, one remote marker
(another client creates it), one crosshair step (``l``), one zoom step (``+``).

Baseline, named: "the whole image again": what a renderer that re-encodes the visible
image on every change (textual-image's Sixel widget does this) would write per
change: the bytes of the first paint's graphics, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.terminal_bytes_bench import Terminal, bench_image
from imagechat_tui.auth import TenantStore
from imagechat_tui.client.connection import Connection
from imagechat_tui.model import Actor
from imagechat_tui.protocol import CreateOp, NewChat, User
from imagechat_tui.replica import Replica
from imagechat_tui.server.node import ServerConfig, start_server

KITTY = b"\x1b_Gi=4153;OK\x1b\\\x1b[6;19;9t\x1bP1$r0;48:2:1:2:3m\x1b\\\x1b[?62;c"
XTERM_VT340 = b"\x1b[?1;0;1024S\x1bP1$r0;48:2::1:2:3m\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c"
PLAIN = b"\x1bP1$r0;48:2::1:2:3m\x1b\\\x1b[?62;22c"
TERMINALS = {"kitty": KITTY, "sixel": XTERM_VT340, "halfblock": PLAIN}
GRAPHICS = re.compile(rb"\x1bP0;1;0q.*?\x1b\\|\x1b_G.*?\x1b\\", re.DOTALL)


@dataclass
class Figures:
    full_paint: int
    full_graphics: int  # the graphics part of the full paint: the whole image
    marker: int
    step: int
    zoom: int
    back: int  # zoom out again, to the first view


def graphics_bytes(data: bytes) -> int:
    """Bytes of Sixel images and Kitty commands (not the start-up Kitty query)."""
    return sum(len(m) for m in GRAPHICS.findall(data) if b"a=q" not in m[:40])


async def measure(mode: str, cols: int, rows: int, home: Path, settle: float = 1.0) -> Figures:
    image_path = home / "shot.png"
    bench_image(image_path)
    server = await start_server(ServerConfig(port=0, home=home))
    store = TenantStore.in_home(home)
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "TERM": "xterm-256color"}
    env.pop("COLORTERM", None)
    argv = [sys.executable, "-m", "imagechat_tui", str(image_path), "--server", server.url]
    argv += ["--token", store.mint(tenant="local", user_id="alice"), "--room", "bench"]
    argv += ["--graphics", mode]
    terminal = Terminal(argv, cols, rows, env, TERMINALS[mode])
    bob = Connection(
        server.url,
        store.mint(tenant="local", user_id="bob"),
        Replica("bench", Actor(User(id="bob", name="bob"))),
        on_state=lambda s: None,
        on_received=lambda r: None,
    )
    task: asyncio.Task[None] | None = None
    try:
        await terminal.until_written(b"Connected", timeout=60)
        full_paint = await terminal.quiet(settle * 2)
        full_graphics = graphics_bytes(b"".join(terminal.log))

        before = terminal.total
        task = asyncio.create_task(bob.run())
        await terminal.changed_since(before, timeout=30)  # "2 viewing": not the marker
        await terminal.quiet(settle)

        dumps: list[int] = []

        async def cost(action: object, settle: float = settle) -> int:
            before = terminal.total
            terminal.log.clear()
            if isinstance(action, bytes):
                os.write(terminal.fd, action)
            else:
                bob.submit(action)  # type: ignore[arg-type]
            await terminal.changed_since(before, timeout=30)
            written = await terminal.quiet(settle) - before
            if os.environ.get("BENCH_DUMP"):
                Path(f"{os.environ['BENCH_DUMP']}-{mode}-{len(dumps)}").write_bytes(  # noqa: ASYNC240
                    b"".join(terminal.log)
                )
                dumps.append(written)
            return written

        marker = await cost(
            CreateOp(
                broadcastId=str(uuid.uuid4()),
                chat=NewChat(id=str(uuid.uuid4()), x=40.0, y=60.0, text="remote marker"),
            )
        )
        step = await cost(b"l")
        zoom = await cost(b"+", settle * 4)  # encoding a new view blocks the app a while
        back = await cost(b"-", settle * 4)
        return Figures(full_paint, full_graphics, marker, step, zoom, back)
    finally:
        await terminal.close()
        if task is not None:
            await bob.close()
            await task
        await server.close()


async def main(cols: int, rows: int) -> None:
    print(f"terminal {cols}x{rows}; baseline: the whole image again (first paint's graphics)")
    header = f"{'mode':<10}{'full paint':>12}{'whole image':>13}{'remote marker':>15}"
    print(header + f"{'crosshair step':>16}{'zoom step':>11}{'zoom back':>11}")
    for mode in ("halfblock", "kitty", "sixel"):
        home = Path(tempfile.mkdtemp(prefix=f"imagechat-gbench-{mode}-"))
        f = await measure(mode, cols, rows, home)
        whole = f.full_graphics or f.full_paint
        figures = f"{f.marker:>15}{f.step:>16}{f.zoom:>11}{f.back:>11}"
        print(f"{mode:<10}{f.full_paint:>12}{whole:>13}{figures}")
        if mode != "halfblock":
            print(
                f"{'':<10}{'':>12}{'ratio':>13}{f.marker / whole:>15.4f}"
                f"{f.step / whole:>16.4f}{f.zoom / whole:>11.4f}{f.back / whole:>11.4f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    asyncio.run(main(width, height))
