"""The sync contract end to end: real server on loopback, real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from imagechat_tui.model import Limits
from imagechat_tui.protocol import PRESENCE_NAMED
from imagechat_tui.server.config import OutboxLimits
from tests.wsclient import WsClient, create_op, delete_op, new_id, update_op


async def test_health_answers_200(server) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{server.port}/health")
    assert response.status_code == 200
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"http://127.0.0.1:{server.port}/nope")).status_code == 404


async def test_join_new_room_gets_empty_snapshot(server, mint_token) -> None:
    client, joined, (snapshot,) = await WsClient.joined(
        server.url, mint_token("alice", name="Alice")
    )
    assert joined == {
        "type": "joined",
        "room": "room-1",
        "seq": 0,
        "recovered": False,
        "user": {"id": "alice", "name": "Alice"},
        "limits": {
            "maxText": 2000,
            "maxMarkers": 500,
            "maxComments": 200,
            "maxFrameBytes": 65536,
            "opsPerSecond": 50.0,
            "opsBurst": 1000,
            "undoSeconds": 10,
            "maxRoomBytes": 2 * 1024 * 1024,
        },
        "role": "member",
        "image": None,  # a room not shared with its image
    }
    assert snapshot == {"type": "snapshot", "room": "room-1", "seq": 0, "chats": [], "more": False}
    await client.close()


async def test_every_client_gets_every_event_once_in_seq_order(server, mint_token) -> None:
    clients = [(await WsClient.joined(server.url, mint_token(f"user{i}")))[0] for i in range(4)]
    sent: list[str] = []
    # Each client creates two markers; all four see all eight, in one order.
    for client in clients:
        for _ in range(2):
            op = create_op(text=f"from {len(sent)}")
            sent.append(op["broadcastId"])
            await client.send(op)
    seen = [await c.recv_events(8) for c in clients]
    for events in seen:
        assert [e["seq"] for e in events] == list(range(1, 9))
        assert {e["broadcastId"] for e in events} == set(sent)
        assert all(e["type"] == "new-image-chat" for e in events)
        assert [e["chat"]["number"] for e in events] == list(range(1, 9))
    assert seen[0] == seen[1] == seen[2] == seen[3]
    for client in clients:
        assert await client.settle() == []
        await client.close()


async def test_originator_gets_its_own_broadcast_id_back(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    op = create_op(x=12.5, y=99.75, text="Button misaligned")
    await alice.send(op)
    (mine,) = await alice.recv_events(1)
    (theirs,) = await bob.recv_events(1)
    assert mine == theirs
    assert mine["broadcastId"] == op["broadcastId"]
    chat = mine["chat"]
    assert (chat["id"], chat["x"], chat["y"], chat["number"]) == (op["chat"]["id"], 12.5, 99.75, 1)
    assert chat["createdBy"] == {"id": "alice", "name": "alice"}
    assert [c["text"] for c in chat["comments"]] == ["Button misaligned"]
    await alice.close()
    await bob.close()


async def test_updates_carry_only_the_change(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    create = create_op(text="x" * 500)  # a long opening comment must not be re-sent
    await alice.send(create)
    await alice.recv_events(1)
    await bob.recv_events(1)
    chat_id = create["chat"]["id"]
    comment_id = new_id()
    changes = [
        {"kind": "move", "x": 50, "y": 50.5},
        {"kind": "comment", "comment": {"id": comment_id, "text": "agreed"}},
        {"kind": "edit-comment", "commentId": comment_id, "text": "agreed!"},
        {"kind": "resolve"},
        {"kind": "reopen"},
        {"kind": "delete-comment", "commentId": comment_id},
    ]
    # Moving a marker is its author's (or a moderator's) business.
    await alice.send(update_op(chat_id, changes[0]))
    await bob.recv_events(1)
    for change in changes[1:]:
        await bob.send(update_op(chat_id, change))
    events = await alice.recv_events(len(changes))
    assert [e["type"] for e in events] == ["image-chat-updated"] * len(changes)
    assert [e["change"]["kind"] for e in events] == [c["kind"] for c in changes]
    for event in events:
        assert event["chatId"] == chat_id
        assert "chat" not in event and "x" * 500 not in json.dumps(event)
    assert events[0]["change"] == {"kind": "move", "x": 50.0, "y": 50.5}
    added = events[1]["change"]["comment"]
    assert added["author"] == {"id": "bob", "name": "bob"} and added["text"] == "agreed"
    assert events[2]["change"]["text"] == "agreed!" and isinstance(
        events[2]["change"]["editedAt"], int
    )
    await bob.recv_events(len(changes) - 1)
    await alice.send(delete_op(chat_id))
    (deleted,) = await bob.recv_events(1)
    assert deleted["type"] == "deleted-image-chat" and deleted["chatId"] == chat_id
    # Only who and until when it may be restored, never what was deleted.
    assert set(deleted) == {"type", "room", "seq", "broadcastId", "chatId", "undo"}
    assert set(deleted["undo"]) == {"by", "at", "until"} and deleted["undo"]["by"] == "alice"
    await alice.close()
    await bob.close()


async def test_numbers_are_never_reused_after_delete(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    first, second = create_op(), create_op()
    await alice.send(first)
    await alice.send(second)
    await alice.send(delete_op(second["chat"]["id"]))
    await alice.send(create_op())
    events = await alice.recv_events(4)
    assert events[3]["chat"]["number"] == 3
    await alice.close()


async def test_resync_replays_exactly_the_missed_events(server, mint_token) -> None:
    token = mint_token("alice")
    alice, *_ = await WsClient.joined(server.url, token)
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    await bob.send(create_op())
    (first,) = await alice.recv_events(1)
    await alice.close()
    missed = [create_op(text=f"missed {i}") for i in range(3)]
    for op in missed:
        await bob.send(op)
    await bob.recv_events(4)
    again, joined, replay = await WsClient.joined(server.url, token, since=first["seq"])
    assert joined["recovered"] is True and joined["seq"] == 4
    assert [e["seq"] for e in replay] == [2, 3, 4]
    assert [e["broadcastId"] for e in replay] == [op["broadcastId"] for op in missed]
    # Live events continue right after the replay, with no gap and no duplicate.
    await bob.send(create_op())
    (live,) = await again.recv_events(1)
    assert live["seq"] == 5
    assert await again.settle() == []
    # Already up to date: recovered, nothing replayed.
    third, joined, replay = await WsClient.joined(server.url, token, since=5)
    assert joined["recovered"] is True and replay == []
    for client in (again, bob, third):
        await client.close()


async def test_resync_falls_back_to_snapshot_when_since_is_unknown(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    await alice.send(create_op())
    await alice.recv_events(1)
    other, joined, (snapshot,) = await WsClient.joined(server.url, mint_token("bob"), since=99)
    assert joined["recovered"] is False
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 1 and len(snapshot["chats"]) == 1
    await alice.close()
    await other.close()


async def test_resync_falls_back_to_snapshot_when_log_was_pruned(start, mint_token) -> None:
    server = await start(retention=5)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    for _ in range(300):  # prunes past retention (in steps), beyond the in-memory window too
        await alice.send(create_op())
    await alice.recv_events(300)
    # Drop the in-memory recent events so the replay must come from the database.
    await alice.close()
    room = server.hub.rooms[("local", "room-1")]
    room._recent.clear()
    late, joined, (snapshot,) = await WsClient.joined(server.url, mint_token("bob"), since=1)
    assert joined["recovered"] is False
    assert snapshot["seq"] == 300 and len(snapshot["chats"]) == 300
    recent, joined, replay = await WsClient.joined(server.url, mint_token("bob"), since=298)
    assert joined["recovered"] is True and [e["seq"] for e in replay] == [299, 300]
    await late.close()
    await recent.close()


async def test_same_broadcast_id_is_applied_once(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    op = create_op()
    await alice.send(op)
    (event,) = await alice.recv_events(1)
    await alice.send(op)  # a retry after a lost echo
    ack = await alice.recv_type("ack")
    assert ack == {"type": "ack", "broadcastId": op["broadcastId"], "seq": event["seq"]}
    # A retried update with the same broadcastId is also applied once.
    upd = update_op(
        op["chat"]["id"], {"kind": "comment", "comment": {"id": new_id(), "text": "hi"}}
    )
    await alice.send(upd)
    await alice.send(upd)
    (applied,) = await alice.recv_events(1)
    assert (await alice.recv_type("ack"))["seq"] == applied["seq"]
    assert len(await bob.recv_events(2)) == 2
    assert await bob.settle() == []
    await alice.close()
    await bob.close()


async def test_burst_is_batched_and_idle_is_not(start, mint_token) -> None:
    server = await start()
    writer, *_ = await WsClient.joined(server.url, mint_token("writer"))
    reader, *_ = await WsClient.joined(server.url, mint_token("reader"))
    # Idle: one op, one frame, straight away.
    await writer.send(create_op())
    first = await reader.recv()
    while first["type"] == "presence":
        first = await reader.recv()
    assert first["type"] == "new-image-chat"
    # Burst: 400 ops sent without waiting arrive in far fewer frames.
    ops = [create_op(text=f"burst {i}") for i in range(400)]
    await asyncio.gather(*(writer.send(op) for op in ops))
    before = reader.frames_received
    events = await reader.recv_events(400)
    frames = reader.frames_received - before
    assert [e["seq"] for e in events] == list(range(2, 402))
    assert frames <= 400 // 5, f"{frames} frames for 400 events"
    await writer.close()
    await reader.close()


async def test_a_reader_that_stops_reading_is_cut_off_not_buffered(start, mint_token) -> None:
    server = await start(
        outbox=OutboxLimits(high_water=1024, max_backlog_bytes=64 * 1024),
        limits=Limits(max_markers=10_000, max_text=10_000, max_room_bytes=64 * 1024 * 1024),
    )
    writer, *_ = await WsClient.joined(server.url, mint_token("writer"))
    # A reader with a tiny kernel receive buffer that stops reading.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    stalled = await connect(server.url, sock=sock, compression=None, max_queue=1, max_size=None)
    await stalled.send(json.dumps({"op": "join", "room": "room-1", "token": mint_token("slow")}))
    stalled.transport.pause_reading()
    room = server.hub.rooms[("local", "room-1")]
    # ~8 MB of events: more than the kernel's socket buffers can hide.
    for _ in range(900):
        await writer.send(create_op(text="y" * 9000))
    await writer.recv_events(900)
    # The server gave up on the stalled reader instead of buffering without bound.
    async with asyncio.timeout(10):
        while any(sub.user.id == "slow" and not sub.closed for sub in room.subscribers):
            await asyncio.sleep(0.05)
    stalled.transport.resume_reading()
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await stalled.recv()
    assert stalled.close_code == 4009
    await writer.close()


async def test_events_survive_a_server_restart(start, mint_token) -> None:
    server = await start()
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    op = create_op(text="remember me")
    await alice.send(op)
    await alice.send(update_op(op["chat"]["id"], {"kind": "resolve"}))
    await alice.recv_events(2)
    await server.close()
    # The client sees the 1001 going-away close.
    with pytest.raises(ConnectionClosed):
        await alice.recv(2)
    assert alice.ws.close_code == 1001
    restarted = await start()
    bob, joined, (snapshot,) = await WsClient.joined(restarted.url, mint_token("bob"))
    assert joined["seq"] == 2
    (chat,) = snapshot["chats"]
    assert chat["resolved"] is True and chat["comments"][0]["text"] == "remember me"
    # Numbering and the log continue where they were.
    await bob.send(create_op())
    (event,) = await bob.recv_events(1)
    assert event["seq"] == 3 and event["chat"]["number"] == 2
    _, joined, replay = await WsClient.joined(restarted.url, mint_token("carol"), since=1)
    assert [e["seq"] for e in replay] == [2, 3]
    await bob.close()


async def test_rooms_are_separate(server, mint_token) -> None:
    a, *_ = await WsClient.joined(server.url, mint_token("alice"), room="one")
    b, *_ = await WsClient.joined(server.url, mint_token("bob"), room="two")
    await a.send(create_op())
    (event,) = await a.recv_events(1)
    assert event["room"] == "one" and event["seq"] == 1
    assert await b.settle() == []
    await a.close()
    await b.close()


async def test_presence_lists_viewers_as_they_come_and_go(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice", name="Alice"))
    assert (await alice.recv_type("presence"))["viewers"] == [{"id": "alice", "name": "Alice"}]
    bob, *_ = await WsClient.joined(server.url, mint_token("bob", name="Bob"))
    frame = await alice.recv_type("presence")
    assert frame["viewers"] == [{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}]
    assert "seq" not in frame
    await bob.close()
    assert (await alice.recv_type("presence"))["viewers"] == [{"id": "alice", "name": "Alice"}]
    await alice.close()


async def test_presence_past_50_viewers_is_the_count_alone(server, mint_token) -> None:
    """Up to PRESENCE_NAMED viewers every presence names them all; past it, the count
    alone (names come on `who`: tests/server/test_presence.py)."""
    crowd = [
        (await WsClient.joined(server.url, mint_token(f"viewer-{i:03}")))[0]
        for i in range(PRESENCE_NAMED)
    ]
    watcher = crowd[0]
    frame = await watcher.recv_type("presence")
    while frame["count"] < PRESENCE_NAMED:  # joins arrive over several coalesced frames
        frame = await watcher.recv_type("presence")
    assert [v["id"] for v in frame["viewers"]] == [f"viewer-{i:03}" for i in range(50)]
    crowd.append((await WsClient.joined(server.url, mint_token("one-more")))[0])
    frame = await watcher.recv_type("presence")
    assert frame["count"] == PRESENCE_NAMED + 1
    assert frame["viewers"] == []
    await crowd.pop().close()
    frame = await watcher.recv_type("presence")
    assert frame["count"] == PRESENCE_NAMED and len(frame["viewers"]) == PRESENCE_NAMED
    for client in crowd:
        await client.close()


@pytest.mark.parametrize("enabled", [True, False])
async def test_compression_is_negotiated_only_when_enabled(start, mint_token, enabled) -> None:
    server = await start(compression=enabled)
    async with connect(server.url, compression="deflate") as ws:
        assert bool(ws.protocol.extensions) is enabled
        await ws.send(json.dumps({"op": "join", "room": "z", "token": mint_token("alice")}))
        assert json.loads(await ws.recv())["type"] == "joined"
