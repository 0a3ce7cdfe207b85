"""The thread panel: its comments, highlight, keys, mouse, scrolling, and what a remote
reply costs the terminal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from bench.terminal_bytes_bench import measure
from imagechat_tui.protocol import Comment, User
from imagechat_tui.tui.widgets.thread_view import EMPTY, INDENT, ThreadView, comment_lines
from tests.tui.demo import DemoApp
from tests.tui.helpers import (
    Reviewing,
    until,
    until_comments,
)

BOB = User(id="bob", name="bob")


def test_comment_shows_author_time_edited_and_wraps_its_text_under_the_indent() -> None:
    console = Console(width=80)
    text = "The save button's label is cut off on small screens\nsecond paragraph"
    comment = Comment(id="c", author=BOB, text=text, createdAt=0, editedAt=5)
    lines = [line.plain for line in comment_lines(comment, False, 24, console)]
    assert re.fullmatch(r"bob  \d\d:\d\d \(edited\)", lines[0])
    body = lines[1:]
    assert len(body) >= 4
    assert all(line.startswith(" " * INDENT) and line[INDENT] != " " for line in body)
    assert all(console.measure(line).maximum <= 24 for line in lines)
    assert " ".join(line.strip() for line in body[:-1]) == text.split("\n")[0]
    assert body[-1].strip() == "second paragraph"
    unedited = comment_lines(Comment(id="c", author=BOB, text="x", createdAt=0), True, 24, console)
    assert "edited" not in unedited[0].plain
    assert "cyan" in str(unedited[0].spans[0].style)  # own comments: the author in cyan


async def test_empty_state_then_remote_reply_appears_and_keeps_the_highlight(
    alice: Reviewing,
) -> None:
    app, pilot, bob = alice
    thread = app.query_one(ThreadView)
    assert thread.border_title == "Thread"
    assert " ".join(thread.item_text(None).split()) == EMPTY
    assert thread.highlighted_comment_id is None
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket")
    await until(pilot, lambda: thread.chat is not None)
    first = thread.comment_ids[0]
    assert thread.border_title == "#1 · open · 1 comment"
    assert thread.highlighted_comment_id == first

    reply_id = bob.reply(chat_id, "a reply")
    await until(pilot, lambda: reply_id in thread.comment_ids)
    assert thread.border_title == "#1 · open · 2 comments"
    assert thread.item_text(reply_id).splitlines()[1] == " " * INDENT + "a reply"
    assert thread.highlighted_comment_id == first  # a reply does not move it
    rendered = "\n".join(thread.render_line(y).text for y in range(4))
    assert "from bob" in rendered and "a reply" in rendered


async def test_keys_and_clicks_pick_the_comment_that_edit_and_delete_act_on(
    alice: Reviewing,
) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket", "r", *"mine", "enter")
    thread = app.query_one(ThreadView)
    await until(pilot, lambda: len(thread.comment_ids) == 2 and not app.link.replica.pending)
    bobs, mine = thread.comment_ids
    # After a reply the highlight is on the comment just written.
    assert thread.has_focus and thread.highlighted_comment_id == mine
    await pilot.press("up")
    assert thread.highlighted_comment_id == bobs

    await pilot.press("e")  # bob's comment: refused
    assert "Only its author or a moderator" in str(app.query_one("#status").render())
    await pilot.press("down")
    assert thread.highlighted_comment_id == mine
    await pilot.press("home")
    assert thread.highlighted_comment_id == bobs

    # A click on the second line of my comment highlights it.
    row = len(thread.item_lines(bobs)) + 1
    offset = thread.content_offset
    await pilot.click(ThreadView, offset=(offset.x + 4, offset.y + row))
    assert thread.highlighted_comment_id == mine

    await pilot.press("e", "end", *" too", "enter")
    await until(pilot, lambda: app.link.replica.view.chats[chat_id].comments[1].editedAt)
    await until(pilot, lambda: "(edited)" in thread.item_text(mine))
    assert "mine too" in thread.item_text(mine)
    assert thread.highlighted_comment_id == mine

    await pilot.press("x")
    await until(pilot, lambda: thread.comment_ids == [bobs])
    assert thread.border_title == "#1 · open · 1 comment"
    assert thread.highlighted_comment_id == bobs


@pytest.mark.app(size=(80, 24))
async def test_a_long_thread_scrolls_to_the_highlight(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "from bob")
    for n in range(12):
        bob.reply(chat_id, f"reply number {n}")
    await until_comments(pilot, app, chat_id, 13)
    await pilot.press("right_square_bracket")
    thread = app.query_one(ThreadView)
    await until(pilot, lambda: len(thread.comment_ids) == 13)
    await pilot.pause()
    height = thread.scrollable_content_region.height
    assert thread.virtual_size.height > height  # it does not fit
    assert thread.highlighted_comment_id == thread.comment_ids[-1]
    visible = "\n".join(thread.render_line(y).text for y in range(height))
    assert "reply number 11" in visible and "from bob" not in visible
    # The scrollbar took its columns: the rows were built narrower.
    assert all(
        strip.cell_length == thread.content_width
        for strip in thread.item_lines(thread.comment_ids[0])
    )
    thread.focus()
    await pilot.press("home")
    assert thread.scroll_offset.y == 0
    assert "from bob" in thread.render_line(1).text
    await pilot.press("pagedown")
    assert thread.highlighted_comment_id != thread.comment_ids[0]


async def test_a_remote_reply_costs_under_2_kb_of_terminal_output(tmp_path: Path) -> None:
    """The real app in a pseudo-terminal with the marker's thread open: only the reply's
    rows, the thread's title and the marker's entry are written, not the whole panel."""
    measured = await measure(100, 30, home=tmp_path, settle=0.5)
    assert measured.reply is not None and measured.reply > 0
    assert b"remote reply" in measured.reply_written
    assert measured.reply < 2048, measured.reply_written


@pytest.mark.parametrize(("size", "title"), [((80, 24), "#1 · resolved"), ((160, 48), None)])
async def test_the_threads_title_is_whole_at_any_width(
    size: tuple[int, int], title: str | None
) -> None:
    """At 80 columns a resolved marker's title was cut: "#1 · resolved · 3 com…". The
    count gives way (the thread shows its comments); where there is room it stays."""
    app = DemoApp("main")
    async with app.run_test(size=size) as pilot:
        thread = app.query_one(ThreadView)
        await pilot.press("s")  # resolve #1 (alice's)
        await until(pilot, lambda: str(thread.border_title).startswith("#1 · resolved"))
        assert str(thread.border_title) == (title or "#1 · resolved · 3 comments")
        assert len(str(thread.border_title)) <= thread.outer_size.width - 6
