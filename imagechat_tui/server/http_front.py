"""Requests with a body (``PUT /images/...``, ``POST /api/...``) on the WebSocket port.

websockets parses the HTTP request of every connection (its handshake) and hands it to
``process_request``, which may answer instead of upgrading; but it refuses any request
with a body. ``BodyReadingConnection`` reads the body first, keeps it on the connection
(``body``), and passes websockets the request head without it, so every route, with or
without a body, is answered in one place (``server.routes``) on the same port and behind
the same proxy as ``/ws``. Bodies over the limit are not kept: their bytes are counted
and dropped, then the route answers 413.
"""

from __future__ import annotations

import re
from typing import ClassVar

from websockets.asyncio.server import ServerConnection

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 16 * 1024
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d{1,15})[ \t]*\r\n", re.I | re.M)
_EXPECT_CONTINUE = re.compile(rb"^expect:[ \t]*100-continue[ \t]*\r\n", re.I | re.M)


class BodyReadingConnection(ServerConnection):
    #: Largest body kept in memory; larger ones are drained (counted, dropped) up to
    #: ``max_drain`` so the client reads the 413, or cut off beyond that.
    max_body: ClassVar[int] = 26 * 1024 * 1024
    max_drain: ClassVar[int] = 256 * 1024 * 1024

    # Class-level defaults: a WebSocket connection only ever sets ``_mode`` and
    # ``_buffer``, so each of the many idle connections keeps a small instance dict.
    body: bytes | None = None  # None: no body was sent
    body_too_large = False
    _mode = "head"  # head -> body | drain -> ws (websockets has the bytes)
    _buffer: bytes | bytearray = b""  # bytes while empty, a bytearray while reading
    _head = b""
    _remaining = 0

    def _to_websockets(self, data: bytes) -> None:
        self._mode = "ws"
        self._buffer = b""
        super().data_received(data)

    def data_received(self, data: bytes) -> None:
        if self._mode == "ws":
            super().data_received(data)
        elif self._mode == "head":
            if not isinstance(self._buffer, bytearray):
                self._buffer = bytearray()
            self._buffer += data
            end = self._buffer.find(_HEAD_END)
            if end < 0:
                if len(self._buffer) > _MAX_HEAD:  # websockets answers "too long"
                    self._to_websockets(bytes(self._buffer))
                return
            head, rest = bytes(self._buffer[: end + 4]), bytes(self._buffer[end + 4 :])
            match = _CONTENT_LENGTH.search(head)
            length = int(match.group(1)) if match else 0
            if length == 0:
                self._to_websockets(bytes(self._buffer))
                return
            assert match is not None
            self._head = head[: match.start()] + head[match.end() :]  # minus the header
            self._remaining = length
            self._buffer = bytearray()
            if length > self.max_body:
                self.body_too_large = True
                if _EXPECT_CONTINUE.search(head) or length > self.max_drain:
                    self._to_websockets(self._head)  # answer now; the body is not read
                    return
                self._mode = "drain"
            else:
                self._mode = "body"
                if _EXPECT_CONTINUE.search(head):
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._take(rest)
        else:
            self._take(data)

    def _take(self, data: bytes) -> None:
        chunk, extra = data[: self._remaining], data[self._remaining :]
        self._remaining -= len(chunk)
        if self._mode == "body":
            if not isinstance(self._buffer, bytearray):
                self._buffer = bytearray()
            self._buffer += chunk
        if self._remaining > 0:
            return
        if self._mode == "body":
            self.body = bytes(self._buffer)
        self._to_websockets(self._head + extra)

    def connection_lost(self, exc: Exception | None) -> None:
        self._buffer = b""
        super().connection_lost(exc)


def body_reading_connection(max_body: int) -> type[BodyReadingConnection]:
    """A connection class that keeps bodies up to ``max_body`` bytes."""
    return type("BodyReadingConnection", (BodyReadingConnection,), {"max_body": max_body})
