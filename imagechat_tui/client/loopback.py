"""A ``Link`` with the server in memory: the real rules, no socket.

``LoopbackRoom`` is one room served the way the server serves it, from the same pure
parts: each frame a link sends goes through a ``ServerSession`` (the rate budget, the
decoding, the join), each op is decided by ``model.decide`` and applied with
``model.apply``, and every event is broadcast, encoded, to every joined link, whose
``Replica`` folds it exactly as over a WebSocket. An op's echo confirms it; a refused
op comes back as an ``error`` that undoes it. What is left out is only the I/O
(sockets, storage, the broker): those are tested end to end elsewhere.

Frames wait in each link's inbox until it is run (``LoopbackLink.run``, as the app
runs a ``Connection``) or, with no event loop, until ``LoopbackRoom.pump`` delivers
them: so an own op shows at once and is confirmed later, as over a network.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from msgspec import Struct

from imagechat_tui.auth import Identity
from imagechat_tui.client.link import (
    ConnState,
    NotConnected,
    PresenceListener,
    ReceivedListener,
    StateListener,
    ViewersListener,
    ignore,
)
from imagechat_tui.model import DEFAULT_LIMITS, Actor, Limits, Rejection, RoomState, apply, decide
from imagechat_tui.protocol import (
    Ack,
    ClientOp,
    Error,
    Event,
    Join,
    Joined,
    Presence,
    ServerLimits,
    Snapshot,
    User,
    Viewers,
    Who,
    decode_server_frame,
    encode,
)
from imagechat_tui.replica import Replica
from imagechat_tui.server.ratelimit import TokenBucket
from imagechat_tui.server.session import (
    JoinRequest,
    ListViewers,
    Reply,
    ServerSession,
    Submit,
)

#: A token's lifetime here: the loopback room trusts the link it was given.
_FOREVER_MS = 2**62


def _now_ms() -> int:
    return int(time.time() * 1000)


class LoopbackRoom:
    """One room's authoritative state, served to its links in memory."""

    def __init__(
        self,
        room: str,
        snapshot: Snapshot | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        ops_per_second: float = 1000.0,
        presence: bool = True,
    ) -> None:
        self.name = room
        self.state = RoomState.from_snapshot(snapshot) if snapshot else RoomState(room=room)
        self.limits = limits
        self.ops_per_second = ops_per_second
        self.announces_presence = presence  # off: fixed pictures show no viewer count
        self.links: list[LoopbackLink] = []  # joined, in order of arrival
        self._known: dict[str, int] = {}  # broadcastId -> seq: a re-sent op is acked

    def link(self, user: User, role: str = "member") -> LoopbackLink:
        """A new link for ``user`` (not joined until it runs, or ``join()``)."""
        return LoopbackLink(self, user, role)

    @property
    def announced(self) -> ServerLimits:
        rate = self.ops_per_second
        return ServerLimits(
            maxText=self.limits.max_text,
            maxMarkers=self.limits.max_markers,
            maxComments=self.limits.max_comments,
            maxFrameBytes=65536,
            opsPerSecond=rate,
            opsBurst=int(rate),
            undoSeconds=self.limits.undo_seconds,
            maxRoomBytes=self.limits.max_room_bytes,
        )

    def pump(self) -> int:
        """Deliver every frame waiting in any link's inbox (for callers with no event
        loop running the links); returns how many."""
        delivered = 0
        while any(link.waiting for link in self.links):
            for link in list(self.links):
                delivered += link.deliver()
        return delivered

    # --- what the links call ----------------------------------------------------------

    def _joined(self, link: LoopbackLink, identity: Identity) -> None:
        if link not in self.links:
            self.links.append(link)
        actor = identity.actor
        link.queue(
            Joined(
                room=self.name,
                seq=self.state.seq,
                recovered=False,
                user=actor.user,
                limits=self.announced,
                role=actor.role,
            )
        )
        link.queue(self.state.to_snapshot())
        self._presence()

    def _left(self, link: LoopbackLink) -> None:
        if link in self.links:
            self.links.remove(link)
            self._presence()

    def viewers(self) -> tuple[User, ...]:
        """Who is joined, once each, in order of arrival."""
        found: dict[str, User] = {}
        for link in self.links:
            found.setdefault(link.user.id, link.user)
        return tuple(found.values())

    def _presence(self) -> None:
        if not self.announces_presence:
            return
        viewers = self.viewers()
        presence = Presence(room=self.name, viewers=viewers, count=len(viewers))
        for link in self.links:
            link.queue(presence)

    def _decide(self, link: LoopbackLink, actor: Actor, op: ClientOp) -> None:
        """As the server's room does: a known op is acked, a refused one answered with
        an error, an accepted one applied and broadcast to all (its echo answers it)."""
        bid = op.broadcastId
        if bid in self._known:
            link.queue(Ack(broadcastId=bid, seq=self._known[bid]))
            return
        outcome = decide(self.state, op, actor, _now_ms(), self.limits)
        if isinstance(outcome, Rejection):
            link.queue(Error(broadcastId=bid, code=outcome.code, message=outcome.message))
            return
        self.state = apply(self.state, outcome)
        self._known[bid] = outcome.seq
        for other in self.links:
            other.queue(outcome)


class LoopbackLink:
    """A ``Link`` to a ``LoopbackRoom``: the same replica, states and reports as a
    ``Connection``, with the frames carried in memory."""

    def __init__(self, room: LoopbackRoom, user: User, role: str = "member") -> None:
        self.room = room
        self.user = user
        self.role = role
        self.token = user.id
        self.url = f"loopback:{room.name}"  # no server to share from
        self.replica = Replica(room.name, Actor(user, role))
        self.state = ConnState("connecting")
        self.presence: Presence | None = None
        self._inbox: deque[bytes] = deque()
        self._session: ServerSession | None = None
        self._wake: asyncio.Event | None = None
        self._closed = False
        self._on_state: StateListener = ignore
        self._on_received: ReceivedListener = ignore
        self._on_presence: PresenceListener = ignore
        self._on_viewers: ViewersListener = ignore

    @property
    def connected(self) -> bool:
        return self.state.connected

    def listen(
        self,
        *,
        on_state: StateListener,
        on_received: ReceivedListener,
        on_presence: PresenceListener = ignore,
        on_viewers: ViewersListener = ignore,
    ) -> None:
        self._on_state = on_state
        self._on_received = on_received
        self._on_presence = on_presence
        self._on_viewers = on_viewers

    # --- the network, in memory -------------------------------------------------------

    def join(self) -> None:
        """Send a join (with the replica's ``since``); connected once the answer is
        delivered, as over a socket."""
        self._session = session = ServerSession(
            TokenBucket(self.room.ops_per_second, self.room.ops_per_second), self._verify
        )
        join = Join(room=self.room.name, token=self.token, since=self.replica.seq)
        action = session.receive(encode(join).decode())
        if isinstance(action, JoinRequest):
            session.accepted()
            self.room._joined(self, action.identity)
        self._set_state(ConnState("connecting"))

    def drop(self, state: ConnState | None = None) -> None:
        """The link is lost (or held in ``state``, e.g. offline): the room forgets it and
        frames not yet delivered are lost with it."""
        self.room._left(self)
        self._session = None
        self._inbox.clear()
        self._set_state(state or ConnState("reconnecting", reason="The connection was lost."))

    def queue(self, frame: Struct) -> None:
        """A frame from the room, encoded as the server sends it."""
        self._inbox.append(encode(frame))
        if self._wake is not None:
            self._wake.set()

    @property
    def waiting(self) -> int:
        return len(self._inbox)

    def deliver(self) -> int:
        """Fold the frames waiting in the inbox into the replica and report them."""
        count = 0
        while self._inbox:
            frame = decode_server_frame(self._inbox.popleft())
            count += 1
            if isinstance(frame, Presence):
                self.presence = frame
                self._on_presence(frame)
                continue
            if isinstance(frame, Viewers):
                self._on_viewers(frame)
                continue
            received = self.replica.receive(frame)
            self._on_received(received)
            if received.snapshot and not self.connected and self._session is not None:
                self._set_state(ConnState("connected"))
                for op in self.replica.in_flight():  # as a Connection re-sends them
                    self._send(op)
        return count

    def _verify(self, token: str) -> Identity:
        return Identity("local", Actor(self.user, self.role), _FOREVER_MS)

    def _send(self, op: ClientOp | Who) -> None:
        session = self._session
        if session is None:
            return  # stays in flight; re-sent after the next join
        action = session.receive(encode(op).decode())
        if isinstance(action, Submit):
            self.room._decide(self, Actor(self.user, self.role), action.op)
        elif isinstance(action, ListViewers):
            viewers = self.room.viewers()
            self.queue(Viewers(room=self.room.name, viewers=viewers, count=len(viewers)))
        elif isinstance(action, Reply):
            self._inbox.append(action.data)  # the session's own answer (rate, bad frame)

    def _set_state(self, state: ConnState) -> None:
        self.state = state
        self._on_state(state)

    # --- Link --------------------------------------------------------------------------

    def submit(self, op: ClientOp, now_ms: int | None = None) -> Event | Rejection:
        if (offline := self.state.offline_reason) is not None:
            raise NotConnected(offline)
        outcome = self.replica.propose(op, _now_ms() if now_ms is None else now_ms)
        if not isinstance(outcome, Rejection):
            self._send(op)
        return outcome

    def request_viewers(self) -> bool:
        if not self.connected:
            return False
        self._send(Who())
        return True

    async def run(self) -> None:
        """Join (unless held in a state by ``drop``) and deliver frames as they come,
        until ``close``."""
        self._wake = wake = asyncio.Event()
        if self.state.kind == "connecting":
            self.join()
        try:
            while not self._closed:
                self.deliver()
                await wake.wait()
                wake.clear()
        finally:
            self._wake = None
        self._set_state(ConnState("offline", reason="Closed."))

    def retry_now(self) -> None:
        """Join again now if the link is down."""
        if not self._closed and self._session is None:
            self.join()

    def set_token(self, token: str) -> None:
        self.token = token
        self.retry_now()

    async def close(self) -> None:
        self._closed = True
        self.room._left(self)
        self._session = None
        if self._wake is not None:
            self._wake.set()
