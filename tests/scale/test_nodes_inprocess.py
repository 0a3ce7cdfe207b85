"""Several nodes in one process against real PostgreSQL and Redis: the fast checks."""

from __future__ import annotations

import asyncio

from tests.wsclient import WsClient, create_op


async def test_two_nodes_share_a_room(start, mint_token, pg_url, redis_server) -> None:
    a = await start(database=pg_url, broker=redis_server.url)
    b = await start(database=pg_url, broker=redis_server.url)
    alice, *_ = await WsClient.joined(a.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(b.url, mint_token("bob"))
    for i in range(5):
        await alice.send(create_op(text=f"a{i}"))
        await bob.send(create_op(text=f"b{i}"))
    seen_a = await alice.recv_events(10)
    seen_b = await bob.recv_events(10)
    assert [e["seq"] for e in seen_a] == list(range(1, 11))
    assert seen_a == seen_b
    await asyncio.sleep(0)
    await alice.close()
    await bob.close()
