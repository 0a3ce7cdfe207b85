"""The app driven by Pilot against a real sync server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from rich.segment import Segments

from imagechat_tui.server.node import ServerConfig, start_server
from imagechat_tui.tui.widgets.connection_indicator import ConnectionIndicator
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.marker_list import MarkerList
from imagechat_tui.tui.widgets.offline_banner import OfflineBanner
from imagechat_tui.tui.widgets.thread_view import ThreadView
from tests.tui.helpers import (
    RemoteClient,
    Reviewing,
    make_app,
    shows_connection_state,
    until,
)

SIZE = (120, 36)
# The tests on the alice fixture run her app against a real server too.
pytestmark = pytest.mark.app(link="server")


def only_chat(app: object) -> object:
    chats = list(app.link.replica.view.chats.values())  # type: ignore[attr-defined]
    assert len(chats) == 1
    return chats[0]


def cell_percent_span(view: ImageView) -> tuple[float, float]:
    """How many percent of the image one cell covers, horizontally and vertically."""
    geometry = view.geometry
    return 100 / (geometry.image_width * geometry.scale), 200 / (
        geometry.image_height * geometry.scale
    )


@pytest.mark.parametrize("zoom_presses", [0, 2])
async def test_click_places_a_marker_at_the_clicked_spot(
    alice: Reviewing, zoom_presses: int
) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    for _ in range(zoom_presses):
        await pilot.press("plus")
    offset = (30, 12)
    expected = view.geometry.to_percent(offset[0] + 0.5, offset[1] + 0.5)
    assert expected is not None
    await pilot.click(ImageView, offset=offset)
    await pilot.press(*"the logo", "enter")
    await until(
        pilot, lambda: len(app.link.replica.view.chats) == 1 and not app.link.replica.pending
    )
    chat = only_chat(app)
    span_x, span_y = cell_percent_span(view)
    assert abs(chat.x - expected[0]) <= span_x / 2  # type: ignore[attr-defined]
    assert abs(chat.y - expected[1]) <= span_y / 2  # type: ignore[attr-defined]
    assert view.geometry.to_cell(chat.x, chat.y) == offset  # type: ignore[attr-defined]
    if zoom_presses:
        assert view.viewport.zoom > 2


async def test_keyboard_places_a_marker_at_the_crosshair_and_others_see_it(
    alice: Reviewing,
) -> None:
    app, pilot, bob = alice
    view = app.query_one(ImageView)
    start_cell = view.geometry.to_cell(*view.crosshair)
    await pilot.press("l", "l", "l", "right", "j", "down")
    assert view.geometry.to_cell(*view.crosshair) == (start_cell[0] + 4, start_cell[1] + 2)
    await pilot.press("n", *"keyboard", "enter")
    await until(pilot, lambda: len(app.link.replica.view.chats) == 1)
    chat = only_chat(app)
    assert (chat.x, chat.y) == view.crosshair  # type: ignore[attr-defined]
    await until(pilot, lambda: chat.id in bob.replica.view.chats)  # type: ignore[attr-defined]


async def test_remote_marker_appears_without_a_key_press(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(25.0, 75.0, "from bob")
    await until(pilot, lambda: chat_id in app.query_one(ImageView).pins)
    view = app.query_one(ImageView)
    col, row = view.geometry.to_cell(25.0, 75.0)
    assert view.render_line(row).text[col : col + 2] == "●1"
    assert "from bob" in app.query_one(MarkerList).entry_text(chat_id)


async def test_offline_banner_and_catch_up_after_the_server_returns(
    home: Path, mint_token: Callable[..., str]
) -> None:
    first = await start_server(ServerConfig(port=0, home=home))
    port = first.port
    app = make_app(first.url, mint_token("alice"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.link.connected and shows_connection_state(app))
        banner = app.query_one(OfflineBanner)
        indicator = app.query_one(ConnectionIndicator)
        assert not banner.display
        await first.close()
        await until(pilot, lambda: banner.display)
        assert "Offline" in str(banner.render())
        await until(pilot, lambda: "Reconnecting (attempt" in str(indicator.render()))

        # Creating while offline fails at once, with a message; nothing is queued.
        status_line = app.query_one("#status")
        before = str(status_line.render())
        await pilot.click(ImageView, offset=(20, 10))
        await until(pilot, lambda: str(status_line.render()) != before)  # the click handled
        status = str(status_line.render())
        assert "Offline" in status and "nothing can be created" in status
        assert not app.link.replica.view.chats and not app.link.replica.pending

        second = await start_server(ServerConfig(port=port, home=home))
        bob = RemoteClient(second.url, mint_token("bob"))
        try:
            await bob.connected()
            made_meanwhile = bob.create(60.0, 40.0, "while alice was offline")
            app.action_retry()
            await until(pilot, lambda: app.link.connected)
            await until(pilot, lambda: made_meanwhile in app.link.replica.view.chats)
            await until(pilot, lambda: shows_connection_state(app))
            assert not banner.display
            assert "Connected" in str(indicator.render())
        finally:
            await bob.close()
            await second.close()


async def test_hostile_comment_is_shown_as_plain_text(alice: Reviewing) -> None:
    hostile = "\x1b[2J\x1b]0;owned\x07[bold red]boom[/] \u202eevil\x9b31m"
    app, pilot, bob = alice
    chat_id = bob.create(50.0, 50.0, hostile)
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket")
    thread = app.query_one(ThreadView)
    await until(pilot, lambda: thread.chat is not None)
    lines = thread.item_lines(thread.comment_ids[0])
    console = Console(width=200, force_terminal=True, color_system="truecolor")
    with console.capture() as captured:
        for line in lines:
            console.print(Segments(line))
    output = captured.get()
    assert "\x1b[2J" not in output and "\x1b]0" not in output and "\x9b" not in output
    assert "\u202e" not in output
    plain = "".join(strip.text for strip in lines)
    assert "␛[2J␛]0;owned␇[bold red]boom[/]" in plain
    segments = [segment for line in lines for segment in line]
    assert not any(segment.style and segment.style.color for segment in segments)


async def test_indicator_counts_everyone_viewing(alice: Reviewing) -> None:
    app, pilot, bob = alice
    indicator = app.query_one(ConnectionIndicator)
    await until(pilot, lambda: indicator.viewers == 2)
    await pilot.pause()
    # As drawn in the status bar, its spaces and padding kept (issue 9 saw it
    # as "Connected· 2 viewing").
    bar = app.screen._compositor.render_strips()[indicator.region.y]
    assert "".join(bar.text).startswith(" ● Connected · 2 viewing ")
    await bob.close()
    await until(pilot, lambda: indicator.viewers == 1)
