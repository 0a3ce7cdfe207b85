"""Every configurable limit: hitting it gives its error or close code, and leaves the
stored state and the other clients in the room untouched."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from imagechat_tui.model import Limits
from imagechat_tui.server.ratelimit import TokenBucket
from tests.server.hostile import closed_with, refused_join, settle
from tests.wsclient import WsClient, create_op, new_id, update_op


async def _room(server, tenant: str = "local", room: str = "room-1"):
    return await server.storage.load_room(tenant, room)


async def test_joined_announces_the_servers_limits(start, mint_token) -> None:
    server = await start(
        limits=Limits(max_text=500, max_markers=7, max_comments=9, max_room_bytes=70_000),
        max_frame_bytes=8192,
        ops_per_second=3.5,
        ops_burst=12,
    )
    alice, joined, _ = await WsClient.joined(server.url, mint_token("alice"))
    assert joined["limits"] == {
        "maxText": 500,
        "maxMarkers": 7,
        "maxComments": 9,
        "maxFrameBytes": 8192,
        "opsPerSecond": 3.5,
        "opsBurst": 12,
        "undoSeconds": 10,
        "maxRoomBytes": 70_000,
    }
    await alice.close()


async def test_frame_size_limit_closes_with_1009(start, mint_token) -> None:
    server = await start(max_frame_bytes=4096)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    observer, *_ = await WsClient.joined(server.url, mint_token("bob"))
    before = await _room(server)
    await alice.send(create_op(text="x" * 5000))
    code, frames = await closed_with(alice)
    assert code == 1009 and frames == []
    assert await settle(observer) == []
    assert await _room(server) == before
    await observer.close()


async def test_comment_length_limit(start, mint_token) -> None:
    server = await start(limits=Limits(max_text=20))
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    observer, *_ = await WsClient.joined(server.url, mint_token("bob"))
    long = create_op(text="y" * 21)
    await alice.send(long)
    error = await alice.recv_type("error")
    assert (error["code"], error["broadcastId"]) == ("too-large", long["broadcastId"])
    assert "20" in error["message"]
    ok = create_op(text="y" * 20)
    await alice.send(ok)
    (event,) = await alice.recv_events(1)
    edit = update_op(
        ok["chat"]["id"],
        {"kind": "edit-comment", "commentId": event["chat"]["comments"][0]["id"], "text": "z" * 21},
    )
    await alice.send(edit)
    assert (await alice.recv_type("error"))["code"] == "too-large"
    assert [e["broadcastId"] for e in await observer.recv_events(1)] == [ok["broadcastId"]]
    assert await settle(observer) == []
    state = await _room(server)
    assert [c.comments[0].text for c in state.chats.values()] == ["y" * 20]
    await alice.close()
    await observer.close()


async def test_markers_per_room_limit(start, mint_token) -> None:
    server = await start(limits=Limits(max_markers=2))
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    observer, *_ = await WsClient.joined(server.url, mint_token("bob"))
    for _ in range(2):
        await alice.send(create_op())
    await alice.recv_events(2)
    await observer.recv_events(2)
    third = create_op()
    await alice.send(third)
    error = await alice.recv_type("error")
    assert (error["code"], error["broadcastId"]) == ("limit-reached", third["broadcastId"])
    assert await settle(observer) == []
    assert len((await _room(server)).chats) == 2
    await alice.close()
    await observer.close()


async def test_comments_per_marker_limit(start, mint_token) -> None:
    server = await start(limits=Limits(max_comments=2))
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    observer, *_ = await WsClient.joined(server.url, mint_token("bob"))
    op = create_op()
    await alice.send(op)
    comment = {"kind": "comment", "comment": {"id": new_id(), "text": "second"}}
    await alice.send(update_op(op["chat"]["id"], comment))
    await alice.recv_events(2)
    await observer.recv_events(2)
    third = update_op(
        op["chat"]["id"], {"kind": "comment", "comment": {"id": new_id(), "text": "3"}}
    )
    await alice.send(third)
    error = await alice.recv_type("error")
    assert (error["code"], error["broadcastId"]) == ("limit-reached", third["broadcastId"])
    assert await settle(observer) == []
    (chat,) = (await _room(server)).chats.values()
    assert len(chat.comments) == 2
    await alice.close()
    await observer.close()


async def test_frames_over_the_rate_are_refused_unread(start, mint_token) -> None:
    """The budget is checked before decoding: over it, a frame that is not even JSON is
    `rate-limited`, not `bad-json` (it was never parsed), and a 60 KiB op costs no parse."""
    server = await start(ops_per_second=1e-6, ops_burst=2)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))  # token 1
    await alice.send("{not json")  # token 2: read and refused for what it is
    assert (await alice.recv_type("error"))["code"] == "bad-json"
    await alice.send("{not json")
    unread = await alice.recv_type("error")
    assert (unread["code"], unread["broadcastId"]) == ("rate-limited", None)
    big = create_op(text="x" * 60_000)
    await alice.send(big)
    refused = await alice.recv_type("error")
    assert (refused["code"], refused["broadcastId"]) == ("rate-limited", big["broadcastId"])
    assert (await _room(server)).chats == {}
    await alice.close()


async def test_ops_per_second_token_bucket(start, mint_token) -> None:
    # A bucket of 6 that (practically) never refills: the join takes one token, five
    # ops pass, every frame after that is refused with its broadcastId.
    server = await start(ops_per_second=1e-6, ops_burst=6)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    observer, *_ = await WsClient.joined(server.url, mint_token("bob"))
    ops = [create_op(text=f"op {i}") for i in range(8)]
    for op in ops:
        await alice.send(op)
    await alice.send({"op": "ping"})
    events: list[dict] = []
    errors: list[dict] = []
    while len(events) + len(errors) < 9:  # answers may come batched, in any interleaving
        frame = await alice.recv()
        if frame["type"] == "batch":
            events.extend(frame["events"])
        elif frame["type"] == "new-image-chat":
            events.append(frame)
        elif frame["type"] == "error":
            errors.append(frame)
    assert [e["broadcastId"] for e in events] == [op["broadcastId"] for op in ops[:5]]
    assert [e["code"] for e in errors] == ["rate-limited"] * 4
    assert [e["broadcastId"] for e in errors] == [op["broadcastId"] for op in ops[5:]] + [None]
    # The observer saw the five accepted ops and nothing else; storage holds five.
    assert [e["broadcastId"] for e in await observer.recv_events(5)] == [
        op["broadcastId"] for op in ops[:5]
    ]
    assert await settle(observer) == []
    assert len((await _room(server)).chats) == 5
    await alice.close()
    await observer.close()


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() == pytest.approx(0.5)
    now[0] = 0.5
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] = 100.0  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3
    now[0] = 50.0  # a clock that steps back refills nothing
    assert not bucket.take()
    with pytest.raises(ValueError):
        TokenBucket(rate=-1, burst=1)


async def test_connections_per_user_limit(start, mint_token) -> None:
    server = await start(max_connections_per_user=2)
    first, *_ = await WsClient.joined(server.url, mint_token("alice"))
    second, *_ = await WsClient.joined(server.url, mint_token("alice"), room="room-2")
    code, frames = await refused_join(server.url, mint_token("alice"), room="room-3")
    assert code == 4029
    assert [f["code"] for f in frames] == ["limit-reached"]
    # Another user, and the same user id in another tenant, are not affected.
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    other, *_ = await WsClient.joined(server.url, mint_token("alice", tenant="acme"))
    assert ("local", "room-3") not in server.hub.rooms
    # Closing one frees its place.
    await first.close()
    async with asyncio.timeout(10):
        while True:
            client = await WsClient.open(server.url)
            await client.send({"op": "join", "room": "room-1", "token": mint_token("alice")})
            if (await client.recv())["type"] == "joined":
                break
            await client.close()
            await asyncio.sleep(0.02)
    for c in (client, second, bob, other):
        await c.close()


async def test_join_timeout_closes_with_4008(start) -> None:
    server = await start(join_timeout=0.2)
    client = await WsClient.open(server.url)
    await client.send({"op": "ping"})
    code, frames = await closed_with(client)
    assert code == 4008
    assert frames == [{"type": "pong"}]


async def test_rooms_per_tenant_limit(start, mint_token) -> None:
    server = await start(max_rooms_per_tenant=2)
    token = mint_token("alice")
    for room in ("a", "b"):
        client, *_ = await WsClient.joined(server.url, token, room=room)
        await client.send(create_op())
        await client.recv_events(1)
        await client.close()
    code, frames = await refused_join(server.url, token, room="c")
    assert code == 4030
    assert [f["code"] for f in frames] == ["limit-reached"]
    assert ("local", "c") not in server.hub.rooms
    assert await server.storage.room_count("local") == 2
    # Existing rooms still open; another tenant has its own allowance.
    again, joined, _ = await WsClient.joined(server.url, token, room="a")
    assert joined["seq"] == 1
    elsewhere, *_ = await WsClient.joined(server.url, mint_token("x", tenant="acme"), room="c")
    await again.close()
    await elsewhere.close()


async def test_open_empty_rooms_count_towards_the_room_limit(start, mint_token) -> None:
    server = await start(max_rooms_per_tenant=1)
    token = mint_token("alice")
    first, *_ = await WsClient.joined(server.url, token, room="a")
    # Joining the same (empty) room again is fine; a second new room is not.
    same, *_ = await WsClient.joined(server.url, token, room="a")
    code, _ = await refused_join(server.url, token, room="b")
    assert code == 4030
    # Concurrent joins of new rooms: exactly one takes the last place.
    await first.close()
    await same.close()
    room_a = server.hub.rooms[("local", "a")]
    async with asyncio.timeout(10):
        while room_a.subscribers:  # the server sees both closes
            await asyncio.sleep(0.01)
    server.hub.evict_if_idle(room_a)
    results = await asyncio.gather(
        *(_try_join(server.url, token, room) for room in ("p", "q", "r", "s"))
    )
    assert sorted(results, key=str) == [4030, 4030, 4030, None]


async def _try_join(url: str, token: str, room: str) -> int | None:
    async with connect(url) as ws:
        await ws.send(json.dumps({"op": "join", "room": room, "token": token}))
        try:
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "joined":
                    return None
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else -1
