"""The marker list: its entries, keys, mouse, filter, and what it costs the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from bench.terminal_bytes_bench import measure
from imagechat_tui.protocol import Chat, Comment, User
from imagechat_tui.tui.widgets.marker_list import INDENT, MAX_TEXT_LINES, MarkerList, marker_lines
from imagechat_tui.tui.widgets.thread_view import ThreadView
from tests.tui.demo import DemoApp

BOB = User(id="bob", name="bob")


def chat(text: str, *, replies: int = 0, resolved: bool = False) -> Chat:
    comments = tuple(
        Comment(id=f"c{i}", author=BOB, text=text if i == 0 else "re", createdAt=0)
        for i in range(replies + 1)
    )
    return Chat(
        id="m",
        number=12,
        x=1,
        y=1,
        createdBy=BOB,
        createdAt=0,
        comments=comments,
        resolved=resolved,
    )


def test_entry_shows_number_state_author_replies_and_the_first_line() -> None:
    console = Console(width=80)
    lines = [
        line.plain for line in marker_lines(chat("Too dark\nsecond line", replies=2), 30, console)
    ]
    assert lines == ["#12 ○ bob · 2 replies", " " * INDENT + "Too dark … +1 line"]
    one = marker_lines(chat("hi", replies=1), 30, console)[0].plain
    assert one == "#12 ○ bob · 1 reply"  # not "+1", which reads like a thumbs-up
    resolved = marker_lines(chat("ok", resolved=True), 30, console)
    assert resolved[0].plain.startswith("#12 ✓ bob")


def test_long_text_wraps_under_the_indent_and_ends_in_an_ellipsis() -> None:
    console = Console(width=80)
    text = "The save button's label is cut off on small screens and overlaps the icon"
    lines = [line.plain for line in marker_lines(chat(text), 24, console)]
    body = lines[1:]
    assert len(body) == MAX_TEXT_LINES
    assert all(line.startswith(" " * INDENT) and line[INDENT] != " " for line in body)
    assert all(console.measure(line).maximum <= 24 for line in lines)
    assert body[-1].endswith("…")
    assert " ".join(line.strip() for line in body).rstrip("…").startswith("The save button's")


@pytest.mark.parametrize("width", [12, 16, 24, 30, 60])
def test_a_comment_of_several_lines_says_how_many_more(width: int) -> None:
    """Only the first line is listed; the entry says the comment goes on, and how far,
    at every width (cut first lines included), never wider than the list."""
    console = Console(width=80)
    short = [line.plain for line in marker_lines(chat("Steps:\none\ntwo\n"), width, console)]
    long = "The save button's label is cut off on small screens\nand overlaps\nthe icon"
    cut = [line.plain for line in marker_lines(chat(long), width, console)]
    for lines in (short, cut):
        assert all(console.measure(line).maximum <= width for line in lines)
        assert 2 <= len(lines) <= 1 + MAX_TEXT_LINES
    if width - INDENT > len("Steps: … +2 lines"):
        assert short[1:] == [" " * INDENT + "Steps: … +2 lines"]
    else:
        assert short[-1].endswith(("… +2 lines", "…"))
    assert cut[-1].endswith("… +2 lines" if width - INDENT > len("… +2 lines") else "…")
    # Blank lines after the first are nothing more to read; one line is not "+1 lines".
    blank = marker_lines(chat("Only this\n\n  \n"), 30, console)
    assert [line.plain for line in blank][1:] == [" " * INDENT + "Only this"]
    one = marker_lines(chat("a\nb"), 30, console)
    assert one[-1].plain.endswith("a … +1 line")


def test_hostile_author_and_text_are_inert() -> None:
    hostile = Chat(
        id="h",
        number=1,
        x=1,
        y=1,
        createdBy=User(id="x", name="\x1b[31mred"),
        createdAt=0,
        comments=(Comment(id="c", author=BOB, text="\x1b]0;owned\x07", createdAt=0),),
    )
    plain = "".join(line.plain for line in marker_lines(hostile, 40, Console(width=80)))
    assert "\x1b" not in plain and "\x07" not in plain


async def test_keys_move_the_highlight_and_enter_opens_the_thread() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(120, 36)) as pilot:
        markers = app.query_one(MarkerList)
        markers.focus()
        await pilot.pause()
        assert markers.highlighted_chat == "chat-1"
        await pilot.press("down")
        assert app.selected == "chat-2" and markers.highlighted_chat == "chat-2"
        await pilot.press("end")
        assert app.selected == "chat-3"
        await pilot.press("down")  # stays on the last
        assert app.selected == "chat-3"
        await pilot.press("home", "enter")
        thread = app.query_one(ThreadView)
        assert app.selected == "chat-1" and thread.has_focus
        assert thread.chat is not None and thread.chat.id == "chat-1"


async def test_clicking_an_entry_selects_its_marker() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(120, 36)) as pilot:
        markers = app.query_one(MarkerList)
        await pilot.pause()
        rows = markers.item_rows(2)
        # The second line of marker #3's entry, inside the border and padding.
        offset = markers.content_offset
        await pilot.click(MarkerList, offset=(offset.x + 5, offset.y + rows[1]))
        assert app.selected == "chat-3"
        assert app.query_one(ThreadView).has_focus


async def test_filter_cycles_all_open_resolved_and_says_when_empty() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(120, 36)) as pilot:
        markers = app.query_one(MarkerList)
        markers.focus()
        await pilot.press("f")
        assert markers.chat_ids == ["chat-1", "chat-2"]
        assert markers.border_title == "Markers · open (2)"
        await pilot.press("f")
        assert markers.chat_ids == ["chat-3"]
        app.link.replica.confirmed = app.link.replica.confirmed.__class__(room="img-demo")
        app.link.replica.view = app.link.replica.confirmed
        app.workspace.draw()
        await pilot.pause()
        assert markers.chat_ids == []
        assert "No resolved markers" in markers.render_line(0).text
        await pilot.press("f")
        assert markers.border_title == "Markers · all (0)"
        assert "No markers yet" in markers.render_line(0).text


@pytest.mark.parametrize("size", [(100, 30)])
async def test_a_remote_marker_costs_under_2_kb_of_terminal_output(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """The real app in a pseudo-terminal: only the new rows of the list, its title, and
    the cells under the new pin are written, not the whole list."""
    measured = await measure(*size, home=tmp_path, settle=0.5, reply=False)
    assert measured.marker > 0
    assert measured.marker < 2048, measured.written
    assert b"remote marker" in measured.written
