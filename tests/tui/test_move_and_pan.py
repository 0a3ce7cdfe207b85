"""Moving markers (author or moderator only) and the crosshair panning a zoomed view."""

from __future__ import annotations

import pytest

from imagechat_tui.tui.widgets.connection_indicator import ConnectionIndicator
from imagechat_tui.tui.widgets.image_view import ImageView
from tests.tui.helpers import (
    Reviewing,
    until,
)


def status(app: object) -> str:
    return str(app.query_one("#status").render())  # type: ignore[attr-defined]


async def test_author_moves_own_marker_by_click_and_others_see_it(alice: Reviewing) -> None:
    app, pilot, bob = alice
    await pilot.press("n", *"mine", "enter")
    await until(
        pilot, lambda: len(app.link.replica.view.chats) == 1 and not app.link.replica.pending
    )
    chat_id = next(iter(app.link.replica.view.chats))
    view = app.query_one(ImageView)
    target = view.geometry.to_percent(20.5, 12.5)
    assert target is not None
    await pilot.press("m")
    assert app.moving == chat_id and "Moving #1" in status(app)
    await pilot.click(ImageView, offset=(20, 12))
    await until(pilot, lambda: not app.link.replica.pending)
    moved = app.link.replica.view.chats[chat_id]
    assert (moved.x, moved.y) == target
    assert app.moving is None and "Marker #1 moved." in status(app)
    assert view.geometry.to_cell(moved.x, moved.y) == (20, 12)
    await until(
        pilot,
        lambda: (
            chat_id in bob.replica.view.chats and bob.replica.view.chats[chat_id].x == target[0]
        ),
    )
    assert len(app.link.replica.view.chats) == 1  # the click moved, it did not place


async def test_someone_elses_marker_cannot_be_moved_and_the_app_says_why(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "bob's")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket", "m")
    assert app.moving is None
    assert "Only its author or a moderator may move Marker #1." in status(app)
    await pilot.click(ImageView, offset=(20, 12))  # an ordinary click: a new marker
    assert app.query_one("#compose").display
    chat = app.link.replica.view.chats[chat_id]
    assert (chat.x, chat.y) == (30.0, 30.0)


@pytest.mark.app(role="moderator")
async def test_moderator_moves_any_marker_with_the_crosshair(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "bob's")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket", "m")
    view = app.query_one(ImageView)
    start = view.geometry.to_cell(30.0, 30.0)
    assert view.geometry.to_cell(*view.crosshair) == start
    await pilot.press("l", "l", "j", "enter")
    await until(pilot, lambda: not app.link.replica.pending)
    chat = app.link.replica.view.chats[chat_id]
    assert view.geometry.to_cell(chat.x, chat.y) == (start[0] + 2, start[1] + 1)
    await until(pilot, lambda: bob.replica.view.chats[chat_id].x == chat.x)


async def test_escape_cancels_a_move(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    await pilot.press("n", *"mine", "enter")
    await until(
        pilot, lambda: len(app.link.replica.view.chats) == 1 and not app.link.replica.pending
    )
    chat = next(iter(app.link.replica.view.chats.values()))
    await pilot.press("m", "l", "l", "escape", "enter")
    assert app.moving is None
    assert app.query_one("#compose").display  # enter now starts a new marker
    assert app.link.replica.view.chats[chat.id] == chat


async def test_crosshair_pans_the_zoomed_view_when_it_leaves_it(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    view.focus()
    await pilot.press("plus", "plus")  # the image is now larger than the view
    width, height = view.size
    before = view.geometry.centre
    for (dx, dy), steps in (((1, 0), width // 2 + 4), ((0, 1), height // 2 + 4)):
        for _ in range(steps):
            view.action_move(dx, dy)  # what l / j do; the keys are tested elsewhere
            col, row = view.geometry.to_cell(*view.crosshair)
            assert 0 <= col < width and 0 <= row < height
    await pilot.pause()
    after = view.geometry.centre
    assert after[0] > before[0] and after[1] > before[1]
    assert view.geometry.to_cell(*view.crosshair) == (width - 1, height - 1)


async def test_crosshair_stops_at_the_image_edge(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    view.focus()
    x0, _, _, _ = view.geometry.image_box()
    for _ in range(view.size.width):
        view.action_move(-1, 0)
    await pilot.press("h")
    assert view.geometry.to_cell(*view.crosshair)[0] == x0
    assert view.crosshair[0] < 2


@pytest.mark.app(size=(80, 24))
async def test_the_move_prompt_is_whole_at_80_columns(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    await pilot.press("n", *"mine", "enter")
    await until(
        pilot, lambda: len(app.link.replica.view.chats) == 1 and not app.link.replica.pending
    )
    await pilot.press("m")
    await pilot.pause()
    said = status(app)
    assert said == "Moving #1: ⏎/click · esc cancel"
    line = app.query_one("#status")
    assert line.region.width >= len(said)  # not cut off (it was, even at 160)


def _rows(app: object, widget: object) -> list[str]:
    """The rows ``widget`` covers, as drawn."""
    region = widget.region  # type: ignore[attr-defined]
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return ["".join(strip.text) for strip in strips[region.y : region.bottom]]


@pytest.mark.app(size=(80, 24))
async def test_the_move_prompt_beats_who_is_viewing_at_80_columns(alice: Reviewing) -> None:
    """With Bob viewing too, "● Connected · 2 viewing" and the move prompt did not fit
    on one line beside where the crosshair is (or the view toggles): the prompt wrapped.
    Now the prompt comes first and the rest gives way, wherever the crosshair goes, and
    comes back after."""
    app, pilot, _bob = alice
    indicator = app.query_one(ConnectionIndicator)
    bar = app.query_one("#statusbar")
    await pilot.press("n", *"mine", "enter")
    await until(
        pilot, lambda: len(app.link.replica.view.chats) == 1 and not app.link.replica.pending
    )
    await until(pilot, lambda: indicator.viewers == 2 and "2 viewing" in _rows(app, bar)[0])
    await pilot.press("m")
    prompt = "Moving #1: ⏎/click · esc cancel"
    for _ in range(4):  # wider figures as the crosshair goes right and down
        await until(pilot, lambda: status(app) == prompt)
        await pilot.pause()
        rows = _rows(app, bar)
        assert len(rows) == 1 and prompt in rows[0], rows
        await pilot.press("right", "right", "down", "down")
    await pilot.press("escape")
    await until(pilot, lambda: status(app) == "")
    await pilot.pause()
    assert "2 viewing" in _rows(app, bar)[0]
    # Both view toggles hiding something: said briefly beside the prompt, not wrapped.
    await pilot.press("b", "v", "m")
    await until(pilot, lambda: status(app) == prompt)
    await pilot.pause()
    rows = _rows(app, bar)
    assert len(rows) == 1 and prompt in rows[0] and "hidden: pins (v), sidebar (b)" in rows[0]
