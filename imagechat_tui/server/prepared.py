"""Encode a broadcast once per wire format; write the same frame bytes to every viewer.

What gorilla/websocket's ``PreparedMessage`` does, for websockets: a room's frame is
serialised (JSON, or the binary form of ``imagechat.msgpack.v1``), compressed and framed
at most once per *wire format* (binary or not, deflate window or none), however many
viewers receive it, and those bytes are written to each viewer's transport.

Compression is permessage-deflate **without context takeover** in both directions:
nothing a viewer received before is needed to decode the next message, so one
compression serves every viewer that negotiated the same window, and a connection keeps
no compressor or decompressor between messages (websockets creates one per message
and frees it; an idle connection holds none).

This is the one module that relies on websockets' internals; ``tests/server/
test_prepared.py`` pins each thing it relies on:

- a data frame written to ``transport`` between two of websockets' own writes is a
  valid frame in the stream, as ``websockets.broadcast`` itself does it (state OPEN
  and no fragmented send in progress);
- ``PerMessageDeflate.local_no_context_takeover`` / ``local_max_window_bits`` say how
  the connection compresses, so a message compressed here decodes at the peer;
- ``Connection.drain()`` waits while the transport is paused (flow control);
- the handshake's response, and the request's headers, are kept only for the
  application (websockets needs ``request`` itself not to be None), so
  ``release_handshake`` may drop them (~4 KiB per idle connection).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from websockets.asyncio.server import ServerConnection
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import Subprotocol

from imagechat_tui import wire

#: The server's LZ77 window (bits). Broadcasts are a few hundred bytes, so a larger one
#: would buy nothing but allocation time on each compression.
WINDOW_BITS: Final = 12
MEM_LEVEL: Final = 5


def deflate_extension() -> ServerPerMessageDeflateFactory:
    """permessage-deflate as this server offers it: no context takeover either way."""
    return ServerPerMessageDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=WINDOW_BITS,
        compress_settings={"memLevel": MEM_LEVEL},
    )


def select_subprotocol(_connection: ServerConnection, offered: object) -> Subprotocol | None:
    """The binary form if the client offers it; otherwise none (plain JSON), whatever
    else it offers (websockets alone would refuse a client that offers none)."""
    return Subprotocol(wire.SUBPROTOCOL) if wire.SUBPROTOCOL in offered else None  # type: ignore[operator]


def release_handshake(ws: ServerConnection) -> None:
    """Drop the opening handshake's response and the request's headers (~4 KiB per idle
    connection); nothing reads them after the join (``process_request`` runs before it).
    websockets tells a handshake done by ``request`` being set, so that stays."""
    if ws.request is not None:
        ws.request.headers.clear()
    ws.response = None


@dataclass(frozen=True, slots=True)
class WireFormat:
    """How one connection's frames are written: binary or JSON, deflated with this window
    or not. ``shared`` is False when the connection compresses with context takeover
    (a peer of another server config): its frames cannot be shared."""

    binary: bool = False
    window_bits: int | None = None
    shared: bool = True


PLAIN_JSON: Final = WireFormat()


def wire_format(ws: ServerConnection) -> WireFormat:
    binary = ws.subprotocol == wire.SUBPROTOCOL
    for ext in ws.protocol.extensions:
        if isinstance(ext, PerMessageDeflate):
            if not ext.local_no_context_takeover:
                return WireFormat(binary, ext.local_max_window_bits, shared=False)
            return WireFormat(binary, ext.local_max_window_bits)
    return WireFormat(binary)


@functools.cache
def _compressor(window_bits: int) -> PerMessageDeflate:
    """websockets' own extension, stateless without context takeover: it compresses a
    frame exactly as a connection that negotiated this window would."""
    return PerMessageDeflate(
        remote_no_context_takeover=True,
        local_no_context_takeover=True,
        remote_max_window_bits=15,
        local_max_window_bits=window_bits,
        compress_settings={"memLevel": MEM_LEVEL},
    )


class PreparedFrame:
    """One message, its wire bytes made lazily once per ``WireFormat``.

    ``json`` is the JSON text every plain client gets; ``binary`` (called at most once)
    makes the ``imagechat.msgpack.v1`` payload, or is None when the message has no
    binary form (binary clients then get the JSON text frame)."""

    __slots__ = ("_binary", "_binary_payload", "_frames", "json", "written")

    def __init__(self, json: bytes, binary: Callable[[], bytes] | None = None) -> None:
        self.json = json
        self._binary = binary
        self._binary_payload: bytes | None = None
        self._frames: dict[WireFormat, bytes] = {}
        self.written = 0  # wire bytes written so far, for /metrics

    def frame(self, fmt: WireFormat) -> bytes:
        """The whole WebSocket frame (header and payload) for viewers in ``fmt``."""
        data = self._frames.get(fmt)
        if data is None:
            data = self._frames[fmt] = self._make(fmt)
        return data

    def _make(self, fmt: WireFormat) -> bytes:
        opcode, payload = Opcode.TEXT, self.json
        if fmt.binary and self._binary is not None:
            if self._binary_payload is None:
                self._binary_payload = self._binary()
            opcode, payload = Opcode.BINARY, self._binary_payload
        extensions = () if fmt.window_bits is None else (_compressor(fmt.window_bits),)
        return Frame(opcode, payload).serialize(mask=False, extensions=extensions)

    def write(self, ws: ServerConnection, fmt: WireFormat, lead: bytes = b"") -> bool:
        """Write this message to one viewer now, without waiting; False if it cannot
        take it (closing, or in the middle of a fragmented send). ``lead``, a whole
        frame already made (``uncompressed_frame``), goes ahead of it in the same write:
        one send for both."""
        if ws.protocol.state is not State.OPEN or ws.send_in_progress is not None:
            return False
        if not fmt.shared:  # its compressor has state: let websockets encode for it
            if lead:
                ws.transport.write(lead)
            ws.protocol.send_text(self.json)
            ws.send_data()
            self.written += len(self.json)  # its compressed size is websockets' own
            return True
        data = self.frame(fmt)
        ws.transport.write(lead + data if lead else data)
        self.written += len(data)
        return True

    async def send(self, ws: ServerConnection, fmt: WireFormat, lead: bytes = b"") -> bool:
        """Write, then wait while the viewer's transport is over its high-water mark."""
        if not self.write(ws, fmt, lead):
            return False
        await ws.drain()
        return True


#: Frames for one viewer alone (joined, ack, error, pong) up to this size go without
#: compression: making a compressor for each costs more than the bytes it would save.
UNCOMPRESSED_MAX: Final = 1024


def uncompressed_frame(data: bytes) -> bytes | None:
    """A small text frame for one viewer, whole, without compression (RFC 7692 lets any
    message go uncompressed: RSV1 unset, the peer's inflater untouched); None if it is
    too large for that."""
    if len(data) > UNCOMPRESSED_MAX:
        return None
    return Frame(Opcode.TEXT, data).serialize(mask=False)


def write_uncompressed(ws: ServerConnection, data: bytes) -> bool:
    """Write ``uncompressed_frame(data)`` now; False if it is too large or the
    connection cannot take a frame now."""
    frame = uncompressed_frame(data)
    if frame is None:
        return False
    if ws.protocol.state is not State.OPEN or ws.send_in_progress is not None:
        return False
    ws.transport.write(frame)
    return True


class BatchCache:
    """The last few batches made from a run of events, so viewers that fell behind at
    the same point share one prepared batch. A run is known by the identity of its first
    and last event and its length: a room hands every viewer the same event objects, in
    order, so a viewer's backlog is a contiguous run of them. Each entry holds its first
    and last event, so their ids cannot be reused while it is cached."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, int, int], tuple[bytes, bytes, PreparedFrame]] = (
            OrderedDict()
        )

    def get(
        self, events: list[bytes], make: Callable[[list[bytes]], PreparedFrame]
    ) -> PreparedFrame:
        first, last = events[0], events[-1]
        key = (id(first), id(last), len(events))
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = (first, last, make(events))
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return item[2]
