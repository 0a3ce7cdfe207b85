"""A bare protocol client for tests: raw JSON dicts over a real WebSocket, as a client
written in another language would speak it."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

RECV_TIMEOUT = 10.0


def new_id() -> str:
    return str(uuid.uuid4())


class WsClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames_received = 0
        self.bytes_received = 0

    @classmethod
    async def open(cls, url: str) -> WsClient:
        return cls(await connect(url, compression=None, max_size=2**24))

    @classmethod
    async def joined(
        cls, url: str, token: str, room: str = "room-1", since: int | None = None
    ) -> tuple[WsClient, dict[str, Any], list[dict[str, Any]]]:
        """Connect, join, and read ``joined`` plus the snapshot or replayed events.

        Returns (client, joined frame, [snapshot] or the replayed events)."""
        client = await cls.open(url)
        await client.send({"op": "join", "room": room, "token": token, "since": since})
        joined = await client.recv_type("joined")
        if joined["recovered"]:
            missed = (
                await client.recv_events(joined["seq"] - (since or 0))
                if joined["seq"] != since
                else []
            )
            return client, joined, missed
        return client, joined, [await client.recv_snapshot()]

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def recv(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            data = await self.ws.recv()
        self.frames_received += 1
        self.bytes_received += len(data.encode() if isinstance(data, str) else data)
        return json.loads(data)

    async def recv_type(self, type_: str, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        """The next frame of this type; presence frames in between are skipped."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == type_:
                return frame
            if frame["type"] != "presence":
                raise AssertionError(f"expected {type_}, got {frame}")

    async def recv_snapshot(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        """A whole snapshot: its parts (``"more": true`` on all but the last) merged as the
        document says, a chat continuing into the next part getting its comments appended."""
        parts = [await self.recv_type("snapshot", timeout)]
        while parts[-1]["more"]:
            parts.append(await self.recv_type("snapshot", timeout))
        chats: dict[str, dict[str, Any]] = {}
        for part in parts:
            assert (part["room"], part["seq"]) == (parts[0]["room"], parts[0]["seq"])
            for chat in part["chats"]:
                if chat["id"] in chats:
                    chats[chat["id"]]["comments"].extend(chat["comments"])
                else:
                    chats[chat["id"]] = chat
        return {**parts[-1], "chats": list(chats.values())}

    async def recv_events(self, count: int, timeout: float = RECV_TIMEOUT) -> list[dict[str, Any]]:
        """Exactly ``count`` events, unpacking batches; presence frames are skipped."""
        events: list[dict[str, Any]] = []
        while len(events) < count:
            frame = await self.recv(timeout)
            if frame["type"] == "batch":
                events.extend(frame["events"])
            elif frame["type"] in ("new-image-chat", "image-chat-updated", "deleted-image-chat"):
                events.append(frame)
            elif frame["type"] != "presence":
                raise AssertionError(f"expected events, got {frame}")
        assert len(events) == count, f"got {len(events)} events, wanted {count}"
        return events

    async def settle(self) -> list[dict[str, Any]]:
        """Every frame but presence the server sent before answering a ping sent now.

        A positive barrier, not a silence window: the server answers a ping after every
        frame already queued for this connection, so ``assert await client.settle() ==
        []`` proves that nothing else was on its way, however slow the server is. (Send
        it after the server has answered whatever might have caused a frame.)"""
        await self.send({"op": "ping"})
        seen: list[dict[str, Any]] = []
        while True:
            frame = await self.recv()
            if frame["type"] == "pong":
                return seen
            if frame["type"] != "presence":
                seen.append(frame)

    async def close(self) -> None:
        await self.ws.close()


def create_op(
    x: float = 10.0, y: float = 20.0, text: str = "hello", **extra: Any
) -> dict[str, Any]:
    return {
        "op": "create",
        "broadcastId": extra.pop("broadcastId", new_id()),
        "chat": {"id": extra.pop("id", new_id()), "x": x, "y": y, "text": text, **extra},
    }


def update_op(
    chat_id: str, change: dict[str, Any], broadcast_id: str | None = None
) -> dict[str, Any]:
    return {
        "op": "update",
        "broadcastId": broadcast_id or new_id(),
        "chatId": chat_id,
        "change": change,
    }


def delete_op(chat_id: str) -> dict[str, Any]:
    return {"op": "delete", "broadcastId": new_id(), "chatId": chat_id}
