"""The review app: the image with pins on the left, markers and the thread on the right.

Thin by design: the review itself (selection, move, draft, undo, what applies, the
status line, activity) is ``client/review.py``, with no screen. This module composes
the widgets, routes each key or widget message to one intent of the ``Review``, and
draws what the review then says; the link (``client/link.py``) runs in a worker and
reports through messages (``messages.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.driver import Driver
from textual.widgets import Static

from imagechat_tui.client.drafts import Drafts, draft_file
from imagechat_tui.client.graphics import TerminalSetup, make_renderer
from imagechat_tui.client.link import ConnState, Link, ignore
from imagechat_tui.client.review import Draft, Restored, Review, Status
from imagechat_tui.client.session import Done, Refused
from imagechat_tui.client.undo import Deleted
from imagechat_tui.protocol import Presence, Viewers
from imagechat_tui.replica import Received, Replica
from imagechat_tui.safe_text import inert
from imagechat_tui.tui.activity import Activity, AlertMode
from imagechat_tui.tui.bindings import APP_BINDINGS
from imagechat_tui.tui.export_commands import ExportCommands
from imagechat_tui.tui.input_driver import paste_safe
from imagechat_tui.tui.key_commands import KeyCommands
from imagechat_tui.tui.keys import live_sections
from imagechat_tui.tui.messages import (
    ConnectionChanged,
    PresenceChanged,
    RoomChanged,
    ViewersListed,
)
from imagechat_tui.tui.share_commands import ShareCommands
from imagechat_tui.tui.type_ahead import Settled, TypeAhead
from imagechat_tui.tui.widgets.app_footer import AppFooter
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.connection_indicator import ConnectionIndicator
from imagechat_tui.tui.widgets.dialogs import ConfirmScreen, TokenScreen
from imagechat_tui.tui.widgets.help_screen import HelpScreen
from imagechat_tui.tui.widgets.image_view import ImageView, Pin
from imagechat_tui.tui.widgets.marker_list import MarkerList
from imagechat_tui.tui.widgets.offline_banner import OfflineBanner
from imagechat_tui.tui.widgets.pointer_status import PointerStatus
from imagechat_tui.tui.widgets.region_overlay import RegionDrawing, RegionRequested
from imagechat_tui.tui.widgets.thread_view import ThreadView

IMAGE_BACKGROUND = (24, 24, 24)


class ImageChatApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    COMMANDS = App.COMMANDS | {KeyCommands, ExportCommands, ShareCommands}
    TITLE = "imagechat"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # classes on the screen
    BINDINGS = APP_BINDINGS

    def __init__(
        self,
        image: Image.Image,
        link: Link,
        *,
        title: str = "imagechat",
        remint_token: Callable[[], str] | None = None,
        terminal: TerminalSetup | None = None,
        image_source: str | None = None,
        alert: AlertMode = "auto",
    ) -> None:
        """``link`` is built by the launcher (or a test) and not yet running; the app
        runs it in a worker. Every intent goes to the ``Review`` over it."""
        super().__init__()
        self.link = link
        drafts = Drafts(draft_file(link.url, link.replica.room))  # kept across restarts
        self.review = Review(link, remint_token=remint_token, drafts=drafts)
        self.title = inert(title)
        self.image_source = image_source or title  # its URL or path, for exports
        self.sub_title = link.replica.room
        self.terminal = terminal or TerminalSetup()  # graphics mode and cell size
        self.renderer = make_renderer(image, self.terminal, IMAGE_BACKGROUND)
        self.activity = Activity(self, alert)  # notifications and alerts of notices
        self._shown_status = Status()  # the status the status line shows
        self._offered_for: object = None  # what the footer was last worked out for
        self.type_ahead = TypeAhead()  # keys typed while the composer is being opened

    # The link and its replica, for the palette's commands and for tests.
    @property
    def connection(self) -> Link:
        return self.link

    @property
    def replica(self) -> Replica:
        return self.link.replica

    @property
    def selected(self) -> str | None:
        return self.review.selected

    @property
    def moving(self) -> str | None:
        return self.review.moving

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
            limits=lambda: self.link.replica.limits,
            people=self.review.people,
            me=lambda: self.review.me,
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
        self.set_interval(1.0, self._expire_status)  # every status message has an end
        self.refresh_room()
        self.show_connection()
        self.link.listen(
            on_state=self._state_changed,
            on_received=self._received,
            on_presence=self._presence_changed,
            on_viewers=self._viewers_arrived,
        )
        self._run_link()

    @work(name="connection", group="connection", exclusive=True)
    async def _run_link(self) -> None:
        # The coroutine is made when the worker starts: an app that exits before that
        # leaves no "never awaited" coroutine behind.
        await self.link.run()

    async def on_unmount(self) -> None:
        # The widgets are going: no more reports to them, then close the link.
        self.link.listen(on_state=ignore, on_received=ignore, on_presence=ignore, on_viewers=ignore)
        await self.link.close()

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

    # --- from the link's worker --------------------------------------------------------

    def _shutting_down(self) -> bool:
        """The widgets are leaving or gone: a report from the link handled now has
        nothing to show. Textual clears ``is_running`` before it removes any widget (and
        a test's shutdown runs beside the app's message loop, which still handles the
        reports the link posted meanwhile), so this covers every step of it."""
        return not self.is_running

    def _state_changed(self, _state: ConnState) -> None:
        self.post_message(ConnectionChanged())

    def _presence_changed(self, _presence: Presence) -> None:
        self.post_message(PresenceChanged())

    def _viewers_arrived(self, viewers: Viewers) -> None:
        self.post_message(ViewersListed(viewers))

    def _received(self, received: Received) -> None:
        changed = self.review.received(received)
        for notice in changed.notices:
            self.activity.notify(notice)
        if changed.room or received.failed:
            self.post_message(RoomChanged())

    # --- drawing what the review says ---------------------------------------------------

    @on(RoomChanged)
    def refresh_room(self) -> None:
        if self._shutting_down():
            return
        review = self.review
        chats = review.chats()
        draft = review.draft
        self.query_one(ImageView).show(
            [Pin(c.id, c.number, c.x, c.y, c.resolved, c.w, c.h) for c in chats],
            review.selected,
            review.show_resolved,
            (draft.x, draft.y, draft.w, draft.h) if draft and draft.purpose == "new" else None,
            review.moving is not None,
        )
        self.query_one(MarkerList).show(chats, review.selected, review.unseen)
        self.query_one(ThreadView).show(review.selected_chat, review.me)
        self._show_draft()
        self._show_status()
        self._offer_what_applies()

    def _show_draft(self) -> None:
        """The composer follows the review's draft (a reply follows the selection; a
        draft whose marker was deleted says so, its text kept to copy or cancel)."""
        compose = self.query_one(CommentInput)
        draft = self.review.draft
        if draft is None:
            if compose.composing:
                compose.stop()
            return
        title = self.review.draft_title(self.query_one(ImageView).describe_spot)
        shown = compose.draft
        if shown is None or shown.purpose != draft.purpose or (shown != draft and shown.spot):
            compose.start(draft, draft.text, title)  # a new draft (a new spot: anew)
        else:
            compose.retarget(draft, title)

    def _expire_status(self) -> None:
        if self.review.expire_status():
            self._show_status()

    def _show_status(self) -> None:
        status = self.review.status
        if status is self._shown_status:
            return
        self._shown_status = status
        line = self.query_one("#status", Static)
        line.update(inert(status.text))
        line.set_class(status.error, "-error")
        if status.error:
            self.notify(inert(status.text), severity="error", timeout=4)

    def _offer_what_applies(self) -> None:
        """Refresh the footer when what ``check_action`` depends on changed (only then:
        a remote event that changes none of it costs the terminal no footer repaint)."""
        chat = self.review.selected_chat
        basis = (
            chat.id if chat else None,
            chat.resolved if chat else None,
            self.query_one(ThreadView).highlighted_comment_id,
            self.review.moving,
            self.review.undo_offered() is not None,
            self.review.connected,
        )
        if basis != self._offered_for:
            self._offered_for = basis
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """What applies now (``Review.applies``): the footer and the palette show only
        these."""
        if action == "focus_image":
            return self.focused is not self.query_one(ImageView) and self.review.moving is None
        comment = self.query_one(ThreadView).highlighted_comment_id
        return self.review.applies(action, *parameters, comment=comment)

    def show_view_state(self) -> None:
        """The view toggles that hide something, always visible in the status bar."""
        hidden = self.review.hidden()
        view_state = self.query_one("#view-state", Static)
        view_state.update(" · ".join(hidden))
        view_state.set_class(not hidden, "-empty")

    @on(ConnectionChanged)
    def show_connection(self) -> None:
        """Every widget shows the link's state, the one source of truth (the message
        only says it changed)."""
        if self._shutting_down():
            return
        state = self.link.state
        self.query_one(ConnectionIndicator).show(state, self.review.viewer_count())
        self.query_one(OfflineBanner).show(state)
        if self.review.connection_changed() == "ask-token":
            self.push_screen(TokenScreen(state.reason), self._use_token)
        self.refresh_room()

    def _use_token(self, token: str | None) -> None:
        if token:
            self.review.use_token(token)

    @on(PresenceChanged)
    def show_presence(self) -> None:
        if self._shutting_down():
            return
        indicator = self.query_one(ConnectionIndicator)
        indicator.show(self.link.state, self.review.viewer_count())

    # --- widget messages: each one intent -------------------------------------------------

    @on(ImageView.PlaceRequested)
    def place(self, message: ImageView.PlaceRequested) -> None:
        self._began(self.review.place(message.x, message.y))

    def on_paste(self, event: events.Paste) -> None:
        # Reaches the app only when no text box took it: it lands nowhere, and acts never.
        self.review.say("Pasted text goes into a comment: r replies, n places a marker first.")
        self.refresh_room()

    @on(RegionDrawing)
    def region_drawing(self, message: RegionDrawing) -> None:
        self.review.drawing_region(message.active)
        self.refresh_room()

    @on(RegionRequested)
    def place_region(self, message: RegionRequested) -> None:
        self._began(self.review.begin_region(message.x, message.y, message.w, message.h))

    def _began(self, _outcome: Draft | Done | Refused | None) -> None:
        self.refresh_room()

    @on(ImageView.PinClicked)
    def pin_clicked(self, message: ImageView.PinClicked) -> None:
        self.select(message.chat_id)

    @on(MarkerList.Selected)
    def marker_chosen(self, message: MarkerList.Selected) -> None:
        self.select(message.chat_id)
        self.query_one(ThreadView).focus()

    @on(MarkerList.Highlighted)
    def marker_highlighted(self, message: MarkerList.Highlighted) -> None:
        if message.chat_id != self.review.selected:
            self.select(message.chat_id)

    @on(MarkerList.FilterChanged)
    def filter_changed(self) -> None:
        self.refresh_room()

    @on(CommentInput.Sent)
    def send_comment(self, message: CommentInput.Sent) -> None:
        purpose = message.draft.purpose
        outcome = self.review.send(message.text)
        self.refresh_room()
        if isinstance(outcome, Done):
            if outcome.comment_id is not None:  # e / x act on what was just written
                self.query_one(ThreadView).highlight(outcome.comment_id)
            (self.query_one(ImageView) if purpose == "new" else self.query_one(ThreadView)).focus()

    @on(CommentInput.Cancelled)
    def cancel_comment(self) -> None:
        self.review.cancel_draft(self.query_one(CommentInput).value)
        self.refresh_room()
        self.query_one(ImageView).focus()

    def select(self, chat_id: str | None) -> None:
        self.review.select(chat_id)
        self.refresh_room()

    # --- actions: each one intent ----------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(live_sections(self, self.screen)))

    def action_retry(self) -> None:
        self.review.retry()
        self.refresh_room()

    def action_select_step(self, step: int) -> None:
        """The previous / next marker of those the list shows (its filter applies)."""
        self.review.step(self.query_one(MarkerList).chat_ids, step)
        self.refresh_room()

    def action_cycle_filter(self) -> None:
        self.query_one(MarkerList).action_cycle_filter()

    def action_focus_image(self) -> None:
        self.query_one(ImageView).focus()

    def action_toggle_sidebar(self) -> None:
        self.review.toggle_sidebar()
        sidebar = self.query_one("#sidebar")
        sidebar.display = self.review.show_sidebar
        if not sidebar.display and self.focused is not None and sidebar in self.focused.ancestors:
            self.query_one(ImageView).focus()
        self.show_view_state()

    def action_toggle_resolved_pins(self) -> None:
        self.review.toggle_resolved()
        self.refresh_room()
        self.show_view_state()

    def action_who(self) -> None:
        """Who is viewing, by name (in a large room, asked of the server)."""
        if (who := self.review.who()) is not None:
            self.notify(who[1], title=who[0])

    @on(ViewersListed)
    def _viewers_listed(self, message: ViewersListed) -> None:
        title, text = self.review.listed(message.viewers)
        self.notify(text, title=title)

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

    def action_reply(self) -> None:
        self.review.begin_reply()
        self.refresh_room()

    def action_edit(self) -> None:
        self.review.begin_edit(self.query_one(ThreadView).highlighted_comment_id)
        self.refresh_room()

    def action_delete_comment(self) -> None:
        deleted = self.review.delete_comment(self.query_one(ThreadView).highlighted_comment_id)
        self._deleted(deleted)

    def action_delete_marker(self) -> None:
        chat = self.review.ask_delete_marker()
        self.refresh_room()
        if isinstance(chat, Refused):
            return  # before asking, not after

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._deleted(self.review.delete_marker(chat))

        count = len(chat.comments)
        self.push_screen(
            ConfirmScreen(
                f"Delete marker #{chat.number} and its {count} comment{'s' * (count != 1)}?"
                f" (u undoes it for {int(self.review.undo_slot.seconds)} s)",
                confirm="Delete",
            ),
            confirmed,
        )

    def _deleted(self, deleted: Deleted | Refused) -> None:
        """Offer the undo of what was just deleted, for as long as the slot keeps it."""
        self.refresh_room()
        if isinstance(deleted, Deleted):
            seconds = self.review.undo_slot.seconds
            self.notify(self.review.deleted_notice(deleted), title="Deleted", timeout=seconds)
            self.set_timer(seconds, self._undo_expired)

    def _undo_expired(self) -> None:
        if self.review.undo_expired():
            self.refresh_room()  # u leaves the footer, "Press u within 10 s" the status

    def action_undo(self) -> None:
        restored = self.review.undo()
        if isinstance(restored, Restored):
            self.clear_notifications()  # the "deleted" notice is no longer true
        self.refresh_room()
        if isinstance(restored, Restored) and restored.comment_id is not None:
            self.query_one(ThreadView).highlight(restored.comment_id)

    def action_set_resolved(self, resolved: bool) -> None:
        self.review.set_resolved(resolved)
        self.refresh_room()

    def action_move_marker(self) -> None:
        chat = self.review.begin_move()
        self.refresh_room()
        if not isinstance(chat, Refused):
            view = self.query_one(ImageView)
            view.show_crosshair_at(chat.x, chat.y)
            view.focus()

    def action_cancel_move(self) -> None:
        self.review.cancel_move()
        self.refresh_room()
