"""The compact binary form of the broadcasts: subprotocol ``imagechat.msgpack.v1``.

Pure codecs, no I/O. JSON text frames stay the documented default (a client that offers
no subprotocol gets exactly those); a client that offers ``imagechat.msgpack.v1`` in
``Sec-WebSocket-Protocol`` gets every *event* (the three broadcasts and ``batch``) as a
binary frame: msgpack arrays in the field order of ``protocol``'s types (no keys), and
each id that is a canonical UUID as 16 raw bytes (msgpack ext type 1) instead of 36
characters. Every other frame, and everything the client sends, stays JSON text. A
new marker is 189 bytes instead of 442, and ~150 once deflated (docs/PROTOCOL.md).

Decoding gives back ``protocol``'s own types, so the app folds the same events whichever
form they came in (``tests/test_wire.py`` checks the round trip).
"""

from __future__ import annotations

import uuid
from typing import Final

import msgspec
from msgspec import Struct
from msgspec.msgpack import Ext

from imagechat_tui import protocol as p

SUBPROTOCOL: Final = "imagechat.msgpack.v1"
UUID_EXT: Final = 1  # msgpack ext type of an id sent as its 16 raw UUID bytes

#: An id: a canonical (lowercase, hyphenated) UUID as Ext(1, 16 bytes), anything else as
#: its string, so every id comes back exactly as it was sent.
Id = str | Ext


def _id(value: str) -> Id:
    if len(value) == 36:
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            return value
        if str(parsed) == value:
            return Ext(UUID_EXT, parsed.bytes)
    return value


def _str(value: Id) -> str:
    if isinstance(value, Ext):
        raw = bytes(value.data)
        if value.code != UUID_EXT or len(raw) != 16:
            raise msgspec.ValidationError(f"unknown id encoding (ext {value.code})")
        return str(uuid.UUID(bytes=raw))
    return value


class User(Struct, array_like=True, frozen=True):
    id: str
    name: str


class Comment(Struct, array_like=True, frozen=True):
    id: Id
    author: User
    text: str
    createdAt: int
    editedAt: int | None = None


class Chat(Struct, array_like=True, frozen=True):
    id: Id
    number: int
    x: float
    y: float
    createdBy: User
    createdAt: int
    comments: tuple[Comment, ...]
    resolved: bool = False
    w: float | None = None
    h: float | None = None


class Undoable(Struct, array_like=True, frozen=True):
    by: str
    at: int
    until: int


class CommentAdded(Struct, array_like=True, frozen=True, tag=1):
    comment: Comment
    position: int | None = None


class CommentEdited(Struct, array_like=True, frozen=True, tag=2):
    commentId: Id
    text: str
    editedAt: int


class CommentDeleted(Struct, array_like=True, frozen=True, tag=3):
    commentId: Id
    undo: Undoable | None = None


class Resolved(Struct, array_like=True, frozen=True, tag=4):
    pass


class Reopened(Struct, array_like=True, frozen=True, tag=5):
    pass


class Moved(Struct, array_like=True, frozen=True, tag=6):
    x: float
    y: float


Change = CommentAdded | CommentEdited | CommentDeleted | Resolved | Reopened | Moved


class NewImageChat(Struct, array_like=True, frozen=True, tag=1):
    room: str
    seq: int
    broadcastId: Id
    chat: Chat


class ImageChatUpdated(Struct, array_like=True, frozen=True, tag=2):
    room: str
    seq: int
    broadcastId: Id
    chatId: Id
    change: Change


class DeletedImageChat(Struct, array_like=True, frozen=True, tag=3):
    room: str
    seq: int
    broadcastId: Id
    chatId: Id
    undo: Undoable | None = None


Event = NewImageChat | ImageChatUpdated | DeletedImageChat


class Batch(Struct, array_like=True, frozen=True, tag=4):
    events: tuple[Event, ...]


Frame = NewImageChat | ImageChatUpdated | DeletedImageChat | Batch

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Frame)


# --- protocol -> binary ------------------------------------------------------------------


def _user(u: p.User) -> User:
    return User(u.id, u.name)


def _comment(c: p.Comment) -> Comment:
    return Comment(_id(c.id), _user(c.author), c.text, c.createdAt, c.editedAt)


def _chat(c: p.Chat) -> Chat:
    comments = tuple(_comment(x) for x in c.comments)
    return Chat(
        _id(c.id), c.number, c.x, c.y, _user(c.createdBy), c.createdAt, comments,
        c.resolved, c.w, c.h,
    )  # fmt: skip


def _undo(u: p.Undoable | None) -> Undoable | None:
    return None if u is None else Undoable(u.by, u.at, u.until)


def _change(c: p.ChangeEvent) -> Change:
    if isinstance(c, p.CommentAdded):
        return CommentAdded(_comment(c.comment), c.position)
    if isinstance(c, p.CommentEdited):
        return CommentEdited(_id(c.commentId), c.text, c.editedAt)
    if isinstance(c, p.CommentDeleted):
        return CommentDeleted(_id(c.commentId), _undo(c.undo))
    if isinstance(c, p.Resolve):
        return Resolved()
    if isinstance(c, p.Reopen):
        return Reopened()
    return Moved(c.x, c.y)


def _event(e: p.Event) -> Event:
    bid = _id(e.broadcastId)
    if isinstance(e, p.NewImageChat):
        return NewImageChat(e.room, e.seq, bid, _chat(e.chat))
    if isinstance(e, p.ImageChatUpdated):
        return ImageChatUpdated(e.room, e.seq, bid, _id(e.chatId), _change(e.change))
    return DeletedImageChat(e.room, e.seq, bid, _id(e.chatId), _undo(e.undo))


def encode_events(events: list[p.Event]) -> bytes:
    """One binary frame: the event alone, or a ``batch`` of several."""
    if len(events) == 1:
        return _encoder.encode(_event(events[0]))
    return _encoder.encode(Batch(tuple(_event(e) for e in events)))


# --- binary -> protocol ------------------------------------------------------------------


def _p_user(u: User) -> p.User:
    return p.User(id=u.id, name=u.name)


def _p_comment(c: Comment) -> p.Comment:
    return p.Comment(
        id=_str(c.id), author=_p_user(c.author), text=c.text, createdAt=c.createdAt,
        editedAt=c.editedAt,
    )  # fmt: skip


def _p_chat(c: Chat) -> p.Chat:
    return p.Chat(
        id=_str(c.id), number=c.number, x=c.x, y=c.y, createdBy=_p_user(c.createdBy),
        createdAt=c.createdAt, comments=tuple(_p_comment(x) for x in c.comments),
        resolved=c.resolved, w=c.w, h=c.h,
    )  # fmt: skip


def _p_undo(u: Undoable | None) -> p.Undoable | None:
    return None if u is None else p.Undoable(by=u.by, at=u.at, until=u.until)


def _p_change(c: Change) -> p.ChangeEvent:
    if isinstance(c, CommentAdded):
        return p.CommentAdded(comment=_p_comment(c.comment), position=c.position)
    if isinstance(c, CommentEdited):
        return p.CommentEdited(commentId=_str(c.commentId), text=c.text, editedAt=c.editedAt)
    if isinstance(c, CommentDeleted):
        return p.CommentDeleted(commentId=_str(c.commentId), undo=_p_undo(c.undo))
    if isinstance(c, Resolved):
        return p.Resolve()
    if isinstance(c, Reopened):
        return p.Reopen()
    return p.Move(x=c.x, y=c.y)


def _p_event(e: Event) -> p.Event:
    bid = _str(e.broadcastId)
    if isinstance(e, NewImageChat):
        return p.NewImageChat(room=e.room, seq=e.seq, broadcastId=bid, chat=_p_chat(e.chat))
    if isinstance(e, ImageChatUpdated):
        return p.ImageChatUpdated(
            room=e.room, seq=e.seq, broadcastId=bid, chatId=_str(e.chatId),
            change=_p_change(e.change),
        )  # fmt: skip
    return p.DeletedImageChat(
        room=e.room, seq=e.seq, broadcastId=bid, chatId=_str(e.chatId), undo=_p_undo(e.undo)
    )


def decode_frame(data: bytes) -> p.Event | p.Batch:
    """A binary frame as ``protocol``'s types (raises ``msgspec.DecodeError``)."""
    frame = _decoder.decode(data)
    if isinstance(frame, Batch):
        return p.Batch(events=tuple(_p_event(e) for e in frame.events))
    return _p_event(frame)
