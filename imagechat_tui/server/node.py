"""One server node: the WebSocket endpoint, the health check, and orderly shutdown.

This module only moves frames between sockets and rooms: decoding is in ``protocol``,
the rules in ``model``, ordering and fan-out in ``room`` and ``subscriber``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from imagechat_tui import paths
from imagechat_tui.auth import AuthError, Identity, TenantStore
from imagechat_tui.model import DEFAULT_LIMITS, Limits
from imagechat_tui.protocol import (
    CloseCode,
    Error,
    ErrorCode,
    FrameError,
    Join,
    Ping,
    Pong,
    decode_client_frame,
)
from imagechat_tui.server.room import Room, RoomHub
from imagechat_tui.server.storage import Storage, open_storage
from imagechat_tui.server.subscriber import OutboxLimits, Subscriber
from imagechat_tui.server.usage import UsageMeter

if TYPE_CHECKING:
    from imagechat_tui.server.broker import RedisBroker

log = logging.getLogger(__name__)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765  # 0 picks a free port
    database: str | None = None  # None: SQLite in the data directory
    home: Path | None = None  # None: paths.data_home()
    idle_exit: float = 0.0  # seconds without connections before stopping; 0 = never
    limits: Limits = DEFAULT_LIMITS
    outbox: OutboxLimits = field(default_factory=OutboxLimits)
    max_frame_bytes: int = 64 * 1024
    join_timeout: float = 10.0
    usage_flush_interval: float = 5.0
    retention: int = 10_000  # events kept per room for replay
    broker: str | None = None  # redis://...: share rooms with other nodes; None: this node only


class RunningServer:
    def __init__(
        self,
        config: ServerConfig,
        server: Server,
        storage: Storage,
        hub: RoomHub,
        meter: UsageMeter,
    ) -> None:
        self.config = config
        self.server = server
        self.storage = storage
        self.hub = hub
        self.meter = meter
        sock = next(iter(server.sockets))
        self.host, self.port = sock.getsockname()[:2]
        self._closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: asyncio.Future[None] | None = None
        self.broker: RedisBroker | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/ws"

    @property
    def connection_count(self) -> int:
        return len(self.server.connections)

    async def close(self) -> None:
        """Close every connection with 1001 (clients reconnect), finish queued ops, flush
        usage, close the database. Safe to call more than once, from anywhere."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.server.close(close_connections=True)
        await self.server.wait_closed()
        await self.hub.drain()
        if self.broker is not None:
            await self.broker.close()
        with contextlib.suppress(Exception):
            await self.meter.flush(self.storage)
        await self.storage.close()
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()


def _health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/health":
        return connection.respond(HTTPStatus.OK, "ok\n")
    if request.path.split("?", 1)[0] != "/ws":
        return connection.respond(
            HTTPStatus.NOT_FOUND, "not found; the WebSocket endpoint is /ws\n"
        )
    return None


async def start_server(config: ServerConfig) -> RunningServer:
    home = config.home or paths.data_home()
    home.mkdir(parents=True, exist_ok=True)
    tenants = TenantStore.in_home(home)
    storage = open_storage(
        config.database or paths.default_database_url(home), retention=config.retention
    )
    await storage.open()
    meter = UsageMeter()
    broker = _open_broker(config.broker)
    hub = RoomHub(storage, meter, config.limits, broker.publisher() if broker else None)
    if broker is not None:
        await broker.start(hub)

    async def handler(ws: ServerConnection) -> None:
        await _serve_connection(ws, config, tenants, hub, meter)

    server = await serve(
        handler,
        config.host,
        config.port,
        process_request=_health,
        max_size=config.max_frame_bytes,
        compression=None,
        ping_interval=20,
        ping_timeout=20,
    )
    running = RunningServer(config, server, storage, hub, meter)
    running.broker = broker
    running._tasks.append(asyncio.create_task(_flush_usage(running)))
    if config.idle_exit > 0:
        running._tasks.append(asyncio.create_task(_exit_when_idle(running)))
    log.info("serving on %s", running.url)
    return running


def _open_broker(url: str | None) -> RedisBroker | None:
    if url is None:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"Unsupported broker URL {url!r}: use redis://HOST:PORT/DB")
    try:
        from imagechat_tui.server.broker import RedisBroker
    except ImportError as exc:  # the optional 'scale' extra is not installed
        raise ValueError(
            f"Redis needs the 'scale' extra: pip install 'imagechat-tui[scale]' ({exc})"
        ) from None
    return RedisBroker(url)


async def _flush_usage(running: RunningServer) -> None:
    while True:
        await asyncio.sleep(running.config.usage_flush_interval)
        try:
            await running.meter.flush(running.storage)
        except Exception:
            log.warning("could not save usage figures; will retry", exc_info=True)


async def _exit_when_idle(running: RunningServer) -> None:
    idle_since = asyncio.get_running_loop().time()
    while True:
        await asyncio.sleep(min(1.0, running.config.idle_exit))
        now = asyncio.get_running_loop().time()
        if running.connection_count:
            idle_since = now
        elif now - idle_since >= running.config.idle_exit:
            log.info("no connections for %.0fs; stopping", running.config.idle_exit)
            asyncio.get_running_loop().create_task(running.close())
            return


def _error(code: str, message: str, broadcast_id: str | None = None) -> bytes:
    from imagechat_tui.protocol import encode

    return encode(Error(broadcastId=broadcast_id, code=code, message=message))


async def _await_join(ws: ServerConnection, config: ServerConfig) -> Join | None:
    """Read frames until a valid ``join``; answer anything else with an error frame."""
    deadline = asyncio.get_running_loop().time() + config.join_timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                data = await ws.recv()
        except TimeoutError:
            await ws.close(CloseCode.JOIN_TIMEOUT, "no join in time")
            return None
        try:
            frame = decode_client_frame(data) if isinstance(data, str) else _binary()
        except FrameError as exc:
            await ws.send(_error(exc.code, exc.message, exc.broadcast_id), text=True)
            continue
        if isinstance(frame, Join):
            return frame
        if isinstance(frame, Ping):
            await ws.send(b'{"type":"pong"}', text=True)
            continue
        await ws.send(
            _error(
                ErrorCode.NOT_JOINED, "Send a join first: no room is joined yet.", frame.broadcastId
            ),
            text=True,
        )


def _binary() -> None:
    raise FrameError(ErrorCode.BAD_FRAME, "Frames must be JSON text frames, not binary.")


async def _serve_connection(
    ws: ServerConnection,
    config: ServerConfig,
    tenants: TenantStore,
    hub: RoomHub,
    meter: UsageMeter,
) -> None:
    try:
        join = await _await_join(ws, config)
        if join is None:
            return
        try:
            identity: Identity = tenants.verify(join.token)
        except AuthError as exc:
            await ws.send(_error(exc.code, exc.message), text=True)
            await ws.close(exc.close_code, exc.message[:120])
            return
        if not identity.may_join(join.room):
            message = "This token is not valid for that room."
            await ws.send(_error(ErrorCode.FORBIDDEN, message), text=True)
            await ws.close(CloseCode.FORBIDDEN, message)
            return
        room = await hub.get(identity.tenant, join.room)
        sub = Subscriber(ws, identity, meter, config.outbox)
        try:
            await room.join(sub, join.since)
            await _serve_ops(ws, sub, room)
        finally:
            sub.close()
            room.leave(sub)
    except ConnectionClosed:
        pass


async def _serve_ops(ws: ServerConnection, sub: Subscriber, room: Room) -> None:
    async for data in ws:
        try:
            frame = decode_client_frame(data) if isinstance(data, str) else _binary()
        except FrameError as exc:
            sub.send(exc.to_frame())
            continue
        if isinstance(frame, Join):
            sub.send(
                Error(
                    broadcastId=None,
                    code=ErrorCode.ALREADY_JOINED,
                    message="This connection "
                    "has already joined a room; open another connection for another room.",
                )
            )
        elif isinstance(frame, Ping):
            sub.send(Pong())
        else:
            room.submit(sub, frame)


async def run_until_signalled(config: ServerConfig) -> None:
    """``imagechat-tui serve``: run until SIGTERM/SIGINT (or idle exit), then close cleanly."""
    running = await start_server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, lambda: loop.create_task(running.close()))
    print(
        f"imagechat-tui serving on {running.url} (health: http://{running.host}:{running.port}/health)",
        flush=True,
    )
    await running.wait_closed()
