"""Several server processes against one PostgreSQL and one Redis, clients spread over
them: one order for everyone, nothing acknowledged lost when a node is killed, no gap
when Redis restarts, and presence across nodes that ages out when a node dies."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.scale.nodes import Node
from tests.services import Redis
from tests.wsclient import WsClient, create_op, new_id


def broadcast_ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["broadcastId"] for e in events]


async def snapshot_of(url: str, token: str) -> dict[str, Any]:
    client, _, (snapshot,) = await WsClient.joined(url, token)
    await client.close()
    return snapshot


async def test_clients_on_three_nodes_see_every_event_once_in_one_order(
    spawn_node, mint_token
) -> None:
    # No periodic database check: every event must come through Redis.
    nodes: list[Node] = [spawn_node(IMAGECHAT_SEQ_CHECK_INTERVAL="3600") for _ in range(3)]
    clients = [
        (await WsClient.joined(nodes[i % 3].url, mint_token(f"user{i}")))[0] for i in range(6)
    ]
    ops = {i: [create_op(text=f"c{i} #{n}") for n in range(5)] for i in range(6)}

    async def send_all(i: int) -> None:
        for op in ops[i]:
            await clients[i].send(op)

    await asyncio.gather(*(send_all(i) for i in range(6)))
    seen = [await c.recv_events(30) for c in clients]
    sent = {op["broadcastId"] for batch in ops.values() for op in batch}
    for events in seen:
        assert [e["seq"] for e in events] == list(range(1, 31))
        assert sorted(broadcast_ids(events)) == sorted(sent)  # each once
        assert events == seen[0]  # the same events, byte for byte, in the same order
    assert [e["chat"]["number"] for e in seen[0]] == list(range(1, 31))
    # A positive barrier across nodes: a fresh event is the very next thing every client
    # sees (a duplicate or stray event would come before it, as each node delivers in
    # seq order).
    barrier = create_op(text="barrier")
    await clients[0].send(barrier)
    for client in clients:
        (event,) = await client.recv_events(1, timeout=20)
        assert (event["seq"], event["broadcastId"]) == (31, barrier["broadcastId"])
        await client.close()
    # Every node ends with the same state.
    snapshots = [await snapshot_of(n.url, mint_token("late")) for n in nodes]
    assert snapshots[0]["seq"] == 31 and len(snapshots[0]["chats"]) == 31
    assert snapshots[0] == snapshots[1] == snapshots[2]


async def test_kill_9_of_a_node_loses_nothing_acknowledged(spawn_node, mint_token) -> None:
    doomed, survivor = spawn_node(), spawn_node()
    token = mint_token("writer")
    writer, *_ = await WsClient.joined(doomed.url, token)
    reader, *_ = await WsClient.joined(survivor.url, mint_token("reader"))
    acked: list[dict[str, Any]] = []
    for n in range(10):  # acknowledged: the writer got its own event back
        await writer.send(create_op(text=f"acked {n}"))
        acked += await writer.recv_events(1)
    in_flight = [create_op(text=f"in flight {n}") for n in range(5)]
    for op in in_flight:
        await writer.send(op)
    doomed.kill9()  # mid-stream: some of these may be committed, some not
    # The writer's connection is gone; it comes back to the other node with `since`.
    while True:
        try:
            frame = await writer.recv(5)
        except Exception:
            break
        if frame["type"] == "new-image-chat":
            acked.append(frame)
    again, joined, replay = await WsClient.joined(survivor.url, token, since=acked[-1]["seq"])
    assert joined["recovered"] is True
    for op in in_flight:  # resend what was not acknowledged; same broadcastIds
        if op["broadcastId"] not in broadcast_ids(acked + replay):
            await again.send(op)
    # Every acknowledged op is there exactly once, and every resent one once too.
    total = joined["seq"] + sum(
        op["broadcastId"] not in broadcast_ids(acked + replay) for op in in_flight
    )
    live = await again.recv_events(total - joined["seq"])
    log = await reader.recv_events(total)
    assert [e["seq"] for e in log] == list(range(1, total + 1))  # no gap for the reader
    ids = broadcast_ids(log)
    assert len(set(ids)) == len(ids) == 15
    assert set(broadcast_ids(acked)) <= set(ids)
    assert {op["broadcastId"] for op in in_flight} <= set(ids)
    assert log[-len(live) :] == live if live else True
    snapshot = await snapshot_of(survivor.url, mint_token("late"))
    assert snapshot["seq"] == total and len(snapshot["chats"]) == 15
    await again.close()
    await reader.close()


async def test_redis_restart_mid_stream_leaves_no_gap(
    spawn_node, mint_token, redis_server: Redis
) -> None:
    a, b = spawn_node(), spawn_node()
    writer, *_ = await WsClient.joined(a.url, mint_token("writer"))
    reader, *_ = await WsClient.joined(b.url, mint_token("reader"))
    for n in range(5):
        await writer.send(create_op(text=f"before {n}"))
    await writer.recv_events(5)
    assert [e["seq"] for e in await reader.recv_events(5)] == [1, 2, 3, 4, 5]
    redis_server.kill()
    for n in range(5):  # published into the void
        await writer.send(create_op(text=f"during {n}"))
    await writer.recv_events(5)
    redis_server.start()
    for n in range(5):
        await writer.send(create_op(text=f"after {n}"))
    await writer.recv_events(5)
    # The reader's node notices (a seq gap, or its periodic check) and fills from the
    # database: the reader sees every event once, in order, whatever Redis lost.
    events = await reader.recv_events(10, timeout=20)
    assert [e["seq"] for e in events] == list(range(6, 16))
    # And the nodes resubscribed: a fresh event goes through Redis again, and it is the
    # very next thing the reader sees (a positive barrier: no duplicate came before it).
    await writer.send(create_op(text="resubscribed"))
    (event,) = await reader.recv_events(1, timeout=20)
    assert event["seq"] == 16
    await writer.close()
    await reader.close()


async def test_presence_spans_nodes_and_ages_out_when_a_node_dies(spawn_node, mint_token) -> None:
    a = spawn_node(IMAGECHAT_PRESENCE_TTL="2")
    b = spawn_node(IMAGECHAT_PRESENCE_TTL="2")
    alice, *_ = await WsClient.joined(a.url, mint_token("alice", name="Alice"))
    bob, *_ = await WsClient.joined(b.url, mint_token("bob", name="Bob"))

    async def viewers_become(client: WsClient, names: set[str]) -> None:
        while {
            v["name"] for v in (await client.recv_type("presence", timeout=15))["viewers"]
        } != names:
            pass

    await viewers_become(alice, {"Alice", "Bob"})
    await viewers_become(bob, {"Alice", "Bob"})
    b.kill9()  # bob's node dies without a word: its entry must expire
    await viewers_become(alice, {"Alice"})
    await alice.close()


async def test_ops_on_a_new_node_continue_the_same_log(spawn_node, mint_token) -> None:
    first = spawn_node()
    client, *_ = await WsClient.joined(first.url, mint_token("alice"))
    op = create_op(id=new_id())
    await client.send(op)
    (event,) = await client.recv_events(1)
    await client.close()
    first.stop()
    second = spawn_node()
    again, joined, replay = await WsClient.joined(second.url, mint_token("alice"), since=0)
    assert joined["recovered"] is True and replay == [event]
    await again.send(op)  # a retry on another node is still applied once
    assert (await again.recv_type("ack"))["seq"] == event["seq"]
    await again.close()
