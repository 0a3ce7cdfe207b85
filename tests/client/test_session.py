"""ClientSession against a real server: ops built here, asked of the model, then sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from imagechat_tui.client.connection import Connection
from imagechat_tui.client.session import ClientSession, Done, Refused
from imagechat_tui.model import Actor, Limits, first_comment_id
from imagechat_tui.protocol import User
from imagechat_tui.replica import Replica
from imagechat_tui.server.node import RunningServer

ROOM = "img-session"


async def _connected(connection: Connection) -> None:
    async with asyncio.timeout(10):
        while not connection.connected:
            await asyncio.sleep(0.02)


async def _confirmed(replica: Replica) -> None:
    async with asyncio.timeout(10):
        while replica.pending:
            await asyncio.sleep(0.02)


async def test_changes_are_built_here_and_confirmed_by_the_server(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    connection = Connection(
        server.url, mint_token("alice"), Replica(ROOM, Actor(User(id="alice", name="alice")))
    )
    session = ClientSession(connection)
    task = asyncio.create_task(connection.run())
    try:
        await _connected(connection)
        created = session.create(20.0, 30.0, "first")
        assert isinstance(created, Done)
        assert created.comment_id == first_comment_id(created.chat_id)
        replied = session.reply(created.chat_id, "second")
        assert isinstance(replied, Done) and replied.comment_id is not None
        assert isinstance(session.set_resolved(created.chat_id, True), Done)
        await _confirmed(connection.replica)
        chat = connection.replica.confirmed.chats[created.chat_id]
        assert [c.text for c in chat.comments] == ["first", "second"] and chat.resolved
        # The rules answer before anything is sent: resolving twice is refused here.
        assert session.refusal("resolve", created.chat_id) is not None
        refused = session.set_resolved(created.chat_id, True)
        assert isinstance(refused, Refused) and not connection.replica.pending
    finally:
        await connection.close()
        await task


async def test_the_servers_limits_refuse_before_sending(
    start: Callable[..., object], mint_token: Callable[..., str]
) -> None:
    """`serve --max-text 500`: a longer comment is refused here, never shown and undone."""
    server: RunningServer = await start(limits=Limits(max_text=500))  # type: ignore[misc]
    connection = Connection(
        server.url, mint_token("alice"), Replica(ROOM, Actor(User(id="alice", name="alice")))
    )
    session = ClientSession(connection)
    task = asyncio.create_task(connection.run())
    try:
        await _connected(connection)
        assert session.limits.max_text == 500
        refused = session.create(50.0, 50.0, "x" * 501)
        assert isinstance(refused, Refused) and "500" in refused.reason
        assert not connection.replica.view.chats and not connection.replica.pending
        assert isinstance(session.create(50.0, 50.0, "x" * 500), Done)
    finally:
        await connection.close()
        await task


async def test_offline_refuses_at_once_and_queues_nothing(
    mint_token: Callable[..., str],
) -> None:
    connection = Connection(
        "ws://127.0.0.1:9/ws", mint_token("alice"), Replica(ROOM, Actor(User("alice", "alice")))
    )
    session = ClientSession(connection)  # never connected
    assert session.refusal("create") is not None
    refused = session.create(10.0, 10.0, "hello")
    assert isinstance(refused, Refused) and refused.reason.startswith("Offline")
    assert not connection.replica.view.chats and not connection.replica.pending
