"""Presence in a crowd, on a real server over loopback: coalesced frames, the count alone
past PRESENCE_NAMED viewers, names on demand with `who`; and the snapshot a room makes
once per state for every joiner, in every wire format."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import connect

from imagechat_tui import wire
from imagechat_tui.protocol import PRESENCE_NAMED, Snapshot, decode_server_frame, merge_snapshot
from imagechat_tui.server import presence
from imagechat_tui.server import room as room_module
from imagechat_tui.server.node import RunningServer
from tests.server.test_wire_formats import FORMATS, Viewer, encode_join
from tests.wsclient import WsClient, create_op


async def crowd(server: RunningServer, mint_token: Callable[..., str], n: int) -> list[WsClient]:
    return [
        (await WsClient.joined(server.url, mint_token(f"viewer-{i:03}", name=f"Viewer {i}")))[0]
        for i in range(n)
    ]


async def settled_presence(client: WsClient, count: int) -> dict[str, object]:
    frame = await client.recv_type("presence")
    while frame["count"] != count:
        frame = await client.recv_type("presence")
    return frame


async def test_who_names_every_viewer_to_the_asker_only(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    viewers = await crowd(server, mint_token, PRESENCE_NAMED + 5)
    asker, other = viewers[0], viewers[1]
    frame = await settled_presence(asker, PRESENCE_NAMED + 5)
    assert frame["viewers"] == []  # the count alone
    await asker.send({"op": "who"})
    answer = await asker.recv_type("viewers")
    assert answer["room"] == "room-1" and answer["count"] == PRESENCE_NAMED + 5
    assert [v["id"] for v in answer["viewers"]] == [f"viewer-{i:03}" for i in range(55)]
    assert answer["viewers"][3] == {"id": "viewer-003", "name": "Viewer 3"}
    # Nobody else got it: the other viewer's next frame after its own ping is the pong.
    await other.send({"op": "ping"})
    assert (await other.recv_type("pong"))["type"] == "pong"
    for client in viewers:
        await client.close()


async def test_who_lists_at_most_viewers_listed_and_follows_leaves(
    server: RunningServer, mint_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room_module, "VIEWERS_LISTED", 3)
    viewers = await crowd(server, mint_token, 5)
    await settled_presence(viewers[0], 5)
    await viewers[0].send({"op": "who"})
    answer = await viewers[0].recv_type("viewers")
    assert answer["count"] == 5
    assert [v["id"] for v in answer["viewers"]] == ["viewer-000", "viewer-001", "viewer-002"]
    await viewers.pop(1).close()
    await settled_presence(viewers[0], 4)
    await viewers[0].send({"op": "who"})  # made again after the change, not the old one
    answer = await viewers[0].recv_type("viewers")
    assert answer["count"] == 4
    assert [v["id"] for v in answer["viewers"]] == ["viewer-000", "viewer-002", "viewer-003"]
    for client in viewers:
        await client.close()


async def test_who_before_join_is_not_joined(server: RunningServer) -> None:
    client = await WsClient.open(server.url)
    await client.send({"op": "who"})
    error = await client.recv_type("error")
    assert error["code"] == "not-joined" and error["broadcastId"] is None
    await client.close()


async def test_a_mass_join_costs_each_viewer_a_few_small_presence_frames(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    """150 viewers joining together: presence comes at most once per window (the
    window only grows with the room), so each viewer's frames are bounded by the time
    the join took over the smallest window, and past 50 viewers each is the count alone."""
    n = 150
    tokens = [mint_token(f"viewer-{i:03}") for i in range(n)]
    started = time.monotonic()
    viewers = list(await asyncio.gather(*(WsClient.joined(server.url, token) for token in tokens)))
    clients = [client for client, _joined, _snapshot in viewers]
    frames: list[list[dict[str, object]]] = [[] for _ in clients]

    async def read(i: int) -> None:
        while True:
            frame = await clients[i].recv_type("presence")
            frames[i].append(frame)
            if frame["count"] == n:
                return

    await asyncio.gather(*(read(i) for i in range(n)))
    elapsed = time.monotonic() - started
    most = max(len(f) for f in frames)
    assert most <= elapsed / presence.PRESENCE_DELAY + 1
    for received in frames:
        assert all(f["viewers"] == [] for f in received if f["count"] > PRESENCE_NAMED)  # type: ignore[operator]
        big = [f for f in received if f["count"] > PRESENCE_NAMED]  # type: ignore[operator]
        assert all(len(json.dumps(f)) < 80 for f in big)
    for client in clients:
        await client.close()


async def test_joiners_at_one_seq_share_one_snapshot_and_every_format_reads_it(
    start: Callable[..., Awaitable[RunningServer]], mint_token: Callable[..., str]
) -> None:
    """A room big enough for a snapshot in several parts: joiners in each wire format
    get the same chats, from parts made and compressed once; a commit makes a new one."""
    server = await start()
    writer = await Viewer.join(server.url, mint_token(user_id="writer"), **FORMATS["json"])
    for i in range(160):
        await writer.ws.send(json.dumps(create_op(float(i % 100), 5.0, f"{i} " + "x" * 1800)))
    await writer.read_events(160)
    snapshots = {
        f"{name}-{copy}": await whole_snapshot(
            server.url, mint_token(user_id=f"{name}-{copy}"), options
        )
        for name, options in FORMATS.items()
        for copy in range(2)
    }
    (room,) = server.hub.rooms.values()
    parts = room.snapshot(room.state)
    assert len(parts) >= 2  # several parts
    assert all(len(part._frames) == len(FORMATS) for part in parts)  # one per format
    reference = snapshots["json-0"]
    assert reference.seq == 160 and len(reference.chats) == 160
    assert [c.number for c in reference.chats] == list(range(1, 161))
    for name, snapshot in snapshots.items():
        assert snapshot == reference, name
    # After a commit the next joiner gets the new state, not the cached one.
    await writer.ws.send(json.dumps(create_op(1.0, 1.0, "one more")))
    await writer.read_events(161)
    late = await whole_snapshot(server.url, mint_token(user_id="late"), FORMATS["binary+deflate"])
    assert late.seq == 161 and len(late.chats) == 161
    assert room.snapshot(room.state) is not parts
    await writer.ws.close()


async def whole_snapshot(url: str, token: str, options: dict[str, object]) -> Snapshot:
    """Join in this wire format and read the snapshot's parts, merged."""
    async with connect(url, max_size=2**24, **options) as ws:  # type: ignore[arg-type]
        await ws.send(encode_join(token))
        parts: list[Snapshot] = []
        while not parts or parts[-1].more:
            message = await ws.recv()
            frame = (
                wire.decode_frame(message)
                if isinstance(message, bytes)
                else decode_server_frame(message)
            )
            if isinstance(frame, Snapshot):
                parts.append(frame)
        return merge_snapshot(parts)
