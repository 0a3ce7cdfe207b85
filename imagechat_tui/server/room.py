"""Rooms in memory: who is subscribed, the authoritative state, and the op pipeline.

Ops for a room go into a queue; one worker per room takes everything queued (up to
``MAX_OPS_PER_COMMIT``), decides and stores it in one transaction (group commit), and
then fans the resulting events out. A quiet room commits and broadcasts each op at once;
a busy one turns a burst into a few transactions and ``batch`` frames. Joins, commits
and events from other nodes all take the room's lock, so a joining client's replay or
snapshot and the live events that follow it never overlap or leave a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from imagechat_tui.model import DEFAULT_LIMITS, Limits, Rejection, RoomState, apply, decide
from imagechat_tui.protocol import (
    PRESENCE_NAMED,
    VIEWERS_LISTED,
    Ack,
    ClientOp,
    Error,
    ErrorCode,
    Event,
    Joined,
    Presence,
    RoomImage,
    ServerLimits,
    User,
    Viewers,
    encode,
    frames_for,
    snapshot_frames,
)
from imagechat_tui.server.faultlog import FaultLog
from imagechat_tui.server.metrics import NodeMetrics, op_kind
from imagechat_tui.server.prepared import PreparedFrame
from imagechat_tui.server.presence import PresenceSchedule
from imagechat_tui.server.storage import (
    CommitResult,
    Decision,
    OutcomeUnknown,
    Storage,
    StorageUnavailable,
    StoredEvent,
    fold_log,
)
from imagechat_tui.server.subscriber import Subscriber, fan_out
from imagechat_tui.server.usage import UsageMeter

log = logging.getLogger(__name__)

MAX_OPS_PER_COMMIT = 256
RECENT_EVENTS = 1024  # replays within this many events are served from memory
EVICT_AFTER = 30.0  # seconds an empty room stays loaded


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Publisher:
    """Where committed events go besides this node's subscribers (another node's broker),
    and the room lifecycle a broker follows (see ``server.broker``)."""

    publish: Callable[[str, str, list[StoredEvent]], None]
    room_loaded: Callable[[Room], None] | None = None
    room_evicted: Callable[[Room], None] | None = None
    viewers_changed: Callable[[Room], None] | None = None  # this node's viewers of a room


class Room:
    def __init__(self, hub: RoomHub, tenant: str, name: str, state: RoomState) -> None:
        self.hub = hub
        self.tenant = tenant
        self.name = name
        self.state = state
        self.subscribers: dict[Subscriber, None] = {}  # insertion-ordered set
        self.lock = asyncio.Lock()
        self._ops: deque[tuple[Subscriber, ClientOp]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._recent: deque[StoredEvent] = deque(maxlen=RECENT_EVENTS)
        self._presence = PresenceSchedule()  # at most one frame per window (presence.py)
        self._viewers_frame: PreparedFrame | None = None  # `who`'s answer, until it changes
        # The snapshot at one state, framed once per wire format for every joiner at it.
        self._snapshot: tuple[RoomState, list[PreparedFrame]] | None = None
        self._evict_handle: asyncio.TimerHandle | None = None
        self.remote_viewers: tuple[User, ...] = ()  # viewers on other nodes (broker)
        self.image: RoomImage | None = None  # the image it was shared with, if any

    @property
    def idle(self) -> bool:
        return not self.subscribers and not self._ops and self._worker is None

    # --- joining and leaving ---------------------------------------------------------

    async def join(self, sub: Subscriber, since: int | None, limits: ServerLimits) -> bool:
        """Subscribe ``sub``: ``joined``, then the missed events or a snapshot, then live
        events. True when the missed events could be replayed.

        Under the room's lock the catch-up is fixed (the missed events' frames, or the
        immutable state to snapshot) and ``sub`` subscribed, holding live frames back;
        the catch-up is then streamed outside the lock at the client's pace, so a large
        gap neither blocks the room nor fills the backlog (4009)."""
        if self._evict_handle is not None:
            self._evict_handle.cancel()
            self._evict_handle = None
        async with self.lock:
            if since is not None and since > self.state.seq and self.hub.publisher is not None:
                # The client saw more than this node has heard (another node committed
                # it and the broadcast is still on its way, or was lost): catch up first.
                with contextlib.suppress(StorageUnavailable):
                    await self._catch_up()
            if self.image is None and self.hub.publisher is not None:
                # Another node may have shared this room with its image since it was
                # loaded here (the POST /api/rooms went there): look again.
                with contextlib.suppress(StorageUnavailable):
                    self.image = await self.hub.storage.room_image(self.tenant, self.name)
            replay = await self._replay(since) if since is not None else None
            state = self.state
            joined = encode(
                Joined(
                    room=self.name,
                    seq=state.seq,
                    recovered=replay is not None,
                    user=sub.user,
                    limits=limits,
                    role=sub.identity.actor.role,
                    image=self.image,
                )
            )
            sub.hold()  # from here every frame for it waits behind `joined` and the catch-up
            self.subscribers[sub] = None
            # Deferred: a drop happens mid fan-out, while the subscribers are iterated.
            sub.on_drop = lambda: asyncio.get_running_loop().call_soon(self.leave, sub)
        self._presence_changed()
        if replay is None:
            catch_up = self.snapshot(state)
        else:
            catch_up = [PreparedFrame(frame) for frame in frames_for(replay)]
        await sub.stream(catch_up, lead=joined)
        return replay is not None

    def snapshot(self, state: RoomState) -> list[PreparedFrame]:
        """The snapshot parts of ``state``, made once and shared by every joiner at that
        state (a state is immutable, and a new one comes with every commit)."""
        cached = self._snapshot
        if cached is None or cached[0] is not state:
            frames = snapshot_frames(self.name, state.seq, state.chats.values())
            cached = self._snapshot = (state, [PreparedFrame(f) for f in frames])
        return cached[1]

    async def _replay(self, since: int) -> list[bytes] | None:
        if since == self.state.seq:
            return []
        if since > self.state.seq:
            return None  # a seq this room never had (another database, or a wiped one)
        if self._recent and self._recent[0].event.seq <= since + 1:
            return [s.data for s in self._recent if s.event.seq > since]
        try:
            return await self.hub.storage.events_since(
                self.tenant, self.name, since, self.state.seq
            )
        except StorageUnavailable:
            return None  # the in-memory state still makes a correct snapshot

    def leave(self, sub: Subscriber) -> None:
        if sub not in self.subscribers:
            return
        del self.subscribers[sub]
        self._presence_changed()
        if self.idle:
            loop = asyncio.get_running_loop()
            self._evict_handle = loop.call_later(EVICT_AFTER, self.hub.evict_if_idle, self)

    def local_viewers(self) -> tuple[User, ...]:
        seen: dict[str, User] = {}
        for sub in self.subscribers:
            seen.setdefault(sub.user.id, sub.user)
        return tuple(seen.values())

    def viewers(self) -> tuple[User, ...]:
        seen = {user.id: user for user in self.local_viewers()}
        for user in self.remote_viewers:
            seen.setdefault(user.id, user)
        return tuple(seen.values())

    def set_remote_viewers(self, viewers: tuple[User, ...]) -> None:
        if viewers != self.remote_viewers:
            self.remote_viewers = viewers
            if self.subscribers:
                self._presence_changed(local=False)

    def _presence_changed(self, *, local: bool = True) -> None:
        self._viewers_frame = None
        delay = self._presence.changed(len(self.subscribers), local=local)
        if delay is not None:
            asyncio.get_running_loop().call_later(delay, self._send_presence)

    def _send_presence(self) -> None:
        publisher = self.hub.publisher
        if self._presence.due() and publisher is not None and publisher.viewers_changed:
            publisher.viewers_changed(self)  # other nodes: once per window, not per join
        viewers = self.viewers()
        named = viewers if len(viewers) <= PRESENCE_NAMED else ()
        frame = encode(Presence(room=self.name, viewers=named, count=len(viewers)))
        prepared = PreparedFrame(frame)  # framed once per wire format for the whole room
        for sub in list(self.subscribers):
            sub.send_prepared(prepared)

    def viewers_frame(self) -> PreparedFrame:
        """The answer to ``who``: made once per change of viewers, however many ask."""
        if self._viewers_frame is None:
            viewers = self.viewers()
            self._viewers_frame = PreparedFrame(
                encode(
                    Viewers(room=self.name, viewers=viewers[:VIEWERS_LISTED], count=len(viewers))
                )
            )
        return self._viewers_frame

    # --- ops -------------------------------------------------------------------------

    def submit(self, sub: Subscriber, op: ClientOp) -> None:
        self._ops.append((sub, op))
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        try:
            while self._ops:
                batch = [
                    self._ops.popleft() for _ in range(min(len(self._ops), MAX_OPS_PER_COMMIT))
                ]
                try:
                    async with self.lock:
                        await self._commit(batch)
                except Exception:
                    # A bug in one batch must not strand the ops queued behind it.
                    log.exception("room %s/%s: batch failed", self.tenant, self.name)
                    _refuse_all(batch, ErrorCode.INTERNAL, _MAYBE_SAVED)
        finally:
            self._worker = None

    async def _commit(self, batch: list[tuple[Subscriber, ClientOp]]) -> None:
        now = now_ms()
        limits = self.hub.limits

        def decide_batch(
            state: RoomState, known: dict[str, int]
        ) -> Decision[list[Ack | Error | None]]:
            """Pure: the storage may run it again if it retries the transaction."""
            answers: list[Ack | Error | None] = []
            events: list[Event] = []
            seen = dict(known)
            for sub, op in batch:
                bid = op.broadcastId
                if bid in seen:  # a retry of an op already stored
                    answers.append(Ack(broadcastId=bid, seq=seen[bid]))
                    continue
                outcome = decide(state, op, sub.identity.actor, now, limits)
                if isinstance(outcome, Rejection):
                    answers.append(
                        Error(broadcastId=bid, code=outcome.code, message=outcome.message)
                    )
                    continue
                state = apply(state, outcome)
                events.append(outcome)
                answers.append(None)  # its event, broadcast to all, answers the originator
                seen[bid] = outcome.seq
            return Decision(state, events, answers)

        where = f"room {self.tenant}/{self.name}, {len(batch)} ops"
        metrics = self.hub.metrics
        started = time.monotonic()
        try:
            result = await self.hub.storage.commit(
                self.tenant,
                self.name,
                self.state,
                [op.broadcastId for _, op in batch],
                decide_batch,
            )
        except StorageUnavailable as exc:
            self._failed(batch, started, "unavailable", str(exc), where)
            _refuse_all(batch, ErrorCode.UNAVAILABLE, _NOT_SAVED)
            return
        except OutcomeUnknown as exc:
            self._failed(batch, started, "unknown", str(exc), where)
            _refuse_all(batch, ErrorCode.INTERNAL, _MAYBE_SAVED)
            return
        except Exception as exc:
            # Unexpected (a bug?), but the storage rolled the transaction back.
            log.exception("commit failed in %s", where)
            self._failed(batch, started, "failed", f"{exc.__class__.__name__}: {exc}", where)
            _refuse_all(batch, ErrorCode.UNAVAILABLE, _NOT_SAVED)
            return
        self.hub.commit_faults.succeeded()
        if metrics is not None:
            metrics.committed(time.monotonic() - started, len(batch), "ok")
        self._advance(result)
        outcomes: dict[tuple[str, str], int] = {}
        for (sub, op), answer in zip(batch, result.answers, strict=True):
            if answer is not None:
                sub.send(answer)
            if metrics is not None:
                outcome = "ok" if answer is None else getattr(answer, "code", "duplicate")
                key = (op_kind(op), outcome)
                outcomes[key] = outcomes.get(key, 0) + 1
        if metrics is not None:
            for (kind, outcome), n in outcomes.items():
                metrics.op(self.tenant, kind, outcome, n)

    def _failed(
        self,
        batch: list[tuple[Subscriber, ClientOp]],
        started: float,
        outcome: str,
        reason: str,
        where: str,
    ) -> None:
        self.hub.commit_faults.failed(reason, where)
        if self.hub.on_commit_failed is not None:
            self.hub.on_commit_failed(reason)  # readiness: 503 at once, not at the next probe
        metrics = self.hub.metrics
        if metrics is not None:
            metrics.committed(time.monotonic() - started, len(batch), outcome)
            code = ErrorCode.INTERNAL if outcome == "unknown" else ErrorCode.UNAVAILABLE
            for _, op in batch:
                metrics.op(self.tenant, op_kind(op), code)

    # --- events ----------------------------------------------------------------------

    def _advance(self, result: CommitResult[list[Ack | Error | None]]) -> None:
        if result.reloaded:
            self._reset(result.state)
        self._publish(result.caught_up + result.committed, state=result.state, local=True)

    def _reset(self, state: RoomState) -> None:
        """Adopt a state loaded from the database because the log no longer reaches
        back to ours: subscribers cannot be given the events in between, so they are
        dropped and resync (with a snapshot) when they return."""
        self.state = state
        self._recent.clear()
        for sub in list(self.subscribers):
            sub.drop_too_slow()

    def _publish(self, stored: list[StoredEvent], *, state: RoomState, local: bool) -> None:
        """Deliver events (already durable) to this node's subscribers, and to other nodes
        when they were committed here."""
        self.state = state
        if not stored:
            return
        self._recent.extend(stored)
        metrics = self.hub.metrics
        if metrics is not None:
            metrics.broadcast(self.tenant, len(stored))
        fan_out(self.subscribers, [s.data for s in stored], self.hub.meter, self.tenant, metrics)
        if local and self.hub.publisher is not None:
            self.hub.publisher.publish(self.tenant, self.name, stored)

    async def ingest(self, frames: list[bytes]) -> None:
        """Events committed by another node: apply in order, filling any gap from the
        database so that subscribers never see one."""
        async with self.lock:
            state, fresh, gap = fold_log(self.state, frames)
            if gap:
                await self._catch_up()
            else:
                self._publish(fresh, state=state, local=False)

    async def sync_with_storage(self) -> None:
        """Catch up with whatever the database holds beyond this node's state (events
        another node committed whose broadcast this node never heard)."""
        async with self.lock:
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Bring the state up to the database's, delivering everything in between."""
        latest = await self.hub.storage.load_room(self.tenant, self.name)
        missing = await self.hub.storage.events_since(
            self.tenant, self.name, self.state.seq, latest.seq
        )
        folded = fold_log(self.state, missing) if missing is not None else None
        metrics = self.hub.metrics
        if metrics is not None and latest.seq > self.state.seq:
            metrics.seq_repairs.inc()  # events this node had not heard of
        if folded is None or folded.gap:
            self._reset(latest)  # too far behind for the log
        else:
            self._publish(folded.applied, state=folded.state, local=False)


_NOT_SAVED = "The server could not save this change, so nothing happened. Try again in a moment."
_MAYBE_SAVED = (
    "The server failed on this change; it may or may not have been saved. "
    "Reconnect to see the current state."
)


def _refuse_all(batch: list[tuple[Subscriber, ClientOp]], code: str, message: str) -> None:
    for sub, op in batch:
        sub.send(Error(broadcastId=op.broadcastId, code=code, message=message))


class RoomHub:
    """Every room loaded on this node, by (tenant, room)."""

    def __init__(
        self,
        storage: Storage,
        meter: UsageMeter,
        limits: Limits = DEFAULT_LIMITS,
        publisher: Publisher | None = None,
    ) -> None:
        self.storage = storage
        self.meter = meter
        self.limits = limits
        self.publisher = publisher
        self.rooms: dict[tuple[str, str], Room] = {}
        self.commit_faults = FaultLog(log, "commit")
        self.metrics: NodeMetrics | None = None  # set by the node when it counts
        self.on_commit_failed: Callable[[str], None] | None = None  # the readiness check
        self._loading: dict[tuple[str, str], asyncio.Future[Room]] = {}

    async def get(self, tenant: str, name: str) -> Room:
        key = (tenant, name)
        room = self.rooms.get(key)
        if room is not None:
            return room
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            state = await self.storage.load_room(tenant, name)
            room = Room(self, tenant, name, state)
            room.image = await self.storage.room_image(tenant, name)
            self.rooms[key] = room
            if self.publisher is not None and self.publisher.room_loaded is not None:
                self.publisher.room_loaded(room)
            future.set_result(room)
            return room
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it twice
            raise
        finally:
            del self._loading[key]

    def room_image_set(self, tenant: str, name: str, image: RoomImage) -> None:
        """A room was just shared with its image: a loaded room tells its next joiners."""
        room = self.rooms.get((tenant, name))
        if room is not None:
            room.image = image

    def evict_if_idle(self, room: Room) -> None:
        room._evict_handle = None
        if room.idle and self.rooms.get((room.tenant, room.name)) is room:
            del self.rooms[(room.tenant, room.name)]
            if self.publisher is not None and self.publisher.room_evicted is not None:
                self.publisher.room_evicted(room)

    async def drain(self) -> None:
        """Wait for every room's queued ops to be committed (used at shutdown)."""
        workers = [r._worker for r in self.rooms.values() if r._worker is not None]
        for worker in workers:
            with contextlib.suppress(Exception):
                await worker
