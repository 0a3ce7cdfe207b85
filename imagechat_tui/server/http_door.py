"""The node's one HTTP door: HTTP/1.1 (h11) on the WebSocket port, in front of websockets.

websockets creates a ``DoorConnection`` for every TCP connection. Its first request head
is parsed by h11 (sans-I/O: this module only moves bytes and keeps the clocks):

- a WebSocket upgrade (``Upgrade: websocket``) is handed to websockets as it arrived,
  bytes and all, and from then on every byte goes straight to websockets (one attribute
  test per read: the live fan-out path is websockets' own, see ``server/prepared.py``);
- anything else is an HTTP request for the ``Router`` (``server/http_api.py``), served
  by one task per connection: keep-alive, pipelined requests answered in order, bodies
  (Content-Length or chunked) read only when the route asks (``Body``).

What a stranger can take is bounded here (docs/SECURITY.md, "The HTTP door"):

- a head must arrive whole within ``header_timeout`` of the connection (or of the last
  answer, on a kept-alive connection) and be at most ``max_head_bytes``;
- a body must keep coming: no gap longer than ``body_idle_timeout`` and, after that
  long, at least ``body_min_rate`` bytes/s on average (nginx's client_body_timeout, plus
  a rate so a trickle cannot hold the budget);
- bodies being received count against one server-wide budget (``BodyBudget``): beyond
  it a request waits ``body_wait`` seconds, then gets 503 with Retry-After; one client
  address (or one user, for uploads) holds at most a quarter of it: beyond, 429;
- connections that have not upgraded count per address and in total (``ConnectionGate``):
  beyond the per-address limit a new one is closed at once; at the total, the one that
  has been idle longest is dropped to make room, and a newcomer that may be a join (a
  whole upgrade head waiting, or on a short probation for one) is let in without a place;
- a body a route did not read is drained if small, else the answer says
  ``Connection: close`` and the rest is read and thrown away for a short while
  ("lingering close", so the client sees the answer rather than a reset);
- no input raises out of here: h11's protocol errors, CL with TE, a bad target, a
  handler's failure are each one answer (4xx, 500) and a closed connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import socket
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar, Final, cast

import h11
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers

from imagechat_tui.server.http_api import (
    MAX_JSON_BYTES,
    HttpError,
    HttpRequest,
    HttpResponse,
    Router,
    SpooledBody,
    page_headers,
    split_target,
)

log = logging.getLogger(__name__)

#: An unread body up to this size is read and dropped so the connection can be kept.
DRAIN_MAX: Final = 64 * 1024
#: How long a connection closed with an unread body keeps reading (and dropping) it.
LINGER_SECONDS: Final = 5.0
#: How long a newcomer let in past the connection total has to send its upgrade head.
PROBATION_SECONDS: Final = 0.5
#: Bytes written to the transport between waits for it to drain (file answers).
CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The door's clocks and limits. The first six are ``serve`` options: their defaults
    live in ``ServerConfig`` (``node.http_limits`` copies them)."""

    header_timeout: float
    body_idle_timeout: float
    body_min_rate: float
    bodies_in_flight: int
    max_connections_per_address: int
    max_connections: int
    max_head_bytes: int = 16 * 1024
    body_wait: float = 2.0  # seconds a body waits for the budget before its 503
    keepalive_requests: int = 1000
    evict_after: float = 1.0  # at max_connections: how long idle before it may be dropped


class BodyBudget:
    """The bytes of request bodies being received or handled, server-wide. A body
    reserves its declared length (a chunked one its route's limit) until answered.

    One owner (a client address, or the user an upload route names) may hold at most
    ``share`` of it beside the body it is sending (a first body may be as large as the
    whole budget): a member sending several uploads just above ``--body-min-rate``
    cannot hold all of it for the long while those take."""

    def __init__(self, total: int, wait: float, share: int | None = None) -> None:
        self.total = total
        self.wait = wait
        self.share = share if share is not None else max(1, total // 4)
        self.free = total
        self.held: dict[str, int] = {}
        self._freed: asyncio.Future[None] | None = None  # set at the next release

    def _fits(self, size: int, owner: str) -> bool:
        held = self.held.get(owner, 0)
        return size <= self.free and (not held or held + size <= self.share)

    async def acquire(self, size: int, owner: str = "") -> int:
        size = min(size, self.total)  # one body larger than the budget waits for all of it
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while not self._fits(size, owner):
            if self._freed is None:
                self._freed = loop.create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._freed), deadline - loop.time())
            except TimeoutError:
                if size <= self.free:  # room for others, not for this owner
                    raise HttpError(
                        HTTPStatus.TOO_MANY_REQUESTS,
                        "You are sending too many uploads at once; wait for one to finish.",
                        reason="busy",
                        headers={"Retry-After": "5"},
                    ) from None
                raise HttpError(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "The server is receiving too many uploads; retry shortly.",
                    reason="busy",
                    headers={"Retry-After": "5"},
                ) from None
        self.free -= size
        self.held[owner] = self.held.get(owner, 0) + size
        return size

    def release(self, size: int, owner: str = "") -> None:
        self.free += size
        left = self.held.get(owner, 0) - size
        if left > 0:
            self.held[owner] = left
        else:
            self.held.pop(owner, None)
        freed, self._freed = self._freed, None
        if freed is not None and not freed.done():
            freed.set_result(None)


class ConnectionGate:
    """Connections that have not become WebSockets, per address and in total. At the
    total, a new connection takes the place of the one idle longest, if that one has
    waited ``evict_after`` seconds (so a burst cannot push out a client before its first
    bytes arrive); else the new one is refused, unless it may be a join: its bytes
    already waiting are a whole WebSocket upgrade head (``joining``), or nothing has come
    yet and it is one of at most ``probation`` such newcomers, which must send a whole
    upgrade head as their first read within ``PROBATION_SECONDS`` or be closed. A join
    upgrades at its first read and so never holds a place: it is not refused for a flood
    of silent connections (nginx-class servers judge a connection by what it has sent)."""

    def __init__(self, per_address: int, total: int, evict_after: float) -> None:
        self.per_address = per_address
        self.total = total
        self.evict_after = evict_after
        self.by_address: dict[str, int] = {}
        self.members: dict[DoorConnection, str] = {}
        self.idle: OrderedDict[DoorConnection, float] = OrderedDict()  # oldest first: since
        self.dropped = 0  # refused or evicted, for the benches and tests
        self.joins_past_total = 0  # whole upgrade heads let in at the total
        self.probation: set[DoorConnection] = set()
        self.probation_max = max(16, total // 16)

    def admit(self, conn: DoorConnection, address: str, joining: Callable[[], bool] = bool) -> bool:
        if self.per_address and self.by_address.get(address, 0) >= self.per_address:
            self.dropped += 1
            return False
        now = conn.loop.time()
        if self.total and len(self.members) >= self.total:
            oldest = next(iter(self.idle.items()), None)
            if oldest is None or now - oldest[1] < self.evict_after:
                if joining():
                    self.joins_past_total += 1
                    return True  # not a member: it hands over at its first read
                if len(self.probation) < self.probation_max:
                    self.probation.add(conn)
                    return True
                self.dropped += 1
                return False
            self.dropped += 1
            self.leave(oldest[0])
            oldest[0].transport.abort()
        self.members[conn] = address
        self.by_address[address] = self.by_address.get(address, 0) + 1
        self.idle[conn] = now
        return True

    def busy(self, conn: DoorConnection) -> None:
        self.idle.pop(conn, None)

    def waiting(self, conn: DoorConnection) -> None:
        if conn in self.members:
            self.idle.pop(conn, None)
            self.idle[conn] = conn.loop.time()

    def leave(self, conn: DoorConnection) -> None:
        self.probation.discard(conn)
        address = self.members.pop(conn, None)
        self.idle.pop(conn, None)
        if address is not None:
            left = self.by_address[address] - 1
            if left:
                self.by_address[address] = left
            else:
                del self.by_address[address]


@dataclass
class HttpDoor:
    """What every connection of one server shares."""

    router: Router
    limits: HttpLimits
    spool_dir: Path
    budget: BodyBudget = field(init=False)
    gate: ConnectionGate = field(init=False)
    #: Every accepted connection, from accept to loss, upgraded or not (a stop aborts
    #: those that never upgraded; the connections gauge counts them).
    live: set[ServerConnection] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.budget = BodyBudget(self.limits.bodies_in_flight, self.limits.body_wait)
        self.gate = ConnectionGate(
            self.limits.max_connections_per_address,
            self.limits.max_connections,
            self.limits.evict_after,
        )
        self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for left in self.spool_dir.glob("upload-*"):  # a killed server's (nodes may share it)
            pid = left.name.split("-")[1]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    left.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Gone(Exception):
    """The client closed the connection (or it was dropped): nobody to answer."""


class _Mode:
    HEAD, HTTP, WS, LINGER, CLOSED = range(5)


def _is_upgrade(event: h11.Request) -> bool:
    return any(
        name == b"upgrade" and b"websocket" in value.lower() for name, value in event.headers
    )


#: ``Upgrade: websocket`` as a header line of its own (any case, as RFC 9110 allows).
_UPGRADE_LINE: Final = re.compile(rb"\r\nupgrade:[ \t]*websocket[ \t]*\r\n", re.IGNORECASE)


def _whole_upgrade_head(data: bytes, max_head_bytes: int) -> bool:
    """A first read that is exactly one whole ``GET`` head asking for a WebSocket, within
    the size limit: what every client's join starts with."""
    return (
        len(data) <= max_head_bytes
        and data.startswith(b"GET ")
        and data.find(b"\r\n\r\n") == len(data) - 4
        and _UPGRADE_LINE.search(data) is not None
    )


def _upgrade_waiting(transport: asyncio.BaseTransport, max_head_bytes: int) -> bool:
    """Whether the bytes already received on this just-accepted connection are one whole
    upgrade head (a peek: they stay for the first read). A dup of the socket, as asyncio
    lends no ``recv``; only called at the connection total."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return False
    try:
        with sock.dup() as peer:
            data = peer.recv(max_head_bytes + 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return False
    return _whole_upgrade_head(data, max_head_bytes)


def _head_size(event: h11.Request) -> int:
    """About the bytes of a head (h11 bounds only a head that arrives in pieces)."""
    return len(event.target) + 16 + sum(len(n) + len(v) + 4 for n, v in event.headers)


def _peer(transport: asyncio.BaseTransport) -> str:
    address = transport.get_extra_info("peername")
    return str(address[0]) if isinstance(address, tuple) and address else "local"


class DoorConnection(ServerConnection):
    door: ClassVar[HttpDoor]

    # Class-level defaults: a WebSocket connection sets only ``_mode`` (and ``_peer``),
    # so each of many idle viewers keeps a small instance dict.
    _mode = _Mode.HEAD
    _h11: h11.Connection | None = None
    _raw: bytearray | None = None  # the current head's bytes, for a hand-over
    _timer: asyncio.TimerHandle | None = None
    _wakeup: asyncio.Future[None] | None = None
    _task: asyncio.Task[None] | None = None
    _peer_address = ""
    _refused = False
    # websockets' side of the connection (its connection_made: a handler task waiting
    # for the handshake, a message queue) is set up only at the upgrade, so a connection
    # that never sends a byte, or only HTTP, costs neither (a flood's accepts and drops).
    _started = False

    # --- asyncio protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._peer_address = _peer(transport)
        head_limit = self.door.limits.max_head_bytes
        if not self.door.gate.admit(
            self, self._peer_address, lambda: _upgrade_waiting(transport, head_limit)
        ):
            # Refused before websockets sets the connection up (no handler task, no
            # buffers): what a connection flood costs per refused connection.
            self._mode = _Mode.CLOSED
            self._refused = True
            self.transport = cast(asyncio.Transport, transport)  # for _break_cycles
            self.transport.abort()
            return
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(self.write_limit_high, self.write_limit_low)
        self.door.live.add(self)
        on_probation = self in self.door.gate.probation
        clock = PROBATION_SECONDS if on_probation else self.door.limits.header_timeout
        self._timer = self.loop.call_later(clock, self._head_timed_out)

    def data_received(self, data: bytes) -> None:
        mode = self._mode
        if mode == _Mode.WS:
            super().data_received(data)
        elif mode == _Mode.HEAD:
            self._first_head(data)
        elif mode == _Mode.HTTP:
            assert self._h11 is not None
            self._h11.receive_data(data)
            if self._raw is not None:
                self._raw += data
            self.transport.pause_reading()  # read on when the task wants more
            self._wake()
        # LINGER, CLOSED: dropped

    def eof_received(self) -> bool | None:  # type: ignore[override]  # True: half-open
        if self._mode == _Mode.WS:
            return super().eof_received()
        if self._mode == _Mode.HTTP and self._h11 is not None:
            self._h11.receive_data(b"")
            self._wake()
            return True  # keep the transport to answer what was asked
        self.transport.close()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._started:
            self._break_cycles()
        if self._refused:
            return  # websockets never saw it
        self.door.live.discard(self)
        self.door.gate.leave(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._mode != _Mode.WS:
            self._mode = _Mode.CLOSED
        self._wake()
        if self._started:
            super().connection_lost(exc)
            return
        self.paused = False  # what websockets' own does for a writer waiting in drain()
        for waiter in self.drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _break_cycles(self) -> None:
        """websockets' factory gave this connection a protocol whose parser generator
        and ``select_subprotocol`` closure refer back to it and to this connection:
        cycles only the garbage collector frees. A connection that never upgraded needs
        neither, so it is freed as it goes (a flood's thousands of dropped connections
        otherwise made full collections of 0.4-1 s that froze the loop)."""
        protocol = cast(Any, self.protocol)
        protocol.parser = None  # the generator's frame holds the protocol
        vars(protocol).pop("select_subprotocol", None)  # bound closure over this one
        # CPython's selector transport keeps a bound method of itself for its reads
        # (``_read_ready_cb``); it reads no more once it calls connection_lost.
        transport = vars(self).get("transport")
        if transport is not None and hasattr(transport, "_read_ready_cb"):
            transport._read_ready_cb = None
        # websockets before 17.x's weak proxy put this connection itself in its logger's
        # extra (logger -> extra -> connection): a weak proxy, as later releases do.
        extra = getattr(self.logger, "extra", None)
        if isinstance(extra, dict) and extra.get("websocket") is self:
            extra["websocket"] = weakref.proxy(self)

    # --- the first head: no task until it is known to be HTTP ---------------------

    def _new_parser(self) -> h11.Connection:
        return h11.Connection(h11.SERVER, max_incomplete_event_size=self.door.limits.max_head_bytes)

    def _first_head(self, data: bytes) -> None:
        whole = self._h11 is None and _whole_upgrade_head(data, self.door.limits.max_head_bytes)
        if self in self.door.gate.probation:  # let in at the total only to join
            self.door.gate.probation.discard(self)
            if not whole:
                self.door.gate.dropped += 1
                self._mode = _Mode.CLOSED
                self.transport.abort()
                return
        if whole:
            # A join's upgrade, whole in one read: websockets parses it (strictly, with
            # its own limits, answering 400 to a bad one), so h11 need not parse it first
            # (~40 µs a join). A head in pieces, or anything else, goes through h11.
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._hand_over(data)
            return
        if self._h11 is None:
            self._h11 = self._new_parser()
            self._raw = bytearray()
        assert self._raw is not None
        self._raw += data
        self._h11.receive_data(data)
        try:
            event = self._h11.next_event()
        except h11.RemoteProtocolError as exc:
            self._refuse_head(exc)
            return
        if event is h11.NEED_DATA:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not isinstance(event, h11.Request):  # ConnectionClosed: nothing was asked
            self.transport.close()
            return
        if _is_upgrade(event) and _head_size(event) <= self.door.limits.max_head_bytes:
            self._hand_over(bytes(self._raw))
            return
        self._raw = None
        self._mode = _Mode.HTTP
        self.door.gate.busy(self)
        self.transport.pause_reading()
        self._task = self.loop.create_task(self._serve(event))

    def _hand_over(self, raw: bytes) -> None:
        """From here on websockets has the connection (its handshake reads ``raw``)."""
        self._mode = _Mode.WS
        self._h11 = None
        self._raw = None
        self.door.gate.leave(self)
        self._started = True
        super().connection_made(self.transport)
        self.transport.resume_reading()
        super().data_received(raw)

    def _head_timed_out(self) -> None:
        self._timer = None
        if self._mode != _Mode.HEAD:
            return
        if self._raw:  # a partial head: say why, as nginx's client_header_timeout does
            self._write_error(HTTPStatus.REQUEST_TIMEOUT, "The request head took too long.")
        self._mode = _Mode.CLOSED
        self.transport.close()

    def _refuse_head(self, exc: h11.RemoteProtocolError) -> None:
        status = HTTPStatus(exc.error_status_hint)
        message = (
            "The request head is too large."
            if status == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
            else f"Bad request: {exc}."
        )
        self._write_error(status, message)
        self._mode = _Mode.CLOSED
        self.transport.close()

    def _write_error(self, status: HTTPStatus, message: str) -> None:
        """An answer outside any request cycle (its state is h11's ERROR or unknown)."""
        body = HttpError(status, message).response().body
        assert isinstance(body, bytes)
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        if not self.transport.is_closing():
            self.transport.write(head.encode() + body)

    # --- the HTTP task -------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _readable(self) -> None:
        """Wait for more bytes (or the end) from the client."""
        if self._mode == _Mode.CLOSED:
            raise _Gone
        self._wakeup = self.loop.create_future()
        self.transport.resume_reading()
        try:
            await self._wakeup
        finally:
            self._wakeup = None
        if self._mode == _Mode.CLOSED:
            raise _Gone

    async def _serve(self, first: h11.Request) -> None:
        event: h11.Request | None = first
        served, limits = 0, self.door.limits
        try:
            while event is not None:
                served += 1
                keep = await self._answer(event, last=served >= limits.keepalive_requests)
                if not keep:
                    return
                assert self._h11 is not None
                self._h11.start_next_cycle()
                self.door.gate.waiting(self)
                event = await self._next_head()
                if event is not None:
                    self.door.gate.busy(self)
                    if _is_upgrade(event) and _head_size(event) <= limits.max_head_bytes:
                        assert self._raw is not None
                        self._hand_over(bytes(self._raw))
                        return
                    self._raw = None
        except _Gone:
            pass
        except Exception:  # a bug here, not the client's input: log it, drop the connection
            log.exception("HTTP connection failed")
        finally:
            if self._mode == _Mode.HTTP:
                self._mode = _Mode.CLOSED
                self.transport.close()

    async def _next_head(self) -> h11.Request | None:
        """The next request on a kept-alive connection, within ``header_timeout`` of the
        last answer; None when the connection ends (closed, timed out, refused)."""
        assert self._h11 is not None
        self._raw = bytearray(self._h11.trailing_data[0])
        try:
            async with asyncio.timeout(self.door.limits.header_timeout):
                while True:
                    try:
                        event = self._h11.next_event()
                    except h11.RemoteProtocolError as exc:
                        self._refuse_head(exc)
                        return None
                    if event is h11.NEED_DATA:
                        await self._readable()
                        continue
                    return event if isinstance(event, h11.Request) else None
        except TimeoutError:
            if self._raw:
                self._write_error(HTTPStatus.REQUEST_TIMEOUT, "The request head took too long.")
            return None

    async def _answer(self, event: h11.Request, *, last: bool) -> bool:
        """Answer one request; whether the connection may carry another."""
        body = _Body(self, event)
        try:
            response = await self._respond(event, body)
        except _Gone:
            body.cleanup()
            raise
        assert self._h11 is not None
        if body.bad_head:  # nothing after a malformed head is to be trusted
            last = True
        close = last or self._h11.their_state not in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED)
        if close and not body.bad_head and body.unread_small():
            with contextlib.suppress(HttpError):
                await body.drain()  # small: read it and keep the connection
            close = last or self._h11.their_state is not h11.DONE
        try:
            await self._send(event, response, close=close)
        finally:
            body.cleanup()
        if close or self._h11.our_state is h11.MUST_CLOSE:
            self._linger(unread=self._h11.their_state is not h11.DONE)
            return False
        return True

    async def _respond(self, event: h11.Request, body: _Body) -> HttpResponse:
        method = event.method.decode("ascii", "replace")
        target = event.target.decode("latin-1")
        if _head_size(event) > self.door.limits.max_head_bytes:
            body.bad_head = True
            return HttpError(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "The request head is too large."
            ).response()
        if body.both_lengths:  # a request smuggling vector: refused as nginx does
            body.bad_head = True
            return HttpError(
                HTTPStatus.BAD_REQUEST, "Content-Length and Transfer-Encoding together."
            ).response()
        try:
            path, query = split_target(target)
        except ValueError:
            body.bad_head = True
            return HttpError(HTTPStatus.BAD_REQUEST, "Bad request target.").response()
        resolved = self.door.router.resolve(method, path)
        if isinstance(resolved, HttpError):
            return resolved.response()
        handler, params = resolved
        request = HttpRequest(
            method=method,
            target=target,
            path=path,
            query=query,
            headers=Headers((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers),
            peer=self._peer_address,
            body=body,
            connection=self,
            params=params,
        )
        try:
            return await handler(request)
        except HttpError as exc:
            return exc.response()
        except _Gone:
            raise
        except Exception:
            log.exception("HTTP route failed: %s %s", method, path)
            return HttpError(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal error.").response()

    async def _send(self, event: h11.Request, response: HttpResponse, *, close: bool) -> None:
        assert self._h11 is not None
        head_only = event.method == b"HEAD"
        headers = page_headers(response.content_type, response.header_items())
        names = {name.lower() for name, _ in headers}
        body = response.body
        if isinstance(body, bytes):
            length: int | None = len(body)
        elif isinstance(body, Path):
            length = await asyncio.to_thread(lambda: body.stat().st_size)
        else:
            length = None
        if "content-length" in names:
            length = None  # the handler's own
        elif length is not None:
            headers.append(("Content-Length", str(length)))
        elif not head_only:
            headers.append(("Transfer-Encoding", "chunked"))
        headers.append(("Content-Type", response.content_type))
        if "cache-control" not in names:
            headers.append(("Cache-Control", "no-store"))
        if "x-content-type-options" not in names:
            headers.append(("X-Content-Type-Options", "nosniff"))
        if close:
            headers.append(("Connection", "close"))
        status = response.status
        self._write(
            h11.Response(status_code=status.value, reason=status.phrase.encode(), headers=headers)
        )
        if not head_only:
            async for chunk in _chunks_of(body):
                self._write(h11.Data(data=chunk))
                await self._drained()
        self._write(h11.EndOfMessage())

    def _write(self, event: Any) -> None:
        assert self._h11 is not None
        data = self._h11.send(event)
        if data and not self.transport.is_closing():
            self.transport.write(data)

    async def _drained(self) -> None:
        if self.transport.is_closing():
            raise _Gone
        await self.drain()

    def _linger(self, *, unread: bool) -> None:
        """Close after the answer; with a body still coming, read and drop it for a
        while first, so the client reads the answer instead of a connection reset."""
        if not unread or self.transport.is_closing():
            self._mode = _Mode.CLOSED
            self.transport.close()
            return
        self._mode = _Mode.LINGER
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.resume_reading()
        self._timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    # --- bodies ----------------------------------------------------------------------

    async def body_event(self, started: float, received: int) -> h11.Data | h11.EndOfMessage:
        """The next piece of a body, within the body clocks."""
        assert self._h11 is not None
        limits = self.door.limits
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise HttpError(HTTPStatus.BAD_REQUEST, f"Bad request body: {exc}.") from None
            if isinstance(event, (h11.Data, h11.EndOfMessage)):
                return event
            if isinstance(event, h11.ConnectionClosed):
                raise _Gone
            try:
                async with asyncio.timeout(limits.body_idle_timeout):
                    await self._readable()
            except TimeoutError:
                raise HttpError(HTTPStatus.REQUEST_TIMEOUT, "The body stopped arriving.") from None
            elapsed = self.loop.time() - started - limits.body_idle_timeout
            if elapsed > 0 and received < limits.body_min_rate * elapsed:
                raise HttpError(HTTPStatus.REQUEST_TIMEOUT, "The body is arriving too slowly.")

    def send_continue(self) -> None:
        assert self._h11 is not None
        if self._h11.client_is_waiting_for_100_continue:
            self._write(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue"))


async def _chunks_of(body: bytes | Path | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if isinstance(body, bytes):
        for at in range(0, len(body), CHUNK):
            yield body[at : at + CHUNK]
    elif isinstance(body, Path):
        with body.open("rb") as file:  # 64 KiB reads of a local file
            while chunk := file.read(CHUNK):
                yield chunk
    else:
        async for chunk in body:
            if chunk:
                yield chunk


class _Body:
    """``http_api.Body`` for one request on a ``DoorConnection``."""

    def __init__(self, conn: DoorConnection, event: h11.Request) -> None:
        self._conn = conn
        lengths = [v for n, v in event.headers if n == b"content-length"]
        chunked = any(n == b"transfer-encoding" for n, _ in event.headers)
        self.both_lengths = bool(lengths) and chunked
        self.bad_head = False  # answered, then the connection closed
        self.length: int | None = None if chunked else (int(lengths[0]) if lengths else 0)
        self._started = False
        self._reserved = 0
        self._owner = f"address {conn._peer_address}"  # an upload route names its user
        self._files: list[Path] = []

    def unread_small(self) -> bool:
        return (
            not self._started
            and self.length is not None
            and self.length <= DRAIN_MAX
            and not self._waiting_for_continue()
        )

    def _waiting_for_continue(self) -> bool:
        parser = self._conn._h11
        return parser is not None and parser.client_is_waiting_for_100_continue

    async def _pieces(self, limit: int) -> AsyncIterator[bytes]:
        if self._started:
            raise RuntimeError("a request's body is read once")
        self._started = True
        if self.length is not None and self.length > limit:
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The body is {self.length} bytes; this takes at most {limit}.",
            )
        if self.length != 0:
            self._reserved = await self._conn.door.budget.acquire(
                limit if self.length is None else self.length, self._owner
            )
            self._conn.send_continue()
        started, received = self._conn.loop.time(), 0
        while True:
            event = await self._conn.body_event(started, received)
            if isinstance(event, h11.EndOfMessage):
                return
            received += len(event.data)
            if received > limit:
                raise HttpError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The body is over {limit} bytes."
                )
            yield bytes(event.data)

    async def read(self, limit: int) -> bytes:
        return b"".join([piece async for piece in self._pieces(limit)])

    async def json(self, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
        import json

        data = await self.read(limit)
        try:
            body = json.loads(data or b"")
        except ValueError:
            raise HttpError(HTTPStatus.BAD_REQUEST, "The body must be a JSON object.") from None
        if not isinstance(body, dict):
            raise HttpError(HTTPStatus.BAD_REQUEST, "The body must be a JSON object.")
        return body

    async def spool(self, limit: int, owner: str | None = None) -> SpooledBody:
        if owner is not None:
            self._owner = owner
        handle, name = tempfile.mkstemp(
            dir=self._conn.door.spool_dir, prefix=f"upload-{os.getpid()}-"
        )
        path = Path(name)
        self._files.append(path)
        digest, size = hashlib.sha256(), 0
        with os.fdopen(handle, "wb") as file:
            async for piece in self._pieces(limit):
                digest.update(piece)
                file.write(piece)  # to the page cache: microseconds for 64 KiB
                size += len(piece)
        return SpooledBody(path=path, size=size, sha256=digest.hexdigest())

    async def drain(self) -> None:
        async for _ in self._pieces(DRAIN_MAX):
            pass

    def cleanup(self) -> None:
        if self._reserved:
            self._conn.door.budget.release(self._reserved, self._owner)
            self._reserved = 0
        for path in self._files:
            with contextlib.suppress(OSError):
                path.unlink()
        self._files.clear()


def door_connection(
    door: HttpDoor, base: type[ServerConnection] = ServerConnection
) -> type[DoorConnection]:
    """The connection class of one server (websockets' ``create_connection``)."""
    bases = (DoorConnection,) if base is ServerConnection else (DoorConnection, base)
    return type("DoorConnection", bases, {"door": door})
