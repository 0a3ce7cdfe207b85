"""Keys typed right after a key that opens the composer land in the composer as text.

A terminal delivers ``rsee x⏎`` in one read when someone types fast or over a slow
ssh link: every key reaches the app before ``r`` has opened the composer. Here the
keys go to the app exactly that way (all posted by the driver at once, nothing waited
for between them), in Pilot and in a real pseudo-terminal, against a real server; a
second reviewer on a plain connection sees what reached the server.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.keys import _character_to_key

from imagechat_tui.server.node import RunningServer
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.thread_view import ThreadView
from tests.tui.helpers import (
    RemoteClient,
    Reviewing,
    alice_in_a_terminal_with_her_marker,
    until,
)


def changed(bob: RemoteClient, chat_id: str, comments: int) -> bool:
    """The marker as Bob sees it is no longer as it was (gone, resolved, a comment more
    or less): the keys had an effect, right or wrong."""
    chat = bob.replica.view.chats.get(chat_id)
    return chat is None or chat.resolved or len(chat.comments) != comments


def burst(app: ImageChatApp, typed: str) -> None:
    """``typed`` as the terminal driver hands over one read: every key posted to the app
    at once (Pilot's ``press`` waits for the app to be idle after each key)."""
    assert app._driver is not None
    for char in typed:
        key = "enter" if char == "\r" else char if char.isalnum() else _character_to_key(char)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


@pytest.mark.app(link="server")
async def test_keys_after_r_n_and_e_in_one_read_are_text(alice: Reviewing) -> None:
    app, pilot, bob = alice
    # Alice's own marker, selected, her comment highlighted, the image focused: s
    # would resolve it, e edit the comment, x delete it.
    await pilot.press("n", *"mine", "enter")  # one key at a time
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    (chat_id,) = bob.replica.view.chats
    assert bob.replica.view.chats[chat_id].comments[0].text == "mine"
    await until(pilot, lambda: app.query_one(ThreadView).highlighted_comment_id is not None)
    await until(
        pilot, lambda: app.focused is not None and not app.query_one(CommentInput).composing
    )

    burst(app, "rsee x\r")
    await until(pilot, lambda: changed(bob, chat_id, 1))
    chat = bob.replica.view.chats.get(chat_id)
    assert chat is not None, "the marker was deleted"
    assert [c.text for c in chat.comments] == ["mine", "see x"]
    assert not chat.resolved

    # e opens the highlighted comment (the reply just written) for editing.
    await until(pilot, lambda: not app.query_one(CommentInput).composing)
    burst(app, "e!sx\r")
    await until(pilot, lambda: bob.replica.view.chats[chat_id].comments[1].text != "see x")
    chat = bob.replica.view.chats[chat_id]
    assert [c.text for c in chat.comments] == ["mine", "see x!sx"]
    assert not chat.resolved and len(bob.replica.view.chats) == 1

    # n places a marker at the crosshair: m (move) and the rest are its comment.
    await until(pilot, lambda: not app.query_one(CommentInput).composing)
    app.action_focus_image()
    await pilot.pause()
    burst(app, "nmv x\r")
    await until(pilot, lambda: len(bob.replica.view.chats) == 2)
    texts = sorted(c.comments[0].text for c in bob.replica.view.chats.values())
    assert texts == ["mine", "mv x"]


@pytest.mark.app(link="server")
async def test_keys_typed_ahead_of_a_refused_reply_act_as_keys(alice: Reviewing) -> None:
    """When r opens nothing (no marker selected), the keys after it are not lost: they
    act as they would have, in order (here ] selects the marker, f filters)."""
    app, pilot, bob = alice
    chat_id = bob.create(40.0, 40.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    burst(app, "r]")
    await until(pilot, lambda: app.selected == chat_id)
    assert not app.query_one(CommentInput).composing
    assert not app.type_ahead.holding


async def test_rsee_x_in_one_write_to_a_real_terminal(
    home: Path, server: RunningServer, mint_token: Callable[..., str]
) -> None:
    async with alice_in_a_terminal_with_her_marker(home, server.url, mint_token) as (
        terminal,
        bob,
        chat_id,
    ):
        os.write(terminal.fd, b"rsee x\r")  # one write: one read for the app
        async with asyncio.timeout(15):
            while not changed(bob, chat_id, 1):
                await asyncio.sleep(0.02)
        # Ops from one connection arrive in order: had s or x acted, it would show here.
        chat = bob.replica.view.chats.get(chat_id)
        assert chat is not None, "the marker was deleted"
        assert [c.text for c in chat.comments] == ["mine", "see x"]
        assert not chat.resolved
