"""The app in real terminal emulators on a virtual screen (Xvfb): xterm with Sixel
(``-ti vt340``) and kitty with Kitty graphics, each picked by the start-up probe. The
screenshot shows one-pixel stripes resolved (half blocks show them as flat grey) and a
remote marker's pin drawn over the image."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

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


async def _stable(
    screen: x11.VirtualScreen, condition: Callable[[Image.Image], bool]
) -> Image.Image:
    """A screenshot that meets ``condition`` and equals the next one (the frame is done)."""
    previous: list[Image.Image] = []

    def settled(shot: Image.Image) -> bool:
        done = bool(condition(shot) and previous and previous[-1].tobytes() == shot.tobytes())
        previous[:] = [shot]
        return done

    return await x11.wait_for_screen(screen, settled)


def _stripe_area(shot: Image.Image) -> list[tuple[int, int, int]]:
    """(y, x0, x1) of every screen row that shows the resolved stripes."""
    grey = shot.convert("L")
    data, width = grey.tobytes(), grey.width
    rows = []
    for y in range(grey.height):
        run = x11.stripe_run(list(data[y * width : (y + 1) * width]))
        if run is not None:
            rows.append((y, *run))
    return rows


@pytest.mark.parametrize("spot", [(25.0, 50.0), (70.0, 20.0), (5.0, 90.0)])
async def test_a_remote_pin_in_xterm_repaints_only_its_own_cells(
    spot: tuple[float, float],
    screen: x11.VirtualScreen,
    home: Path,
    server: RunningServer,
    mint_token: Callable[..., str],
) -> None:
    """Sixel: the image outside the new pin's cells is the same, pixel for pixel, after
    the pin is drawn (it used to leave a white streak across the cells to its left)."""
    require("xterm")
    image = home / "stripes.png"
    x11.stripes_image().save(image)
    argv = x11.app_argv(image, server.url, mint_token("alice"), ROOM, "auto")
    terminal = x11.start_terminal(screen, "xterm", argv, x11.app_env(home))
    import tests.tui.helpers as helpers

    room, helpers.ROOM = helpers.ROOM, ROOM
    bob = RemoteClient(server.url, mint_token("bob"))
    helpers.ROOM = room
    try:
        await bob.connected()
        before = await _stable(screen, x11.stripes_resolved)
        bob.create(*spot, "here")
        after = await _stable(screen, lambda shot: x11.pin_box(shot) is not None)
    finally:
        await bob.close()
        terminal.terminate()
        try:
            terminal.wait(timeout=10)
        except subprocess.TimeoutExpired:
            terminal.kill()
    box = x11.pin_box(after)
    assert box is not None
    cell_w, cell_h = 6, 13  # xterm's default font under Xvfb (x11.terminal_command)
    # The pin's cells, and the cell on each side (a pin may be drawn a cell wide more).
    left, top = box[0] - box[0] % cell_w - cell_w, box[1] - box[1] % cell_h
    right, bottom = box[2] + cell_w * 2, box[3] + cell_h
    # The whole image on screen: the stripes are its left half.
    area = _stripe_area(before)
    assert len(area) > 100
    x0 = min(a[1] for a in area)
    x1 = x0 + 2 * (max(a[2] for a in area) - x0)
    rows = [a[0] for a in area]
    changed = [
        (x, y)
        for y in range(min(rows), max(rows) + 1)
        for x in range(x0, x1)
        if not (left <= x < right and top <= y < bottom)
        and before.getpixel((x, y)) != after.getpixel((x, y))
    ]
    assert not changed, f"{len(changed)} pixels changed outside the pin, e.g. {changed[:5]}"
