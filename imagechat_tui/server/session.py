"""One connection's protocol, sans I/O: the frames a client sends in, what to do out.

Like websockets' ``ServerProtocol``, this object never touches a socket or a clock:
``node`` feeds it every frame the client sends (``receive``) and carries out the action
it returns. Every frame goes through one path, before and after the join: take a token
from the rate budget (before anything is decoded, so a flood of refused frames costs
almost nothing), decode once, then dispatch on the session's phase.

    AWAITING_JOIN --join, token accepted--> JOINING --accepted()--> JOINED
          |                                    |
          +--token refused / timed_out()--> CLOSED <--refuse()--+
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from imagechat_tui.auth import AuthError, Identity
from imagechat_tui.protocol import (
    ClientOp,
    CloseCode,
    Error,
    ErrorCode,
    FrameError,
    Join,
    Ping,
    Pong,
    Who,
    decode_client_frame,
    encode,
    peek_broadcast_id,
)
from imagechat_tui.server.ratelimit import TokenBucket

PONG: Final = encode(Pong())


class Phase(enum.Enum):
    AWAITING_JOIN = "awaiting-join"
    JOINING = "joining"  # the token is good; the node is opening the room
    JOINED = "joined"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Reply:
    """Send this frame to the client; the connection stays open."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Send ``data`` (an error frame saying why, if any), then close with ``code``."""

    data: bytes | None
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A join whose token was accepted: the node opens the room, then calls
    ``accepted()`` or ``refuse()``."""

    join: Join
    identity: Identity


@dataclass(frozen=True, slots=True)
class Submit:
    """An op for the joined room."""

    op: ClientOp


@dataclass(frozen=True, slots=True)
class ListViewers:
    """``who``: answer with the room's ``viewers`` frame."""


LIST_VIEWERS: Final = ListViewers()

Action = Reply | Close | JoinRequest | Submit | ListViewers


def _error(code: str, message: str, broadcast_id: str | None = None) -> bytes:
    return encode(Error(broadcastId=broadcast_id, code=code, message=message))


class ServerSession:
    """The protocol state of one connection. ``verify`` checks a token (raising
    ``AuthError``); it is passed in so this module does no I/O of its own."""

    def __init__(self, bucket: TokenBucket, verify: Callable[[str], Identity]) -> None:
        self.bucket = bucket
        self.verify = verify
        self.phase = Phase.AWAITING_JOIN
        self.identity: Identity | None = None
        self.join: Join | None = None

    def receive(self, data: str | bytes) -> Action | None:
        """What to do about one frame from the client (None: nothing)."""
        if self.phase is Phase.CLOSED:
            return None
        if self.phase is Phase.JOINING:
            raise RuntimeError("no frame is read while the room is being opened")
        # The budget first: a refused frame is never decoded (its broadcastId is only
        # looked for at its very start, see protocol.peek_broadcast_id).
        if not self.bucket.take():
            return Reply(self._rate_limited(data))
        if isinstance(data, bytes):
            return Reply(
                _error(ErrorCode.BAD_FRAME, "Frames must be JSON text frames, not binary.")
            )
        try:
            frame = decode_client_frame(data)
        except FrameError as exc:
            return Reply(encode(exc.to_frame()))
        if isinstance(frame, Ping):
            return Reply(PONG)
        if isinstance(frame, Join):
            if self.phase is Phase.JOINED:
                return Reply(
                    _error(
                        ErrorCode.ALREADY_JOINED,
                        "This connection has already joined a room; open another "
                        "connection for another room.",
                    )
                )
            return self._join(frame)
        if self.phase is Phase.AWAITING_JOIN:
            return Reply(
                _error(
                    ErrorCode.NOT_JOINED,
                    "Send a join first: no room is joined yet.",
                    None if isinstance(frame, Who) else frame.broadcastId,
                )
            )
        if isinstance(frame, Who):
            return LIST_VIEWERS
        return Submit(frame)

    def _rate_limited(self, data: str | bytes) -> bytes:
        return _error(
            ErrorCode.RATE_LIMITED,
            f"Too many frames: at most {self.bucket.rate:g} a second (bursts of "
            f"{self.bucket.burst:g}). This one was dropped unread; try again in a moment.",
            peek_broadcast_id(data),
        )

    def _join(self, join: Join) -> Action:
        if join.token is None:
            return self.refuse(
                ErrorCode.UNAUTHORIZED, "A join needs a token.", CloseCode.UNAUTHORIZED
            )
        try:
            identity = self.verify(join.token)
        except AuthError as exc:
            return self.refuse(exc.code, exc.message, exc.close_code)
        if not identity.may_join(join.room):
            return self.refuse(
                ErrorCode.UNAUTHORIZED,
                "This token is not valid for that room.",
                CloseCode.FORBIDDEN,
            )
        self.phase = Phase.JOINING
        self.identity, self.join = identity, join
        return JoinRequest(join, identity)

    def accepted(self) -> None:
        """The room is open and this connection subscribed: ops are taken from now on."""
        if self.phase is not Phase.JOINING:
            raise RuntimeError(f"accepted() while {self.phase.value}")
        self.phase = Phase.JOINED

    def refuse(self, code: str, message: str, close_code: int) -> Close:
        """End the session before it joined: an error frame saying why, then the close
        code saying what the client should do."""
        self.phase = Phase.CLOSED
        return Close(_error(code, message), close_code, message[:120])

    def timed_out(self) -> Close | None:
        """The join deadline passed: close with 4008 unless a join came in time."""
        if self.phase is not Phase.AWAITING_JOIN:
            return None
        self.phase = Phase.CLOSED
        return Close(None, CloseCode.JOIN_TIMEOUT, "no join in time")
