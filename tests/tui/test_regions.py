"""Regions in the app, driven by Pilot against a real server: drawn by dragging or from
the keyboard, shown as a numbered frame, selected like a pin, seen by the other reviewer."""

from __future__ import annotations

from textual.pilot import Pilot

from imagechat_tui.protocol import Chat
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.region_overlay import cell_box
from tests.tui.helpers import (
    RemoteClient,
    Reviewing,
    until,
)

SIZE = (120, 36)


def _line(view: ImageView, row: int) -> str:
    return view.render_line(row).text


async def _send_first_comment(
    app: ImageChatApp, pilot: Pilot[object], bob: RemoteClient, text: str
) -> Chat:
    await until(pilot, lambda: app.query_one("#compose").display)
    await pilot.press(*text, "enter")
    await until(
        pilot,
        lambda: (
            len(app.link.replica.confirmed.chats) == 1 and len(bob.replica.confirmed.chats) == 1
        ),
    )
    (chat,) = app.link.replica.confirmed.chats.values()
    assert bob.replica.confirmed.chats[chat.id] == chat  # the other reviewer has it whole
    return chat


async def test_keyboard_draws_a_region_from_the_crosshair(alice: Reviewing) -> None:
    app, pilot, bob = alice
    view = app.query_one(ImageView)
    view.focus()
    start_col, start_row = view.geometry.to_cell(*view.crosshair)
    await pilot.press("a", *["right"] * 6, *["down"] * 3)
    # While stretching, the frame is drawn from the start to the crosshair.
    assert _line(view, start_row)[start_col] == "┌"
    # The crosshair sits on the corner being stretched.
    assert _line(view, start_row + 3)[start_col : start_col + 7] == "└─────┼"
    assert _line(view, start_row + 1)[start_col + 6] == "│"
    await pilot.press("enter")
    chat = await _send_first_comment(app, pilot, bob, "this area")
    assert chat.w is not None and chat.h is not None
    assert cell_box(view.geometry, chat.x, chat.y, chat.w, chat.h) == (
        start_col,
        start_row,
        start_col + 6,
        start_row + 3,
    )
    assert chat.x + chat.w <= 100 and chat.y + chat.h <= 100
    # Shown as a frame with its number (the pin on its corner), selected.
    assert app.selected == chat.id
    await pilot.pause()
    assert _line(view, start_row + 3)[start_col : start_col + 6] == "└─────"
    assert _line(view, start_row + 2)[start_col + 6] == "│"
    assert _line(view, start_row)[start_col : start_col + 2] == "●1"  # on the corner


async def test_escape_cancels_a_region_and_nothing_is_sent(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    view.focus()
    await pilot.press("a", "right", "right", "down")
    assert view.region_anchor is not None
    await pilot.press("escape")
    assert view.region_anchor is None
    assert not app.query_one("#compose").display
    assert "┌" not in "".join(_line(view, row) for row in range(view.size.height))
    # Enter now places a point marker as before: a region is not still pending.
    await pilot.press("enter")
    await until(pilot, lambda: app.query_one("#compose").display)
    draft = app.review.draft
    assert draft is not None and draft.region is None


async def test_dragging_draws_a_region(alice: Reviewing) -> None:
    app, pilot, bob = alice
    view = app.query_one(ImageView)
    start, end = view.geometry.to_cell(10, 15), view.geometry.to_cell(60, 70)
    await pilot.mouse_down(ImageView, offset=start)
    await pilot.hover(ImageView, offset=(start[0] + 3, start[1] + 1))
    await pilot.hover(ImageView, offset=end)
    await pilot.mouse_up(ImageView, offset=end)
    chat = await _send_first_comment(app, pilot, bob, "dragged")
    assert chat.w is not None and chat.h is not None
    assert cell_box(view.geometry, chat.x, chat.y, chat.w, chat.h) == (*start, *end)
    assert view.viewport.zoom == 1 and view.geometry.centre == (0.5, 0.5)  # not panned


async def test_a_region_frame_is_selected_like_a_pin(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(20, 20, "remote region", w=50, h=40)
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.pause()
    view = app.query_one(ImageView)
    left, top, right, bottom = cell_box(view.geometry, 20, 20, 50, 40)
    assert _line(view, bottom)[left] == "└" and _line(view, top + 1)[right] == "│"
    assert app.selected is None
    await pilot.click(ImageView, offset=(right, (top + bottom) // 2))  # on its side
    assert app.selected == chat_id
    assert not app.query_one("#compose").display  # a click on a frame is no new marker


async def test_region_mode_says_how_to_finish_and_the_composer_says_its_size(
    alice: Reviewing,
) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    view.focus()
    status = app.query_one("#status")
    await pilot.press("a")
    await pilot.pause()
    assert "⏎ finish · esc cancel" in str(status.render())  # there was no sign
    await pilot.press("escape")
    await pilot.pause()
    assert str(status.render()) == ""  # the hint ends with the mode
    await pilot.press("a", *["right"] * 6, *["down"] * 3, "enter")
    await until(pilot, lambda: app.query_one("#compose").display)
    title = str(app.query_one("#compose").border_title)
    assert title.startswith("New region at ") and "% wide, " in title and "% high" in title
    assert "⏎ finish" not in str(status.render())
