"""Destructive keys with a way back, permission before effort, and reading a comment
taller than the thread panel: the app against a real server, a second reviewer on a
plain connection."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Button

from imagechat_tui.client.loopback import LoopbackRoom
from imagechat_tui.client.undo import Deleted, UndoSlot, restore_op
from imagechat_tui.export import Review, markdown
from imagechat_tui.protocol import Chat, Comment, EditComment, RestoreOp, UpdateOp, User
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.dialogs import ConfirmScreen
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.thread_view import ThreadView
from tests.tui.helpers import (
    ROOM,
    Reviewing,
    until,
    until_comments,
)
from tests.tui.helpers import test_image as sample_image

ALICE = User(id="alice", name="alice")
BOB = User(id="bob", name="bob")


def status(app: ImageChatApp) -> str:
    return str(app.query_one("#status").render())


def footer_has(app: ImageChatApp, action: str) -> bool:
    """Whether the footer offers ``action`` now (what it asks ``check_action``)."""
    return bool(app.check_action(action, ()))


def test_undo_asks_the_server_to_restore_what_it_kept() -> None:
    chat = Chat(id="c1", number=2, x=10.0, y=20.0, createdBy=ALICE, createdAt=0, comments=())
    reply = Comment(id="r1", author=BOB, text="bob's", createdAt=1)
    ids = iter(["b1", "b2"])
    assert restore_op(Deleted(chat), lambda: next(ids)) == RestoreOp(broadcastId="b1", chatId="c1")
    assert restore_op(Deleted(chat, reply), lambda: next(ids)) == RestoreOp(
        broadcastId="b2", chatId="c1", commentId="r1"
    )


def test_undo_slot_lasts_its_seconds_and_holds_the_last_delete() -> None:
    chat = Chat(id="c", number=1, x=0, y=0, createdBy=ALICE, createdAt=0, comments=())
    slot = UndoSlot(10)
    slot.record(Deleted(chat, None, at=100.0))
    assert slot.peek(109.9) is not None
    assert slot.peek(110.0) is None
    slot.record(Deleted(chat, None, at=200.0))
    newer = Deleted(chat, None, at=201.0)
    slot.record(newer)
    assert slot.take(205.0) is newer and slot.take(205.0) is None


async def test_a_deleted_comment_comes_back_with_u(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket", "r", *"line one", "ctrl+j", *"line two", "enter")
    thread = app.query_one(ThreadView)
    await until(pilot, lambda: len(bob.replica.view.chats[chat_id].comments) == 2)
    mine = bob.replica.view.chats[chat_id].comments[1]
    assert thread.highlighted_comment_id == mine.id  # the one just written
    assert not footer_has(app, "undo")

    await pilot.press("x")  # acts on the highlighted comment: mine
    await until(pilot, lambda: len(bob.replica.view.chats[chat_id].comments) == 1)
    notice = "Comment on #1 deleted. Press u within 10 s to undo."
    assert status(app) == notice
    assert not app._notifications  # said once, in the status line (no notification too)
    assert footer_has(app, "undo")

    await pilot.press("u")
    await until(pilot, lambda: len(bob.replica.view.chats[chat_id].comments) == 2)
    back = bob.replica.view.chats[chat_id].comments[1]
    assert (back.id, back.text, back.author.id) == (mine.id, "line one\nline two", "alice")
    assert thread.highlighted_comment_id == mine.id
    assert "restored" in status(app)
    assert notice not in status(app)  # no longer true
    assert not footer_has(app, "undo")  # u is spent: pressing it again does nothing
    await pilot.press("u")
    await pilot.pause()
    assert len(app.link.replica.view.chats[chat_id].comments) == 2 and not app.link.replica.pending


async def test_marker_delete_defaults_to_cancel_and_u_restores_it(
    room: LoopbackRoom, alice: Reviewing
) -> None:
    app, pilot, bob = alice
    await pilot.press("n", *"mine", "ctrl+j", *"second line", "enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    (chat,) = bob.replica.view.chats.values()
    reply_id = bob.reply(chat.id, "bob's reply")
    edit = EditComment(commentId=reply_id, text="bob's reply, edited")
    bob.connection.submit(UpdateOp(broadcastId="b-edit", chatId=chat.id, change=edit))
    await until(pilot, lambda: len(app.link.replica.view.chats[chat.id].comments) == 2)
    await until(
        pilot, lambda: app.link.replica.view.chats[chat.id].comments[1].editedAt is not None
    )
    await pilot.press("s")  # resolved
    await until(pilot, lambda: bob.replica.view.chats[chat.id].resolved)
    whole = bob.replica.view.chats[chat.id]

    await pilot.press("D")
    assert isinstance(app.screen, ConfirmScreen)
    focused = app.screen.focused
    assert isinstance(focused, Button) and focused.id == "no"
    await pilot.press("enter")  # the default: Cancel
    assert not isinstance(app.screen, ConfirmScreen)
    assert chat.id in app.link.replica.view.chats and not app.link.replica.pending

    await pilot.press("D", "y")
    await until(pilot, lambda: chat.id not in bob.replica.view.chats)
    assert status(app) == "Marker #1 deleted. Press u within 10 s to undo."

    await pilot.press("u")
    await until(pilot, lambda: chat.id in bob.replica.view.chats)
    # What was deleted comes back for the other viewer: the same number, authors,
    # times, edit and resolved state (not "#1 restored as #2", all by alice).
    assert bob.replica.view.chats[chat.id] == whole
    await until(pilot, lambda: not app.link.replica.pending)
    assert app.link.replica.view.chats[chat.id] == whole
    assert status(app) == "Marker #1 restored."
    assert app.selected == chat.id
    # Bob's reply is still his to edit.
    again = EditComment(commentId=reply_id, text="bob's reply, again")
    bob.connection.submit(UpdateOp(broadcastId="b-again", chatId=chat.id, change=again))
    await until(pilot, lambda: app.link.replica.view.chats[chat.id].comments[1].text == again.text)
    # ... and the export credits each comment to its author, with the edit.
    state = room.state
    review = Review.of(
        state.chats.values(), room=ROOM, image=sample_image(), source="x.png",
        is_remote=False, title="x", exported_at=0,
    )  # fmt: skip
    report = markdown.render(review)
    assert "## 1. Resolved" in report and "Opened by **alice**" in report
    assert "Reply from **bob**" in report and "(edited " in report
    assert "wrote:" not in report


async def test_undo_expires(alice: Reviewing) -> None:
    app, pilot, bob = alice
    await pilot.press("n", *"mine", "enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    # A window that ends at once, as if 10 s had passed. Not 0: the app sets a timer
    # and a notice for that long, and Textual's Timer divides by its interval when
    # it runs late (a ZeroDivisionError on a loaded machine).
    app.review.undo_slot.seconds = 0.05
    await pilot.press("D", "y")
    await until(pilot, lambda: not bob.replica.view.chats)
    await until(pilot, lambda: app.review.undo_slot.peek(time.monotonic()) is None)
    assert not footer_has(app, "undo")
    await pilot.press("u")
    await pilot.pause()
    assert not app.link.replica.view.chats and not app.link.replica.pending
    app.action_undo()  # from the command palette
    assert status(app) == "Nothing to undo (a delete can be undone for 0 s)."


async def test_a_non_author_is_refused_before_the_delete_confirmation(alice: Reviewing) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket", "D")
    assert not isinstance(app.screen, ConfirmScreen)
    assert status(app) == "Only its author or a moderator may delete Marker #1."
    assert chat_id in app.link.replica.view.chats


@pytest.mark.app(role="viewer")
async def test_a_viewer_is_refused_before_typing(alice: Reviewing) -> None:
    app, pilot, bob = alice
    await until(pilot, lambda: app.link.connected and app.link.replica.actor.role == "viewer")
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    composer = app.query_one(CommentInput)
    for keys in (["n"], ["right_square_bracket", "r"]):
        app.query_one(ImageView).focus()
        await pilot.press(*keys)
        assert not composer.display
        assert status(app) == "Your role is read-only: you can view but not change."
    await pilot.click(ImageView, offset=(5, 5))
    assert not composer.display
    assert "read-only" in status(app)


@pytest.mark.app(size=(80, 24))
async def test_keys_scroll_within_a_comment_taller_than_the_panel(alice: Reviewing) -> None:
    long_text = "\n".join(f"line {n:02}" for n in range(40))
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, long_text)
    bob.reply(chat_id, "the reply")
    await until_comments(pilot, app, chat_id, 2)
    await pilot.press("right_square_bracket")
    thread = app.query_one(ThreadView)
    await until(pilot, lambda: len(thread.comment_ids) == 2)
    first, reply = thread.comment_ids
    thread.focus()
    await pilot.press("home")
    height = thread.scrollable_content_region.height
    assert height < 41 and thread.highlighted_comment_id == first

    def shown() -> str:
        return "\n".join(thread.render_line(y).text for y in range(height))

    assert "line 00" in shown() and "line 39" not in shown()
    await pilot.press("down")
    assert thread.highlighted_comment_id == first and thread.scroll_offset.y == 1
    await pilot.press("pagedown")
    assert thread.highlighted_comment_id == first
    assert thread.scroll_offset.y == 1 + height - 1
    while "line 39" not in shown():
        await pilot.press("down")
        assert thread.highlighted_comment_id == first
    await pilot.press("down")  # its end is shown: on to the next comment
    assert thread.highlighted_comment_id == reply
    await pilot.press("up")  # back, and up within it
    assert thread.highlighted_comment_id == first
    await pilot.press("home")
    assert thread.scroll_offset.y == 0
    await pilot.press("end")
    assert thread.highlighted_comment_id == reply
    assert thread.scroll_offset.y == thread.max_scroll_y
    # A remote reply while reading the middle of the long comment keeps the place.
    await pilot.press("home", "pagedown")
    place = thread.scroll_offset.y
    bob.reply(chat_id, "another")
    await until(pilot, lambda: len(thread.comment_ids) == 3)
    assert thread.scroll_offset.y == place and thread.highlighted_comment_id == first
