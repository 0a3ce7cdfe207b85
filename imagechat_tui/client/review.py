"""The review: what one reviewer is doing in one room, with no screen and no socket.

``Review`` owns everything the app shows that is not a widget's own business: the
replica (through its ``Link``), the ``ClientSession`` that builds and sends own ops,
the selected marker, the marker being moved, the draft being written (a new marker's
spot and region, a reply, an edit), the undo slot, the view toggles, the status line
and the activity (unseen markers, notices). The app routes each key to one intent
method here and draws what the review then says; ``applies`` is the one answer to
"does this action apply now?" for the footer, the palette and the help.

Each rule is asked once: offline is ``ConnState.offline_reason``, what the model allows
is ``model.allowed`` (through ``ClientSession.refusal``), mentions and replies to you
are ``client.mentions``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from imagechat_tui.client.drafts import Drafts
from imagechat_tui.client.link import Link
from imagechat_tui.client.mentions import Notice, notices, people, touched
from imagechat_tui.client.session import ClientSession, Done, Refused, new_id
from imagechat_tui.client.undo import Deleted, UndoSlot, restore_op
from imagechat_tui.model import Action
from imagechat_tui.protocol import (
    Chat,
    ClientOp,
    CommentDeleted,
    CommentEdited,
    DeletedImageChat,
    Error,
    Event,
    Move,
    NewImageChat,
    Presence,
    Reopen,
    Resolve,
    User,
    Viewers,
)
from imagechat_tui.replica import Received, Replica
from imagechat_tui.safe_text import inert

Purpose = Literal["new", "reply", "edit"]
#: What a status message is about, so it is cleared when that is over (never untrue).
Situation = Literal["offline", "undo", "region", "gone"]
#: Situations whose message also ends with time (the marker you had open, deleted: until
#: it is back, another is chosen, or its time is up).
_TIMED_SITUATIONS = frozenset({"gone"})
#: Where the keyboard is: the widget focused.
Place = Literal["image", "list", "thread", "composer"]
#: What the reviewer is doing, for the footer: each mode offers its own keys.
Mode = Literal["image", "list", "thread", "composer", "region", "move", "offline"]


@dataclass(frozen=True, slots=True)
class Draft:
    """What the composer is writing: a new marker (at x, y; a region with w, h), a
    reply to ``chat_id``, or an edit of ``comment_id`` there."""

    purpose: Purpose
    x: float = 0.0  # new: where, in percent
    y: float = 0.0
    chat_id: str | None = None  # reply / edit
    comment_id: str | None = None  # edit
    w: float | None = None  # new region: its size, in percent
    h: float | None = None
    text: str = ""  # what the composer starts with (an edit: the comment as it is)

    @property
    def region(self) -> tuple[float, float, float, float] | None:
        if self.purpose != "new" or self.w is None or self.h is None:
            return None
        return (self.x, self.y, self.w, self.h)

    @property
    def spot(self) -> tuple[float, float] | None:
        return (self.x, self.y) if self.purpose == "new" else None

    @property
    def key(self) -> str:
        """Where its unsent text is kept (``client.drafts``): per marker, per comment."""
        if self.purpose == "reply":
            return f"reply:{self.chat_id}"
        if self.purpose == "edit":
            return f"edit:{self.comment_id}"
        return "new"


#: Seconds a status message without a situation stays (an error a little longer):
#: every message has an end, so none outlives what it was about ("Sent." for 40 min).
STATUS_SECONDS = 6.0
ERROR_SECONDS = 12.0


@dataclass(frozen=True, slots=True)
class Status:
    """The status line: a sentence, whether it is an error, what it is about, and when
    it ends (``until``, on the review's clock; None: when its situation ends)."""

    text: str = ""
    error: bool = False
    situation: Situation | None = None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class PanelNotice:
    """What someone else did to the marker you have open, said in its thread panel for
    as long as it is the latest about it: ``chat`` is the marker as it was then (None:
    deleted), and any later change to it (or another selection) ends the notice."""

    chat_id: str
    text: str
    chat: Chat | None


#: What a change by someone else is called in the panel of the marker it changed.
_CHANGE_SAID: dict[type, str] = {
    Resolve: "was resolved",
    Reopen: "was reopened",
    Move: "was moved",
    CommentEdited: "had a comment edited",
    CommentDeleted: "had a comment deleted",
}


@dataclass(frozen=True, slots=True)
class Restored:
    """An undo put this back: the marker (``comment_id`` None) or one comment."""

    chat_id: str
    comment_id: str | None = None


@dataclass(slots=True)
class Changed:
    """What one server frame changed, for the app to draw: ``room`` when the view
    changed; ``notices`` to notify (the app rings the bell when unfocused)."""

    room: bool = False
    notices: list[Notice] = field(default_factory=list)


def viewer_count(presence: Presence | Viewers | None) -> int:
    """Everyone viewing (past PRESENCE_NAMED viewers the server sends the count alone)."""
    if presence is None:
        return 0
    return presence.count or len(presence.viewers)


def _who(viewers: tuple[User, ...], count: int) -> tuple[str, str]:
    """("Viewing now (5)", "Alice, Bob and 3 more"), or "Only you."; names made inert."""
    more = count - len(viewers)
    text = ", ".join(inert(user.name) for user in viewers) + (
        f" and {more} more" if more > 0 else ""
    )
    return f"Viewing now ({count})", text or "Only you."


#: Actions ``applies`` answers; any other applies (the app's own: help, quit, …).
_NEEDS_MARKER = frozenset({"reply", "delete_marker", "move_marker"})
_NEEDS_COMMENT = frozenset({"edit", "delete_comment"})
#: Actions that change the room: none can work offline.
_CHANGES = frozenset(
    {"place", "draw_region", "reply", "edit", "delete_marker", "delete_comment"}
    | {"move_marker", "set_resolved", "undo"}
)


class Review:
    def __init__(
        self,
        link: Link,
        *,
        remint_token: Callable[[], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        drafts: Drafts | None = None,
    ) -> None:
        self.link = link
        self.session = ClientSession(link)
        self.remint_token = remint_token  # mints a fresh local token, if local
        self.undo_slot = UndoSlot()  # the last delete, for u
        self.selected: str | None = None
        self.moving: str | None = None  # the marker being moved: the next place moves it
        self.draft: Draft | None = None
        self.drawing = False  # a region is being drawn (a, then arrows or a drag)
        self.drafts = drafts or Drafts()  # unsent text, kept until sent or discarded
        self.show_resolved = True
        self.show_sidebar = True
        self.status = Status()
        self.unseen: set[str] = set()  # markers others changed that you have not opened
        self.noticed: list[Notice] = []  # every notice decided, in order
        self.panel: PanelNotice | None = None  # the open marker changed by someone else
        self._asked_for_token = False
        self._clock = clock

    # --- what the app reads -------------------------------------------------------

    @property
    def replica(self) -> Replica:
        return self.link.replica

    @property
    def me(self) -> str:
        return self.link.replica.actor.user.id

    @property
    def connected(self) -> bool:
        return self.link.state.connected

    def chats(self) -> list[Chat]:
        return sorted(self.link.replica.view.chats.values(), key=lambda c: c.number)

    def chat(self, chat_id: str | None) -> Chat | None:
        return self.link.replica.view.chats.get(chat_id) if chat_id else None

    @property
    def selected_chat(self) -> Chat | None:
        return self.chat(self.selected)

    def people(self) -> list[User]:
        """Who can be mentioned: everyone viewing and everyone who commented."""
        presence = self.link.presence
        viewers = presence.viewers if presence else ()
        return people(self.link.replica.view.chats.values(), viewers)

    def viewer_count(self) -> int:
        return viewer_count(self.link.presence)

    def who(self) -> tuple[str, str] | None:
        """Who is viewing, by name, as (title, text) for a notification: from the last
        presence while it names everyone, else None and asked of the server (a large
        room's presence is the count alone; its answer goes to ``listed``)."""
        presence = self.link.presence
        if presence is None or not self.connected:
            return "Viewing now", "Not connected: nobody to list."
        count = viewer_count(presence)
        if len(presence.viewers) < count and self.link.request_viewers():
            return None
        return _who(presence.viewers, count)

    def listed(self, viewers: Viewers) -> tuple[str, str]:
        """The server's answer to ``who``, as ``who`` says it."""
        return _who(viewers.viewers, viewer_count(viewers))

    def undo_offered(self) -> Deleted | None:
        return self.undo_slot.peek(self._clock())

    def mode(self, place: Place) -> Mode:
        """What the reviewer is doing with the keyboard at ``place``: writing first (the
        composer keeps its keys offline too), then moving or drawing a region (both
        end with enter or escape), then offline (nothing to change), else the place."""
        if place == "composer":
            return "composer"
        if self.moving is not None:
            return "move"
        if self.drawing:
            return "region"
        if not self.connected:
            return "offline"
        return place

    # --- the status line ----------------------------------------------------------

    def say(self, text: str, *, error: bool = False, situation: Situation | None = None) -> None:
        """Show ``text`` in the status line; with ``situation``, it is cleared when that
        situation ends (``end_situation``), else after ``STATUS_SECONDS``."""
        until = None
        if (situation is None or situation in _TIMED_SITUATIONS) and text:
            until = self._clock() + (ERROR_SECONDS if error else STATUS_SECONDS)
        self.status = Status(text, error, situation, until)

    def expire_status(self) -> bool:
        """Clear a status message whose time is up: True when it was cleared."""
        until = self.status.until
        if until is None or self._clock() < until:
            return False
        self.status = Status()
        return True

    def end_situation(self, situation: Situation) -> None:
        if self.status.situation == situation:
            self.say("")

    def _refuse(self, reason: str) -> Refused:
        """Say why, as an error about "offline" while not connected (cleared on rejoin)."""
        self.say(reason, error=True, situation=None if self.connected else "offline")
        return Refused(reason)

    def _asked(self, refusal: str | None) -> Refused | None:
        return self._refuse(refusal) if refusal is not None else None

    # --- what applies now -----------------------------------------------------------

    def applies(
        self, action: str, *parameters: object, comment: str | None = None, listed: bool = False
    ) -> bool:
        """Whether ``action`` is offered now (the footer, the palette and the help ask
        this). ``comment`` is the thread's highlighted comment; ``listed``: the marker
        list shows at least one marker (prev / next step through it). Refusals that need a
        reason (a viewer, someone else's comment) stay offered, so the key says why;
        while offline nothing that changes the room is offered (the banner says why)."""
        chat = self.selected_chat
        if action in _CHANGES and not self.connected:
            return False
        if action == "cancel_move":
            return self.moving is not None
        if action == "undo":
            return self.undo_offered() is not None
        if action in _NEEDS_MARKER:
            return chat is not None
        if action == "set_resolved":
            return chat is not None and chat.resolved != parameters[0]
        if action in _NEEDS_COMMENT:
            return chat is not None and comment is not None
        if action == "retry":
            return not self.connected
        if action == "select_step":
            return listed
        return True

    # --- selection ------------------------------------------------------------------

    def panel_notice(self) -> str | None:
        """The notice the thread panel shows, while it is still true: about the marker
        shown and nothing changed since (a deleted one: until it is back or another is
        chosen)."""
        notice = self.panel
        if notice is None:
            return None
        chats = self.link.replica.view.chats
        if notice.chat is None:
            deleted = self.selected is None and notice.chat_id not in chats
            return notice.text if deleted else None
        same = self.selected == notice.chat_id and chats.get(notice.chat_id) == notice.chat
        return notice.text if same else None

    def select(self, chat_id: str | None) -> None:
        if self.panel is not None and self.panel.chat_id != chat_id:
            self.panel = None  # another marker: the notice was about the one before
            self.end_situation("gone")
        self.selected = chat_id
        self.unseen.discard(chat_id or "")
        self._follow_selection()

    def step(self, ids: Sequence[str], step: int) -> str | None:
        """Select the previous / next of ``ids`` (the markers the list shows)."""
        if not ids:
            return None
        start = ids.index(self.selected) if self.selected in ids else None
        index = (0 if step > 0 else -1) if start is None else start + step
        self.select(ids[index % len(ids)])
        return self.selected

    def _follow_selection(self) -> None:
        """A reply goes to the selected marker (the text stays)."""
        draft = self.draft
        if draft is not None and draft.purpose == "reply" and self.selected is not None:
            self.draft = replace(draft, chat_id=self.selected)

    def toggle_resolved(self) -> None:
        # No message: the status bar shows the toggle's state ("resolved pins hidden (v)").
        self.show_resolved = not self.show_resolved

    def toggle_sidebar(self) -> None:
        self.show_sidebar = not self.show_sidebar

    def hidden(self) -> list[str]:
        """The view toggles that hide something, for the status bar."""
        found = []
        if not self.show_resolved:
            found.append("resolved pins hidden (v)")
        if not self.show_sidebar:
            found.append("sidebar hidden (b)")
        return found

    def hidden_briefly(self) -> str:
        """The same in fewer cells, for when a message needs the status bar's room
        ("hidden: pins (v), sidebar (b)"); one toggle alone is said in full."""
        found = self.hidden()
        return "hidden: pins (v), sidebar (b)" if len(found) == 2 else " · ".join(found)

    # --- writing: begin, send, cancel ----------------------------------------------------

    def begin_marker(self, x: float, y: float) -> Draft | Refused:
        """A new marker at (x, y): refused before typing (offline, a viewer, the limit)."""
        if (refused := self._asked(self.session.refusal("create"))) is not None:
            return refused
        return self._begin(Draft("new", x, y))

    def begin_region(self, x: float, y: float, w: float, h: float) -> Draft | Refused:
        """A new region: refused before typing, a region outside the image too."""
        refusal = self.session.refusal("create", region=(x, y, w, h))
        if (refused := self._asked(refusal)) is not None:
            return refused
        return self._begin(Draft("new", x, y, w=w, h=h))

    def begin_reply(self) -> Draft | Refused:
        chat = self.selected_chat
        if chat is None:
            return self._refuse("Select a marker to reply to ([ / ] or click its pin).")
        if (refused := self._asked(self.session.refusal("reply", chat.id))) is not None:
            return refused  # offline, a viewer, or the thread is full: before typing
        return self._begin(Draft("reply", chat_id=chat.id))

    def begin_edit(self, comment_id: str | None) -> Draft | Refused:
        found = self._own_comment(comment_id)
        if isinstance(found, Refused):
            return found
        chat, comment_id = found
        refusal = self.session.refusal("edit", chat.id, comment_id)
        if (refused := self._asked(refusal)) is not None:
            return refused
        text = next(c.text for c in chat.comments if c.id == comment_id)
        return self._begin(Draft("edit", chat_id=chat.id, comment_id=comment_id, text=text))

    def _begin(self, draft: Draft) -> Draft:
        """``draft``, with the text kept from an earlier try at it, if any."""
        kept = self.drafts.get(draft.key)
        self.draft = replace(draft, text=kept) if kept is not None else draft
        if kept is not None:
            self.say("Your unsent text is back.")
        return self.draft

    def send(self, text: str) -> Done | Refused:
        """Send the draft with ``text``; the draft stays when it is refused."""
        draft = self.draft
        if draft is None:
            return self._refuse("Nothing is being written.")
        if draft.purpose == "new":
            outcome = self.session.create(draft.x, draft.y, text, draft.w, draft.h)
        elif draft.purpose == "reply" and draft.chat_id:
            outcome = self.session.reply(draft.chat_id, text)
        elif draft.chat_id and draft.comment_id:
            outcome = self.session.edit(draft.chat_id, draft.comment_id, text)
        else:
            return self._refuse("Nothing is being written.")
        if isinstance(outcome, Refused):
            self.drafts.keep(draft.key, text)  # refused, not lost
            return self._refuse(outcome.reason)
        self.drafts.drop(draft.key)
        self.draft = None
        self.select(outcome.chat_id)
        self.say("Sent.")
        return outcome

    def cancel_draft(self, text: str = "") -> None:
        """Close the composer; its ``text`` is kept for the next time (Escape loses
        nothing). Clearing the text first discards it, on purpose."""
        draft = self.draft
        self.draft = None
        if draft is None:
            return
        unchanged = (
            draft.purpose == "edit" and text == draft.text and not self.drafts.get(draft.key)
        )
        if unchanged or not text.strip():
            self.drafts.drop(draft.key)
            return
        self.drafts.keep(draft.key, text)
        if draft.purpose != "new" and self.chat(draft.chat_id) is None:
            # Its marker was deleted: no key brings the draft back, an undo of the delete does.
            self.say("Draft kept: it comes back with the marker if the delete is undone.")
            return
        again = {"new": "n", "reply": "r", "edit": "e"}[draft.purpose]
        self.say(f"Draft kept: {again} brings it back (clear it and press esc to discard).")

    def discard_loses(self, text: str) -> int:
        """Characters a cancel with ``text`` in the composer would throw away: the kept
        draft, when the text was cleared (0: nothing is lost, so nothing to ask)."""
        draft = self.draft
        if draft is None or text.strip():
            return 0  # text left: it is kept
        kept = self.drafts.get(draft.key) or ""
        return len(kept) if kept.strip() else 0

    def keep_draft(self) -> None:
        """Close the composer keeping the draft as it was last kept (a discard declined)."""
        draft = self.draft
        if draft is not None:
            self.cancel_draft(self.drafts.get(draft.key) or "")

    def drawing_region(self, active: bool) -> None:
        """A region is being drawn (``a``) or no longer is: the status line says how to
        finish, for as long as it lasts."""
        self.drawing = active
        if active:
            self.say("Region: ⏎ finish · esc cancel", situation="region")  # whole at 80 columns
        else:
            self.end_situation("region")

    def draft_title(self, describe_spot: Callable[[float, float], str]) -> str:
        """The composer's title for the draft (``describe_spot`` says where, for people)."""
        draft = self.draft
        if draft is None:
            return ""
        if draft.purpose == "new" and draft.w is not None and draft.h is not None:
            size = f"{draft.w:.1f}% wide, {draft.h:.1f}% high"
            return f"New region at {describe_spot(draft.x, draft.y)}, {size}"
        if draft.purpose == "new":
            return f"New marker at {describe_spot(draft.x, draft.y)}"
        chat = self.chat(draft.chat_id)
        if chat is None:
            # Escape closes and keeps the text, as everywhere (an undo brings both back).
            return "The marker is gone (deleted): esc closes, your text is kept"
        if draft.purpose == "reply":
            return f"Reply to #{chat.number}"
        return f"Edit your comment on #{chat.number}"

    # --- changing what is there -----------------------------------------------------------

    def _own_comment(self, comment_id: str | None) -> tuple[Chat, str] | Refused:
        chat = self.selected_chat
        if chat is None or comment_id is None:
            return self._refuse("Select a marker and highlight a comment first.")
        return chat, comment_id

    def set_resolved(self, resolved: bool) -> Done | Refused | None:
        """None when there is nothing to do (not offered: see ``applies``)."""
        chat = self.selected_chat
        if chat is None or chat.resolved == resolved:
            return None
        outcome = self.session.set_resolved(chat.id, resolved)
        if isinstance(outcome, Refused):
            return self._refuse(outcome.reason)
        self.say(f"Marker #{chat.number} {'resolved' if resolved else 'reopened'}.")
        return outcome

    def delete_comment(self, comment_id: str | None) -> Deleted | Refused:
        found = self._own_comment(comment_id)
        if isinstance(found, Refused):
            return found
        chat, comment_id = found
        comment = next((c for c in chat.comments if c.id == comment_id), None)
        if comment is None:
            return self._refuse("That comment is gone.")
        outcome = self.session.delete_comment(chat.id, comment_id)
        if isinstance(outcome, Refused):
            return self._refuse(outcome.reason)
        return self._deleted(Deleted(chat, comment, self._clock()))

    def ask_delete_marker(self) -> Chat | Refused:
        """The selected marker, if it may be deleted: asked before "are you sure?"."""
        chat = self.selected_chat
        if chat is None:
            return self._refuse("Select a marker first.")
        if (refused := self._asked(self.session.refusal("delete", chat.id))) is not None:
            return refused
        return chat

    def delete_marker(self, chat: Chat) -> Deleted | Refused:
        outcome = self.session.delete_marker(chat.id)
        if isinstance(outcome, Refused):
            return self._refuse(outcome.reason)
        self._tidy()
        return self._deleted(Deleted(chat, None, self._clock()))

    def _deleted(self, deleted: Deleted) -> Deleted:
        self.undo_slot.record(deleted)
        self.say(self.deleted_notice(deleted), situation="undo")
        return deleted

    def deleted_notice(self, deleted: Deleted) -> str:
        seconds = int(self.undo_slot.seconds)
        return f"{deleted.label} deleted. Press u within {seconds} s to undo."

    def undo_expired(self) -> bool:
        """Call when the undo time is up: True when the undo is no longer offered."""
        if self.undo_offered() is not None:
            return False
        self.end_situation("undo")
        return True

    def undo(self) -> Restored | Refused:
        deleted = self.undo_offered()
        if deleted is None:
            seconds = int(self.undo_slot.seconds)
            return self._refuse(f"Nothing to undo (a delete can be undone for {seconds} s).")
        outcome = self.session.submit(restore_op(deleted, new_id))
        if isinstance(outcome, Refused):
            return self._refuse(outcome.reason)  # still offered until it expires
        self.undo_slot.take(self._clock())
        self.select(deleted.chat.id)
        if deleted.comment is None:
            self.say(f"Marker #{deleted.chat.number} restored.")
            return Restored(deleted.chat.id)
        self.say(f"Comment on #{deleted.chat.number} restored.")
        return Restored(deleted.chat.id, deleted.comment.id)

    # --- moving ---------------------------------------------------------------------

    def begin_move(self) -> Chat | Refused:
        """Asked first (offline; only its author or a moderator), so a refusal comes
        now rather than after choosing the new spot."""
        chat = self.selected_chat
        if chat is None:
            return self._refuse("Select a marker to move first ([ / ] or click its pin).")
        if (refused := self._asked(self.session.refusal("move", chat.id))) is not None:
            return refused
        self.moving = chat.id
        self.say(
            f"Moving #{chat.number}: ⏎/click · esc cancel"  # whole at 80 columns
        )
        return chat

    def cancel_move(self) -> bool:
        if self.moving is None:
            return False
        self.moving = None
        self.say("Move cancelled.")
        return True

    def place(self, x: float, y: float) -> Draft | Done | Refused | None:
        """A spot chosen on the image: the marker being moved goes there, else a new
        marker begins there. None: the marker being moved is gone."""
        if self.moving is None:
            return self.begin_marker(x, y)
        chat = self.chat(self.moving)
        self.moving = None
        if chat is None:
            return None
        outcome = self.session.move(chat.id, x, y)
        if isinstance(outcome, Refused):
            return self._refuse(outcome.reason)
        self.select(chat.id)
        self.say(f"Marker #{chat.number} moved.")
        return outcome

    # --- the link ---------------------------------------------------------------------

    def received(self, received: Received) -> Changed:
        """Fold in what one server frame did: own ops refused are said, markers others
        changed become unseen, and what concerns you becomes a notice."""
        changed = Changed(room=received.changed or bool(received.confirmed))
        for _op, error in received.failed:
            self._failed(_op, error)
        if received.remote:
            self._about_the_open_marker(received.remote)
            if self.panel is not None and self.panel.chat_id in self.link.replica.view.chats:
                self.end_situation("gone")  # the deleted marker is back (restored)
            view = self.link.replica.confirmed
            self.unseen |= touched(received.remote, self.me) - {self.selected or ""}
            self.unseen &= set(view.chats)
            changed.notices = notices(received.remote, view, self.me)
            self.noticed += changed.notices
        if changed.room:
            self._tidy()
        return changed

    def _about_the_open_marker(self, events: Sequence[Event]) -> None:
        """Someone else deleted, resolved, reopened, moved or edited the marker you have
        open: its panel says so, once; the status line only while the sidebar (and so the
        panel) is hidden. Either way what the status line said before is old news."""
        chat_id = self.selected
        if chat_id is None:
            return
        stone = self.link.replica.confirmed.tombstones.get(chat_id)  # deleted: kept a while
        chat = self.link.replica.view.chats.get(chat_id) or (stone.chat if stone else None)
        number = f"Marker #{chat.number}" if chat else "The marker"
        for event in events:
            if isinstance(event, NewImageChat) or event.chatId != chat_id:
                continue
            who = self._name(
                (event.undo.by if event.undo else None)
                if isinstance(event, DeletedImageChat)
                else None
            )
            if isinstance(event, DeletedImageChat):
                self.panel = PanelNotice(chat_id, f"{number} was deleted{who}.", None)
                self._tell_the_open_marker(f"{number}, which you had open, was deleted{who}.", True)
                continue
            said = _CHANGE_SAID.get(type(event.change))
            if said is not None:
                now = self.link.replica.view.chats.get(chat_id)
                self.panel = PanelNotice(chat_id, f"{number} {said} by someone else.", now)
                self._tell_the_open_marker(
                    f"{number}, which you have open, {said} by someone else."
                )

    def _tell_the_open_marker(self, text: str, deleted: bool = False) -> None:
        """The status line's part of a change to the open marker (the panel says it)."""
        if not self.show_sidebar:
            # No panel to say it in; "gone" ends when the marker is back (restored).
            self.say(text, error=deleted, situation="gone" if deleted else None)
        elif self.status.situation is None:
            self.say("")  # "Marker #1 resolved." is no longer true

    def _name(self, user_id: str | None) -> str:
        if user_id is None:
            return " by someone else"
        for user in self.people():
            if user.id == user_id:
                return f" by {inert(user.name)}"
        return f" by {inert(user_id)}"

    def _failed(self, _op: ClientOp, error: Error) -> None:
        self.say(f"Undone: {error.message}", error=True)

    def _tidy(self) -> None:
        """What the selection and the move point at may be gone."""
        chats = self.link.replica.view.chats
        if self.selected is not None and self.selected not in chats:
            self.selected = None
        if self.moving is not None and self.moving not in chats:
            self.moving = None
            self.say("The marker being moved was deleted.", error=True)

    def connection_changed(self) -> Literal["ask-token"] | None:
        """The link's state changed: "ask-token" when the app should ask for a token
        (once per refusal; a local token is minted again without asking)."""
        state = self.link.state
        if state.connected:
            self._asked_for_token = False
            self.end_situation("offline")  # "Offline: …", "Retrying now…", "token expired"
            return None
        if state.kind != "auth-failed":
            return None
        self.say(state.reason, error=True, situation="offline")
        if self.remint_token is not None and state.token_expired:
            self.link.set_token(self.remint_token())
            return None
        if self._asked_for_token:
            return None
        self._asked_for_token = True
        return "ask-token"

    def use_token(self, token: str) -> None:
        self.link.set_token(token)

    def retry(self) -> None:
        if self.link.state.kind == "auth-failed":
            self._asked_for_token = False  # refused again: ask for a token again
        self.link.retry_now()
        self.say("Retrying now…", situation="offline")


__all__ = ["Action", "Changed", "Draft", "Drafts", "PanelNotice", "Restored", "Review", "Status"]
