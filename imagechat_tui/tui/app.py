"""The review app: the image with pins on the left, markers and the thread on the right.

Widgets render state and post messages; the connection runs in a worker and reports
through messages (``messages.py``); every change goes through the ``Replica`` so that
own ops show at once and remote ones arrive without a key press.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.driver import Driver
from textual.widgets import Static

from imagechat_tui.client.connection import Connection, ConnState
from imagechat_tui.client.graphics import TerminalSetup, make_renderer
from imagechat_tui.client.mentions import people
from imagechat_tui.client.session import ClientSession, Done, Outcome, Refused, new_id
from imagechat_tui.client.undo import Deleted, UndoSlot, restore_op
from imagechat_tui.protocol import Chat, Presence, User, Viewers
from imagechat_tui.replica import Received
from imagechat_tui.safe_text import inert
from imagechat_tui.tui.activity import Activity, AlertMode
from imagechat_tui.tui.export_commands import ExportCommands
from imagechat_tui.tui.input_driver import paste_safe
from imagechat_tui.tui.key_commands import KeyCommands
from imagechat_tui.tui.keys import live_sections
from imagechat_tui.tui.messages import (
    ConnectionChanged,
    OpsFailed,
    PresenceChanged,
    RoomChanged,
    ViewersListed,
    viewer_count,
    who_text,
)
from imagechat_tui.tui.share_commands import ShareCommands
from imagechat_tui.tui.type_ahead import Settled, TypeAhead
from imagechat_tui.tui.widgets.app_footer import AppFooter
from imagechat_tui.tui.widgets.comment_input import CommentInput, Draft
from imagechat_tui.tui.widgets.connection_indicator import ConnectionIndicator
from imagechat_tui.tui.widgets.dialogs import ConfirmScreen, TokenScreen
from imagechat_tui.tui.widgets.help_screen import HelpScreen
from imagechat_tui.tui.widgets.image_view import ImageView, Pin
from imagechat_tui.tui.widgets.marker_list import MarkerList
from imagechat_tui.tui.widgets.offline_banner import OfflineBanner
from imagechat_tui.tui.widgets.pointer_status import PointerStatus
from imagechat_tui.tui.widgets.region_overlay import RegionRequested
from imagechat_tui.tui.widgets.thread_view import ThreadView

IMAGE_BACKGROUND = (24, 24, 24)


def _ignore(_: object) -> None:
    pass


class ImageChatApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    COMMANDS = App.COMMANDS | {KeyCommands, ExportCommands, ShareCommands}
    TITLE = "imagechat"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # classes on the screen
    BINDINGS = [
        Binding(
            "question_mark",
            "help",
            "Help",
            key_display="?",
            id="app.help",
            tooltip="This help: every key, by where it works",
        ),
        Binding(
            "q", "quit", "Quit", id="app.quit", tooltip="Quit (asks first if a comment is unsent)"
        ),
        Binding(
            "left_square_bracket",
            "select_step(-1)",
            "Prev",
            key_display="[",
            id="marker.prev",
            tooltip="Previous marker (of those the list shows)",
        ),
        Binding(
            "right_square_bracket",
            "select_step(1)",
            "Next",
            key_display="]",
            id="marker.next",
            tooltip="Next marker (of those the list shows)",
        ),
        Binding("r", "reply", "Reply", id="thread.reply", tooltip="Reply to the selected marker"),
        Binding("e", "edit", "Edit", id="thread.edit", tooltip="Edit your highlighted comment"),
        Binding(
            "x",
            "delete_comment",
            "Del comment",
            show=False,
            id="thread.delete-comment",
            tooltip="Delete your highlighted comment (u brings it back)",
        ),
        Binding(
            "s",
            "set_resolved(True)",
            "Resolve",
            id="marker.resolve",
            tooltip="Resolve the selected marker",
        ),
        Binding(
            "s",
            "set_resolved(False)",
            "Reopen",
            id="marker.reopen",
            tooltip="Reopen the selected (resolved) marker",
        ),
        Binding(
            "D",
            "delete_marker",
            "Del marker",
            id="marker.delete",
            tooltip="Delete the selected marker and its thread (asks; u brings it back)",
        ),
        Binding(
            "u", "undo", "Undo", id="edit.undo", tooltip="Undo the last delete (for 10 s after it)"
        ),
        Binding(
            "m",
            "move_marker",
            "Move",
            id="marker.move",
            tooltip="Move the selected marker: click the new spot, or crosshair + enter",
        ),
        Binding(
            "escape",
            "cancel_move",
            "Cancel move",
            show=False,
            id="marker.move-cancel",
            tooltip="Cancel the move",
        ),
        Binding(
            "escape",
            "focus_image",
            "Image",
            show=False,
            id="app.to-image",
            tooltip="Back to the image (from the list or the thread)",
        ),
        Binding(
            "f",
            "cycle_filter",
            "Filter",
            id="markers.filter",
            tooltip="Filter the marker list: all, open, resolved",
        ),
        Binding(
            "v",
            "toggle_resolved_pins",
            "Hide resolved",
            show=False,
            id="view.resolved",
            tooltip="Hide or show resolved pins on the image",
        ),
        Binding(
            "b",
            "toggle_sidebar",
            "Sidebar",
            show=False,
            id="view.sidebar",
            tooltip="Hide or show the sidebar (markers and thread)",
        ),
        Binding(
            "w", "who", "Who", show=False, id="room.who", tooltip="Who is viewing this image now"
        ),
        Binding(
            "R",
            "retry",
            "Retry",
            id="connection.retry",
            tooltip="Retry the connection now (while it is down)",
        ),
    ]

    def __init__(
        self,
        image: Image.Image,
        connection: Connection,
        *,
        title: str = "imagechat",
        remint_token: Callable[[], str] | None = None,
        terminal: TerminalSetup | None = None,
        image_source: str | None = None,
        alert: AlertMode = "auto",
    ) -> None:
        """``connection`` is built by the launcher (or a test) and not yet running; the
        app runs it in a worker, and builds every own change through ``ClientSession``."""
        super().__init__()
        self.connection = connection
        self.session = ClientSession(connection)
        self.replica = connection.replica
        self.title = inert(title)
        self.image_source = image_source or title  # its URL or path, for exports
        self.sub_title = self.replica.room
        self.terminal = terminal or TerminalSetup()  # graphics mode and cell size
        self.renderer = make_renderer(image, self.terminal, IMAGE_BACKGROUND)
        self.remint_token = remint_token  # mints a fresh local token, if local
        self.selected: str | None = None
        self.moving: str | None = None  # the marker being moved: the next place moves it
        self.region_size: tuple[float, float] | None = None  # of the new marker being written
        self.show_resolved = True
        self.undo = UndoSlot()  # the last delete, for u
        self._asked_for_token = False
        self.activity = Activity(self, alert)  # mentions, replies to you, unseen markers
        self._situation: str | None = None  # what the status line's message is about
        self._offered_for: object = None  # what the footer was last worked out for
        self.type_ahead = TypeAhead()  # keys typed while the composer is being opened

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield OfflineBanner(id="offline-banner")
        with Horizontal(id="main"):
            yield ImageView(self.renderer, id="image", terminal=self.terminal)
            with Vertical(id="sidebar"):
                yield MarkerList(id="markers")
                yield ThreadView(id="thread")
        yield CommentInput(
            id="compose",
            limits=lambda: self.replica.limits,
            people=self.room_people,
            me=lambda: self.replica.actor.user.id,
        )
        with Horizontal(id="statusbar"):
            yield ConnectionIndicator(id="connection")
            yield Static(id="status")
            yield Static(id="view-state", classes="-empty")
            yield PointerStatus(id="pointer")
            yield Static(Text(f"{self.title} · {self.sub_title}"), id="where")
        yield AppFooter()

    def on_mount(self) -> None:
        if self.console.color_system != "truecolor":
            self.renderer.colors = "256"
        self.query_one(CommentInput).display = False
        self.query_one(ImageView).focus()
        self.refresh_room()
        self.show_connection()
        self.connection.listen(
            on_state=self._state_changed,
            on_received=self._received,
            on_presence=self._presence_changed,
            on_viewers=self._viewers_arrived,
        )
        self.run_worker(
            self.connection.run(), name="connection", group="connection", exclusive=True
        )

    async def on_unmount(self) -> None:
        # The widgets are going: no more reports to them, then close the link.
        self.connection.listen(on_state=_ignore, on_received=_ignore, on_presence=_ignore)
        await self.connection.close()

    def get_driver_class(self) -> type[Driver]:
        return paste_safe(super().get_driver_class())  # a paste never presses keys

    # --- keys typed ahead --------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self._take_key(event)  # from the terminal
            return
        await super().on_event(event)
        owner = self.type_ahead.settle_after(event) if isinstance(event, events.Key) else None
        if owner is not None and not owner.post_message(Settled()):
            self.post_message(Settled())  # its owner is gone: nothing to wait for

    async def _take_key(self, key: events.Key) -> None:
        """Route a key from the terminal, unless a key before it is opening the
        composer: then hold it until that is done (``type_ahead.py``)."""
        if self.type_ahead.holding:
            self.type_ahead.held.append(key)
            return
        self.type_ahead.hold_after(key, self.screen)
        await super().on_event(key)

    @on(Settled)
    async def _replay_typed_ahead(self) -> None:
        compose = self.query_one(CommentInput)
        if compose.composing:  # focus now, not when its deferred focus callback runs
            self.screen.set_focus(compose.area)
        for key in self.type_ahead.release():
            await self._take_key(key)

    # --- from the connection worker --------------------------------------------------

    def _shutting_down(self) -> bool:
        """The widgets are leaving or gone: a report from the connection handled now has
        nothing to show. Textual clears ``is_running`` before it removes any widget (and
        a test's shutdown runs beside the app's message loop, which still handles the
        reports the connection posted meanwhile), so this covers every step of it; a
        check for one widget did not (another could already be gone)."""
        return not self.is_running

    def _state_changed(self, _state: ConnState) -> None:
        self.post_message(ConnectionChanged())

    def _presence_changed(self, _presence: Presence) -> None:
        self.post_message(PresenceChanged())

    def _viewers_arrived(self, viewers: Viewers) -> None:
        self.post_message(ViewersListed(viewers))

    def _received(self, received: Received) -> None:
        if received.failed:
            self.post_message(OpsFailed(received.failed))
        if received.remote:
            user = self.replica.actor.user.id
            self.activity.received(received.remote, self.replica.confirmed, user, self.selected)
        if received.changed or received.confirmed:
            self.post_message(RoomChanged())

    @on(RoomChanged)
    def refresh_room(self) -> None:
        if self._shutting_down():
            return
        chats = self.chats()
        if self.selected is not None and self.selected not in self.replica.view.chats:
            self.selected = None
        if self.moving is not None and self.moving not in self.replica.view.chats:
            self._stop_moving()
            self.say("The marker being moved was deleted.", error=True)
        self.query_one(ImageView).set_pins(
            [Pin(c.id, c.number, c.x, c.y, c.resolved, c.w, c.h) for c in chats],
            self.selected,
            self.show_resolved,
        )
        self.query_one(MarkerList).show(chats, self.selected, self.activity.unseen)
        self.query_one(ThreadView).show(self.selected_chat, self.replica.actor.user.id)
        self._reply_follows_selection()
        self._offer_what_applies()

    def _offer_what_applies(self) -> None:
        """Refresh the footer when what ``check_action`` depends on changed (only then:
        a remote event that changes none of it costs the terminal no footer repaint)."""
        chat = self.selected_chat
        basis = (
            chat.id if chat else None,
            chat.resolved if chat else None,
            self.query_one(ThreadView).highlighted_comment_id,
            self.moving,
        )
        if basis != self._offered_for:
            self._offered_for = basis
            self.refresh_bindings()

    def _reply_follows_selection(self) -> None:
        """A reply goes to the selected marker and says so; a draft whose marker was
        deleted meanwhile says that (the text stays, to copy or cancel)."""
        compose = self.query_one(CommentInput)
        draft = compose.draft
        if draft is None or draft.purpose == "new":
            return
        if draft.purpose == "reply" and self.selected not in (None, draft.chat_id):
            draft = Draft("reply", chat_id=self.selected)
        compose.retarget(draft, self._compose_title(draft))

    def _compose_title(self, draft: Draft) -> str:
        chat = self.replica.view.chats.get(draft.chat_id) if draft.chat_id else None
        if draft.purpose == "new":
            return f"New marker at {self.query_one(ImageView).describe_spot(draft.x, draft.y)}"
        if chat is None:
            return "The marker is gone (deleted): esc to cancel"
        if draft.purpose == "reply":
            return f"Reply to #{chat.number}"
        return f"Edit your comment on #{chat.number}"

    @on(OpsFailed)
    def show_failures(self, message: OpsFailed) -> None:
        if self._shutting_down():
            return
        for _op, error in message.failures:
            self.say(f"Undone: {error.message}", error=True)
        self.refresh_room()

    @on(ConnectionChanged)
    def show_connection(self) -> None:
        """Every widget shows ``connection.state``, the one source of truth (the
        message only says it changed)."""
        if self._shutting_down():
            return
        state = self.connection.state
        self.query_one(ConnectionIndicator).show(state, viewer_count(self.connection.presence))
        self.query_one(OfflineBanner).show(state)
        if state.kind == "connected":
            self._asked_for_token = False
            self.end_situation("offline")  # "Offline: …", "Retrying now…", "token expired"
            self.refresh_room()
        self.refresh_bindings()  # Retry is offered only while the link is down
        if state.kind == "auth-failed":
            self._token_refused(state)

    @on(PresenceChanged)
    def show_presence(self) -> None:
        if self._shutting_down():
            return
        indicator = self.query_one(ConnectionIndicator)
        indicator.show(self.connection.state, viewer_count(self.connection.presence))

    def _token_refused(self, state: ConnState) -> None:
        self.say(state.reason, error=True, situation="offline")
        if self.remint_token is not None and state.token_expired:
            self.connection.set_token(self.remint_token())
            return
        if self._asked_for_token:
            return
        self._asked_for_token = True

        def use(token: str | None) -> None:
            if token:
                self.connection.set_token(token)

        self.push_screen(TokenScreen(state.reason), use)

    def room_people(self) -> list[User]:
        """Who can be mentioned: everyone viewing and everyone who commented."""
        presence = self.connection.presence
        return people(self.replica.view.chats.values(), presence.viewers if presence else ())

    # --- state helpers ---------------------------------------------------------------

    def chats(self) -> list[Chat]:
        return sorted(self.replica.view.chats.values(), key=lambda c: c.number)

    @property
    def selected_chat(self) -> Chat | None:
        return self.replica.view.chats.get(self.selected) if self.selected else None

    def select(self, chat_id: str | None) -> None:
        self.selected = chat_id
        self.activity.opened(chat_id)
        self.refresh_room()

    def say(self, text: str, *, error: bool = False, situation: str | None = None) -> None:
        """Show ``text`` in the status line. With ``situation`` ("offline", "undo"), it is
        cleared when that situation ends (``end_situation``) so it never stays untrue."""
        status = self.query_one("#status", Static)
        status.update(inert(text))
        status.set_class(error, "-error")
        self._situation = situation
        if error:
            self.notify(inert(text), severity="error", timeout=4)

    def end_situation(self, situation: str) -> None:
        """The situation a status message described is over: clear it."""
        if self._situation == situation:
            self.say("")

    def _about(self) -> str | None:
        """The situation of a refusal now: "offline" while not connected."""
        return None if self.connection.connected else "offline"

    def done(self, outcome: Outcome) -> bool:
        """Show what an own change did: refused (and why) or applied."""
        if isinstance(outcome, Refused):
            self.say(outcome.reason, error=True, situation=self._about())
            return False
        self.refresh_room()
        return True

    def refused(self, refusal: str | None) -> bool:
        """Say why an action is refused before any effort; False when it is not."""
        if refusal is None:
            return False
        self.say(refusal, error=True, situation=self._about())
        return True

    def _own_comment(self) -> tuple[Chat, str] | None:
        chat = self.selected_chat
        comment_id = self.query_one(ThreadView).highlighted_comment_id
        if chat is None or comment_id is None:
            self.say("Select a marker and highlight a comment first.", error=True)
            return None
        return chat, comment_id

    # --- widget messages -------------------------------------------------------------

    @on(ImageView.PlaceRequested)
    def place(self, message: ImageView.PlaceRequested) -> None:
        if self.moving is not None:
            self._finish_move(message.x, message.y)
            return
        if self.refused(self.session.refusal_to_create()):
            return  # offline, a viewer, or the marker limit: before typing
        self.region_size = None
        self._compose(Draft("new", message.x, message.y))

    def on_paste(self, event: events.Paste) -> None:
        # Reaches the app only when no text box took it: it lands nowhere, and acts never.
        self.say("Pasted text goes into a comment: r replies, n places a marker first.")

    @on(RegionRequested)
    def place_region(self, message: RegionRequested) -> None:
        region = (message.x, message.y, message.w, message.h)
        if self.refused(self.session.refusal_to_create(region)):
            return  # offline, a viewer, the marker limit, a bad region: before typing
        self._compose(Draft("new", message.x, message.y))
        self.region_size = (message.w, message.h)
        view = self.query_one(ImageView)
        view.pending_region = (message.x, message.y, message.w, message.h)
        view.refresh()

    @on(ImageView.PinClicked)
    def pin_clicked(self, message: ImageView.PinClicked) -> None:
        self.select(message.chat_id)

    @on(MarkerList.Selected)
    def marker_chosen(self, message: MarkerList.Selected) -> None:
        self.select(message.chat_id)
        self.query_one(ThreadView).focus()

    @on(MarkerList.Highlighted)
    def marker_highlighted(self, message: MarkerList.Highlighted) -> None:
        if message.chat_id != self.selected:
            self.select(message.chat_id)

    @on(MarkerList.FilterChanged)
    def filter_changed(self) -> None:
        self.refresh_room()

    @on(CommentInput.Sent)
    def send_comment(self, message: CommentInput.Sent) -> None:
        draft, text = message.draft, message.text
        if draft.purpose == "new":
            w, h = self.region_size or (None, None)
            outcome = self.session.create(draft.x, draft.y, text, w, h)
        elif draft.purpose == "reply" and draft.chat_id:
            outcome = self.session.reply(draft.chat_id, text)
        elif draft.chat_id and draft.comment_id:
            outcome = self.session.edit(draft.chat_id, draft.comment_id, text)
        else:
            return
        if self.done(outcome) and isinstance(outcome, Done):
            self._close_composer()
            self.select(outcome.chat_id)
            if outcome.comment_id is not None:  # e / x act on what was just written
                self.query_one(ThreadView).highlight(outcome.comment_id)
            self.say("Sent.")
            (
                self.query_one(ImageView) if draft.purpose == "new" else self.query_one(ThreadView)
            ).focus()

    @on(CommentInput.Cancelled)
    def cancel_comment(self) -> None:
        self._close_composer()
        self.query_one(ImageView).focus()

    def _close_composer(self) -> None:
        self.region_size = None
        self.query_one(CommentInput).stop()
        view = self.query_one(ImageView)
        view.pending_spot = None
        if view.pending_region is not None:
            view.pending_region = None
            view.refresh()

    # --- actions ---------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(live_sections(self, self.screen)))

    def action_retry(self) -> None:
        if self.connection.state.kind == "auth-failed":
            self._asked_for_token = False  # refused again: ask for a token again
        self.connection.retry_now()
        self.say("Retrying now…", situation="offline")

    def action_select_step(self, step: int) -> None:
        """The previous / next marker of those the list shows (its filter applies)."""
        ids = self.query_one(MarkerList).chat_ids
        if not ids:
            return
        index = ids.index(self.selected) + step if self.selected in ids else (0 if step > 0 else -1)
        self.select(ids[index % len(ids)])

    def action_cycle_filter(self) -> None:
        self.query_one(MarkerList).action_cycle_filter()

    def action_focus_image(self) -> None:
        self.query_one(ImageView).focus()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display
        if not sidebar.display and self.focused is not None and sidebar in self.focused.ancestors:
            self.query_one(ImageView).focus()
        self.show_view_state()

    def action_who(self) -> None:
        """Who is viewing, by name: from the last presence while it names everyone, else
        asked of the server (``who``; a large room's presence is the count alone)."""
        presence = self.connection.presence
        if presence is None or not self.connection.connected:
            self.notify("Not connected: nobody to list.", title="Viewing now")
            return
        if len(presence.viewers) >= viewer_count(presence) or not self.connection.request_viewers():
            self._show_viewers(presence.viewers, viewer_count(presence))

    @on(ViewersListed)
    def _viewers_listed(self, message: ViewersListed) -> None:
        self._show_viewers(message.viewers.viewers, viewer_count(message.viewers))

    def _show_viewers(self, viewers: tuple[User, ...], count: int) -> None:
        named = tuple(User(id=user.id, name=inert(user.name)) for user in viewers)
        self.notify(who_text(named, count), title=f"Viewing now ({count})")

    async def action_quit(self) -> None:
        """Quit, but not over an unsent comment without asking."""
        compose = self.query_one(CommentInput)
        if compose.draft is None or not compose.value.strip():
            self.exit()
            return

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit()

        self.push_screen(
            ConfirmScreen("Quit and lose the comment you have not sent?", confirm="Quit"),
            answered,
        )

    def show_view_state(self) -> None:
        """The view toggles that hide something, always visible in the status bar."""
        hidden = []
        if not self.show_resolved:
            hidden.append("resolved pins hidden (v)")
        if not self.query_one("#sidebar").display:
            hidden.append("sidebar hidden (b)")
        view_state = self.query_one("#view-state", Static)
        view_state.update(" · ".join(hidden))
        view_state.set_class(not hidden, "-empty")

    def action_toggle_resolved_pins(self) -> None:
        self.show_resolved = not self.show_resolved
        self.refresh_room()
        self.show_view_state()
        self.say("Resolved pins shown." if self.show_resolved else "Resolved pins hidden.")

    def action_reply(self) -> None:
        if self.selected_chat is None:
            self.say("Select a marker to reply to ([ / ] or click its pin).", error=True)
            return
        if self.refused(self.session.refusal_to_reply(self.selected_chat.id)):
            return  # offline, a viewer, or the thread is full: before typing
        self._compose(Draft("reply", chat_id=self.selected))

    def action_edit(self) -> None:
        found = self._own_comment()
        if found is None:
            return
        chat, comment_id = found
        comment = next(c for c in chat.comments if c.id == comment_id)
        if self.refused(self.session.refusal_to_edit(chat, comment_id)):
            return
        self._compose(Draft("edit", chat_id=chat.id, comment_id=comment_id), comment.text)

    def _compose(self, draft: Draft, text: str = "") -> None:
        """Open the composer for ``draft``; a new marker's spot shows on the image."""
        self.query_one(ImageView).pending_spot = (
            (draft.x, draft.y) if draft.purpose == "new" else None
        )
        self.query_one(CommentInput).start(draft, text, self._compose_title(draft))

    def action_delete_comment(self) -> None:
        found = self._own_comment()
        if found is not None:
            chat, comment_id = found
            comment = next(c for c in chat.comments if c.id == comment_id)
            if self.done(self.session.delete_comment(chat.id, comment_id)):
                self._deleted(Deleted(chat, comment, time.monotonic()))

    def _deleted(self, deleted: Deleted) -> None:
        """Offer the undo of what was just deleted, for ``UNDO_SECONDS``."""
        self.undo.record(deleted)
        seconds = int(self.undo.seconds)
        notice = f"{deleted.label} deleted. Press u within {seconds} s to undo."
        self.say(notice, situation="undo")
        self.notify(notice, title="Deleted", timeout=self.undo.seconds)
        self.refresh_bindings()
        self.set_timer(self.undo.seconds, self._undo_expired)

    def _undo_expired(self) -> None:
        if self.undo.peek(time.monotonic()) is None:
            self.refresh_bindings()  # u leaves the footer
            self.end_situation("undo")  # and "Press u within 10 s" the status line

    def action_undo(self) -> None:
        deleted = self.undo.peek(time.monotonic())
        if deleted is None:
            self.say(f"Nothing to undo (a delete can be undone for {int(self.undo.seconds)} s).")
            return
        if not self.done(self.session.submit(restore_op(deleted, new_id))):
            return  # the reason is shown; the undo stays offered until it expires
        self.undo.take(time.monotonic())
        self.clear_notifications()  # the "deleted" notice is no longer true
        self.refresh_bindings()
        self.select(deleted.chat.id)
        if deleted.comment is None:
            self.say(f"Marker #{deleted.chat.number} restored.")
        else:
            self.query_one(ThreadView).highlight(deleted.comment.id)
            self.say(f"Comment on #{deleted.chat.number} restored.")

    def action_set_resolved(self, resolved: bool) -> None:
        chat = self.selected_chat
        if chat is None or chat.resolved == resolved:
            return  # not offered (check_action); from the palette, nothing to do
        if self.done(self.session.set_resolved(chat.id, resolved)):
            self.say(f"Marker #{chat.number} {'reopened' if chat.resolved else 'resolved'}.")

    def action_move_marker(self) -> None:
        chat = self.selected_chat
        if chat is None:
            self.say("Select a marker to move first ([ / ] or click its pin).", error=True)
            return
        # Ask the rules first (offline; only its author or a moderator may move it), so
        # that a refusal comes now rather than after choosing the new spot.
        if self.refused(self.session.refusal_to_move(chat)):
            return
        self.moving = chat.id
        view = self.query_one(ImageView)
        view.moving = True
        view.show_crosshair_at(chat.x, chat.y)
        view.focus()
        self.say(
            f"Moving #{chat.number}: click the new spot, or crosshair + enter; escape cancels."
        )

    def _finish_move(self, x: float, y: float) -> None:
        chat_id = self.moving
        self._stop_moving()
        chat = self.replica.view.chats.get(chat_id) if chat_id else None
        if chat is None:
            return
        if self.done(self.session.move(chat.id, x, y)):
            self.select(chat.id)
            self.say(f"Marker #{chat.number} moved.")

    def _stop_moving(self) -> None:
        self.moving = None
        self.query_one(ImageView).moving = False

    def action_cancel_move(self) -> None:
        if self.moving is not None:
            self._stop_moving()
            self.say("Move cancelled.")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """What applies now: the footer and the palette show only these. Refusals that
        need a reason (a viewer, someone else's comment, offline) stay enabled so the
        key says why."""
        chat = self.selected_chat
        if action == "cancel_move":
            return self.moving is not None
        if action == "undo":
            return self.undo.peek(time.monotonic()) is not None
        if action in ("reply", "delete_marker", "move_marker"):
            return chat is not None
        if action == "set_resolved":
            return chat is not None and chat.resolved != parameters[0]
        if action in ("edit", "delete_comment"):
            return (
                chat is not None and self.query_one(ThreadView).highlighted_comment_id is not None
            )
        if action == "focus_image":
            return self.focused is not self.query_one(ImageView) and self.moving is None
        if action == "retry":
            return not self.connection.connected
        return True

    def action_delete_marker(self) -> None:
        chat = self.selected_chat
        if chat is None:
            self.say("Select a marker first.", error=True)
            return
        if self.refused(self.session.refusal_to_delete_marker(chat.id)):
            return  # before asking, not after

        def confirmed(answer: bool | None) -> None:
            if answer and self.done(self.session.delete_marker(chat.id)):
                self._deleted(Deleted(chat, None, time.monotonic()))

        count = len(chat.comments)
        self.push_screen(
            ConfirmScreen(
                f"Delete marker #{chat.number} and its {count} comment{'s' * (count != 1)}?"
                f" (u undoes it for {int(self.undo.seconds)} s)",
                confirm="Delete",
            ),
            confirmed,
        )
