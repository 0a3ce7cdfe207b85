"""Undo of a delete: put the deleted marker or comment back with ordinary ops.

Pure: the app records what it deleted and, on ``u`` within ``UNDO_SECONDS``, sends the
ops ``restore_ops`` builds. They are normal ops the server decides like any other
(its rules, permissions and limits apply), so an undo can be refused with the reason
and every other viewer sees the marker or comment come back live.

What comes back, and what cannot:
- ids: the marker keeps its chat id (so its first comment keeps its derived id) and
  each comment keeps its id; the model refuses only ids that exist *now*.
- the number: the server gives a re-created marker the next free number (numbers are
  never reused), so deleted #2 comes back as, say, #5; the notice says which.
- authorship and time: the server stamps the author and time of every op, so what is
  restored is written by the person undoing, now. A restored comment written by
  someone else is restored as a quote naming its author ("bob wrote:"), never under
  their name. A restored comment is appended at the end of its thread.
- a resolved marker is resolved again; its position is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imagechat_tui.protocol import (
    AddComment,
    Chat,
    ClientOp,
    Comment,
    CreateOp,
    NewChat,
    NewComment,
    Resolve,
    UpdateOp,
)

UNDO_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Deleted:
    """What one delete removed: a whole marker (``comment`` None) or one comment."""

    chat: Chat
    comment: Comment | None = None
    at: float = 0.0  # monotonic seconds

    @property
    def label(self) -> str:
        if self.comment is None:
            return f"Marker #{self.chat.number}"
        return f"Comment on #{self.chat.number}"


def _text(comment: Comment, user_id: str) -> str:
    if comment.author.id == user_id:
        return comment.text
    return f"{comment.author.name} wrote:\n{comment.text}"


def restore_ops(deleted: Deleted, user_id: str, new_id: Callable[[], str]) -> list[ClientOp]:
    """The ops that put ``deleted`` back, in the order to send them."""
    chat = deleted.chat
    if deleted.comment is not None:
        comment = deleted.comment
        return [
            UpdateOp(
                broadcastId=new_id(),
                chatId=chat.id,
                change=AddComment(comment=NewComment(id=comment.id, text=_text(comment, user_id))),
            )
        ]
    first, *replies = chat.comments
    ops: list[ClientOp] = [
        CreateOp(
            broadcastId=new_id(),
            chat=NewChat(id=chat.id, x=chat.x, y=chat.y, text=_text(first, user_id)),
        )
    ]
    ops += [
        UpdateOp(
            broadcastId=new_id(),
            chatId=chat.id,
            change=AddComment(comment=NewComment(id=c.id, text=_text(c, user_id))),
        )
        for c in replies
    ]
    if chat.resolved:
        ops.append(UpdateOp(broadcastId=new_id(), chatId=chat.id, change=Resolve()))
    return ops


class UndoSlot:
    """The last delete, undoable for ``UNDO_SECONDS`` (one level, like a mail client's
    "Undo"): a newer delete replaces it."""

    def __init__(self, seconds: float = UNDO_SECONDS) -> None:
        self.seconds = seconds
        self._deleted: Deleted | None = None

    def record(self, deleted: Deleted) -> None:
        self._deleted = deleted

    def peek(self, now: float) -> Deleted | None:
        deleted = self._deleted
        if deleted is not None and now - deleted.at >= self.seconds:
            self._deleted = deleted = None
        return deleted

    def take(self, now: float) -> Deleted | None:
        deleted = self.peek(now)
        self._deleted = None
        return deleted
