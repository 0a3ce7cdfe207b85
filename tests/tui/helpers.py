"""Shared pieces for the app tests: a test image, waits on conditions, a second client.

The app is built one way (``make_app`` on a server URL, ``app_in_memory`` on a
``LoopbackRoom``) and opened one way (``running``: run it and wait until it is
connected). The tests take it through the ``alice`` fixture (``conftest.py``): Alice in
the app, Bob beside her, in the in-memory room, which runs the same rules with no socket
(``client/loopback.py``), or on a real server for the tests about the network
(``@pytest.mark.app(link="server")``). Only tests of the set-up itself (tokens,
restarts, first paint, a pixel terminal) build and open the app by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw
from textual.pilot import Pilot
from textual.widgets import Input

from bench.terminal_bytes_bench import Terminal
from imagechat_tui.client.connection import Backoff, Connection
from imagechat_tui.client.link import Link
from imagechat_tui.client.loopback import LoopbackRoom
from imagechat_tui.model import Actor
from imagechat_tui.protocol import (
    AddComment,
    CreateOp,
    DeleteOp,
    NewChat,
    NewComment,
    UpdateOp,
    User,
)
from imagechat_tui.replica import Replica
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.launch import build_connection
from imagechat_tui.tui.widgets.connection_indicator import ConnectionIndicator
from imagechat_tui.tui.widgets.dialogs import TokenScreen

ROOM = "img-test"


def test_image() -> Image.Image:
    """A 320x180 'screenshot' with a few distinct blocks, made at test time."""
    image = Image.new("RGB", (320, 180), (30, 60, 120))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 120, 60), fill=(220, 80, 40))
    draw.rectangle((200, 100, 300, 160), fill=(40, 200, 90))
    draw.ellipse((130, 60, 190, 120), fill=(240, 210, 40))
    return image


def make_app(url: str, token: str, user: str = "alice", **kwargs: object) -> ImageChatApp:
    """The app as the launcher builds it: a connection made outside, passed in."""
    connection = build_connection(
        url, token, ROOM, User(id=user, name=user), backoff=Backoff(base=0.05, cap=0.3)
    )
    return ImageChatApp(test_image(), connection, **kwargs)  # type: ignore[arg-type]


def app_in_memory(
    room: LoopbackRoom, user: str = "alice", role: str = "member", **kwargs: object
) -> ImageChatApp:
    """The app on a link to the in-memory room (joined when the app runs it)."""
    link = room.link(User(id=user, name=user), role)
    return ImageChatApp(test_image(), link, **kwargs)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(app: ImageChatApp, size: tuple[int, int]) -> AsyncIterator[Pilot[object]]:
    """The app running, connected."""
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.link.connected)
        yield pilot


async def until(pilot: Pilot[object], condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``condition`` holds (fails the test after ``timeout``: only a
    backstop against hanging, so generous enough for a heavily loaded machine)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.02)


async def until_comments(pilot: Pilot[object], app: ImageChatApp, chat_id: str, count: int) -> None:
    """Until the app's room shows marker ``chat_id`` with ``count`` comments."""

    def shown() -> bool:
        chat = app.link.replica.view.chats.get(chat_id)
        return chat is not None and len(chat.comments) == count

    await until(pilot, shown)


def shows_connection_state(app: ImageChatApp) -> bool:
    """The app has handled the connection's latest state: ``connection.state`` changes in
    the connection's worker and the widgets follow only when the app has handled the
    message saying so (indicator and banner in one handler). Wait for this before
    looking at either, or a loaded machine shows the state before."""
    return app.query_one(ConnectionIndicator).state is app.link.state


def token_dialog_shown(app: ImageChatApp) -> bool:
    """The token dialog is on top *and composed* (it becomes ``app.screen`` as soon as it
    is pushed, before its widgets are there to be read or typed into)."""
    screen = app.screen
    return isinstance(screen, TokenScreen) and bool(screen.query(Input))


def alice_and_bob(
    url: str, mint_token: Callable[..., str], size: tuple[int, int], alice_role: str = "member"
) -> contextlib.AbstractAsyncContextManager[tuple[ImageChatApp, Pilot[object], RemoteClient]]:
    """Alice in the app and Bob on a plain connection, both connected to one room."""
    bob = RemoteClient(url, mint_token("bob"))
    return _together(make_app(url, mint_token("alice", role=alice_role)), bob, size)


def alice_and_bob_in_memory(
    room: LoopbackRoom, size: tuple[int, int], alice_role: str = "member"
) -> contextlib.AbstractAsyncContextManager[tuple[ImageChatApp, Pilot[object], RemoteClient]]:
    """Alice in the app and Bob on a plain link, both in one in-memory room."""
    bob = RemoteClient.in_memory(room, "bob")
    return _together(app_in_memory(room, "alice", alice_role), bob, size)


@contextlib.asynccontextmanager
async def _together(
    app: ImageChatApp, bob: RemoteClient, size: tuple[int, int]
) -> AsyncIterator[tuple[ImageChatApp, Pilot[object], RemoteClient]]:
    try:
        async with running(app, size) as pilot:
            await bob.connected()
            yield app, pilot, bob
    finally:
        await bob.close()


class TwoApps(NamedTuple):
    """What the ``two_apps`` fixture gives: Alice's app and pilot, Bob's app and pilot."""

    alice: ImageChatApp
    a: Pilot[object]
    bob: ImageChatApp
    b: Pilot[object]


@contextlib.asynccontextmanager
async def two_apps_in_memory(room: LoopbackRoom, size: tuple[int, int]) -> AsyncIterator[TwoApps]:
    """Alice and Bob each in an app on the in-memory room, each seeing the other."""
    alice, bob = app_in_memory(room, "alice"), app_in_memory(room, "bob")
    async with running(alice, size) as a, running(bob, size) as b:
        await until(a, lambda: any(v.id == "bob" for v in alice.review.people()))  # presence
        yield TwoApps(alice, a, bob, b)


class Reviewing(NamedTuple):
    """What the ``alice`` fixture gives: her app running, its pilot, and Bob."""

    app: ImageChatApp
    pilot: Pilot[object]
    bob: RemoteClient


class RemoteClient:
    """Another reviewer: a real Connection to the same server and room (or, made by
    ``in_memory``, a link to the same in-memory room)."""

    def __init__(self, url: str, token: str, link: Link | None = None) -> None:
        self.connection: Link = link or Connection(
            url,
            token,
            Replica(ROOM, Actor(User(id="?", name="?"))),
            on_state=lambda s: None,
            on_received=lambda r: None,
        )
        self.replica = self.connection.replica
        self.task = asyncio.create_task(self.connection.run())

    @classmethod
    def in_memory(cls, room: LoopbackRoom, user: str, role: str = "member") -> RemoteClient:
        return cls("", "", room.link(User(id=user, name=user), role))

    async def connected(self) -> None:
        async with asyncio.timeout(30):
            while not self.connection.connected:
                await asyncio.sleep(0.02)

    def create(
        self, x: float, y: float, text: str, w: float | None = None, h: float | None = None
    ) -> str:
        chat_id = str(uuid.uuid4())
        self.connection.submit(
            CreateOp(
                broadcastId=str(uuid.uuid4()),
                chat=NewChat(id=chat_id, x=x, y=y, w=w, h=h, text=text),
            )
        )
        return chat_id

    def reply(self, chat_id: str, text: str) -> str:
        comment_id = str(uuid.uuid4())
        self.connection.submit(
            UpdateOp(
                broadcastId=str(uuid.uuid4()),
                chatId=chat_id,
                change=AddComment(comment=NewComment(id=comment_id, text=text)),
            )
        )
        return comment_id

    def delete(self, chat_id: str) -> None:
        self.connection.submit(DeleteOp(broadcastId=str(uuid.uuid4()), chatId=chat_id))

    async def close(self) -> None:
        await self.connection.close()
        await self.task


@contextlib.asynccontextmanager
async def alice_in_a_terminal_with_her_marker(
    home: Path, server_url: str, mint_token: Callable[..., str]
) -> AsyncIterator[tuple[Terminal, RemoteClient, str]]:
    """Alice's app as a process on a real pseudo-terminal (its own driver and parser read
    what the test writes), Bob watching on a plain connection, and Alice's own marker
    "mine" placed and sent: (terminal, bob, the marker's id)."""
    image = home / "shot.png"
    test_image().save(image)
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "TERM": "xterm-256color"}
    argv = [sys.executable, "-m", "imagechat_tui", str(image), "--server", server_url]
    argv += ["--room", ROOM, "--token", mint_token("alice")]
    bob = RemoteClient(server_url, mint_token("bob"))
    terminal = Terminal(argv, 120, 36, env)
    try:
        await terminal.until_written(b"Connected")
        await bob.connected()
        os.write(terminal.fd, b"n")
        await terminal.until_written(b"New marker at")
        os.write(terminal.fd, b"mine\r")
        async with asyncio.timeout(15):
            while not bob.replica.view.chats:
                await asyncio.sleep(0.02)
        (chat_id,) = bob.replica.view.chats
        await terminal.until_written(b"Sent.")
        yield terminal, bob, chat_id
    finally:
        await terminal.close()
        await bob.close()
