"""One server node: the WebSocket endpoint, the health check, and orderly shutdown.

This module only moves frames between sockets and rooms: decoding is in ``protocol``,
the rules in ``model``, ordering and fan-out in ``room`` and ``subscriber``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server, ServerConnection, serve, unix_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from imagechat_tui import paths
from imagechat_tui.auth import AuthError, Identity, TenantStore
from imagechat_tui.protocol import (
    CloseCode,
    ErrorCode,
    ServerLimits,
)
from imagechat_tui.safe_text import inert
from imagechat_tui.server import guesses, heap, log_format, ops_http
from imagechat_tui.server.browser_routes import BrowserRoutes
from imagechat_tui.server.config import ServerConfig as ServerConfig  # callers import it here
from imagechat_tui.server.faultlog import FaultLog
from imagechat_tui.server.guesses import GuessLimiter
from imagechat_tui.server.http_api import (
    Handler,
    HttpError,
    HttpRequest,
    HttpResponse,
    Router,
    bearer_token,
    json_response,
    text_response,
)
from imagechat_tui.server.http_door import HttpDoor, HttpLimits, door_connection
from imagechat_tui.server.listener import deepen_backlog
from imagechat_tui.server.metrics import NodeMetrics
from imagechat_tui.server.peer_auth import peer_verifier
from imagechat_tui.server.prepared import (
    deflate_extension,
    release_handshake,
    select_subprotocol,
)
from imagechat_tui.server.quotas import ConnectionQuota, QuotaExceeded, RoomQuota
from imagechat_tui.server.ratelimit import TokenBucket
from imagechat_tui.server.readiness import Readiness
from imagechat_tui.server.revocations import Revocations
from imagechat_tui.server.room import RoomHub
from imagechat_tui.server.routes import Routes
from imagechat_tui.server.session import (
    PONG,
    Action,
    Close,
    JoinRequest,
    ListViewers,
    Phase,
    Reply,
    ServerSession,
    Submit,
)
from imagechat_tui.server.storage import Storage, StorageUnavailable, Usage, open_storage
from imagechat_tui.server.subscriber import Subscriber
from imagechat_tui.server.usage import UsageMeter, usage_report
from imagechat_tui.web.origin import origin_allowed

if TYPE_CHECKING:
    from imagechat_tui.server.broker import RedisBroker

log = logging.getLogger(__name__)


def announced_limits(config: ServerConfig) -> ServerLimits:
    """The limits a client is told in ``joined``."""
    return ServerLimits(
        maxText=config.limits.max_text,
        maxMarkers=config.limits.max_markers,
        maxComments=config.limits.max_comments,
        maxFrameBytes=config.max_frame_bytes,
        opsPerSecond=config.ops_per_second,
        opsBurst=config.ops_burst,
        undoSeconds=config.limits.undo_seconds,
        maxRoomBytes=config.limits.max_room_bytes,
    )


#: Seconds a stopping server waits for its peers' closing handshakes; a healthy peer
#: answers within a round trip.
SHUTDOWN_GRACE = 1.0


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
        address = sock.getsockname()
        # A unix socket's address is its path: host is the path, port 0.
        self.host: str
        self.port: int
        self.host, self.port = (address, 0) if isinstance(address, str) else address[:2]
        self._closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._flushing: asyncio.Future[None] | None = None  # a usage write under way
        self._closing: asyncio.Future[None] | None = None
        self.broker: RedisBroker | None = None
        self.live: set[ServerConnection] = set()  # every accepted TCP connection
        self.metrics: NodeMetrics | None = None
        self.readiness: Readiness | None = None
        self.metrics_server: Server | None = None  # --metrics-port
        self.node_name = ""

    @property
    def url(self) -> str:
        if self.config.unix_socket is not None:
            return f"unix:{self.host}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "wss" if self.config.tls_cert else "ws"
        return f"{scheme}://{host}:{self.port}/ws"

    @property
    def http_url(self) -> str:
        """The same port's HTTP base (health, stats)."""
        return self.url.replace("ws", "http", 1).removesuffix("/ws")

    @property
    def connection_count(self) -> int:
        return len(self.server.connections)

    async def close(self) -> None:
        """Close every connection with 1001 (clients reconnect), finish queued ops, flush
        usage, close the database. Safe to call more than once, from anywhere."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    @property
    def metrics_url(self) -> str | None:
        """``http://host:port/metrics`` of the --metrics-port listener, if any."""
        if self.metrics_server is None:
            return None
        host, port = next(iter(self.metrics_server.sockets)).getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/metrics"

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.readiness is not None:
            await self.readiness.stop()
        if self.metrics_server is not None:
            self.metrics_server.close()
            await self.metrics_server.wait_closed()
        if self._flushing is not None:
            with contextlib.suppress(Exception):
                await self._flushing
        self.server.close(close_connections=True)  # 1001 to every open connection
        await self._end_connections()
        await self.hub.drain()
        if self.broker is not None:
            await self.broker.close()
        with contextlib.suppress(Exception):
            await self.meter.flush(self.storage)
        await self.storage.close()
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def _end_connections(self) -> None:
        """Wait for the closing handshakes, but not for peers that cannot take part: one
        that never finished the opening handshake has nobody to say goodbye to, and one
        that does not answer the close frame within ``SHUTDOWN_GRACE`` is dead or stalled
        (websockets alone would wait 10 s for each kind)."""
        for connection in list(self.live):
            if connection.protocol.state is State.CONNECTING:
                connection.transport.abort()
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE):
                await self.server.wait_closed()
        except TimeoutError:
            log.info("dropping %d connections that did not answer the close", len(self.live))
            for connection in list(self.live):
                connection.transport.abort()
            await self.server.wait_closed()


def _websocket_path_only(connection: ServerConnection, request: Request) -> Response | None:
    """websockets' ``process_request``: it sees only WebSocket upgrades (every other
    request is the HTTP door's), and only ``/ws`` upgrades."""
    if request.path.split("?", 1)[0] != "/ws":
        return connection.respond(
            HTTPStatus.NOT_FOUND, "not found; the WebSocket endpoint is /ws\n"
        )
    return None


def _websocket_gate(allowed: frozenset[str]) -> Callable[..., Response | None]:
    """``/ws`` upgrades only, and none from a page on another site: a browser sends the
    page's ``Origin`` (and the user's cookies) with every upgrade (cross-site WebSocket
    hijacking, docs/SECURITY.md)."""

    def gate(connection: ServerConnection, request: Request) -> Response | None:
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, request.headers.get("Host"), allowed):
            log.info("WebSocket upgrade from origin %r refused", origin)
            return connection.respond(HTTPStatus.FORBIDDEN, "This page's origin may not connect.\n")
        return _websocket_path_only(connection, request)

    return gate


def _health(tenants: TenantStore) -> Handler:
    """``200 ok`` for anyone, and nothing about the server's files; with a token it
    accepts, ``X-Imagechat-Token: accepted`` (the app's check that this server shares
    its data directory: it tells only the holder of a valid token what it knows)."""

    async def health(request: HttpRequest) -> HttpResponse:
        token = bearer_token(request)
        headers: dict[str, str] = {}
        if token is not None:
            try:
                tenants.verify(token)
            except AuthError:
                pass
            else:
                headers[paths.TOKEN_ACCEPTED_HEADER] = "accepted"
        return text_response(HTTPStatus.OK, "ok\n", **headers)

    return health


def _stats(
    tenants: TenantStore, storage: Storage, meter: UsageMeter, connections: ConnectionQuota
) -> Handler:
    """``GET /stats`` with ``Authorization: Bearer <admin token>``: the token's tenant's
    usage. 401 without a valid token, 403 for a token that is not an unscoped admin's."""

    async def stats(request: HttpRequest) -> HttpResponse:
        identity = ops_http.require_admin(tenants, bearer_token(request), "read stats")
        tenant = identity.tenant
        try:
            stored = (await storage.usage()).get(tenant)
            rooms = await storage.room_count(tenant)
        except Exception:
            log.warning("could not read usage for /stats", exc_info=True)
            raise HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "Usage is unavailable.") from None
        pending = meter.pending(tenant)
        (row,) = usage_report(
            {
                tenant: Usage(
                    messages=pending.messages + (stored.messages if stored else 0),
                    bytes=pending.bytes + (stored.bytes if stored else 0),
                )
            }
        )
        row["rooms"] = rooms
        row["connections"] = connections.tenant_total(tenant)
        return json_response(HTTPStatus.OK, row)

    return stats


def http_limits(config: ServerConfig) -> HttpLimits:
    return HttpLimits(
        header_timeout=config.header_timeout,
        body_idle_timeout=config.body_idle_timeout,
        body_min_rate=config.body_min_rate,
        bodies_in_flight=config.bodies_in_flight,
        max_connections_per_address=config.max_http_connections_per_address,
        max_connections=config.max_http_connections,
        evict_after=config.http_evict_after,
    )


def _ssl_context(config: ServerConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None and config.tls_key is None:
        return None
    if config.tls_cert is None or config.tls_key is None:
        raise ValueError("TLS needs both a certificate (--tls-cert) and a key (--tls-key).")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"Cannot use the TLS certificate or key: {exc}.") from None
    return context


@dataclass
class _Guards:
    """The per-node limits that span connections."""

    connections: ConnectionQuota
    rooms: RoomQuota
    revocations: Revocations


async def start_server(
    config: ServerConfig, listener: socket.socket | None = None
) -> RunningServer:
    """Open the storage, set up the node and serve; ``listener``: a listening socket bound
    on ``config.host``/``config.port`` to serve on (else bound here)."""
    tls = _ssl_context(config)
    # Lines logged before the port is known (migrations) name the configured one.
    log_format.NODE["name"] = f"{socket.gethostname()}:{config.unix_socket or config.port}"
    TokenBucket(config.ops_per_second, config.ops_burst)  # a bad rate limit fails here, once
    home = config.home or paths.data_home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    tenants = TenantStore.in_home(home)
    storage = open_storage(
        config.database or paths.default_database_url(home), retention=config.retention
    )
    await storage.open()
    meter = UsageMeter()
    broker = _open_broker(config)
    hub = RoomHub(storage, meter, config.limits, broker.publisher() if broker else None)
    metrics = NodeMetrics() if config.metrics else None
    hub.metrics = metrics
    if broker is not None:
        broker.metrics = metrics
        await broker.start(hub)
    readiness = _readiness(config, storage, broker, hub, metrics)
    revocations = Revocations(storage, config.revocation_cache_seconds)
    guards = _Guards(
        connections=ConnectionQuota(config.max_connections_per_user),
        rooms=RoomQuota(hub, config.max_rooms_per_tenant),
        revocations=revocations,
    )

    async def handler(ws: ServerConnection) -> None:
        await _serve_connection(ws, config, tenants, hub, meter, guards)

    # Every HTTP route of the node, on the WebSocket's port (server/http_api.py says how
    # to add one).
    router = Router()
    router.add("GET", "/health", _health(tenants))
    router.add("GET", "/stats", _stats(tenants, storage, meter, guards.connections))
    ops_http.OpsRoutes(
        tenants=tenants,
        storage=storage,
        hub=hub,
        readiness=readiness,
        metrics=metrics,
        tls=tls is not None,
    ).register(router)
    routes = Routes(
        storage=storage,
        tenants=tenants,
        on_room_image=hub.room_image_set,
        max_image_bytes=config.max_image_bytes,
        max_image_pixels=config.max_image_pixels,
        image_budgets=config.image_budgets,
        metrics=metrics,
        guesses=GuessLimiter(
            trusted_proxies=config.trusted_proxies(),
            overall=config.guess_node_budget or (guesses.GLOBAL_RATE, guesses.GLOBAL_BURST),
        ),
        revocations=revocations,
    )
    routes.register(router)
    origins = config.allowed_origins()
    BrowserRoutes(
        storage=storage,
        tenants=tenants,
        redeem=routes.redeem,
        guess=routes.guessed_invite,
        address_of=routes.guesses.address_of,
        revocations=revocations,
        allowed_origins=origins,
        tls=tls is not None,
    ).register(router)
    door = HttpDoor(router, http_limits(config), spool_dir=home / "incoming")

    options: dict[str, Any] = dict(
        process_request=_websocket_gate(origins),
        # The door keeps the clocks of a connection until it upgrades (header_timeout);
        # websockets' open_timeout would also cut off kept-alive HTTP connections.
        open_timeout=None,
        max_size=config.max_frame_bytes,
        # permessage-deflate without context takeover, and the binary subprotocol for
        # clients that offer it: see server/prepared.py.
        compression=None,
        extensions=[deflate_extension()] if config.compression else None,
        select_subprotocol=select_subprotocol,
        ping_interval=20,
        ping_timeout=20,
        # HTTP/1.1 before the upgrade, every connection in door.live (server/http_door.py).
        create_connection=door_connection(door),
    )
    if tls is not None:
        options["ssl_handshake_timeout"] = config.header_timeout
    if config.unix_socket is not None:
        server = await listen_on_unix_socket(handler, config.unix_socket, config.peer_auth, options)
    else:
        where: dict[str, Any] = (
            {"sock": listener}
            if listener is not None
            else {"host": config.host, "port": config.port}
        )
        server = await serve(handler, ssl=tls, **where, **options)
        deepen_backlog(server.sockets)
    running = RunningServer(config, server, storage, hub, meter)
    running.live = live = door.live
    running.broker = broker
    running.metrics, running.readiness = metrics, readiness
    running.node_name = f"{socket.gethostname()}:{running.port or running.host}"
    log_format.NODE["name"] = running.node_name
    if metrics is not None:
        metrics.attach(hub, meter, lambda: len(live))
        if config.metrics_port is not None:
            running.metrics_server = await _serve_metrics(
                config, metrics, readiness, home / "incoming"
            )
    await readiness.check()  # the first answer of /ready is a real one
    readiness.start()
    running._tasks.append(asyncio.create_task(_flush_usage(running)))
    if config.idle_exit > 0:
        running._tasks.append(asyncio.create_task(_exit_when_idle(running)))
    log.info(
        "serving on %s",
        running.url,
        extra={"fields": {"url": running.url, "ready": readiness.ready}},
    )
    return running


def _readiness(
    config: ServerConfig,
    storage: Storage,
    broker: RedisBroker | None,
    hub: RoomHub,
    metrics: NodeMetrics | None,
) -> Readiness:
    probes: dict[str, Callable[[], Awaitable[None]]] = {"database": storage.check_writable}
    if broker is not None:
        probes["broker"] = broker.check
    readiness = Readiness(
        probes,
        config.ready_interval,
        on_change=None if metrics is None else lambda ready: metrics.ready.set(int(ready)),
    )
    hub.on_commit_failed = lambda reason: readiness.failed("database", reason)
    if broker is not None:
        broker.on_publish_failed = lambda reason: readiness.failed("broker", reason)
    return readiness


async def _serve_metrics(
    config: ServerConfig, metrics: NodeMetrics, readiness: Readiness, spool: Path
) -> Server:
    """``--metrics-port``: its own listener, through the same HTTP door."""
    door = HttpDoor(ops_http.metrics_port_router(metrics, readiness), http_limits(config), spool)

    async def never(ws: ServerConnection) -> None:  # no upgrade is routed here
        await ws.close()

    return await serve(
        never,
        config.metrics_host,
        config.metrics_port or 0,
        process_request=_websocket_path_only,
        open_timeout=None,
        create_connection=door_connection(door),
    )


def _open_broker(config: ServerConfig) -> RedisBroker | None:
    url = config.broker
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
    return RedisBroker(
        url, seq_check_interval=config.seq_check_interval, presence_ttl=config.presence_ttl
    )


async def _flush_usage(running: RunningServer) -> None:
    faults = FaultLog(log, "saving usage figures (kept for the next try)")
    while True:
        await asyncio.sleep(running.config.usage_flush_interval)
        # Shielded: cancelling this loop at shutdown must not cancel a write whose counts
        # were already taken from the meter (they would be lost); close() awaits it.
        running._flushing = asyncio.ensure_future(_flush_once(running))
        try:
            await asyncio.shield(running._flushing)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            faults.failed(f"{exc.__class__.__name__}: {exc}")
        else:
            faults.succeeded()


async def _flush_once(running: RunningServer) -> None:
    """The usage since the last flush, and this node's joined connections per tenant."""
    now = time.time()
    await running.meter.flush(running.storage, at=now)
    joined: dict[str, int] = {}
    for (tenant, _), room in list(running.hub.rooms.items()):
        if room.subscribers:
            joined[tenant] = joined.get(tenant, 0) + len(room.subscribers)
    await running.storage.record_connections(running.node_name, now, joined)


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


async def _perform(
    ws: ServerConnection, action: Action | None, metrics: NodeMetrics | None = None
) -> None:
    """Carry out a session's answer on a connection that has not joined yet."""
    if isinstance(action, Reply):
        if metrics is not None and action.data is not PONG:
            metrics.frame_refused(None, action.data)
        await ws.send(action.data, text=True)
    elif isinstance(action, Close):
        if metrics is not None:
            metrics.join_refused(log_format.TENANT.get(), action.code)
        log.info(
            "session closed (%d): %s",
            action.code,
            inert(action.reason),
            extra={"fields": {"close_code": action.code}},
        )
        if action.data is not None:
            await ws.send(action.data, text=True)
        await ws.close(action.code, action.reason)


async def _serve_connection(
    ws: ServerConnection,
    config: ServerConfig,
    tenants: TenantStore,
    hub: RoomHub,
    meter: UsageMeter,
    guards: _Guards,
) -> None:
    """Move frames between the socket and the connection's session: every protocol
    decision is the session's (``server.session``); this only does what it says."""
    verify = (
        peer_verifier(ws.transport.get_extra_info("socket")) if config.peer_auth else tenants.verify
    )
    session = ServerSession(TokenBucket(config.ops_per_second, config.ops_burst), verify)
    metrics = hub.metrics
    timer = asyncio.get_running_loop().call_later(
        config.join_timeout,
        lambda: asyncio.ensure_future(_perform(ws, session.timed_out(), metrics)),
    )
    try:
        async for data in ws:
            action = session.receive(data)
            if isinstance(action, JoinRequest):
                timer.cancel()
                await _joined_session(ws, session, action, config, verify, hub, meter, guards)
                return
            await _perform(ws, action, metrics)
            if session.phase is Phase.CLOSED:
                return
    except ConnectionClosed:
        pass
    finally:
        timer.cancel()
        if metrics is not None:
            task = asyncio.ensure_future(_count_close(ws, metrics))
            _CLOSING.add(task)
            task.add_done_callback(_CLOSING.discard)


_CLOSING: set[asyncio.Future[None]] = set()  # close codes still to be counted


async def _count_close(ws: ServerConnection, metrics: NodeMetrics) -> None:
    """The close code, once the closing handshake (started as the handler returns) ends."""
    await ws.wait_closed()
    metrics.closed(ws.close_code)


async def _joined_session(
    ws: ServerConnection,
    session: ServerSession,
    request: JoinRequest,
    config: ServerConfig,
    verify: Callable[[str], Identity],
    hub: RoomHub,
    meter: UsageMeter,
    guards: _Guards,
) -> None:
    join, identity = request.join, request.identity
    tenant, user_id = identity.tenant, identity.actor.user.id
    log_format.TENANT.set(tenant)  # every line logged for this connection names it
    metrics = hub.metrics
    try:
        guards.connections.acquire(tenant, user_id, CloseCode.TOO_MANY_CONNECTIONS)
    except QuotaExceeded as exc:
        await _refuse(ws, session, ErrorCode.LIMIT_REACHED, exc.message, exc.close_code, metrics)
        return
    try:
        try:
            await guards.revocations.check(identity)  # its invite revoked: 4001
            room = await guards.rooms.open(tenant, join.room, CloseCode.TOO_MANY_ROOMS)
        except AuthError as exc:
            await _refuse(ws, session, exc.code, exc.message, exc.close_code, metrics)
            return
        except QuotaExceeded as exc:
            await _refuse(
                ws, session, ErrorCode.LIMIT_REACHED, exc.message, exc.close_code, metrics
            )
            return
        except StorageUnavailable:
            message = "The server cannot reach its database right now; try again shortly."
            await _refuse(
                ws, session, ErrorCode.UNAVAILABLE, message, CloseCode.TRY_AGAIN_LATER, metrics
            )
            return
        sub = Subscriber(ws, identity, meter, config.outbox, metrics)
        release_handshake(ws)  # ~5 KiB of headers per joined connection
        assert join.token is not None  # the session refuses a join without one
        watch = TokenWatch(
            ws, verify, join.token, identity, config.reverify_interval, guards.revocations
        )
        try:
            replayed = await room.join(sub, join.since, announced_limits(config))
            if metrics is not None:
                metrics.joined(tenant, replayed)
            session.accepted()
            async for data in ws:
                action = session.receive(data)
                if isinstance(action, Submit):
                    room.submit(sub, action.op)
                elif isinstance(action, ListViewers):
                    sub.send_prepared(room.viewers_frame())
                elif isinstance(action, Reply):
                    if metrics is not None and action.data is not PONG:
                        metrics.frame_refused(tenant, action.data)
                    sub.send_encoded(action.data)  # after every frame already queued
        finally:
            watch.cancel()
            sub.close()
            room.leave(sub)
    finally:
        guards.connections.release(tenant, user_id)


async def _refuse(
    ws: ServerConnection,
    session: ServerSession,
    code: str,
    message: str,
    close_code: int,
    metrics: NodeMetrics | None = None,
) -> None:
    await _perform(ws, session.refuse(code, message, close_code), metrics)


class TokenWatch:
    """Closes a live session when its token expires (4002), and every ``interval``
    seconds re-checks it so that a rotated tenant secret ends old sessions too (4001).
    A timer, not a task: an idle connection keeps one timer handle."""

    __slots__ = (
        "checking",
        "handle",
        "identity",
        "interval",
        "revocations",
        "token",
        "verify",
        "ws",
    )

    def __init__(
        self,
        ws: ServerConnection,
        verify: Callable[[str], Identity],
        token: str,
        identity: Identity,
        interval: float,
        revocations: Revocations | None = None,
    ) -> None:
        self.ws, self.verify, self.token = ws, verify, token
        self.identity, self.interval = identity, interval
        self.revocations = revocations
        self.handle: asyncio.TimerHandle | None = None
        self.checking: asyncio.Task[None] | None = None
        self._schedule()

    def _schedule(self) -> None:
        until_expiry = self.identity.expires_at - time.time() + 0.05
        delay = min(self.interval, until_expiry) if self.interval > 0 else until_expiry
        self.handle = asyncio.get_running_loop().call_later(max(delay, 0.05), self._check)

    def _check(self) -> None:
        self.handle = None
        try:
            identity = self.verify(self.token)
        except AuthError as exc:
            self._end(exc)
            return
        except Exception:  # the tenants file is unreadable: keep the session, retry later
            log.warning("could not re-check a session's token", exc_info=True)
            self._schedule()
            return
        if self.revocations is None or identity.invite is None:
            self._schedule()
        else:  # the invite it came from, as stored: a lookup, so a task
            self.checking = asyncio.get_running_loop().create_task(self._check_invite(identity))

    async def _check_invite(self, identity: Identity) -> None:
        assert self.revocations is not None
        try:
            await self.revocations.check(identity)
        except AuthError as exc:
            self._end(exc)
            return
        except Exception:  # the database is unavailable: keep the session, retry later
            log.warning("could not re-check a session's invite", exc_info=True)
        finally:
            self.checking = None
        self._schedule()

    def _end(self, exc: AuthError) -> None:
        log.info("session ended (close %d): %s", exc.close_code, inert(exc.message))
        asyncio.get_running_loop().create_task(self.ws.close(exc.close_code, exc.message[:120]))

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        if self.checking is not None:
            self.checking.cancel()
            self.checking = None


async def listen_on_unix_socket(
    handler: Callable[[ServerConnection], Awaitable[None]],
    path: Path,
    peer_auth: bool,
    options: dict[str, Any],
) -> Server:
    """Serve on a unix socket: a stale socket file (nothing listening) is replaced; with
    peer auth anyone who can reach the file may connect (0666), else only its owner."""
    _clear_stale_socket(path)
    server = await unix_serve(handler, str(path), **options)
    os.chmod(path, 0o666 if peer_auth else 0o600)
    return server


def _clear_stale_socket(path: Path) -> None:
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise ValueError(f"{path} exists and is not a socket; not replacing it.")
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # nobody listens: a stale socket from a server that died
        else:
            raise ValueError(f"A server already listens on {path}.")
        finally:
            probe.close()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)


async def run_until_signalled(config: ServerConfig, listener: socket.socket | None = None) -> None:
    """``imagechat-tui serve``: run until SIGTERM/SIGINT (or idle exit), then close cleanly.
    ``listener``: the socket already bound on ``config``'s host and port (server/listener.py)."""
    running = await start_server(config, listener)
    heap.settle()  # start-up's objects out of the collector's sight (server/heap.py)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, lambda: loop.create_task(running.close()))
    if config.log_format == "text":  # with json, every line is an object (the log says it)
        health = "" if config.unix_socket else f" (health: {running.http_url}/health)"
        print(f"imagechat-tui serving on {running.url}{health}", flush=True)
    await running.wait_closed()
