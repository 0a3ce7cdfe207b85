"""The crosshair and pins: a pin under the crosshair keeps its number readable."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from textual.geometry import Region

from bench.terminal_bytes_bench import Terminal, bench_image
from imagechat_tui.server.node import RunningServer
from imagechat_tui.tui.widgets.image_view import CROSSHAIR, PIN_OPEN, PIN_SELECTED, ImageView
from tests.tui.helpers import (
    ROOM,
    RemoteClient,
    Reviewing,
    until,
)

SIZE = (120, 36)


def on_screen(view: ImageView, row: int) -> str:
    """The row as the widget's line cache has it: rows not refreshed since a change
    still show what they showed before it."""
    return view.render_lines(Region(0, row, view.size.width, 1))[0].text


async def test_a_pin_under_the_crosshair_stays_readable_with_the_crosshair_around_it(
    alice: Reviewing,
) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    col, row = view.geometry.to_cell(*view.crosshair)
    assert view.render_line(row).text[col] == "┼"
    # A marker placed with the keyboard sits right under the crosshair.
    await pilot.press("n", *"here", "enter")
    await until(
        pilot, lambda: len(app.link.replica.view.chats) == 1 and not app.link.replica.pending
    )
    assert view.has_focus and view.geometry.to_cell(*view.crosshair) == (col, row)
    line = view.render_line(row)
    assert line.text[col - 1 : col + 3] == "[●1]"
    pin_styles = {segment.style for segment in line.crop(col, col + 2)}
    assert pin_styles == {PIN_SELECTED}
    bracket_styles = {segment.style for segment in line.crop(col - 1, col)}
    assert bracket_styles == {CROSSHAIR}

    await pilot.press("l", "l", "l")  # off the pin: the pin alone, the crosshair beside
    text = on_screen(view, row)
    assert text[col : col + 2] == "●1" and text[col + 3] == "┼"
    assert "[" not in text and "]" not in text


async def test_a_remote_pin_arriving_under_the_crosshair_is_bracketed(alice: Reviewing) -> None:
    app, pilot, bob = alice
    view = app.query_one(ImageView)
    col, row = view.geometry.to_cell(*view.crosshair)
    chat_id = bob.create(*view.crosshair, "on your crosshair")
    await until(pilot, lambda: chat_id in view.pins)
    await pilot.pause()
    assert on_screen(view, row)[col - 1 : col + 3] == "[●1]"
    line = view.render_line(row)
    assert {segment.style for segment in line.crop(col, col + 2)} == {PIN_OPEN}
    # And the brackets go when the pin does.
    bob.delete(chat_id)
    await until(pilot, lambda: chat_id not in view.pins)
    await pilot.pause()
    assert on_screen(view, row)[col] == "┼"
    assert "[" not in on_screen(view, row)


async def test_the_terminal_gets_the_brackets_when_a_remote_pin_lands_on_the_crosshair(
    home: Path, server: RunningServer, mint_token: Callable[..., str]
) -> None:
    """The real app in a pseudo-terminal: the cells beside the new pin are written too
    (a refresh of the pin's own cells alone would leave the brackets out)."""
    image_path = home / "shot.png"
    bench_image(image_path)
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    argv = [sys.executable, "-m", "imagechat_tui", str(image_path), "--server", server.url]
    argv += ["--token", mint_token("alice"), "--room", ROOM]
    terminal = Terminal(argv, 100, 30, env)
    bob = RemoteClient(server.url, mint_token("bob"))
    try:
        await terminal.until_written(b"Connected")
        await bob.connected()
        await terminal.quiet(0.5)
        terminal.log.clear()
        bob.create(50.0, 50.0, "on the crosshair")  # where the crosshair starts
        await terminal.until_written(b"on the crosshair")
        await terminal.quiet(0.5)
        written = re.sub(rb"\x1b\[[0-9;]*m", b"", b"".join(terminal.log))
        assert "[●1]".encode() in written
    finally:
        await bob.close()
        assert await terminal.close() == 0
