"""The app in real terminal emulators on a virtual screen (Xvfb): xterm with Sixel
(``-ti vt340``) and kitty with Kitty graphics, each picked by the start-up probe. The
screenshot shows one-pixel stripes resolved (half blocks show them as flat grey) and a
remote marker's pin drawn over the image."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from imagechat_tui.server.node import RunningServer
from tests import x11
from tests.tools import require
from tests.tui.helpers import RemoteClient

ROOM = "stripes"


@pytest.fixture
def screen() -> Iterator[x11.VirtualScreen]:
    require("Xvfb", "import")
    screen = x11.VirtualScreen()
    yield screen
    screen.close()


async def _run(
    kind: str,
    graphics: str,
    screen: x11.VirtualScreen,
    home: Path,
    server: RunningServer,
    mint_token: Callable[..., str],
) -> tuple[bool, bool]:
    """Open the stripes in ``kind``; once bob's marker shows, (stripes resolved, pin
    over the stripes)."""
    require(kind)
    image = home / "stripes.png"
    x11.stripes_image().save(image)
    argv = x11.app_argv(image, server.url, mint_token("alice"), ROOM, graphics)
    terminal = x11.start_terminal(screen, kind, argv, x11.app_env(home))
    import tests.tui.helpers as helpers

    room, helpers.ROOM = helpers.ROOM, ROOM
    bob = RemoteClient(server.url, mint_token("bob"))
    helpers.ROOM = room
    try:
        await bob.connected()
        bob.create(25.0, 50.0, "these stripes")  # over the stripes, left half
        shot = await x11.wait_for_screen(screen, lambda s: x11.pin_box(s) is not None)
        # The pin is text: it can come before the image's last band. Wait for both.
        if graphics != "halfblock":
            shot = await x11.wait_for_screen(
                screen, lambda s: x11.stripes_resolved(s) and x11.pin_over_stripes(s)
            )
        return x11.stripes_resolved(shot), x11.pin_over_stripes(shot)
    finally:
        await bob.close()
        terminal.terminate()
        try:
            terminal.wait(timeout=10)
        except subprocess.TimeoutExpired:
            terminal.kill()


@pytest.mark.parametrize("kind", ["xterm", "kitty"])
async def test_real_pixels_with_the_pin_on_top(
    kind: str,
    screen: x11.VirtualScreen,
    home: Path,
    server: RunningServer,
    mint_token: Callable[..., str],
) -> None:
    resolved, pin_on_image = await _run(kind, "auto", screen, home, server, mint_token)
    assert resolved and pin_on_image


async def test_half_blocks_show_the_stripes_as_flat_grey(
    screen: x11.VirtualScreen, home: Path, server: RunningServer, mint_token: Callable[..., str]
) -> None:
    """The same screen in half-block mode: the pin shows, the stripes do not."""
    resolved, _ = await _run("xterm", "halfblock", screen, home, server, mint_token)
    assert not resolved
