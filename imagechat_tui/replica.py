"""A client's copy of one room: what the server confirmed, plus its own ops in flight.

Sans-I/O like the model: feed it server frames with ``receive`` and your own ops with
``propose``; read ``view`` to draw. Own ops show at once (optimistically); their echo,
recognised by ``broadcastId``, confirms them without applying anything twice; an
``error`` for one of them drops it from the view. A gap in ``seq`` asks for a resync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from imagechat_tui.model import (
    DEFAULT_LIMITS,
    Actor,
    Limits,
    Rejection,
    RoomState,
    Tombstone,
    apply,
    decide,
    fold,
)
from imagechat_tui.protocol import (
    Ack,
    Batch,
    ClientOp,
    DeletedImageChat,
    Error,
    Event,
    ImageChatUpdated,
    Joined,
    NewImageChat,
    ServerFrame,
    Snapshot,
    merge_snapshot,
)


@dataclass(frozen=True, slots=True)
class Pending:
    op: ClientOp
    now: int


@dataclass(slots=True)
class Received:
    """What one server frame did to the replica, for the UI to react to."""

    events: list[Event] = field(default_factory=list)  # applied, remote and own
    remote: list[Event] = field(default_factory=list)  # applied, caused by others
    confirmed: list[str] = field(default_factory=list)  # own broadcastIds now confirmed
    failed: list[tuple[ClientOp, Error]] = field(default_factory=list)  # own ops refused
    needs_resync: bool = False  # a gap in seq: reconnect with `since`
    joined: Joined | None = None
    snapshot: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.events or self.failed or self.snapshot)


class Replica:
    def __init__(self, room: str, actor: Actor, limits: Limits = DEFAULT_LIMITS) -> None:
        self.actor = actor
        self.limits = limits
        self.confirmed = RoomState(room=room)
        self.pending: dict[str, Pending] = {}
        self.view = self.confirmed
        self.synced = False
        self._snapshot_parts: list[Snapshot] = []  # a snapshot arriving in several frames

    @property
    def room(self) -> str:
        return self.confirmed.room

    @property
    def seq(self) -> int | None:
        """The ``since`` to send when (re)joining, or None before the first sync."""
        return self.confirmed.seq if self.synced else None

    def propose(self, op: ClientOp, now: int) -> Event | Rejection:
        """Apply an own op to the view at once; the caller sends it if this is an Event."""
        outcome = decide(self.view, op, self.actor, now, self.limits)
        if isinstance(outcome, Rejection):
            return outcome
        self.pending[op.broadcastId] = Pending(op, now)
        self.view = apply(self.view, outcome, check_seq=False)
        return outcome

    def in_flight(self) -> list[ClientOp]:
        """Own ops not yet confirmed, in order: re-send them after a reconnect (idempotent)."""
        return [p.op for p in self.pending.values()]

    def abandon(self, broadcast_id: str) -> None:
        """Forget an own op that could not be sent at all."""
        if self.pending.pop(broadcast_id, None) is not None:
            self._rebuild_view()

    def receive(self, frame: ServerFrame) -> Received:
        result = Received()
        self._receive(frame, result)
        if result.changed or result.confirmed:
            self._rebuild_view()
        return result

    def _receive(self, frame: ServerFrame, result: Received) -> None:
        if isinstance(frame, Batch):
            self._receive_events(frame.events, result)
        elif isinstance(frame, Joined):
            # Who the server says we are, and its limits: our ops are decided with these.
            self.actor = Actor(user=frame.user, role=frame.role)
            if frame.limits is not None:
                self.limits = Limits.from_server(frame.limits)
            result.joined = frame
            self._snapshot_parts = []  # a new connection: any unfinished snapshot is void
        elif isinstance(frame, Snapshot):
            if frame.more:
                self._snapshot_parts.append(frame)
                return
            parts, self._snapshot_parts = [*self._snapshot_parts, frame], []
            whole = merge_snapshot(parts) if len(parts) > 1 else frame
            known = self.confirmed.tombstones
            self.confirmed = RoomState.from_snapshot(whole)
            if known:  # a snapshot has no tombstones: keep those still deleted in it
                kept = {k: t for k, t in known.items() if _still_deleted(self.confirmed, t)}
                self.confirmed = msgspec.structs.replace(self.confirmed, tombstones=kept)
            self.synced = True
            result.snapshot = True
            # An own op whose effect is already in the snapshot is confirmed by it.
            for bid, pending in list(self.pending.items()):
                op_chat = getattr(pending.op, "chat", None)
                if op_chat is not None and op_chat.id in self.confirmed.chats:
                    del self.pending[bid]
                    result.confirmed.append(bid)
        elif isinstance(frame, Error):
            refused = self.pending.pop(frame.broadcastId, None) if frame.broadcastId else None
            if refused is not None:
                result.failed.append((refused.op, frame))
        elif isinstance(frame, Ack):
            if self.pending.pop(frame.broadcastId, None) is not None:
                result.confirmed.append(frame.broadcastId)
        elif isinstance(frame, NewImageChat | ImageChatUpdated | DeletedImageChat):
            self._receive_events((frame,), result)

    def _receive_events(self, events: Sequence[Event], result: Received) -> None:
        # Seqs already seen (a replay overlapping what we saw) are skipped; a gap stops
        # the fold and asks for a resync.
        self.confirmed, applied, gap = fold(self.confirmed, events)
        result.needs_resync |= gap
        for event in applied:
            result.events.append(event)
            if self.pending.pop(event.broadcastId, None) is not None:
                result.confirmed.append(event.broadcastId)
            else:
                result.remote.append(event)

    def _rebuild_view(self) -> None:
        """Confirmed state plus own pending ops, re-decided: a pending op that no longer
        makes sense (its marker was deleted meanwhile) stays pending but is not shown."""
        view = self.confirmed
        for pending in self.pending.values():
            outcome = decide(view, pending.op, self.actor, pending.now, self.limits)
            if not isinstance(outcome, Rejection):
                view = apply(view, outcome, check_seq=False)
        self.view = view


def _still_deleted(state: RoomState, stone: Tombstone) -> bool:
    chat = state.chats.get(stone.chatId)
    if stone.comment is None:
        return chat is None
    return chat is not None and all(c.id != stone.comment.id for c in chat.comments)
