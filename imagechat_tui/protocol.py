"""The wire contract: every frame a client or server may send, as msgspec schemas.

Pure data and codecs, no I/O. ``docs/PROTOCOL.md`` describes the same contract in
prose; the server, the terminal app, the benchmarks and the tests all use these
types, so a frame that decodes here is a frame the whole system agrees on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct

# --- scalar shapes --------------------------------------------------------------------

#: A client-made identifier. UUIDs are expected; anything 1-64 printable chars is
#: accepted so that clients in other languages need no UUID library to interoperate.
Ident = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
#: A room name: tenant-scoped, chosen by the client (the app derives it from the image).
RoomName = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-/]+$")]
#: Percent of the image's width or height from its top-left corner.
Percent = Annotated[float, Meta(ge=0.0, le=100.0)]
#: Comment text. Its length limit is the server's (``maxText``, checked by ``decide`` as
#: `too-large`); the frame size limit bounds what reaches the decoder.
Text = Annotated[str, Meta(min_length=1)]
Seq = Annotated[int, Meta(ge=0, le=2**53)]
#: Milliseconds since the Unix epoch (UTC).
Millis = int

# --- the chat model as it travels ------------------------------------------------------


class User(Struct, frozen=True, forbid_unknown_fields=False):
    id: str
    name: str


class Comment(Struct, frozen=True, omit_defaults=True):
    id: str
    author: User
    text: str
    createdAt: Millis
    editedAt: Millis | None = None


class Chat(Struct, frozen=True, omit_defaults=True):
    """A numbered marker and its thread. ``comments[0]`` opens the thread.

    A point marker is at (x, y); a region marker (``w`` and ``h`` set) covers the
    rectangle whose top-left corner is (x, y). Clients that predate regions ignore
    ``w`` and ``h`` and see a pin at the region's corner.
    """

    id: str
    number: int
    x: float
    y: float
    createdBy: User
    createdAt: Millis
    comments: tuple[Comment, ...]
    resolved: bool = False
    w: float | None = None
    h: float | None = None

    @property
    def is_region(self) -> bool:
        return self.w is not None and self.h is not None


# --- client ops ------------------------------------------------------------------------


class Base(Struct, frozen=True, forbid_unknown_fields=True):
    """Unknown fields are refused so that a typo never silently does nothing.

    Subclasses repeat ``frozen=True``: msgspec inherits it, but type checkers (PEP 681)
    do not, and would otherwise treat the ops as mutable."""


class NewChat(Base, frozen=True):
    id: Ident
    x: Percent
    y: Percent
    text: Text
    # A region's size in percent (both or neither; model.region_problem has the rule).
    w: Percent | None = None
    h: Percent | None = None


class NewComment(Base, frozen=True):
    id: Ident
    text: Text


class AddComment(Base, frozen=True, tag="comment", tag_field="kind"):
    comment: NewComment


class EditComment(Base, frozen=True, tag="edit-comment", tag_field="kind"):
    commentId: Ident
    text: Text


class DeleteComment(Base, frozen=True, tag="delete-comment", tag_field="kind"):
    commentId: Ident


class Resolve(Base, frozen=True, tag="resolve", tag_field="kind"):
    pass


class Reopen(Base, frozen=True, tag="reopen", tag_field="kind"):
    pass


class Move(Base, frozen=True, tag="move", tag_field="kind"):
    x: Percent
    y: Percent


ChangeRequest = AddComment | EditComment | DeleteComment | Resolve | Reopen | Move


class Join(Base, frozen=True, tag="join", tag_field="op"):
    room: RoomName
    # Missing or null is `unauthorized` (close 4001), not `invalid`: the session says so.
    token: Annotated[str, Meta(max_length=4096)] | None = None
    since: Seq | None = None


class CreateOp(Base, frozen=True, tag="create", tag_field="op"):
    broadcastId: Ident
    chat: NewChat


class UpdateOp(Base, frozen=True, tag="update", tag_field="op"):
    broadcastId: Ident
    chatId: Ident
    change: ChangeRequest


class DeleteOp(Base, frozen=True, tag="delete", tag_field="op"):
    broadcastId: Ident
    chatId: Ident


class RestoreOp(Base, frozen=True, tag="restore", tag_field="op"):
    """Undo a delete within the undo window (``undoSeconds`` in ``joined``): the marker
    (``commentId`` absent) or the comment comes back whole, as it was deleted."""

    broadcastId: Ident
    chatId: Ident
    commentId: Ident | None = None


class Ping(Base, frozen=True, tag="ping", tag_field="op"):
    """Application-level keepalive for clients whose WebSocket library hides pings."""


class Who(Base, frozen=True, tag="who", tag_field="op"):
    """Ask for the viewers' names (answered with ``viewers``, to the asker only): past
    ``PRESENCE_NAMED`` viewers, ``presence`` carries the count alone."""


ClientOp = CreateOp | UpdateOp | DeleteOp | RestoreOp
ClientFrame = Join | CreateOp | UpdateOp | DeleteOp | RestoreOp | Ping | Who
CLIENT_OPS: Final = frozenset({"join", "create", "update", "delete", "restore", "ping", "who"})

# --- changes as the server broadcasts them (server-filled fields included) -------------


class CommentAdded(Struct, frozen=True, tag="comment", tag_field="kind", omit_defaults=True):
    comment: Comment
    #: Set when a restore puts the comment back where it was: its index in the thread
    #: (absent: at the end).
    position: int | None = None


class CommentEdited(Struct, frozen=True, tag="edit-comment", tag_field="kind"):
    commentId: str
    text: str
    editedAt: Millis


class Undoable(Struct, frozen=True):
    """A delete that ``restore`` may undo: who deleted (user id), when, and until when
    (epoch ms) the server keeps what was deleted."""

    by: str
    at: Millis
    until: Millis


class CommentDeleted(
    Struct, frozen=True, tag="delete-comment", tag_field="kind", omit_defaults=True
):
    commentId: str
    undo: Undoable | None = None


ChangeEvent = CommentAdded | CommentEdited | CommentDeleted | Resolve | Reopen | Move

# --- server frames ---------------------------------------------------------------------


class NewImageChat(Struct, frozen=True, tag="new-image-chat", tag_field="type"):
    room: str
    seq: int
    broadcastId: str
    chat: Chat


class ImageChatUpdated(Struct, frozen=True, tag="image-chat-updated", tag_field="type"):
    room: str
    seq: int
    broadcastId: str
    chatId: str
    change: ChangeEvent


class DeletedImageChat(
    Struct, frozen=True, tag="deleted-image-chat", tag_field="type", omit_defaults=True
):
    room: str
    seq: int
    broadcastId: str
    chatId: str
    undo: Undoable | None = None  # absent: it cannot be restored


Event = NewImageChat | ImageChatUpdated | DeletedImageChat
EVENT_TYPES: Final = ("new-image-chat", "image-chat-updated", "deleted-image-chat")


class RoomImage(Struct, frozen=True, omit_defaults=True):
    """The image a shared room shows: fetch it from ``GET /images/{digest}``."""

    digest: str  # sha256 hex of the encoded bytes
    width: int
    height: int
    title: str = ""


class ServerLimits(Struct, frozen=True):
    """The server's limits, sent in ``joined`` so a client can refuse before sending."""

    maxText: int  # characters (Unicode code points) per comment text
    maxMarkers: int  # markers per room
    maxComments: int  # comments per marker, the opening comment included
    maxFrameBytes: int  # largest frame the server accepts from a client (else close 1009)
    opsPerSecond: float  # frames per connection per second, sustained ...
    opsBurst: int  # ... and in a burst; beyond that, `rate-limited`
    undoSeconds: int = 0  # how long a delete can be restored (0: not at all, or an old server)
    maxRoomBytes: int = 0  # a room's comments in all (model.comment_bytes); 0: an old server


class Joined(Struct, frozen=True, tag="joined", tag_field="type"):
    room: str
    seq: int
    recovered: bool
    user: User
    limits: ServerLimits | None = None  # always sent; absent only from servers before it
    role: str = "member"
    image: RoomImage | None = None  # set when the room was shared with its image


class Snapshot(Struct, frozen=True, tag="snapshot", tag_field="type"):
    """The room at ``seq``, possibly in several frames (see ``snapshot_frames``): every
    part but the last has ``more``; a chat may continue into the next part."""

    room: str
    seq: int
    chats: tuple[Chat, ...]
    more: bool = False


class Batch(Struct, frozen=True, tag="batch", tag_field="type"):
    events: tuple[Event, ...]


class Error(Struct, frozen=True, tag="error", tag_field="type"):
    broadcastId: str | None
    code: str
    message: str


class Ack(Struct, frozen=True, tag="ack", tag_field="type"):
    """Answer to an op whose ``broadcastId`` was already applied: nothing new happened."""

    broadcastId: str
    seq: int


#: Rooms of at most this many viewers get every name in each ``presence``; larger ones
#: get the count alone, and a client asks for names with ``who``.
PRESENCE_NAMED: Final = 50
#: Viewers named in a ``viewers`` answer, in order of arrival (``count`` has them all).
VIEWERS_LISTED: Final = 500


class Presence(Struct, frozen=True, tag="presence", tag_field="type"):
    room: str
    viewers: tuple[User, ...]  # everyone up to PRESENCE_NAMED viewers; none past that
    count: int = 0  # all viewers, listed or not


class Viewers(Struct, frozen=True, tag="viewers", tag_field="type"):
    """The answer to ``who``: the first ``VIEWERS_LISTED`` viewers by name."""

    room: str
    viewers: tuple[User, ...]
    count: int


class Pong(Struct, frozen=True, tag="pong", tag_field="type"):
    pass


ServerFrame = (
    NewImageChat
    | ImageChatUpdated
    | DeletedImageChat
    | Joined
    | Snapshot
    | Batch
    | Error
    | Ack
    | Presence
    | Viewers
    | Pong
)

# --- error codes and close codes -------------------------------------------------------


class ErrorCode:
    """Stable ``code`` values of ``error`` frames. Clients switch on these, never on text."""

    BAD_JSON: Final = "bad-json"
    BAD_FRAME: Final = "bad-frame"
    UNKNOWN_OP: Final = "unknown-op"
    INVALID: Final = "invalid"
    NOT_JOINED: Final = "not-joined"
    ALREADY_JOINED: Final = "already-joined"
    UNAUTHORIZED: Final = "unauthorized"
    FORBIDDEN: Final = "forbidden"
    UNKNOWN_CHAT: Final = "unknown-chat"
    UNKNOWN_COMMENT: Final = "unknown-comment"
    DUPLICATE_ID: Final = "duplicate-id"
    LIMIT_REACHED: Final = "limit-reached"
    RATE_LIMITED: Final = "rate-limited"
    TOO_LARGE: Final = "too-large"
    UNAVAILABLE: Final = "unavailable"
    INTERNAL: Final = "internal"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses; 4000-4999 are ours."""

    GOING_AWAY = 1001  # server shutting down: reconnect (to another node)
    POLICY = 1008
    TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013  # the database is unreachable: reconnect with backoff
    UNAUTHORIZED = 4001  # bad or missing token: do not retry with the same token
    TOKEN_EXPIRED = 4002  # get a new token, then reconnect
    FORBIDDEN = 4003  # token not valid for this room or tenant
    JOIN_TIMEOUT = 4008  # no join within the allowed time
    TOO_SLOW = 4009  # fell too far behind; reconnect with `since` to resync
    TOO_MANY_CONNECTIONS = 4029  # this user has too many connections open: close one
    TOO_MANY_ROOMS = 4030  # the tenant has reached its room limit: this room cannot be made


# --- codecs ----------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_client_decoder = msgspec.json.Decoder(ClientFrame)
_server_decoder = msgspec.json.Decoder(ServerFrame)
_event_decoder = msgspec.json.Decoder(Event)


class _Envelope(Struct):
    """Just enough of a frame to answer errors with the right ``broadcastId``."""

    op: Any = None
    broadcastId: Any = None


_envelope_decoder = msgspec.json.Decoder(_Envelope)


class FrameError(Exception):
    """A client frame that cannot be accepted; carries the error frame to answer with."""

    def __init__(self, code: str, message: str, broadcast_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.broadcast_id = broadcast_id

    def to_frame(self) -> Error:
        return Error(broadcastId=self.broadcast_id, code=self.code, message=self.message)


def encode(frame: Struct) -> bytes:
    return _encoder.encode(frame)


#: Batches stop growing at this size, so every frame fits clients' default 1 MiB limit.
MAX_BATCH_BYTES: Final = 256 * 1024


def encode_batch(encoded_events: list[bytes]) -> bytes:
    """A ``batch`` frame from already-encoded events, without decoding them again."""
    return b'{"type":"batch","events":[' + b",".join(encoded_events) + b"]}"


def frames_for(encoded_events: list[bytes], max_bytes: int = MAX_BATCH_BYTES) -> list[bytes]:
    """The frames that carry these events: one event alone, else batches of at most
    ``max_bytes`` (an event larger than that goes alone)."""
    if len(encoded_events) == 1:
        return encoded_events
    frames: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for event in encoded_events:
        if chunk and size + len(event) > max_bytes:
            frames.append(chunk[0] if len(chunk) == 1 else encode_batch(chunk))
            chunk, size = [], 0
        chunk.append(event)
        size += len(event) + 1
    if chunk:
        frames.append(chunk[0] if len(chunk) == 1 else encode_batch(chunk))
    return frames


def snapshot_frames(
    room: str, seq: int, chats: Iterable[Chat], max_bytes: int = MAX_BATCH_BYTES
) -> list[bytes]:
    """A snapshot as ``snapshot`` frames of about ``max_bytes`` at most: chats in order,
    as many per frame as fit; a chat too large for one frame is split between its
    comments, each later part repeating the chat with the comments that follow. So no
    frame is larger than ``max_bytes`` plus one item (a chat with one comment)."""
    head = b'{"type":"snapshot","room":' + _encoder.encode(room) + b',"seq":%d,"chats":[' % seq
    frames: list[bytes] = []
    items: list[bytes] = []
    size = 0

    def add(item: bytes) -> None:
        nonlocal items, size
        if items and size + len(item) > max_bytes:
            frames.append(head + b",".join(items) + b'],"more":true}')
            items, size = [], 0
        items.append(item)
        size += len(item) + 1

    for chat in chats:
        encoded = _encoder.encode(chat)
        if len(encoded) <= max_bytes or len(chat.comments) <= 1:
            add(encoded)
            continue
        # Too large for one frame: parts of at least one comment each, in order.
        bare = len(_encoder.encode(msgspec.structs.replace(chat, comments=())))
        group: list[Comment] = []
        group_size = bare
        for comment in chat.comments:
            comment_size = len(_encoder.encode(comment)) + 1
            if group and group_size + comment_size > max_bytes:
                add(_encoder.encode(msgspec.structs.replace(chat, comments=tuple(group))))
                group, group_size = [], bare
            group.append(comment)
            group_size += comment_size
        add(_encoder.encode(msgspec.structs.replace(chat, comments=tuple(group))))
    frames.append(head + b",".join(items) + b'],"more":false}')
    return frames


def merge_snapshot(parts: Sequence[Snapshot]) -> Snapshot:
    """One snapshot from its parts (``snapshot_frames``' frames, decoded, in order)."""
    chats: dict[str, Chat] = {}
    for part in parts:
        for chat in part.chats:
            earlier = chats.get(chat.id)
            chats[chat.id] = (
                chat
                if earlier is None
                else msgspec.structs.replace(earlier, comments=earlier.comments + chat.comments)
            )
    last = parts[-1]
    return Snapshot(room=last.room, seq=last.seq, chats=tuple(chats.values()))


#: Where a frame refused unread may name its op: at its very start, in the order this
#: document's examples (and every msgspec-encoded op) use: ``{"op":...,"broadcastId":...``.
_LEADING_BROADCAST_ID = re.compile(
    r'\A\s*\{\s*"op"\s*:\s*"[a-z]{1,16}"\s*,\s*"broadcastId"\s*:\s*"([A-Za-z0-9_.:\-]{1,64})"'
)
_PEEK_CHARS = 160


def peek_broadcast_id(data: str | bytes) -> str | None:
    """The ``broadcastId`` of a frame that is refused without being decoded (rate
    limit), if it stands at the frame's start; else None. Reads at most 160 characters."""
    head = data[:_PEEK_CHARS]
    if isinstance(head, bytes):
        head = head.decode("utf-8", "replace")
    match = _LEADING_BROADCAST_ID.match(head)
    return match.group(1) if match else None


def decode_client_frame(data: str | bytes) -> ClientFrame:
    """Decode one client frame or raise FrameError with a code and a readable message."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    try:
        envelope = _envelope_decoder.decode(data)
    except msgspec.ValidationError:
        raise FrameError(ErrorCode.BAD_FRAME, "A frame must be a JSON object.") from None
    except msgspec.DecodeError as exc:
        raise FrameError(ErrorCode.BAD_JSON, f"The frame is not valid JSON: {exc}.") from None
    except RecursionError:
        raise FrameError(ErrorCode.BAD_FRAME, "The frame is nested too deeply.") from None
    broadcast_id = envelope.broadcastId if isinstance(envelope.broadcastId, str) else None
    if broadcast_id is not None and len(broadcast_id) > 64:
        broadcast_id = None
    if envelope.op is None:
        raise FrameError(ErrorCode.BAD_FRAME, 'The frame has no "op" field.', broadcast_id)
    if not isinstance(envelope.op, str) or envelope.op not in CLIENT_OPS:  # [] is unhashable
        # Never repr() a client value: a deeply nested one exceeds the recursion limit.
        op = envelope.op
        shown = repr(op[:40]) if isinstance(op, str) else f"(a JSON {type(op).__name__})"
        raise FrameError(
            ErrorCode.UNKNOWN_OP,
            f"Unknown op {shown}; expected one of {', '.join(sorted(CLIENT_OPS))}.",
            broadcast_id,
        )
    try:
        return _client_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise FrameError(
            ErrorCode.INVALID, f"Invalid {envelope.op}: {exc}.", broadcast_id
        ) from None
    except msgspec.DecodeError as exc:  # pragma: no cover - the envelope decoded, so rare
        raise FrameError(ErrorCode.BAD_JSON, f"The frame is not valid JSON: {exc}.") from None
    except RecursionError:  # pragma: no cover - the envelope decoded, so rare
        raise FrameError(
            ErrorCode.BAD_FRAME, "The frame is nested too deeply.", broadcast_id
        ) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of every client and server frame: the appendix of
    docs/PROTOCOL.md is generated from it (scripts/protocol_schema.py)."""
    (client, server), defs = msgspec.json.schema_components(
        (ClientFrame, ServerFrame), ref_template="#/$defs/{name}"
    )
    return {"clientFrame": client, "serverFrame": server, "$defs": defs}


def decode_server_frame(data: str | bytes) -> ServerFrame:
    return _server_decoder.decode(data)


def decode_event(data: str | bytes) -> Event:
    return _event_decoder.decode(data)


Role = Literal["viewer", "member", "moderator", "admin"]
ROLES: Final = ("viewer", "member", "moderator", "admin")
