"""Kitty and Sixel drawing in the real app (Pilot) against a real server: what is sent
to the terminal for a first paint, a remote marker, a crosshair step, zoom and back."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import pytest
from textual.pilot import Pilot

from imagechat_tui.client.graphics import TerminalSetup
from imagechat_tui.client.terminal_probe import Capabilities, GraphicsMode
from imagechat_tui.server.node import RunningServer
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.pixel_layer import PixelLayer
from tests.client.test_kitty import parse
from tests.tui import helpers
from tests.tui.helpers import RemoteClient, running, until

SIZE = (120, 36)
SIXEL = re.compile(rb"\x1bP0;1;0q.*?\x1b\\", re.DOTALL)


class Sent(list[bytes]):
    @property
    def total(self) -> int:
        return sum(map(len, self))

    def joined(self) -> bytes:
        return b"".join(self)


async def settle(pilot: Pilot[object]) -> None:
    """Let every pending refresh reach the screen and the layer flush after it."""
    for _ in range(3):
        await pilot.pause()


@pytest.fixture
def open_app(
    server: RunningServer, mint_token: Callable[..., str]
) -> Callable[
    [GraphicsMode], AsyncIterator[tuple[ImageChatApp, Pilot[object], RemoteClient, Sent]]
]:
    import contextlib

    @contextlib.asynccontextmanager
    async def opened(mode: GraphicsMode):  # type: ignore[no-untyped-def]
        terminal = TerminalSetup(mode, Capabilities(cell_size=(8, 16), cell_size_known=True))
        app = helpers.make_app(server.url, mint_token("alice"), terminal=terminal)
        bob = RemoteClient(server.url, mint_token("bob"))
        try:
            async with running(app, SIZE) as pilot:
                await bob.connected()
                await settle(pilot)
                layer = app.query_one(ImageView).pixels
                assert isinstance(layer, PixelLayer)
                sent = Sent()
                layer._write = sent.append
                yield app, pilot, bob, sent
        finally:
            await bob.close()

    return opened  # type: ignore[return-value]


async def test_sixel_sends_bands_only_where_the_image_was_painted_over(open_app) -> None:  # type: ignore[no-untyped-def]
    async with open_app("sixel") as (app, pilot, bob, sent):
        view = app.query_one(ImageView)
        view.refresh()  # a full repaint: every band
        await until(pilot, lambda: bool(sent))
        await settle(pilot)
        full = sent.total
        bands = SIXEL.findall(sent.joined())
        assert 1 < len(bands) <= 12  # xterm keeps 16 images: bands reuse their places
        sent.clear()

        bob.create(30.0, 40.0, "look here")
        await until(pilot, lambda: len(view.pins) == 1)
        await settle(pilot)
        # Only the pin's row was written: its band alone is drawn again (xterm erases
        # more than the cells written; tests/tui/test_real_terminals.py), not the image.
        assert len(SIXEL.findall(sent.joined())) == 1
        assert sent.total < full / 5
        sent.clear()

        await pilot.press("right")  # the crosshair (three rows) moves: their bands again
        await settle(pilot)
        assert 1 <= len(SIXEL.findall(sent.joined())) <= 2
        assert sent.total < full / 2
        sent.clear()

        await pilot.press("plus")  # a new view: every band
        await settle(pilot)
        assert len(SIXEL.findall(sent.joined())) == len(bands)


async def test_kitty_transmits_once_per_view_and_only_places_for_pins(open_app) -> None:  # type: ignore[no-untyped-def]
    async with open_app("kitty") as (app, pilot, bob, sent):
        view = app.query_one(ImageView)
        await pilot.press("plus")
        await until(pilot, lambda: bool(sent))
        await settle(pilot)
        commands = parse(sent.joined())
        transmitted = [keys for keys, _ in commands if keys.get("a") == "t"]
        placed = [keys for keys, _ in commands if keys.get("a") == "p"]
        assert len(transmitted) == 1
        # Every row of the view is covered by placements of runs of image cells; the
        # crosshair's row is split around it.
        width, height = view.content_region.size
        cells = sum(int(keys["c"]) for keys in placed)
        assert height * (width - 1) <= cells < height * width
        assert all(keys["r"] == "1" and keys["i"] == transmitted[0]["i"] for keys in placed)
        sent.clear()

        bob.create(30.0, 40.0, "look here")
        await until(pilot, lambda: len(view.pins) == 1)
        await settle(pilot)
        kinds = {keys["a"] for keys, _ in parse(sent.joined())}
        assert kinds == {"p"}  # the pin's row placed again around it; no image
        assert sent.total < 500
        sent.clear()

        await pilot.press("right", "down")
        await settle(pilot)
        assert "t" not in {keys["a"] for keys, _ in parse(sent.joined())}
        sent.clear()

        await pilot.press("minus")  # back to the first view: kept in the terminal
        await settle(pilot)
        kinds = {keys["a"] for keys, _ in parse(sent.joined())}
        assert "t" not in kinds and "p" in kinds


async def test_a_widget_over_the_image_is_not_covered_by_it(open_app) -> None:  # type: ignore[no-untyped-def]
    """Kitty placements are above the text: cells another widget covers (a floating
    notice) are left out of them, and given back when it goes."""
    from textual.widgets import Static

    async with open_app("kitty") as (app, pilot, _bob, _sent):
        view = app.query_one(ImageView)
        notice = Static("a floating notice", id="notice")
        notice.styles.position = "absolute"
        notice.styles.overlay = "screen"
        notice.styles.offset = (4, 6)
        notice.styles.width = 20
        notice.styles.height = 2
        await app.screen.mount(notice)
        await settle(pilot)
        layer = view.pixels
        assert layer is not None
        covered = notice.region.intersection(view.content_region)
        assert covered.area == 40
        for row in range(covered.y, covered.bottom):
            for x0, x1 in layer._placed[row - view.content_region.y]:
                assert x1 <= covered.x or x0 >= covered.right
        await notice.remove()
        await settle(pilot)
        assert all(
            len(layer._placed[row - view.content_region.y]) == 1
            for row in range(covered.y, covered.bottom)
        )


async def test_kitty_image_hides_under_a_dialog_and_resize_draws_again(open_app) -> None:  # type: ignore[no-untyped-def]
    async with open_app("kitty") as (app, pilot, _bob, sent):
        view = app.query_one(ImageView)
        await pilot.press("question_mark")  # the help screen, over everything
        await until(pilot, lambda: app.screen is not view.screen)
        await settle(pilot)
        hidden = [keys for keys, _ in parse(sent.joined()) if keys["a"] == "d"]
        assert hidden and all(keys["d"] == "i" for keys in hidden)  # kept, not freed
        sent.clear()
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is view.screen)
        await settle(pilot)
        kinds = [keys["a"] for keys, _ in parse(sent.joined())]
        assert "p" in kinds and "t" not in kinds  # placed again from the kept image
        sent.clear()

        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        transmitted = [keys for keys, _ in parse(sent.joined()) if keys["a"] == "t"]
        assert len(transmitted) == 1  # a new size is a new view at the cells' pixels
