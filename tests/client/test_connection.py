"""The reconnecting client against a real server on loopback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from imagechat_tui.backoff import Backoff
from imagechat_tui.client.connection import Connection, ConnState, NotConnected
from imagechat_tui.model import Actor
from imagechat_tui.protocol import CloseCode, CreateOp, NewChat, NewImageChat, User
from imagechat_tui.replica import Received, Replica
from imagechat_tui.server.node import RunningServer, ServerConfig, start_server

ROOM = "test-room"


class Client:
    """A Connection plus what it reported, with waits for conditions (not timings)."""

    def __init__(self, url: str, token: str, backoff: Backoff | None = None) -> None:
        self.states: list[ConnState] = []
        self.received: list[Received] = []
        self.changed = asyncio.Event()
        self.replica = Replica(ROOM, Actor(User(id="?", name="?")))
        self.connection = Connection(
            url,
            token,
            self.replica,
            on_state=self._state,
            on_received=self._received,
            backoff=backoff or Backoff(base=0.05, cap=0.2),
        )
        self.task = asyncio.create_task(self.connection.run())

    def _state(self, state: ConnState) -> None:
        self.states.append(state)
        self.changed.set()

    def _received(self, received: Received) -> None:
        self.received.append(received)
        self.changed.set()

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    def create(self, x: float = 10.0, y: float = 20.0, text: str = "look here") -> str:
        chat_id = str(uuid.uuid4())
        op = CreateOp(broadcastId=str(uuid.uuid4()), chat=NewChat(id=chat_id, x=x, y=y, text=text))
        self.connection.submit(op)
        return chat_id

    async def close(self) -> None:
        await self.connection.close()
        await self.task


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        await client.close()


async def test_join_then_live_events_between_two_clients(
    server: RunningServer, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    alice = Client(server.url, mint_token("alice"))
    bob = Client(server.url, mint_token("bob"))
    clients += [alice, bob]
    await alice.until(lambda: alice.connection.connected)
    await bob.until(lambda: bob.connection.connected)
    chat_id = alice.create(text="first")
    assert chat_id in alice.replica.view.chats  # optimistic, before any echo
    await bob.until(lambda: chat_id in bob.replica.view.chats)
    assert bob.replica.view.chats[chat_id].createdBy.id == "alice"
    await alice.until(lambda: not alice.replica.pending)
    remote = [e for r in bob.received for e in r.remote]
    assert any(isinstance(e, NewImageChat) and e.chat.id == chat_id for e in remote)


async def test_submit_while_offline_fails_at_once(
    mint_token: Callable[..., str], clients: list[Client]
) -> None:
    client = Client("ws://127.0.0.1:9/ws", mint_token("alice"))
    clients.append(client)
    await client.until(lambda: client.connection.state.kind == "reconnecting")
    with pytest.raises(NotConnected, match="Offline"):
        client.create()
    assert not client.replica.pending and not client.replica.view.chats
    state = client.connection.state
    assert state.attempt >= 1 and state.seconds_to_retry() is not None


async def test_reconnect_catches_up_on_what_was_missed(
    home: Path, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    first = await start_server(ServerConfig(port=0, home=home))
    port = first.port
    alice = Client(first.url, mint_token("alice"))
    clients.append(alice)
    await alice.until(lambda: alice.connection.connected)
    alice.create(text="before")
    await alice.until(lambda: not alice.replica.pending and alice.replica.seq == 1)
    await first.close()
    await alice.until(lambda: alice.connection.state.kind == "reconnecting")
    second = await start_server(ServerConfig(port=port, home=home))
    try:
        bob = Client(second.url, mint_token("bob"))
        clients.append(bob)
        await bob.until(lambda: bob.connection.connected)
        made_meanwhile = bob.create(text="while alice was away")
        alice.connection.retry_now()
        await alice.until(lambda: made_meanwhile in alice.replica.view.chats)
        assert alice.connection.connected
        assert len(alice.replica.view.chats) == 2
    finally:
        for client in clients:
            await client.close()
        clients.clear()
        await second.close()


async def test_bad_token_is_auth_failed_without_retrying(
    server: RunningServer, clients: list[Client]
) -> None:
    client = Client(server.url, "not-a-token")
    clients.append(client)
    await client.until(lambda: client.connection.state.kind == "auth-failed")
    assert client.connection.state.close_code == CloseCode.UNAUTHORIZED


async def test_expired_token_says_so(
    server: RunningServer, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    client = Client(server.url, mint_token("alice", ttl_seconds=-10))
    clients.append(client)
    await client.until(lambda: client.connection.state.kind == "auth-failed")
    assert client.connection.state.token_expired
    assert "expired" in client.connection.state.reason
    client.connection.set_token(mint_token("alice"))
    await client.until(lambda: client.connection.connected)
