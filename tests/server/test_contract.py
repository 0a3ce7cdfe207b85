"""What docs/PROTOCOL.md promises, point by point, against a real server on loopback.

Each test names the sentence of the document it holds the server to.
"""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect

from imagechat_tui.model import Actor, Limits, RoomState
from imagechat_tui.protocol import (
    MAX_BATCH_BYTES,
    Snapshot,
    User,
    decode_server_frame,
    snapshot_frames,
)
from imagechat_tui.replica import Replica
from imagechat_tui.server.config import OutboxLimits
from tests.server.hostile import closed_with, settle
from tests.wsclient import WsClient, create_op, new_id, update_op

#: "No frame from the server is larger than 256 KiB plus one item"; an item (an event,
#: or a chat with one comment) here is a few KiB.
FRAME_BOUND = MAX_BATCH_BYTES + 16 * 1024


def comment(text: str = "c") -> dict[str, object]:
    return {"kind": "comment", "comment": {"id": new_id(), "text": text}}


async def fill(client: WsClient, ops: list[dict[str, object]]) -> None:
    """Send ``ops`` and wait until every one is answered (its echo, or an error)."""
    for op in ops:
        await client.send(op)
    await client.recv_events(len(ops))


async def test_text_over_10000_characters_is_too_large_not_invalid(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    op = create_op(text="a" * 10_001)
    await alice.send(op)
    error = await alice.recv_type("error")
    assert (error["code"], error["broadcastId"]) == ("too-large", op["broadcastId"])
    await alice.close()


async def test_max_text_above_10000_works(start, mint_token) -> None:
    server = await start(limits=Limits(max_text=12_000))
    alice, joined, _ = await WsClient.joined(server.url, mint_token("alice"))
    assert joined["limits"]["maxText"] == 12_000
    await alice.send(create_op(text="a" * 12_000))
    (event,) = await alice.recv_events(1)
    assert len(event["chat"]["comments"][0]["text"]) == 12_000
    over = create_op(text="a" * 12_001)
    await alice.send(over)
    assert (await alice.recv_type("error"))["code"] == "too-large"
    await alice.close()


async def test_a_character_is_a_code_point(start, mint_token) -> None:
    """2,000 emoji are 2,000 characters (4,000 in JavaScript's ``.length``)."""
    server = await start(limits=Limits(max_text=2000))
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    await alice.send(create_op(text="😀" * 2000))
    (event,) = await alice.recv_events(1)
    assert event["chat"]["comments"][0]["text"] == "😀" * 2000
    await alice.send(create_op(text="😀" * 2001))
    assert (await alice.recv_type("error"))["code"] == "too-large"
    await alice.close()


async def test_a_big_room_snapshot_comes_in_parts_a_1_mib_client_can_read(
    server, mint_token
) -> None:
    """300 markers and 600 comments, inside the default limits: well over 1 MiB whole."""
    writer, *_ = await WsClient.joined(server.url, mint_token("alice"))
    # 2,000 bytes each: 900 comments stay inside the room's 2 MiB budget (maxRoomBytes)
    text = "a" * 2000
    creates = [create_op(text=text) for _ in range(300)]
    await fill(writer, creates)
    await fill(
        writer,
        [update_op(op["chat"]["id"], comment(text)) for op in creates for _ in range(2)],
    )
    frames: list[bytes] = []
    async with connect(server.url, compression=None) as ws:  # max_size: the 1 MiB default
        await ws.send(json.dumps({"op": "join", "room": "room-1", "token": mint_token("bob")}))
        while True:
            data = await ws.recv(decode=False)
            frame = json.loads(data)
            if frame["type"] == "snapshot":
                frames.append(data)
                if not frame["more"]:
                    break
    assert sum(len(f) for f in frames) > 2**20 and len(frames) > 4
    assert max(len(f) for f in frames) <= FRAME_BOUND
    replica = Replica("room-1", Actor(User("bob", "bob")))
    for data in frames:
        replica.receive(decode_server_frame(data))
    stored = await server.storage.load_room("local", "room-1")
    assert replica.synced and replica.confirmed.chats == stored.chats
    await writer.close()


async def test_a_chat_larger_than_a_frame_is_split_between_its_comments(start, mint_token) -> None:
    server = await start(limits=Limits(max_comments=200))
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    big = create_op(text="x" * 2000)
    await fill(alice, [big])
    await fill(alice, [update_op(big["chat"]["id"], comment("é" * 2000)) for _ in range(199)])
    bob, _, (snapshot,) = await WsClient.joined(server.url, mint_token("bob"))
    (chat,) = snapshot["chats"]
    assert len(chat["comments"]) == 200  # ~800 KB of one chat, reassembled
    stored = await server.storage.load_room("local", "room-1")
    (stored_chat,) = stored.chats.values()
    assert [c["id"] for c in chat["comments"]] == [c.id for c in stored_chat.comments]
    await alice.close()
    await bob.close()


def test_snapshot_frames_bound_and_merge_back() -> None:
    """The splitting rule on its own: every part within the bound, merged = the state."""
    from imagechat_tui.model import apply, decide
    from imagechat_tui.protocol import AddComment, CreateOp, NewChat, NewComment, UpdateOp

    state = RoomState(room="r")
    actor = Actor(User("u", "U"))
    limits = Limits(max_comments=500)
    for i in range(3):
        op = CreateOp(broadcastId=f"b{i}", chat=NewChat(id=f"c{i}", x=1, y=1, text="é" * 900))
        state = apply(state, decide(state, op, actor, 1, limits))  # type: ignore[arg-type]
        for j in range(120 * (i + 1)):
            change = AddComment(comment=NewComment(id=f"k{i}-{j}", text="é" * 900))
            up = UpdateOp(broadcastId=f"u{i}-{j}", chatId=f"c{i}", change=change)
            state = apply(state, decide(state, up, actor, 1, limits))  # type: ignore[arg-type]
    frames = snapshot_frames("r", state.seq, state.chats.values(), max_bytes=64 * 1024)
    assert len(frames) > 10
    assert max(len(f) for f in frames) <= 64 * 1024 + 4096
    parts = [decode_server_frame(f) for f in frames]
    assert all(isinstance(p, Snapshot) for p in parts)
    assert [p.more for p in parts] == [True] * (len(parts) - 1) + [False]  # type: ignore[union-attr]
    replica = Replica("r", actor)
    for part in parts:
        replica.receive(part)
    assert replica.confirmed.chats == state.chats and replica.confirmed.seq == state.seq


async def test_a_reader_catches_up_a_gap_larger_than_its_backlog_on_one_connection(
    start, mint_token
) -> None:
    """A gap the log still holds completes on one connection for a client that reads,
    even when it is several times the backlog that would cut a live reader off (4009)."""
    server = await start(outbox=OutboxLimits(max_backlog_bytes=256 * 1024))
    writer, *_ = await WsClient.joined(server.url, mint_token("alice"))
    await fill(writer, [create_op(text="é" * 2000) for _ in range(5)])
    ops = [create_op(text="é" * 2000) for _ in range(400)]  # ~1.7 MB of events
    await fill(writer, ops)
    reader, joined, replay = await WsClient.joined(server.url, mint_token("bob"), since=5)
    assert joined["recovered"] is True
    assert [e["seq"] for e in replay] == list(range(6, 406))
    # The same connection stays live after the catch-up.
    live = create_op()
    await writer.send(live)
    (event,) = await reader.recv_events(1)
    assert event["broadcastId"] == live["broadcastId"] and event["seq"] == 406
    await reader.close()
    await writer.close()


async def test_since_0_replays_everything_and_a_negative_since_is_invalid(
    server, mint_token
) -> None:
    writer, *_ = await WsClient.joined(server.url, mint_token("alice"))
    await fill(writer, [create_op() for _ in range(3)])
    reader, joined, replay = await WsClient.joined(server.url, mint_token("bob"), since=0)
    assert joined["recovered"] is True and [e["seq"] for e in replay] == [1, 2, 3]
    await reader.close()
    bad = await WsClient.open(server.url)
    await bad.send({"op": "join", "room": "room-1", "token": mint_token("bob"), "since": -1})
    error = await bad.recv_type("error")
    assert error["code"] == "invalid" and error["broadcastId"] is None
    await bad.send({"op": "ping"})  # still not joined, still usable
    assert (await bad.recv_type("pong")) == {"type": "pong"}
    await bad.close()
    await writer.close()


async def test_ping_works_before_join(server) -> None:
    client = await WsClient.open(server.url)
    await client.send({"op": "ping"})
    assert await client.recv() == {"type": "pong"}
    await client.close()


async def test_comment_ids_are_unique_per_marker(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    first, second = create_op(), create_op()
    await fill(alice, [first, second])
    shared = comment()
    await fill(
        alice, [update_op(first["chat"]["id"], shared), update_op(second["chat"]["id"], shared)]
    )
    again = update_op(first["chat"]["id"], shared)
    await alice.send(again)
    error = await alice.recv_type("error")
    assert (error["code"], error["broadcastId"]) == ("duplicate-id", again["broadcastId"])
    await alice.close()


async def test_the_opening_comment_counts_toward_max_comments(start, mint_token) -> None:
    server = await start(limits=Limits(max_comments=1))
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    op = create_op()
    await fill(alice, [op])
    reply = update_op(op["chat"]["id"], comment())
    await alice.send(reply)
    assert (await alice.recv_type("error"))["code"] == "limit-reached"
    await alice.close()


async def test_presence_always_has_count_and_errors_always_have_broadcast_id(
    server, mint_token
) -> None:
    alice = await WsClient.open(server.url)
    await alice.send({"op": "join", "room": "room-1", "token": mint_token("alice")})
    while (frame := await alice.recv())["type"] != "presence":
        pass
    assert frame["count"] == 1 and frame["viewers"] == [{"id": "alice", "name": "alice"}]
    await alice.send("{not json")
    error = await alice.recv_type("error")
    assert "broadcastId" in error and error["broadcastId"] is None
    assert error["code"] == "bad-json"
    assert await settle(alice) == []
    await alice.close()


@pytest.mark.parametrize("bad_join", [{"op": "join", "room": "r"}, {"op": "join", "token": None}])
async def test_a_join_without_a_usable_token_closes_4001(server, bad_join) -> None:
    client = await WsClient.open(server.url)
    await client.send({"room": "room-1", **bad_join})
    code, frames = await closed_with(client)
    assert code == 4001 and [f["code"] for f in frames] == ["unauthorized"]
