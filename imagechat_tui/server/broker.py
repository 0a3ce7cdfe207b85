"""Fan-out between server nodes: Redis pub/sub, one channel per room.

Without a broker (the default) a node is alone and its rooms' subscribers are all
local. With ``RedisBroker`` every node that has a room loaded subscribes to the room's
channel ``imagechat:room:{tenant}:{room}``; whatever a node commits it publishes there after
the commit, and the other nodes hand it to ``Room.ingest``. Redis is only a fast path:
the database is the truth. A message Redis drops shows up as a ``seq`` gap at the next
one and ``Room.ingest`` fills it from the database; a lost *last* message, or a Redis
restart, is caught by a periodic check of each loaded room's committed ``seq``.

Presence: each node keeps its viewers of a room in the hash
``imagechat:presence:{tenant}:{room}`` (one field per node, with an expiry time it
refreshes every few seconds) and announces changes on the room's channel. A node that
dies stops refreshing, so its viewers age out of every other node's ``presence`` frame.

Names: the second segment says what a name is for (``room``, ``node``, ``presence``) and
is never taken from a tenant or a room, and tenant names hold no ``:``; so no tenant or
room, whatever it is called, can land on a node's own channel or another room's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from imagechat_tui.backoff import Backoff
from imagechat_tui.protocol import User
from imagechat_tui.server.faultlog import FaultLog
from imagechat_tui.server.room import Publisher
from imagechat_tui.server.storage import StorageUnavailable, StoredEvent

if TYPE_CHECKING:
    from imagechat_tui.server.metrics import NodeMetrics
    from imagechat_tui.server.room import Room, RoomHub

log = logging.getLogger(__name__)

PREFIX = "imagechat"
EVENTS = b"e"  # payload: kind, node id (32 hex), JSON array of encoded events
VIEWERS = b"p"  # payload: kind, node id: "my viewers of this room changed"


class _PresenceEntry(msgspec.Struct, frozen=True):
    expires: int  # ms since the epoch
    viewers: tuple[User, ...]


_entry_decoder = msgspec.json.Decoder(_PresenceEntry)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])


_ROOM_CHANNEL = f"{PREFIX}:room:"


def _checked(tenant: str) -> str:
    if ":" in tenant or not tenant:
        raise ValueError(f"A tenant name cannot be empty or hold ':' ({tenant!r}).")
    return tenant


def channel_for(tenant: str, room: str) -> str:
    """A room's pub/sub channel."""
    return f"{_ROOM_CHANNEL}{_checked(tenant)}:{room}"


def room_of_channel(channel: str) -> tuple[str, str] | None:
    """(tenant, room) for a room's channel (the inverse of channel_for); None for any other."""
    if not channel.startswith(_ROOM_CHANNEL):
        return None
    tenant, sep, room = channel.removeprefix(_ROOM_CHANNEL).partition(":")
    return (tenant, room) if sep and tenant else None


def node_channel(node_id: str) -> str:
    """A node's own channel (nothing is published there; it keeps the subscription open)."""
    return f"{PREFIX}:node:{node_id}"


def presence_key(tenant: str, room: str) -> str:
    """The hash of a room's viewers, one field per node."""
    return f"{PREFIX}:presence:{_checked(tenant)}:{room}"


class RedisBroker:
    """One node's link to Redis: publish, subscribe per loaded room, share presence."""

    def __init__(
        self,
        url: str,
        *,
        seq_check_interval: float = 2.0,
        presence_ttl: float = 10.0,
        presence_refresh: float | None = None,
        max_backoff: float = 5.0,
    ) -> None:
        self.url = url
        self.node_id = uuid.uuid4().hex
        self._node = self.node_id.encode()
        # Seconds between checks of the committed seqs: the longest a lost last message
        # can stay unnoticed is about twice this.
        self.seq_check_interval = seq_check_interval
        # How long a dead node's viewers stay listed, refreshed every third of that.
        self.presence_ttl = presence_ttl
        self.presence_refresh = presence_refresh or presence_ttl / 3
        self.backoff = Backoff(base=0.2, cap=max_backoff)
        self._rng = random.Random()
        self.hub: RoomHub | None = None
        self._redis: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._outbox_ready = asyncio.Event()
        self._presence_dirty: set[tuple[str, str]] = set()
        self._db_seqs: dict[tuple[str, str], int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Task[Any]] = set()
        self._connected = asyncio.Event()
        self.reconnects = 0
        self.publish_failures = 0
        self._publish_faults = FaultLog(log, "publishing to Redis")
        self.metrics: NodeMetrics | None = None
        self.on_publish_failed: Callable[[str], None] | None = None  # the readiness check

    def publisher(self) -> Publisher:
        return Publisher(
            publish=self.publish,
            room_loaded=self._room_loaded,
            room_evicted=self._room_evicted,
            viewers_changed=self._viewers_changed,
        )

    # --- lifecycle -------------------------------------------------------------------

    async def start(self, hub: RoomHub) -> None:
        """Start the background tasks; waits briefly for a first connection but does not
        fail without one (the periodic database check keeps rooms correct meanwhile)."""
        self.hub = hub
        self._redis = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=2, socket_timeout=None, health_check_interval=0
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen()),
            loop.create_task(self._send()),
            loop.create_task(self._check_seqs()),
            loop.create_task(self._presence_loop()),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 3.0)
        if not self._connected.is_set():
            log.warning("Redis at %s is not answering yet; will keep trying", self.url)

    async def close(self) -> None:
        tasks = [*self._tasks, *self._pending]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._outbox and self._redis is not None:  # what was committed last
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0), self._redis.pipeline(transaction=False) as pipe:
                    for channel, payload in self._outbox:
                        pipe.publish(channel, payload)
                    await pipe.execute()
            self._outbox.clear()
        if self._redis is not None and self.hub is not None:
            # Leave every room's presence at once rather than after the TTL.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    for room in list(self.hub.rooms.values()):
                        key = presence_key(room.tenant, room.name)
                        await self._redis.hdel(key, self.node_id)
                        await self._redis.publish(
                            channel_for(room.tenant, room.name), VIEWERS + self._node
                        )
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()

    # --- publishing ------------------------------------------------------------------

    def publish(self, tenant: str, room: str, stored: list[StoredEvent]) -> None:
        """Queue committed events for the room's channel (sent in order, pipelined)."""
        payload = EVENTS + self._node + b"[" + b",".join(s.data for s in stored) + b"]"
        self._outbox.append((channel_for(tenant, room), payload))
        self._outbox_ready.set()

    async def _send(self) -> None:
        assert self._redis is not None
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), 512))]
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for channel, payload in batch:
                            pipe.publish(channel, payload)
                        await pipe.execute()
                except (RedisError, OSError) as exc:
                    # Not lost: the events are in the database; other nodes fill the gap.
                    self.publish_failures += len(batch)
                    reason = f"{exc.__class__.__name__}: {exc}"
                    self._publish_faults.failed(reason)
                    if self.on_publish_failed is not None:
                        self.on_publish_failed(reason)
                    if self.metrics is not None:
                        self.metrics.redis_publish_failures.inc(len(batch))
                else:
                    self._publish_faults.succeeded()
                    if self.metrics is not None:
                        self.metrics.redis_published.inc(len(batch))

    async def check(self) -> None:
        """Raise, with the reason, unless Redis answers now and the subscription is up
        (the readiness probe, which bounds how long it may take)."""
        if self._redis is None:
            raise ConnectionError("not started")
        await self._redis.ping()
        if not self._connected.is_set():
            raise ConnectionError("the subscription to Redis is down; reconnecting")

    # --- subscriptions ---------------------------------------------------------------

    def _room_loaded(self, room: Room) -> None:
        if self._pubsub is not None and self._connected.is_set():
            self._spawn(self._subscribe([room]))

    def _room_evicted(self, room: Room) -> None:
        key = (room.tenant, room.name)
        self._db_seqs.pop(key, None)
        if self._pubsub is not None and self._connected.is_set():
            channel = channel_for(*key)
            self._spawn(self._unsubscribe(channel))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _subscribe(self, rooms: list[Room]) -> None:
        if not rooms:
            return
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.subscribe(*(channel_for(r.tenant, r.name) for r in rooms))

    async def _unsubscribe(self, channel: str) -> None:
        assert self.hub is not None
        if room_of_channel(channel) in self.hub.rooms:
            return  # loaded again meanwhile
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.unsubscribe(channel)

    async def _listen(self) -> None:
        """Hold the subscription connection: reconnect with backoff, resubscribe, and
        catch every loaded room up (whatever was published meanwhile is lost)."""
        assert self._redis is not None and self.hub is not None
        attempt = 0
        while True:
            pubsub = self._redis.pubsub()
            try:
                # A dummy channel gives the connection something to wait on when no
                # room is loaded (a pubsub with no subscription returns at once).
                await pubsub.subscribe(node_channel(self.node_id))
                self._pubsub = pubsub
                rooms = list(self.hub.rooms.values())
                await self._subscribe(rooms)
                self._connected.set()
                if attempt:
                    self.reconnects += 1
                    log.info("reconnected to Redis; resubscribed %d rooms", len(rooms))
                attempt = 0
                async for message in pubsub.listen():
                    self._on_message(message)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if attempt == 0:
                    log.warning("lost Redis (%s); reconnecting", exc)
            finally:
                self._connected.clear()
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            attempt += 1
            await asyncio.sleep(self.backoff.delay(attempt, self._rng))

    def _on_message(self, message: dict[str, Any]) -> None:
        assert self.hub is not None
        kind = message["type"]
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        key = room_of_channel(channel)
        if key is None:
            return  # the node's own channel
        room = self.hub.rooms.get(key)
        if room is None:
            return
        if kind == "subscribe":
            # Anything committed before the subscription took effect was not heard.
            self._spawn(self._sync_room(room))
            self._spawn(self._refresh_remote([key]))
            return
        if kind != "message":
            return
        data: bytes = message["data"]
        if data[1:33] == self._node:
            return  # our own: already delivered locally
        if data[:1] == EVENTS:
            frames = [bytes(raw) for raw in _raw_list.decode(data[33:])]
            if self.metrics is not None:
                self.metrics.redis_received.inc()
            if frames:
                # One task per message: the room's lock is FIFO, so order is kept, and a
                # room busy committing or filling a gap does not hold up other rooms.
                self._spawn(self._ingest(room, frames))
        elif data[:1] == VIEWERS:
            self._spawn(self._refresh_remote([key]))

    async def _ingest(self, room: Room, frames: list[bytes]) -> None:
        try:
            await room.ingest(frames)
        except StorageUnavailable:
            log.warning("could not fill a gap in %s/%s; retrying later", room.tenant, room.name)
            self._db_seqs[(room.tenant, room.name)] = 1 << 62

    async def _sync_room(self, room: Room) -> None:
        """Catch the room up if the database is ahead of it (checked with one cheap query)."""
        assert self.hub is not None
        key = (room.tenant, room.name)
        try:
            seqs = await self._room_seqs([key])
            if seqs.get(key, 0) > room.state.seq:
                await room.sync_with_storage()
        except StorageUnavailable:
            self._db_seqs[key] = 1 << 62  # the periodic check retries

    # --- the safety net: committed seq in the database --------------------------------

    async def _check_seqs(self) -> None:
        """Every few seconds, one query for the committed seq of every loaded room. A
        room still behind what the database held at the previous check (so not merely
        a message in flight) catches up from the database."""
        assert self.hub is not None
        while True:
            await asyncio.sleep(self.seq_check_interval)
            rooms = dict(self.hub.rooms)
            try:
                for key, room in rooms.items():
                    if room.state.seq < self._db_seqs.get(key, 0):
                        await room.sync_with_storage()
                seqs = await self._room_seqs(list(rooms))
            except StorageUnavailable:
                continue
            except Exception:
                log.exception("seq check failed")
                continue
            self._db_seqs = {k: seqs.get(k, 0) for k in rooms}

    async def _room_seqs(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        assert self.hub is not None
        return await self.hub.storage.room_seqs(keys)

    # --- presence --------------------------------------------------------------------

    def _viewers_changed(self, room: Room) -> None:
        self._presence_dirty.add((room.tenant, room.name))
        asyncio.get_running_loop().create_task(self._write_presence())

    async def _write_presence(self, *, all_rooms: bool = False) -> None:
        assert self.hub is not None
        if self._redis is None:
            return
        keys = set(self.hub.rooms) if all_rooms else set(self._presence_dirty)
        if not all_rooms:
            self._presence_dirty -= keys
        expires = int((time.time() + self.presence_ttl) * 1000)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    room = self.hub.rooms.get(key)
                    local = room.local_viewers() if room is not None else ()
                    hkey = presence_key(*key)
                    if local:
                        entry = msgspec.json.encode(_PresenceEntry(expires, local))
                        pipe.hset(hkey, self.node_id, entry)
                        pipe.pexpire(hkey, int(self.presence_ttl * 3000))
                    else:
                        pipe.hdel(hkey, self.node_id)
                    if not all_rooms:
                        pipe.publish(channel_for(*key), VIEWERS + self._node)
                await pipe.execute()
        except (RedisError, OSError):
            if not all_rooms:
                self._presence_dirty |= keys  # written at the next refresh

    async def _refresh_remote(self, keys: list[tuple[str, str]]) -> None:
        """Read other nodes' unexpired viewers of these rooms into the rooms."""
        assert self.hub is not None and self._redis is not None
        if not keys:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hgetall(presence_key(*key))
                results = await pipe.execute()
        except (RedisError, OSError):
            return
        now = int(time.time() * 1000)
        for key, entries in zip(keys, results, strict=True):
            room = self.hub.rooms.get(key)
            if room is None:
                continue
            viewers: dict[str, User] = {}
            for node, raw in sorted(entries.items()):
                if node == self._node:
                    continue
                try:
                    entry = _entry_decoder.decode(raw)
                except msgspec.DecodeError:
                    continue
                if entry.expires >= now:
                    for user in entry.viewers:
                        viewers.setdefault(user.id, user)
            room.set_remote_viewers(tuple(viewers.values()))

    async def _presence_loop(self) -> None:
        assert self.hub is not None
        while True:
            await asyncio.sleep(self.presence_refresh)
            await self._write_presence(all_rooms=True)
            if self._presence_dirty:
                await self._write_presence()
            await self._refresh_remote(list(self.hub.rooms))
