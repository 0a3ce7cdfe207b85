"""Viewers in every wire format, in one room of a real server over loopback: each decodes
every frame to the same events; a client that offers nothing gets plain JSON as ever."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from imagechat_tui import wire
from imagechat_tui.protocol import (
    Batch,
    Event,
    Joined,
    Presence,
    Snapshot,
    decode_server_frame,
    encode,
)
from imagechat_tui.server.config import OutboxLimits
from imagechat_tui.server.node import RunningServer
from tests.wsclient import create_op, delete_op, new_id, update_op

FORMATS = {
    "json": dict(compression=None, subprotocols=None),
    "json+deflate": dict(compression="deflate", subprotocols=None),
    "binary": dict(compression=None, subprotocols=[Subprotocol(wire.SUBPROTOCOL)]),
    "binary+deflate": dict(compression="deflate", subprotocols=[Subprotocol(wire.SUBPROTOCOL)]),
}


class Viewer:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[Event] = []
        self.kinds: set[str] = set()  # "text" / "binary" frames that carried events
        self.snapshot: Snapshot | None = None

    @classmethod
    async def join(cls, url: str, token: str, **options: object) -> Viewer:
        ws = await connect(url, max_size=2**24, **options)  # type: ignore[arg-type]
        await ws.send(encode_join(token))
        viewer = cls(ws)
        while not isinstance(frame := await viewer.next_frame(), Snapshot):
            pass
        viewer.snapshot = frame
        return viewer

    async def next_frame(self) -> object:
        message = await self.ws.recv()
        if isinstance(message, bytes):
            frame: object = wire.decode_frame(message)
        else:
            frame = decode_server_frame(message)
        if isinstance(frame, Batch):
            self.events.extend(frame.events)
        elif not isinstance(frame, Joined | Snapshot | Presence):
            self.events.append(frame)  # type: ignore[arg-type]
        if isinstance(frame, Batch) or not isinstance(frame, Joined | Snapshot | Presence):
            self.kinds.add("binary" if isinstance(message, bytes) else "text")
        return frame

    async def read_events(self, count: int) -> list[Event]:
        while len(self.events) < count:
            await self.next_frame()
        return self.events


def encode_join(token: str) -> str:
    return f'{{"op":"join","room":"mixed","token":"{token}","since":null}}'


@pytest.mark.parametrize(
    "outbox",
    [OutboxLimits(), OutboxLimits(high_water=0)],
    ids=["direct", "every-viewer-behind"],
)
async def test_a_mixed_room_converges(
    start: Callable[..., Awaitable[RunningServer]],
    mint_token: Callable[..., str],
    outbox: OutboxLimits,
) -> None:
    """Direct writes of prepared frames, and (with a high-water mark of 0, every viewer
    always "behind") backlogs drained as shared batches: the same events either way."""
    server = await start(outbox=outbox)
    viewers = {
        name: await Viewer.join(server.url, mint_token(user_id=name), **options)
        for name, options in FORMATS.items()
    }
    writer = viewers["json"].ws
    first, second = new_id(), new_id()
    comment = new_id()
    ops = [
        create_op(10.0, 20.0, "a spot", id=first),
        create_op(30.0, 40.0, "ünïcödé ✓\nsecond line", id=second),
        create_op(5.0, 5.0, "a region", id="region-1", w=20.0, h=10.0),
        update_op(first, {"kind": "comment", "comment": {"id": comment, "text": "reply"}}),
        update_op(first, {"kind": "edit-comment", "commentId": comment, "text": "edited"}),
        update_op(first, {"kind": "resolve"}),
        update_op(second, {"kind": "move", "x": 50.5, "y": 60.25}),
        update_op(first, {"kind": "delete-comment", "commentId": comment}),
        delete_op(second),
        *(create_op(float(i), 1.0, f"burst {i}") for i in range(40)),
    ]
    for op in ops[:9]:
        await writer.send(encode_op(op))
    await viewers["json"].read_events(9)  # in order before the burst
    await asyncio.gather(*(writer.send(encode_op(op)) for op in ops[9:]))
    reference = await viewers["json"].read_events(len(ops))
    assert [e.seq for e in reference] == list(range(1, len(ops) + 1))
    for name, viewer in viewers.items():
        assert await viewer.read_events(len(ops)) == reference, name
    assert viewers["binary"].kinds == viewers["binary+deflate"].kinds == {"binary"}
    assert viewers["json"].kinds == viewers["json+deflate"].kinds == {"text"}
    # A late joiner's snapshot is where those events lead.
    late = await Viewer.join(server.url, mint_token(user_id="late"), **FORMATS["binary+deflate"])
    assert late.snapshot is not None and late.snapshot.seq == len(ops)
    chats = {chat.id: chat for chat in late.snapshot.chats}
    assert {first, "region-1"} <= set(chats) and second not in chats
    assert chats[first].resolved and len(chats[first].comments) == 1
    for viewer in (*viewers.values(), late):
        await viewer.ws.close()


async def test_a_client_offering_nothing_gets_plain_json_as_ever(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    plain = await Viewer.join(server.url, mint_token(user_id="plain"), compression=None)
    assert plain.ws.subprotocol is None
    assert "Sec-WebSocket-Extensions" not in plain.ws.response.headers
    assert "Sec-WebSocket-Protocol" not in plain.ws.response.headers
    writer = await Viewer.join(server.url, mint_token(user_id="writer"), **FORMATS["binary"])
    await writer.ws.send(encode_op(create_op(1.0, 2.0, "hello")))
    message = await plain.ws.recv()
    while '"presence"' in message:
        message = await plain.ws.recv()
    assert isinstance(message, str)  # a text frame, uncompressed, the JSON as encoded
    assert message.encode() == encode(decode_server_frame(message))
    assert message.startswith('{"type":"new-image-chat","room":"mixed","seq":1,')
    # Offering only a subprotocol we do not speak is the same as offering none.
    other = await Viewer.join(
        server.url, mint_token(user_id="other"), compression=None, subprotocols=["chat.v2"]
    )
    assert other.ws.subprotocol is None
    for viewer in (plain, writer, other):
        await viewer.ws.close()


def encode_op(op: dict[str, object]) -> str:
    return json.dumps(op)
