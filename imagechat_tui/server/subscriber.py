"""One joined connection's outgoing side: direct writes while it keeps up, batches when not.

A room hands every subscriber the same encoded frame. A subscriber whose socket drains
gets it written at once, with no added delay. One that falls behind (its transport's
write buffer is above the high-water mark) keeps the *events* in a backlog instead; a
drain task later sends the whole backlog as one ``batch`` frame. A subscriber whose
backlog passes ``max_backlog_bytes`` is disconnected with ``TOO_SLOW`` (4009) and
resyncs with ``since`` when it returns, so a reader that stops never grows our memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from msgspec import Struct
from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed

from imagechat_tui import wire
from imagechat_tui.auth import Identity
from imagechat_tui.protocol import (
    MAX_BATCH_BYTES,
    Batch,
    CloseCode,
    User,
    decode_server_frame,
    encode,
    encode_batch,
    frames_for,
)
from imagechat_tui.server.config import OutboxLimits
from imagechat_tui.server.prepared import (
    BatchCache,
    PreparedFrame,
    uncompressed_frame,
    wire_format,
    write_uncompressed,
)
from imagechat_tui.server.usage import UsageMeter

if TYPE_CHECKING:
    from imagechat_tui.server.metrics import NodeMetrics

#: Batches made for viewers that fell behind at the same point are made once.
BATCHES = BatchCache()


def events_frame(json: bytes) -> PreparedFrame:
    """An event or ``batch`` frame, ready for every wire format (the binary form is made
    from the JSON only if some viewer takes it)."""

    def binary() -> bytes:
        frame = decode_server_frame(json)
        return wire.encode_events(list(frame.events) if isinstance(frame, Batch) else [frame])  # type: ignore[list-item]

    return PreparedFrame(json, binary)


class Subscriber:
    __slots__ = (
        "_backlog",
        "_backlog_bytes",
        "_drainer",
        "_holding",
        "closed",
        "format",
        "identity",
        "limits",
        "meter",
        "metrics",
        "on_drop",
        "tenant",
        "ws",
    )

    def __init__(
        self,
        ws: ServerConnection,
        identity: Identity,
        meter: UsageMeter,
        limits: OutboxLimits,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.ws = ws
        self.metrics = metrics
        self.identity = identity
        self.tenant = identity.tenant
        self.meter = meter
        self.limits = limits
        self.format = wire_format(ws)  # fixed by the handshake
        # (since, frame): ``since`` is the monotonic time an event reached the fan-out
        # (0.0 without metrics), None for a lone frame that is never batched. Made on
        # first use: an empty deque is ~600 bytes per viewer.
        self._backlog: deque[tuple[float | None, bytes]] | None = None
        self._backlog_bytes = 0
        self._drainer: asyncio.Task[None] | None = None
        self.closed = False
        self.on_drop: Callable[[], object] | None = None  # set by the room it joins
        self._holding = False  # a catch-up is being streamed: everything else waits

    @property
    def user(self) -> User:
        return self.identity.actor.user

    def _keeping_up(self) -> bool:
        if self._backlog or self._holding:
            return False
        transport = self.ws.transport
        return transport is not None and transport.get_write_buffer_size() < self.limits.high_water

    def send(self, frame: Struct) -> None:
        """A frame for this subscriber only (joined, snapshot, error, ack, pong)."""
        self._queue([encode(frame)], None)

    def send_encoded(self, frame: bytes) -> None:
        """An already-encoded lone frame for this subscriber only."""
        self._queue([frame], None)

    def send_prepared(self, frame: PreparedFrame) -> None:
        """A lone frame the whole room gets (presence): framed once per wire format."""
        if self.closed:
            return
        if self._keeping_up():
            frame.write(self.ws, self.format)
            self.meter.add(self.tenant, 1, len(frame.json))
        else:
            self._queue([frame.json], None)

    def deliver_events(self, frames: list[bytes], since: float = 0.0) -> None:
        """Encoded events for this subscriber, batched with others if it is behind;
        ``since``: when they reached the fan-out (for the delivery latency)."""
        self._queue(frames, since)

    def _queue(self, frames: list[bytes], since: float | None) -> None:
        """``since`` None: lone frames, never batched; else events."""
        if self.closed:
            return
        batchable = since is not None
        if self._keeping_up():
            for frame in frames_for(frames) if batchable else frames:
                if batchable:
                    events_frame(frame).write(self.ws, self.format)
                elif not write_uncompressed(self.ws, frame):
                    broadcast((self.ws,), frame, text=True)  # it says why it cannot
                self.meter.add(self.tenant, 1, len(frame))
            return
        if self._backlog is None:
            self._backlog = deque()
        self._backlog.extend((since, f) for f in frames)
        self._backlog_bytes += sum(len(f) for f in frames)
        if self._backlog_bytes > self.limits.max_backlog_bytes:
            self.drop_too_slow()
        elif self._drainer is None and not self._holding:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    def hold(self) -> None:
        """Keep every frame from now on in the backlog until ``stream`` has written a
        catch-up ahead of them (the room subscribes us before the catch-up is sent)."""
        self._holding = True

    async def stream(self, frames: list[PreparedFrame], lead: bytes | None = None) -> None:
        """Write a catch-up (snapshot parts or replayed events) at the pace the client
        reads it, then what waited behind it. However long the catch-up, it never sits in
        the backlog, so only live frames count toward ``max_backlog_bytes``. A snapshot's
        parts are shared by every joiner at its seq: compressed once per wire format.
        ``lead`` (the ``joined`` frame) goes first, in the same write as the first part
        when it is small: one send per join, not two."""
        try:
            if lead is not None:
                self.meter.add(self.tenant, 1, len(lead))
                head = uncompressed_frame(lead)
                if head is None or not frames:
                    if not write_uncompressed(self.ws, lead):
                        await self.ws.send(lead, text=True)  # raises if it is closed
                elif await frames[0].send(self.ws, self.format, head):
                    self.meter.add(self.tenant, 1, len(frames[0].json))
                    frames = frames[1:]
                else:
                    await self.ws.send(lead, text=True)  # raises if it is closed
            for frame in frames:
                if self.closed:
                    return
                if not await frame.send(self.ws, self.format):
                    await self.ws.send(frame.json, text=True)  # raises if it is closed
                self.meter.add(self.tenant, 1, len(frame.json))
        finally:
            self._holding = False
        if self._backlog and self._drainer is None and not self.closed:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    def _next_frame(self) -> tuple[PreparedFrame, int, float]:
        """The backlog's next frame: one lone frame, or every event up to the next one;
        how many events it carries, and when the first of them reached the fan-out."""
        assert self._backlog is not None  # only called while it has frames
        since, first = self._backlog.popleft()
        self._backlog_bytes -= len(first)
        if since is None:
            return PreparedFrame(first), 0, 0.0
        events = [first]
        size = len(first)
        while self._backlog and self._backlog[0][0] is not None and size < MAX_BATCH_BYTES:
            event = self._backlog.popleft()[1]
            self._backlog_bytes -= len(event)
            size += len(event)
            events.append(event)
        if len(events) == 1:
            return events_frame(first), 1, since
        batch = BATCHES.get(events, lambda run: events_frame(encode_batch(run)))
        return batch, len(events), since

    async def _drain(self) -> None:
        try:
            while self._backlog and not self.closed:
                frame, events, since = self._next_frame()
                if not await frame.send(self.ws, self.format):
                    await self.ws.send(frame.json, text=True)  # raises if it is closed
                self.meter.add(self.tenant, 1, len(frame.json))
                if events and self.metrics is not None:
                    shared = self.format.shared
                    wire = len(frame.frame(self.format)) if shared else len(frame.json)
                    self.metrics.delivered(
                        self.tenant, events, len(frame.json), wire, since, behind=True
                    )
        except ConnectionClosed:
            self.closed = True
        finally:
            self._drainer = None

    def drop_too_slow(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.metrics is not None:
            self.metrics.backlog_drops.labels(self.metrics.tenant(self.tenant)).inc()
        if self.on_drop is not None:
            self.on_drop()
        self._backlog = None
        self._backlog_bytes = 0
        asyncio.get_running_loop().create_task(
            _close(self.ws, CloseCode.TOO_SLOW, "too far behind; reconnect with since to resync")
        )

    def close(self) -> None:
        self.closed = True
        if self._drainer is not None:
            self._drainer.cancel()


def fan_out(
    subscribers: Iterable[Subscriber],
    frames: list[bytes],
    meter: UsageMeter,
    tenant: str,
    metrics: NodeMetrics | None = None,
) -> None:
    """Send the same events to a room's subscribers: each frame is encoded, compressed
    and framed at most once per wire format, and the same bytes go to every viewer."""
    since = time.monotonic() if metrics is not None else 0.0
    direct: list[Subscriber] = []
    for sub in subscribers:
        if sub.closed:
            continue
        if sub._keeping_up():
            direct.append(sub)
        else:
            sub.deliver_events(frames, since)
    if direct:
        payload = wire = 0
        for frame in frames_for(frames):
            prepared = events_frame(frame)
            for sub in direct:
                prepared.write(sub.ws, sub.format)
            meter.add(tenant, len(direct), len(direct) * len(frame))
            payload += len(direct) * len(frame)
            wire += prepared.written
        if metrics is not None:  # once per broadcast, whatever the number of viewers
            metrics.delivered(tenant, len(direct) * len(frames), payload, wire, since)


async def _close(ws: ServerConnection, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code, reason)
