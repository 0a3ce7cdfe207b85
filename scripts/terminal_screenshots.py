"""PNG screenshots of the app in real terminals: xterm (Sixel), kitty (Kitty graphics)
and, beside them, xterm in half-block mode. Each shows the stripes-and-text test image
with a remote marker's pin; written to screenshots/.

Run: python scripts/terminal_screenshots.py   (needs Xvfb, xterm, kitty, ImageMagick)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imagechat_tui.auth import TenantStore
from imagechat_tui.server.node import ServerConfig, start_server
from tests import x11
from tests.tui import helpers

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SHOTS = [
    ("xterm-sixel", "xterm", "auto"),
    ("kitty-graphics", "kitty", "auto"),
    ("xterm-halfblock", "xterm", "halfblock"),
]


async def shoot(name: str, kind: str, graphics: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix="imagechat-shots-"))
    image = home / "stripes.png"
    x11.stripes_image().save(image)
    server = await start_server(ServerConfig(port=0, home=home))
    store = TenantStore.in_home(home)
    store.add("local") if not store.exists("local") else None
    screen = x11.VirtualScreen()
    helpers.ROOM = "stripes"
    argv = x11.app_argv(
        image, server.url, store.mint(tenant="local", user_id="alice"), "stripes", graphics
    )
    terminal = x11.start_terminal(screen, kind, argv, x11.app_env(home))
    bob = helpers.RemoteClient(server.url, store.mint(tenant="local", user_id="bob"))
    try:
        await bob.connected()
        bob.create(25.0, 50.0, "these stripes")
        await x11.wait_for_screen(screen, lambda s: x11.pin_box(s) is not None)
        if graphics != "halfblock":
            await x11.wait_for_screen(screen, x11.pin_over_stripes)
        await asyncio.sleep(1)  # let the last frame land
        shot = screen.screenshot()
        shot = shot.crop(shot.getbbox())
        path = OUT / f"{name}.png"
        shot.save(path, optimize=True)
        return path
    finally:
        await bob.close()
        terminal.terminate()
        try:
            terminal.wait(timeout=10)
        except subprocess.TimeoutExpired:
            terminal.kill()
        screen.close()
        await server.close()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, kind, graphics in SHOTS:
        print(asyncio.run(shoot(name, kind, graphics)))


if __name__ == "__main__":
    main()
