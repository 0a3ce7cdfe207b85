"""The reviewer's side of a room: every own change as an op, asked of the model first.

The app says what the user wants ("reply to this marker with this text"); this module
builds the op with fresh ids, asks ``model.decide`` (through the replica, with the
identity, role and limits the server gave at ``joined``) and hands it to the
connection. Nothing here touches the screen: each call answers ``Done`` or ``Refused``
with a sentence for people, and a refused op is neither shown nor sent.

``refusal`` asks the same rules (``model.allowed``, which ``decide`` asks first)
without building or changing anything, so the review can refuse an action before the
user spends effort on it (typing a comment, choosing a new spot).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from imagechat_tui.client.link import Link, NotConnected
from imagechat_tui.model import Action, Limits, Rejection, allowed, first_comment_id, region_problem
from imagechat_tui.protocol import (
    AddComment,
    ChangeRequest,
    ClientOp,
    CreateOp,
    DeleteComment,
    DeleteOp,
    EditComment,
    Move,
    NewChat,
    NewComment,
    Reopen,
    Resolve,
    UpdateOp,
)
from imagechat_tui.replica import Replica

#: x, y, w, h in percent (w and h None for a point marker).
Region = tuple[float, float, float | None, float | None]


@dataclass(frozen=True, slots=True)
class Done:
    """The op is applied (shown at once) and on its way to the server."""

    chat_id: str
    comment_id: str | None = None  # the comment written, edited or deleted


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing was applied or sent; ``reason`` says why, for people."""

    reason: str


Outcome = Done | Refused


def new_id() -> str:
    return str(uuid.uuid4())


def _now_ms() -> int:
    return int(time.time() * 1000)


class ClientSession:
    def __init__(self, link: Link, clock: Callable[[], int] = _now_ms) -> None:
        self.link = link
        self._clock = clock

    @property
    def replica(self) -> Replica:
        return self.link.replica

    @property
    def limits(self) -> Limits:
        """The server's limits (from ``joined``), or the defaults before the first join."""
        return self.replica.limits

    # --- changes -------------------------------------------------------------------

    def create(
        self, x: float, y: float, text: str, w: float | None = None, h: float | None = None
    ) -> Outcome:
        """A marker at (x, y) percent; with ``w`` and ``h``, a region from there."""
        chat_id = new_id()
        chat = NewChat(id=chat_id, x=x, y=y, w=w, h=h, text=text)
        op = CreateOp(broadcastId=new_id(), chat=chat)
        return self._submit(op, Done(chat_id, first_comment_id(chat_id)))

    def reply(self, chat_id: str, text: str) -> Outcome:
        comment_id = new_id()
        change = AddComment(comment=NewComment(id=comment_id, text=text))
        return self._update(chat_id, change, comment_id)

    def edit(self, chat_id: str, comment_id: str, text: str) -> Outcome:
        return self._update(chat_id, EditComment(commentId=comment_id, text=text), comment_id)

    def delete_comment(self, chat_id: str, comment_id: str) -> Outcome:
        return self._update(chat_id, DeleteComment(commentId=comment_id), comment_id)

    def set_resolved(self, chat_id: str, resolved: bool) -> Outcome:
        return self._update(chat_id, Resolve() if resolved else Reopen())

    def move(self, chat_id: str, x: float, y: float) -> Outcome:
        return self._update(chat_id, Move(x=x, y=y))

    def delete_marker(self, chat_id: str) -> Outcome:
        return self._submit(DeleteOp(broadcastId=new_id(), chatId=chat_id), Done(chat_id))

    # --- asking before the effort ----------------------------------------------------

    def refusal(
        self,
        action: Action,
        chat_id: str | None = None,
        comment_id: str | None = None,
        region: Region | None = None,
    ) -> str | None:
        """Why ``action`` (on this marker / comment; a new marker at ``region``) would be
        refused now, whatever its text, without building, applying or sending anything;
        None when it would be accepted. Offline first, then the model's rules."""
        if (offline := self.link.state.offline_reason) is not None:
            return offline
        if region is not None and (problem := region_problem(*region)) is not None:
            return problem
        replica = self.replica
        refused = allowed(replica.view, replica.actor, action, chat_id, comment_id, self.limits)
        return refused.message if refused is not None else None

    # --- the one path to the connection -------------------------------------------------

    def submit(self, op: ClientOp) -> Outcome:
        """An op another client module built (undo's restore ops): asked and sent."""
        chat_id = op.chat.id if isinstance(op, CreateOp) else op.chatId
        return self._submit(op, Done(chat_id))

    def _update(
        self, chat_id: str, change: ChangeRequest, comment_id: str | None = None
    ) -> Outcome:
        op = UpdateOp(broadcastId=new_id(), chatId=chat_id, change=change)
        return self._submit(op, Done(chat_id, comment_id))

    def _submit(self, op: ClientOp, done: Done) -> Outcome:
        try:
            outcome = self.link.submit(op, self._clock())
        except NotConnected as exc:
            return Refused(str(exc))
        if isinstance(outcome, Rejection):
            return Refused(outcome.message)
        return done
