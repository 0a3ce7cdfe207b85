"""The terminal app's connection with several server URLs fails over between nodes."""

from __future__ import annotations

from imagechat_tui.client.connection import server_urls
from tests.client.test_connection import Client


def test_server_urls_accepts_comma_lists_and_repeats() -> None:
    assert server_urls("ws://a/ws") == ("ws://a/ws",)
    assert server_urls(" ws://a/ws, ws://b/ws ,") == ("ws://a/ws", "ws://b/ws")
    assert server_urls(["ws://a/ws,ws://b/ws", "wss://c/ws"]) == (
        "ws://a/ws",
        "ws://b/ws",
        "wss://c/ws",
    )


async def test_client_fails_over_to_the_next_node(start, mint_token, pg_url, redis_server) -> None:
    a = await start(database=pg_url, broker=redis_server.url)
    b = await start(database=pg_url, broker=redis_server.url)
    # The first URL answers nothing at all: the client moves on to the next.
    client = Client(f"ws://127.0.0.1:9/ws,{a.url},{b.url}", mint_token("alice"))
    try:
        await client.until(lambda: client.connection.connected)
        assert client.connection.url == a.url
        first = client.create(text="on node a")
        await client.until(lambda: not client.replica.pending and client.replica.seq == 1)
        await a.close()  # node a goes away: the client rejoins node b, with since
        await client.until(lambda: client.connection.url == b.url and client.connection.connected)
        second = client.create(text="on node b")
        await client.until(lambda: not client.replica.pending and client.replica.seq == 2)
        assert set(client.replica.view.chats) == {first, second}
    finally:
        await client.close()
