"""Undo of a delete: ask the server to restore what it kept.

Pure: the app records what it deleted and, on ``u`` within ``UNDO_SECONDS``, sends the
``restore`` op ``restore_op`` builds. The server kept the deleted marker or comment for
its undo window (``undoSeconds`` in ``joined``; model.py has the rule), so what comes
back is what was there: the same number, ids, authors, times, edits and resolved state,
and a comment in its place in the thread. It is an op like any other (decided by the
server, refused with the reason: too late, not yours to restore), and every other
viewer sees the marker or comment come back through the usual events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imagechat_tui.protocol import Chat, Comment, RestoreOp

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


def restore_op(deleted: Deleted, new_id: Callable[[], str]) -> RestoreOp:
    """The op that puts ``deleted`` back."""
    comment_id = deleted.comment.id if deleted.comment is not None else None
    return RestoreOp(broadcastId=new_id(), chatId=deleted.chat.id, commentId=comment_id)


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
