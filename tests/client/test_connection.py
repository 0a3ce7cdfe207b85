"""The reconnecting client against a real server on loopback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from imagechat_tui.backoff import Backoff
from imagechat_tui.client.connection import Connection, ConnState, NotConnected, Reviver
from imagechat_tui.model import Actor, Rejection
from imagechat_tui.protocol import (
    CloseCode,
    CreateOp,
    NewChat,
    NewImageChat,
    Presence,
    User,
    Viewers,
)
from imagechat_tui.replica import Received, Replica
from imagechat_tui.server.node import RunningServer, ServerConfig, start_server

ROOM = "test-room"
T = TypeVar("T")


class Client:
    """A Connection plus what it reported, with waits for conditions (not timings).

    The listeners are attached after the connection is built, as the app attaches
    itself to the connection its launcher made."""

    def __init__(
        self,
        url: str,
        token: str,
        backoff: Backoff | None = None,
        revive: Reviver | None = None,
        replica: Replica | None = None,
    ) -> None:
        self.states: list[ConnState] = []
        self.received: list[Received] = []
        self.presences: list[Presence] = []
        self.viewers: list[Viewers] = []
        self.changed = asyncio.Event()
        self.replica = replica or Replica(ROOM, Actor(User(id="?", name="?")))
        self.connection = Connection(
            url, token, self.replica, backoff=backoff or Backoff(base=0.05, cap=0.2), revive=revive
        )
        self.connection.listen(
            on_state=self._heard(self.states),
            on_received=self._heard(self.received),
            on_presence=self._heard(self.presences),
            on_viewers=self._heard(self.viewers),
        )
        self.task = asyncio.create_task(self.connection.run())

    def _heard(self, into: list[T]) -> Callable[[T], None]:
        def hear(item: T) -> None:
            into.append(item)
            self.changed.set()

        return hear

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


async def joined_pair(
    url: str, mint_token: Callable[..., str], clients: list[Client]
) -> tuple[Client, Client]:
    """Alice and Bob, both connected to the room."""
    alice, bob = Client(url, mint_token("alice")), Client(url, mint_token("bob"))
    clients += [alice, bob]
    await alice.until(lambda: alice.connection.connected)
    await bob.until(lambda: bob.connection.connected)
    return alice, bob


async def test_join_then_live_events_between_two_clients(
    server: RunningServer, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    alice, bob = await joined_pair(server.url, mint_token, clients)
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


async def test_a_rejoin_asks_since_its_seq_and_gets_only_what_it_missed(
    server: RunningServer, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    alice, bob = await joined_pair(server.url, mint_token, clients)
    alice.create(text="seen by both")
    await bob.until(lambda: bob.replica.seq == 1)
    await bob.close()
    clients.remove(bob)
    missed = alice.create(text="while bob was away")
    await alice.until(lambda: alice.replica.seq == 2)

    back = Client(server.url, mint_token("bob"), replica=bob.replica)  # the app keeps it
    clients.append(back)
    await back.until(lambda: missed in back.replica.view.chats)
    joined = [r.joined for r in back.received if r.joined is not None]
    assert joined and joined[0].recovered  # since=1: the one event missed, no snapshot
    assert not any(r.snapshot for r in back.received)
    assert back.connection.connected and len(back.replica.view.chats) == 2


async def test_presence_names_the_other_viewer_and_who_asks_for_the_viewers(
    server: RunningServer, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    alice = Client(server.url, mint_token("alice"))
    clients.append(alice)
    await alice.until(lambda: alice.connection.connected)
    bob = Client(server.url, mint_token("bob"))
    clients.append(bob)
    await alice.until(lambda: any(v.id == "bob" for p in alice.presences for v in p.viewers))
    assert alice.connection.presence is alice.presences[-1]  # the last one, kept
    assert alice.connection.request_viewers()
    await alice.until(lambda: bool(alice.viewers))
    assert {v.id for v in alice.viewers[-1].viewers} == {"alice", "bob"}
    assert alice.viewers[-1].count == 2


async def test_given_several_servers_a_dead_one_is_passed_over(
    server: RunningServer, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    dead = "ws://127.0.0.1:9/ws"  # the discard port: nothing listens
    alice = Client(f"{dead}, {server.url}", mint_token("alice"))
    clients.append(alice)
    await alice.until(lambda: alice.connection.connected)
    assert alice.connection.urls == (dead, server.url)
    assert alice.connection.url == server.url
    assert any(s.kind == "reconnecting" and "127.0.0.1:9" in s.reason for s in alice.states)


async def test_after_its_last_attempt_the_link_is_offline_until_retried(
    mint_token: Callable[..., str], clients: list[Client]
) -> None:
    client = Client(
        "ws://127.0.0.1:9/ws",
        mint_token("alice"),
        backoff=Backoff(base=0.01, cap=0.02, give_up_after=2),
    )
    clients.append(client)
    await client.until(lambda: client.connection.state.kind == "offline")
    state = client.connection.state
    assert [s.attempt for s in client.states if s.kind == "reconnecting"] == [1, 2]
    assert state.attempt == 2 and state.seconds_to_retry() is None
    assert "nothing is listening there" in state.reason
    with pytest.raises(NotConnected, match="nothing can be created"):
        client.create()
    assert not client.connection.request_viewers()  # nothing asked either
    tried = len(client.states)
    client.connection.retry_now()  # counts from the first attempt again
    await client.until(
        lambda: client.connection.state.kind == "offline" and len(client.states) > tried
    )
    assert [s.attempt for s in client.states[tried:] if s.kind == "reconnecting"] == [1, 2]


async def test_the_reviver_starts_the_server_before_an_attempt_and_says_so(
    home: Path, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    started: list[RunningServer] = []
    probe = await start_server(ServerConfig(port=0, home=home))
    port = probe.port  # a free port the reviver brings the server up on
    await probe.close()

    async def revive(announce: Callable[[str], None]) -> None:
        if not started:
            announce("Starting the local sync server…")
            started.append(await start_server(ServerConfig(port=port, home=home)))

    alice = Client(f"ws://127.0.0.1:{port}/ws", mint_token("alice"), revive=revive)
    clients.append(alice)
    try:
        await alice.until(lambda: alice.connection.connected)
        said = [s for s in alice.states if s.reason == "Starting the local sync server…"]
        assert said and said[0].kind == "connecting"
        assert len(started) == 1  # asked before every attempt; it started one server
    finally:
        await alice.close()
        clients.remove(alice)
        for server in started:
            await server.close()


async def test_an_op_still_in_flight_when_the_link_dropped_is_sent_again_once(
    home: Path, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    first = await start_server(ServerConfig(port=0, home=home))
    alice = Client(first.url, mint_token("alice"))
    clients.append(alice)
    await alice.until(lambda: alice.connection.connected)
    await first.close()
    await alice.until(lambda: alice.connection.state.kind == "reconnecting")
    # As an op sent into the socket just before it died: applied here, never confirmed.
    chat_id = str(uuid.uuid4())
    lost = CreateOp(broadcastId=str(uuid.uuid4()), chat=NewChat(id=chat_id, x=1, y=2, text="lost"))
    assert not isinstance(alice.replica.propose(lost, now=0), Rejection)
    second = await start_server(ServerConfig(port=first.port, home=home))
    try:
        alice.connection.retry_now()
        await alice.until(lambda: alice.connection.connected and not alice.replica.pending)
        assert alice.replica.seq == 1 and chat_id in alice.replica.view.chats
        bob = Client(second.url, mint_token("bob"))
        clients.append(bob)
        await bob.until(lambda: bob.connection.connected)
        assert list(bob.replica.view.chats) == [chat_id]  # created once on the server
    finally:
        for client in clients:
            await client.close()
        clients.clear()
        await second.close()


async def test_a_url_that_is_not_the_sync_endpoint_is_refused_in_words(
    server: RunningServer, mint_token: Callable[..., str], clients: list[Client]
) -> None:
    url = server.url.removesuffix("/ws") + "/no-such-endpoint"
    client = Client(url, mint_token("alice"))
    clients.append(client)
    await client.until(lambda: client.connection.state.kind == "reconnecting")
    assert client.connection.state.reason.startswith(f"The server at {url} refused the connection:")
