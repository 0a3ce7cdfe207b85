"""The multi-line composer (in the in-memory room): newline keys, pastes that keep their
lines, the counter near the limit and the refusal over it, and pastes that never act."""

from __future__ import annotations

import pytest
from textual import events
from textual._xterm_parser import XTermParser

from imagechat_tui.model import Limits
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.input_driver import PasteSafeParser
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.image_view import PENDING_TEXT, ImageView
from imagechat_tui.tui.widgets.thread_view import INDENT, ThreadView
from tests.tui.helpers import Reviewing, until

HOSTILE = "\x1b[31m s x m v D \x1b[0m\x1b[1;2A\x1bs\x1b\r\x1b[200~ r e\r\nafter"


def feed_terminal(app: ImageChatApp, data: str) -> None:
    """Bytes as a terminal sends them, through the app's input parser and its driver."""
    parser = PasteSafeParser()
    events_out = [*parser.feed(data), *parser.feed("")]
    driver = app._driver
    assert driver is not None
    for event in events_out:
        driver.process_message(event)


def comment_count(app: ImageChatApp, chat_id: str) -> int:
    chat = app.link.replica.view.chats.get(chat_id)
    return len(chat.comments) if chat else 0


def composer(app: ImageChatApp) -> CommentInput:
    return app.query_one(CommentInput)


def status(app: ImageChatApp) -> str:
    return str(composer(app).query_one("#compose-status").render())


async def test_enter_sends_and_the_newline_keys_add_lines(alice: Reviewing) -> None:
    app, pilot, bob = alice
    await pilot.press("n")
    box = composer(app)
    assert box.display and box.area.has_focus
    assert box.border_title.startswith("New marker at 50.0%, 50.0% (pixel 160, 90)")
    await pilot.press(*"one", "ctrl+j", *"two", "alt+enter", *"three", "shift+enter", *"four")
    assert box.value == "one\ntwo\nthree\nfour"
    await pilot.press("enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    (chat,) = bob.replica.view.chats.values()
    assert chat.comments[0].text == "one\ntwo\nthree\nfour"
    assert not box.display
    # The thread shows each line under the author, and highlights what was written.
    thread = app.query_one(ThreadView)
    await until(pilot, lambda: thread.chat is not None)
    assert thread.highlighted_comment_id == chat.comments[0].id
    lines = thread.item_text(chat.comments[0].id).split("\n")
    assert [line[INDENT:] for line in lines[1:]] == ["one", "two", "three", "four"]


async def test_a_paste_keeps_its_line_breaks_and_lands_at_the_cursor(alice: Reviewing) -> None:
    app, pilot, bob = alice
    await pilot.press("n", *"before ", "ctrl+j", *"end", "up", "end")
    box = composer(app)
    feed_terminal(app, "\x1b[200~first\r\nsecond\rthird\n\x1b[201~")
    await until(pilot, lambda: "third" in box.value)
    assert box.value == "before first\nsecond\nthird\n\nend"
    await pilot.press("enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    (chat,) = bob.replica.view.chats.values()
    assert chat.comments[0].text == "before first\nsecond\nthird\n\nend"


async def test_a_paste_with_escapes_is_text_in_the_composer_and_never_presses_keys(
    alice: Reviewing,
) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(40.0, 40.0, "bob's marker")
    bob.reply(chat_id, "bob's reply")
    await until(pilot, lambda: comment_count(app, chat_id) == 2)
    await pilot.press("right_square_bracket", "r")
    box = composer(app)
    feed_terminal(app, f"\x1b[200~{HOSTILE}\x1b[201~")
    await until(pilot, lambda: "after" in box.value)
    # Everything pasted is in the box, escapes as visible symbols; nothing acted.
    assert box.value == ("␛[31m s x m v D ␛[0m␛[1;2A␛s␛\n␛[200~ r e\nafter")
    assert box.display and box.area.has_focus
    await pilot.press("enter")
    await until(pilot, lambda: len(bob.replica.view.chats[chat_id].comments) == 3)
    assert bob.replica.view.chats[chat_id].comments[2].text == box_text_sent(HOSTILE)


def box_text_sent(pasted: str) -> str:
    from imagechat_tui.tui.widgets.comment_input import pasted_text

    return pasted_text(pasted)


async def test_a_paste_with_the_composer_closed_changes_nothing(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(40.0, 40.0, "bob's marker")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    # Alice's own marker, selected: s would resolve it, D would ask to delete it,
    # m would start moving it, v would hide resolved pins.
    await pilot.press("n", *"mine", "enter")
    await until(
        pilot, lambda: len(app.link.replica.view.chats) == 2 and not app.link.replica.pending
    )
    before = dict(app.link.replica.view.chats)
    for focus in (ImageView, ThreadView):
        app.query_one(focus).focus()
        await pilot.pause()
        feed_terminal(app, f"\x1b[200~{HOSTILE}\x1b[201~")
        await pilot.pause()
        await pilot.pause()
        assert app.link.replica.view.chats == before
        assert not app.link.replica.pending
        assert app.moving is None and app.review.show_resolved
        assert len(app.screen_stack) == 1  # no confirmation opened
        assert not composer(app).display
    assert "Pasted text goes into a comment" in str(app.query_one("#status").render())


def test_textuals_own_parser_turns_a_pasted_escape_into_key_presses() -> None:
    """Why the app brings its own parser: the same bytes through Textual's."""
    data = "\x1b[200~\x1b[31m s x\x1b[201~"
    keys = [e.key for e in XTermParser().feed(data) if isinstance(e, events.Key)]
    assert "s" in keys and "x" in keys
    safe = list(PasteSafeParser().feed(data))
    assert safe == [events.Paste("\x1b[31m s x")] or [
        (type(e), getattr(e, "text", None)) for e in safe
    ] == [(events.Paste, "\x1b[31m s x")]


def test_paste_markers_split_between_reads_and_a_lone_escape() -> None:
    parser = PasteSafeParser()
    out = [*parser.feed("a\x1b[20"), *parser.feed("0~x\x1b[2"), *parser.feed("01~b\x1b\r")]
    kinds = [(type(e).__name__, getattr(e, "text", None) or getattr(e, "key", None)) for e in out]
    assert kinds == [("Key", "a"), ("Paste", "x"), ("Key", "b"), ("Key", "alt+enter")]


@pytest.mark.app(limits=Limits(max_text=300))  # the app learns it from `joined`
async def test_counter_near_the_limit_and_refusal_over_it_sends_nothing(alice: Reviewing) -> None:
    app, pilot, bob = alice
    limit = app.link.replica.limits.max_text
    assert limit == 300
    await pilot.press("n")
    box = composer(app)
    feed_terminal(app, "\x1b[200~" + "a" * (limit // 2) + "\x1b[201~")
    await until(pilot, lambda: len(box.value) == limit // 2)
    assert status(app) == ""  # far from the limit: no counter
    feed_terminal(app, "\x1b[200~" + "b" * (limit // 2 - 10) + "\x1b[201~")
    await until(pilot, lambda: len(box.value) == limit - 10)
    assert status(app) == f"{limit - 10:,} / {limit:,}"
    feed_terminal(app, "\x1b[200~" + "c" * 132 + "\x1b[201~")
    await until(pilot, lambda: len(box.value) == limit + 122)
    assert f"{limit + 122:,} / {limit:,}: 122 over the limit" in status(app)
    await pilot.press("enter")
    assert status(app) == (f"Not sent: The text is {limit + 122} characters; the limit is {limit}.")
    assert box.display and len(box.value) == limit + 122  # nothing cut, nothing lost
    assert not app.link.replica.pending and not app.link.replica.view.chats
    feed_terminal(app, "\x7f" * 122)  # the terminal's backspaces, in one read
    await until(pilot, lambda: len(box.value) == limit)
    await pilot.press("enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    (chat,) = bob.replica.view.chats.values()
    assert len(chat.comments[0].text) == limit


async def test_the_spot_being_commented_is_shown_until_sent_or_cancelled(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    view = app.query_one(ImageView)
    await pilot.press("l", "l", "n", *"here")
    col, row = view.geometry.to_cell(*view.crosshair)
    assert not view.has_focus
    assert view.render_line(row).text[col : col + 2] == PENDING_TEXT
    await pilot.press("escape")
    col, row = view.geometry.to_cell(*view.crosshair)
    assert PENDING_TEXT not in view.render_line(row).text
    await pilot.press("n", *"here", "enter")
    await until(pilot, lambda: len(app.link.replica.view.chats) == 1)
    col, row = view.geometry.to_cell(*view.crosshair)  # the image is taller again
    assert PENDING_TEXT not in view.render_line(row).text
    assert view.render_line(row).text[col : col + 2] == "●1"
