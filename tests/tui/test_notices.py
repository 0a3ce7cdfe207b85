"""Notices that follow what you look at, and status messages that end: the real app
(Pilot) in the in-memory room (offline: against a real server, which is stopped),
another reviewer on a plain link."""

from __future__ import annotations

import pytest

from imagechat_tui.client import review as review_module
from imagechat_tui.protocol import Resolve, UpdateOp
from imagechat_tui.server.node import RunningServer
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.thread_view import ThreadView
from tests.tui.helpers import Reviewing, until


def status(app: ImageChatApp) -> str:
    return str(app.query_one("#status").render())


async def test_the_open_marker_deleted_or_resolved_by_someone_else_says_so(
    alice: Reviewing,
) -> None:
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    app.workspace.select(chat_id)
    thread = app.query_one(ThreadView)
    resolve = UpdateOp(broadcastId="b-resolve", chatId=chat_id, change=Resolve())
    bob.connection.submit(resolve)
    await until(pilot, lambda: thread.notice is not None)
    # Said once, in the panel that shows the marker: the status line does not repeat it.
    assert thread.notice == "Marker #1 was resolved by someone else."
    assert status(app) == ""
    bob.delete(chat_id)
    await until(pilot, lambda: thread.notice is not None and "deleted" in thread.notice)
    # Not "Marker #1 resolved." left standing: the thread is gone, and it says why.
    assert thread.notice == "Marker #1 was deleted by bob." and status(app) == ""
    assert app.review.selected is None


async def test_every_status_message_ends(alice: Reviewing) -> None:
    app, pilot, bob = alice
    now = [1000.0]
    app.review._clock = lambda: now[0]
    await pilot.press("n", *"hello", "enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    assert status(app) == "Sent."
    now[0] += review_module.STATUS_SECONDS  # as if that much time had passed
    await until(pilot, lambda: status(app) == "")  # used to stay for 40 minutes


@pytest.mark.app(link="server")
async def test_offline_the_footer_offers_no_change(server: RunningServer, alice: Reviewing) -> None:
    """Not `n New marker` and `r Reply` offered, then refused when pressed."""
    app, pilot, bob = alice
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    app.workspace.select(chat_id)
    view = app.query_one(ImageView)
    changes = [(view, "place"), (view, "draw_region"), (app, "reply"), (app, "move_marker")]
    assert all(where.check_action(action, ()) for where, action in changes)
    await server.close()
    await until(pilot, lambda: not app.link.connected)
    await pilot.pause()
    assert not any(where.check_action(action, ()) for where, action in changes)
    shown = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
    assert "n" not in shown and "r" not in shown and "R" in shown


async def test_the_thread_panel_says_what_someone_else_did_to_the_open_marker(
    alice: Reviewing,
) -> None:
    """In the panel itself, not only the status line (which ends after a while)."""
    app, pilot, bob = alice
    thread = app.query_one(ThreadView)
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    app.workspace.select(chat_id)
    bob.connection.submit(UpdateOp(broadcastId="b-res", chatId=chat_id, change=Resolve()))
    await until(pilot, lambda: thread.notice is not None)
    await pilot.pause()
    shown = " ".join(thread.item_text(None).split())  # wrapped to the panel's width
    assert shown == "● Marker #1 was resolved by someone else."
    assert thread.comment_ids and thread.highlighted_comment_id == thread.comment_ids[-1]
    bob.delete(chat_id)
    await until(pilot, lambda: "deleted" in (thread.notice or ""))
    await pilot.pause()
    assert " ".join(thread.item_text(None).split()).startswith("● Marker #1 was deleted by bob.")
