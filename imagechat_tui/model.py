"""The chat state of one room and the rules of every event. Pure: no I/O, no clocks.

``decide`` turns a client op into the event it causes (or a ``Rejection`` saying why
not), ``apply`` is the change one event makes to a ``RoomState``, and ``fold`` is the one
way a stream of events (a broadcast, a replay, a database log) advances a state: old seqs
skipped, a gap reported. The server decides and applies authoritatively; the room, both
storages and the terminal app's replica all fold with the very same function, so the
rules live here and nowhere else.

States are immutable: ``apply`` returns a new state and shares every unchanged chat with
the old one, so keeping the previous state around (for rollback, or for an optimistic
view) costs nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, NamedTuple, TypeVar, overload

import msgspec
from msgspec import Struct

# The roles and the limits are values (policy.py, light enough for --help); the rules are here.
from imagechat_tui.policy import DEFAULT_LIMITS as DEFAULT_LIMITS
from imagechat_tui.policy import ROLE_RANK as ROLE_RANK
from imagechat_tui.policy import Limits as Limits
from imagechat_tui.protocol import (
    AddComment,
    Chat,
    ClientOp,
    Comment,
    CommentAdded,
    CommentDeleted,
    CommentEdited,
    CreateOp,
    DeleteComment,
    DeletedImageChat,
    DeleteOp,
    EditComment,
    ErrorCode,
    Event,
    ImageChatUpdated,
    Move,
    NewImageChat,
    Reopen,
    Resolve,
    RestoreOp,
    Snapshot,
    Undoable,
    User,
)

_FIRST_COMMENT_NS = uuid.UUID("6f0c2a4e-6b1f-4f5e-9a57-2d2f0d6c1e10")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the identity from a verified token."""

    user: User
    role: str = "member"

    @property
    def can_write(self) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK["member"]

    @property
    def can_moderate(self) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK["moderator"]


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    message: str


class Tombstone(Struct, frozen=True, omit_defaults=True):
    """A deleted marker (``chat``) or comment (``comment``, at ``position`` in its
    thread), kept whole until ``undo.until`` so that ``restore`` brings it back as it was."""

    chatId: str
    undo: Undoable
    chat: Chat | None = None
    comment: Comment | None = None
    position: int = 0


def tombstone_key(chat_id: str, comment_id: str | None = None) -> str:
    """A tombstone's key: the chat id, or ``chat/comment`` ("/" is in no Ident)."""
    return chat_id if comment_id is None else f"{chat_id}/{comment_id}"


#: What each comment costs against ``Limits.max_room_bytes`` beyond its text's UTF-8
#: bytes: about its ids, author and times in a snapshot, so many tiny comments count too.
COMMENT_CHARGE = 128


def comment_bytes(text: str) -> int:
    """One comment's cost against a room's budget (``Limits.max_room_bytes``)."""
    return len(text.encode("utf-8", "surrogatepass")) + COMMENT_CHARGE


def chat_bytes(chat: Chat) -> int:
    return sum(comment_bytes(c.text) for c in chat.comments)


class RoomState(Struct, frozen=True):
    """A room's chats in marker-number order, and the ``seq`` of the last event applied.

    ``chats`` is never mutated after construction; ``apply`` copies on write.
    ``tombstones`` holds what was deleted within the undo window (by ``tombstone_key``).
    ``size`` is the live comments' cost (``comment_bytes``), counted when a state is
    built from chats and kept up to date by ``apply``.
    """

    room: str
    seq: int = 0
    next_number: int = 1
    chats: dict[str, Chat] = msgspec.field(default_factory=dict)
    tombstones: dict[str, Tombstone] = msgspec.field(default_factory=dict)
    size: int = -1

    def __post_init__(self) -> None:
        if self.size < 0:
            total = sum(chat_bytes(chat) for chat in self.chats.values())
            msgspec.structs.force_setattr(self, "size", total)

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> RoomState:
        chats = {chat.id: chat for chat in sorted(snapshot.chats, key=lambda c: c.number)}
        next_number = max((c.number for c in snapshot.chats), default=0) + 1
        return cls(room=snapshot.room, seq=snapshot.seq, next_number=next_number, chats=chats)

    def to_snapshot(self) -> Snapshot:
        return Snapshot(room=self.room, seq=self.seq, chats=tuple(self.chats.values()))

    def by_number(self, number: int) -> Chat | None:
        return next((c for c in self.chats.values() if c.number == number), None)


def first_comment_id(chat_id: str) -> str:
    """The opening comment's id, derived from the chat's so both sides agree offline."""
    return str(uuid.uuid5(_FIRST_COMMENT_NS, chat_id))


def _label(chat: Chat) -> str:
    return f"Marker #{chat.number}"


def _check_text(text: str, limits: Limits) -> Rejection | None:
    if not text.strip():
        return Rejection(ErrorCode.INVALID, "The text is empty.")
    if len(text) > limits.max_text:
        return Rejection(
            ErrorCode.TOO_LARGE,
            f"The text is {len(text)} characters; the limit is {limits.max_text}.",
        )
    return None


#: Slack for sums of percentages computed by clients (33.3 + 66.7 may not be exactly 100).
_EDGE_SLACK = 1e-9


def region_problem(x: float, y: float, w: float | None, h: float | None) -> str | None:
    """Why a marker at (x, y) sized (w, h) is not a valid shape, or None if it is.

    A point has neither ``w`` nor ``h``; a region has both, each above 0, and stays
    inside the image: ``x + w <= 100`` and ``y + h <= 100``.
    """
    if w is None and h is None:
        return None
    if w is None or h is None:
        return "A region needs both w and h (or neither, for a point)."
    if w <= 0 or h <= 0:
        return "A region needs a width and a height above 0."
    if x + w > 100 + _EDGE_SLACK or y + h > 100 + _EDGE_SLACK:
        return "A region must stay inside the image: x + w and y + h at most 100."
    return None


def _check_room(state: RoomState, added: int, limits: Limits) -> Rejection | None:
    """Refuse what would bring the room's comments past ``limits.max_room_bytes``."""
    if limits.max_room_bytes and added > 0 and state.size + added > limits.max_room_bytes:
        return Rejection(
            ErrorCode.LIMIT_REACHED,
            f"This room has reached its limit of {limits.max_room_bytes} bytes of comments;"
            " delete some or start another room.",
        )
    return None


def check_text(text: str, limits: Limits = DEFAULT_LIMITS) -> Rejection | None:
    """Why a comment's text would be refused (empty, or over ``limits.max_text``), if it
    would: the composer asks before sending, ``decide`` asks again."""
    return _check_text(text, limits)


def _find_comment(chat: Chat, comment_id: str) -> Comment | None:
    return next((c for c in chat.comments if c.id == comment_id), None)


#: What a client may ask to do; ``allowed`` answers for each before any text is typed.
Action = Literal[
    "create", "reply", "edit", "delete-comment", "resolve", "reopen", "move", "delete", "restore"
]


def action_of(op: ClientOp) -> tuple[Action, str | None]:
    """What ``op`` asks to do, and the comment it is about (edit / delete-comment)."""
    if isinstance(op, CreateOp):
        return "create", None
    if isinstance(op, DeleteOp):
        return "delete", None
    if isinstance(op, RestoreOp):
        return "restore", op.commentId
    change = op.change
    if isinstance(change, AddComment):
        return "reply", None
    if isinstance(change, EditComment):
        return "edit", change.commentId
    if isinstance(change, DeleteComment):
        return "delete-comment", change.commentId
    if isinstance(change, Resolve):
        return "resolve", None
    if isinstance(change, Reopen):
        return "reopen", None
    return "move", None


def allowed(
    state: RoomState,
    actor: Actor,
    action: Action,
    chat_id: str | None = None,
    comment_id: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Rejection | None:
    """Why ``actor`` may not do ``action`` (on marker ``chat_id``, comment ``comment_id``)
    in ``state`` whatever the text or the spot, or None when they may. ``decide`` asks
    this first, then checks the op's content (text, ids, shape, the room's budget); a
    client asks it alone before the user spends effort (typing, choosing a new spot)."""
    if not actor.can_write:
        return Rejection(
            ErrorCode.FORBIDDEN, "Your role is read-only: you can view but not change."
        )
    if action == "restore":
        return None  # what was kept, and by whom it may be restored: _decide_restore
    if action == "create":
        if len(state.chats) >= limits.max_markers:
            return Rejection(
                ErrorCode.LIMIT_REACHED,
                f"This image has reached its limit of {limits.max_markers} markers.",
            )
        return None
    chat = state.chats.get(chat_id) if chat_id is not None else None
    if chat is None:
        return Rejection(
            ErrorCode.UNKNOWN_CHAT, "That marker does not exist (it may have been deleted)."
        )
    own_chat = chat.createdBy.id == actor.user.id
    if action in ("delete", "move"):
        if not (own_chat or actor.can_moderate):
            verb = "delete" if action == "delete" else "move"
            return Rejection(
                ErrorCode.FORBIDDEN, f"Only its author or a moderator may {verb} {_label(chat)}."
            )
    elif action == "reply":
        if len(chat.comments) >= limits.max_comments:
            return Rejection(
                ErrorCode.LIMIT_REACHED,
                f"{_label(chat)} has reached its limit of {limits.max_comments} comments.",
            )
    elif action in ("edit", "delete-comment"):
        found = _find_comment(chat, comment_id) if comment_id is not None else None
        if found is None:
            return Rejection(
                ErrorCode.UNKNOWN_COMMENT, "That comment does not exist (it may have been deleted)."
            )
        if found.author.id != actor.user.id and not actor.can_moderate:
            return Rejection(
                ErrorCode.FORBIDDEN, "Only its author or a moderator may change a comment."
            )
        if action == "delete-comment" and found.id == chat.comments[0].id:
            return Rejection(
                ErrorCode.INVALID,
                f"The first comment opens the thread; delete {_label(chat)} instead.",
            )
    elif action == "resolve" and chat.resolved:
        return Rejection(ErrorCode.INVALID, f"{_label(chat)} is already resolved.")
    elif action == "reopen" and not chat.resolved:
        return Rejection(ErrorCode.INVALID, f"{_label(chat)} is already open.")
    return None


def decide(
    state: RoomState,
    op: ClientOp,
    actor: Actor,
    now: int,
    limits: Limits = DEFAULT_LIMITS,
) -> Event | Rejection:
    """The event ``op`` causes in ``state``, or why it may not happen. ``now`` is epoch ms."""
    action, comment_id = action_of(op)
    chat_id = None if isinstance(op, CreateOp) else op.chatId
    if (refused := allowed(state, actor, action, chat_id, comment_id, limits)) is not None:
        return refused
    seq = state.seq + 1
    if isinstance(op, CreateOp):
        return _decide_create(state, op, actor, now, limits, seq)
    if isinstance(op, RestoreOp):
        return _decide_restore(state, op, actor, now, limits, seq)
    # What a delete leaves behind for ``restore``: nothing when the window is 0.
    undo = (
        Undoable(by=actor.user.id, at=now, until=now + limits.undo_seconds * 1000)
        if limits.undo_seconds > 0
        else None
    )
    chat = state.chats[op.chatId]
    if isinstance(op, DeleteOp):
        return DeletedImageChat(
            room=state.room, seq=seq, broadcastId=op.broadcastId, chatId=chat.id, undo=undo
        )
    change = op.change
    event_change: CommentAdded | CommentEdited | CommentDeleted | Resolve | Reopen | Move
    if isinstance(change, AddComment):
        if (rejected := _check_text(change.comment.text, limits)) is not None:
            return rejected
        if _find_comment(chat, change.comment.id) is not None:
            return Rejection(ErrorCode.DUPLICATE_ID, "A comment with that id already exists.")
        if (full := _check_room(state, comment_bytes(change.comment.text), limits)) is not None:
            return full
        comment = Comment(
            id=change.comment.id, author=actor.user, text=change.comment.text, createdAt=now
        )
        event_change = CommentAdded(comment=comment)
    elif isinstance(change, EditComment):
        if (rejected := _check_text(change.text, limits)) is not None:
            return rejected
        found = _find_comment(chat, change.commentId)
        assert found is not None  # allowed() found it
        grown = comment_bytes(change.text) - comment_bytes(found.text)
        if (full := _check_room(state, grown, limits)) is not None:
            return full
        event_change = CommentEdited(commentId=found.id, text=change.text, editedAt=now)
    elif isinstance(change, DeleteComment):
        event_change = CommentDeleted(commentId=change.commentId, undo=undo)
    elif isinstance(change, Move):
        # A region moves whole: its size stays, so its new corner must keep it inside.
        if (problem := region_problem(change.x, change.y, chat.w, chat.h)) is not None:
            return Rejection(ErrorCode.INVALID, problem)
        event_change = change
    else:
        event_change = change  # Resolve / Reopen: allowed() checked the state
    return ImageChatUpdated(
        room=state.room, seq=seq, broadcastId=op.broadcastId, chatId=chat.id, change=event_change
    )


def _decide_create(
    state: RoomState, op: CreateOp, actor: Actor, now: int, limits: Limits, seq: int
) -> Event | Rejection:
    new = op.chat
    if (problem := region_problem(new.x, new.y, new.w, new.h)) is not None:
        return Rejection(ErrorCode.INVALID, problem)
    if (rejected := _check_text(new.text, limits)) is not None:
        return rejected
    if new.id in state.chats or new.id in state.tombstones:
        return Rejection(ErrorCode.DUPLICATE_ID, "A marker with that id already exists.")
    if (full := _check_room(state, comment_bytes(new.text), limits)) is not None:
        return full
    opening = Comment(id=first_comment_id(new.id), author=actor.user, text=new.text, createdAt=now)
    chat = Chat(
        id=new.id,
        number=state.next_number,
        x=new.x,
        y=new.y,
        w=new.w,
        h=new.h,
        createdBy=actor.user,
        createdAt=now,
        comments=(opening,),
    )
    return NewImageChat(room=state.room, seq=seq, broadcastId=op.broadcastId, chat=chat)


def _decide_restore(
    state: RoomState, op: RestoreOp, actor: Actor, now: int, limits: Limits, seq: int
) -> Event | Rejection:
    """Bring back a deleted marker or comment whole (number, ids, authors, times, edits,
    resolved state): what the undo of a delete sends. Only within the undo window, and
    only by whoever deleted it or a moderator (not by an author whose post a moderator
    took down)."""
    stone = state.tombstones.get(tombstone_key(op.chatId, op.commentId))
    what = "That comment" if op.commentId is not None else "That marker"
    if stone is None or now >= stone.undo.until:
        code = ErrorCode.UNKNOWN_COMMENT if op.commentId is not None else ErrorCode.UNKNOWN_CHAT
        return Rejection(
            code,
            f"{what} can no longer be restored: a delete can be undone for"
            f" {limits.undo_seconds} s.",
        )
    if stone.undo.by != actor.user.id and not actor.can_moderate:
        return Rejection(
            ErrorCode.FORBIDDEN, "Only whoever deleted it or a moderator may restore it."
        )
    if stone.chat is not None:
        if len(state.chats) >= limits.max_markers:
            return Rejection(
                ErrorCode.LIMIT_REACHED,
                f"This image has reached its limit of {limits.max_markers} markers.",
            )
        if (full := _check_room(state, chat_bytes(stone.chat), limits)) is not None:
            return full
        return NewImageChat(room=state.room, seq=seq, broadcastId=op.broadcastId, chat=stone.chat)
    assert stone.comment is not None
    chat = state.chats.get(op.chatId)
    if chat is None:
        return Rejection(ErrorCode.UNKNOWN_CHAT, "Its marker is deleted: restore the marker first.")
    if len(chat.comments) >= limits.max_comments:
        return Rejection(
            ErrorCode.LIMIT_REACHED,
            f"{_label(chat)} has reached its limit of {limits.max_comments} comments.",
        )
    if (full := _check_room(state, comment_bytes(stone.comment.text), limits)) is not None:
        return full
    position = min(stone.position, len(chat.comments))
    change = CommentAdded(comment=stone.comment, position=position)
    return ImageChatUpdated(
        room=state.room, seq=seq, broadcastId=op.broadcastId, chatId=chat.id, change=change
    )


class SequenceError(Exception):
    """An event that does not directly follow the state's ``seq``."""


def apply(state: RoomState, event: Event, *, check_seq: bool = True) -> RoomState:
    """The state after ``event``. Events come from ``decide``, so they are known valid.

    ``check_seq=False`` is for optimistic views, whose predicted ``seq`` may be stale.
    """
    if check_seq and event.seq != state.seq + 1:
        raise SequenceError(f"event seq {event.seq} does not follow state seq {state.seq}")
    chats = dict(state.chats)
    stones = state.tombstones
    next_number = state.next_number
    size = state.size
    if isinstance(event, NewImageChat):
        restored = event.chat.number < next_number  # numbers are never reused otherwise
        replaced = chats.get(event.chat.id)
        size += chat_bytes(event.chat) - (chat_bytes(replaced) if replaced is not None else 0)
        chats[event.chat.id] = event.chat
        next_number = max(next_number, event.chat.number + 1)
        if restored:  # back in its place among the others
            chats = dict(sorted(chats.items(), key=lambda item: item[1].number))
        stones = _without(stones, event.chat.id)
    elif isinstance(event, DeletedImageChat):
        gone = chats.pop(event.chatId, None)
        if gone is not None:
            size -= chat_bytes(gone)
        if gone is not None and event.undo is not None:
            stones = {**stones, event.chatId: Tombstone(event.chatId, event.undo, chat=gone)}
    else:
        chat = chats.get(event.chatId)
        change = event.change
        if chat is not None:
            changed = apply_change(chat, change)
            chats[event.chatId] = changed
            if isinstance(change, CommentAdded | CommentEdited | CommentDeleted):
                size += chat_bytes(changed) - chat_bytes(chat)
            if isinstance(change, CommentDeleted) and change.undo is not None:
                at = next(
                    (i for i, c in enumerate(chat.comments) if c.id == change.commentId), None
                )
                if at is not None:
                    stone = Tombstone(chat.id, change.undo, comment=chat.comments[at], position=at)
                    stones = {**stones, tombstone_key(chat.id, change.commentId): stone}
        if isinstance(change, CommentAdded):
            stones = _without(stones, tombstone_key(event.chatId, change.comment.id))
    now = _event_time(event)
    if now is not None and any(s.undo.until <= now for s in stones.values()):
        stones = {k: s for k, s in stones.items() if s.undo.until > now}  # gone for good
    return RoomState(
        room=state.room,
        seq=event.seq,
        next_number=next_number,
        chats=chats,
        tombstones=stones,
        size=size,
    )


def _without(stones: dict[str, Tombstone], key: str) -> dict[str, Tombstone]:
    if key not in stones:
        return stones
    return {k: s for k, s in stones.items() if k != key}


def _event_time(event: Event) -> int | None:
    """When ``event`` was decided, where it says (what ends expired tombstones)."""
    if isinstance(event, NewImageChat):
        return event.chat.createdAt
    if isinstance(event, DeletedImageChat):
        return event.undo.at if event.undo is not None else None
    change = event.change
    if isinstance(change, CommentAdded):
        return change.comment.createdAt
    if isinstance(change, CommentEdited):
        return change.editedAt
    if isinstance(change, CommentDeleted) and change.undo is not None:
        return change.undo.at
    return None


def apply_change(
    chat: Chat, change: CommentAdded | CommentEdited | CommentDeleted | Resolve | Reopen | Move
) -> Chat:
    replace = msgspec.structs.replace
    if isinstance(change, CommentAdded):
        if change.position is None:
            return replace(chat, comments=(*chat.comments, change.comment))
        at = change.position
        return replace(chat, comments=(*chat.comments[:at], change.comment, *chat.comments[at:]))
    if isinstance(change, CommentEdited):
        return replace(
            chat,
            comments=tuple(
                replace(c, text=change.text, editedAt=change.editedAt)
                if c.id == change.commentId
                else c
                for c in chat.comments
            ),
        )
    if isinstance(change, CommentDeleted):
        return replace(chat, comments=tuple(c for c in chat.comments if c.id != change.commentId))
    if isinstance(change, Resolve):
        return replace(chat, resolved=True)
    if isinstance(change, Reopen):
        return replace(chat, resolved=False)
    return replace(chat, x=change.x, y=change.y)


T = TypeVar("T")


class Folded(NamedTuple, Generic[T]):
    """What ``fold`` did: the new state, the items that advanced it (in order), and
    whether it stopped at a gap (an event later than ``state.seq + 1``)."""

    state: RoomState
    applied: list[T]
    gap: bool


@overload
def fold(state: RoomState, events: Iterable[Event]) -> Folded[Event]: ...


@overload
def fold(state: RoomState, events: Iterable[T], *, event: Callable[[T], Event]) -> Folded[T]: ...


def fold(
    state: RoomState, events: Iterable[Any], *, event: Callable[[Any], Event] | None = None
) -> Folded[Any]:
    """Fold ``events`` (in seq order) into ``state``: the one place events advance a room.

    An event at or below the state's ``seq`` is already in it (a duplicate, or a replay
    overlapping what was seen) and is skipped. An event beyond ``seq + 1`` means some are
    missing: folding stops there, with ``gap`` set, and the caller fills the gap (from
    the database, or by resyncing) rather than apply anything out of order. Neither is an
    error. ``event`` picks the event out of each item (e.g. a stored event with its
    bytes), so ``applied`` holds the caller's own items.
    """
    applied: list[Any] = []
    for item in events:
        ev: Event = item if event is None else event(item)
        if ev.seq <= state.seq:
            continue
        if ev.seq != state.seq + 1:
            return Folded(state, applied, True)
        state = apply(state, ev)
        applied.append(item)
    return Folded(state, applied, False)
