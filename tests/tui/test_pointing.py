"""Pointing where you look: the crosshair stays in view, zoom and position in the status
bar, fit, wheel zoom at the pointer, far and pixel-sized steps, the reply box following
the selection. The app against a real server."""

from __future__ import annotations

import pytest

from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.input_driver import PasteSafeParser
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.pointer_status import PointerStatus
from tests.tui.helpers import Reviewing, until

SIZE = (120, 36)


def in_view(view: ImageView) -> bool:
    col, row = view.geometry.to_cell(*view.crosshair)
    return 0 <= col < view.size.width and 0 <= row < view.size.height


def pointer(app: ImageChatApp) -> str:
    return app.query_one(PointerStatus).render_text()


def terminal(app: ImageChatApp, data: str) -> None:
    """Input as the terminal sends it, through the app's parser and driver."""
    driver = app._driver
    assert driver is not None
    for event in PasteSafeParser().feed(data):
        driver.process_message(event)


def wheel(app: ImageChatApp, up: bool, x: int, y: int) -> None:
    """A wheel turn at screen cell (x, y) (SGR mouse reports count from 1)."""
    terminal(app, f"\x1b[<{64 if up else 65};{x + 1};{y + 1}M")


async def test_panning_and_zooming_carry_the_crosshair(alice: Reviewing) -> None:
    app, pilot, bob = alice
    view = app.query_one(ImageView)
    await pilot.press("plus", "plus", "plus")
    assert in_view(view)
    for key in ["ctrl+right"] * 12 + ["ctrl+down"] * 12 + ["ctrl+left"] * 30:
        await pilot.press(key)
        assert in_view(view), key
    # A right-button drag pans too (as the terminal reports it: SGR mouse).
    before = view.viewport
    x, y = view.region.x, view.region.y
    terminal(app, f"\x1b[<2;{x + 60};{y + 25}M")
    for step in range(1, 6):
        terminal(app, f"\x1b[<34;{x + 60 - 10 * step};{y + 25 - 4 * step}M")
        await pilot.pause()
        assert in_view(view)
    terminal(app, f"\x1b[<2;{x + 10};{y + 5}m")
    await pilot.pause()
    assert view.viewport != before and in_view(view)
    # n places the marker where the crosshair is drawn, in view.
    await pilot.press("n", *"seen", "enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    (chat,) = bob.replica.view.chats.values()
    assert (chat.x, chat.y) == view.crosshair


async def test_status_bar_shows_zoom_and_position_and_0_fits(alice: Reviewing) -> None:
    app, pilot, _bob = alice  # the test image is 320x180
    view = app.query_one(ImageView)
    await pilot.pause()
    assert pointer(app) == "fit · 50.0%, 50.0% · px 160,90"
    await pilot.press("plus")
    assert pointer(app).startswith("1.5x · ")
    await pilot.press("plus", "l")
    x, y = view.crosshair
    px, py = view.image_pixel(x, y)
    assert pointer(app) == f"2.2x · {x:.1f}%, {y:.1f}% · px {px},{py}"
    assert x > 50
    await pilot.press("0")
    assert view.viewport.zoom == 1 and pointer(app).startswith("fit · ")


@pytest.mark.app(size=(80, 24))
async def test_a_narrow_screen_gets_the_short_form(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    await pilot.pause()
    assert pointer(app) == "fit 50%,50% 160,90px"
    await pilot.resize_terminal(160, 48)
    await pilot.pause()
    assert pointer(app) == "fit · 50.0%, 50.0% · px 160,90"


async def test_the_wheel_zooms_at_the_pointer(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    await pilot.pause()
    region = view.region
    cell = (region.x + 20, region.y + 8)  # left of and above the centre
    under = view.geometry.to_percent(20.5, 8.5)
    assert under is not None
    for _ in range(3):
        wheel(app, True, *cell)
        await pilot.pause()
    assert view.viewport.zoom > 3
    # The same image point is still under the pointer (within one cell).
    col, row = view.geometry.to_cell(*under)
    assert (abs(col - 20), abs(row - 8)) <= (1, 1)
    assert in_view(view)
    wheel(app, False, *cell)
    await pilot.pause()
    assert 2 < view.viewport.zoom < 3


async def test_shift_moves_ten_steps_and_a_step_is_at_least_one_image_pixel(
    alice: Reviewing,
) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    view.focus()
    await pilot.pause()
    col, row = view.geometry.to_cell(*view.crosshair)
    await pilot.press("shift+right")
    assert view.geometry.to_cell(*view.crosshair) == (col + 10, row)
    await pilot.press("J")
    assert view.geometry.to_cell(*view.crosshair) == (col + 10, row + 10)
    await pilot.press("h")
    assert view.geometry.to_cell(*view.crosshair) == (col + 9, row + 10)
    # Zoomed in so far that an image pixel spans several cells: one press, one pixel.
    for _ in range(8):
        await pilot.press("plus")
    assert view.geometry.scale > 2
    px, py = view.image_pixel(*view.crosshair)
    await pilot.press("l")
    assert view.image_pixel(*view.crosshair) == (px + 1, py)
    await pilot.press("K")
    assert view.image_pixel(*view.crosshair) == (px + 1, py - 10)
    assert in_view(view)
    # At the edge it stops on the image's last pixel.
    for _ in range(40):
        await pilot.press("shift+right")
    assert view.image_pixel(*view.crosshair)[0] == 319
    assert in_view(view)


async def test_the_reply_box_names_its_marker_and_follows_the_selection(alice: Reviewing) -> None:
    app, pilot, bob = alice
    first = bob.create(20.0, 20.0, "one")
    second = bob.create(70.0, 70.0, "two")
    await until(pilot, lambda: second in app.link.replica.view.chats)
    await pilot.press("right_square_bracket", "r", *"for two")
    box = app.query_one(CommentInput)
    assert box.border_title == "Reply to #1"
    view = app.query_one(ImageView)
    col, row = view.geometry.to_cell(70.0, 70.0)
    await pilot.click(ImageView, offset=(col, row))  # the pin of #2
    assert app.selected == second
    assert box.border_title == "Reply to #2" and box.value == "for two"
    box.focus()
    await pilot.press("enter")
    await until(pilot, lambda: len(bob.replica.view.chats[second].comments) == 2)
    assert bob.replica.view.chats[second].comments[1].text == "for two"
    assert len(bob.replica.view.chats[first].comments) == 1


async def test_the_reply_box_says_when_its_marker_is_deleted(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(20.0, 20.0, "one")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket", "r", *"half a thought")
    box = app.query_one(CommentInput)
    bob.delete(chat_id)
    await until(pilot, lambda: chat_id not in app.link.replica.view.chats)
    assert box.border_title == "The marker is gone (deleted): esc closes, your text is kept"
    assert box.value == "half a thought"  # kept, to copy or cancel
    await pilot.press("enter")
    assert box.display and "does not exist" in str(app.query_one("#status").render())
