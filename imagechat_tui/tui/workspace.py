"""The workspace: the screen with the image and its pins on the left, the markers and the
thread on the right, the composer and the status bar below.

It draws what the ``Review`` says (``draw``) and turns each widget message into one
intent of it; the keys and their actions stay with the app (``tui/app.py``), as the
footer, the help and the palette read them there. Like Posting's ``MainScreen``: the
app runs the link and routes keys, the screen holds the widgets.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from imagechat_tui.client.graphics import TerminalSetup
from imagechat_tui.client.halfblock import HalfBlockRenderer
from imagechat_tui.client.link import Link
from imagechat_tui.client.pixel_renderer import PixelRenderer
from imagechat_tui.client.review import Draft, Mode, Place, Review, Status
from imagechat_tui.client.session import Done, Refused
from imagechat_tui.safe_text import inert
from imagechat_tui.tui.messages import (
    ConnectionChanged,
    PresenceChanged,
    RoomChanged,
    ViewersListed,
)
from imagechat_tui.tui.widgets.app_footer import AppFooter
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.connection_indicator import ConnectionIndicator
from imagechat_tui.tui.widgets.dialogs import ConfirmScreen, TokenScreen
from imagechat_tui.tui.widgets.image_view import ImageView, PinsOf
from imagechat_tui.tui.widgets.marker_list import MarkerList
from imagechat_tui.tui.widgets.offline_banner import OfflineBanner
from imagechat_tui.tui.widgets.pointer_status import PointerStatus
from imagechat_tui.tui.widgets.region_overlay import RegionDrawing, RegionRequested
from imagechat_tui.tui.widgets.status_bar import StatusBar
from imagechat_tui.tui.widgets.thread_view import ThreadView


class Workspace(Screen[None]):
    def __init__(
        self,
        review: Review,
        link: Link,
        renderer: HalfBlockRenderer | PixelRenderer,
        terminal: TerminalSetup,
        where: str,
    ) -> None:
        super().__init__()
        self.review = review
        self.link = link
        self.renderer = renderer
        self.terminal = terminal
        self.where = where  # the title and the room (made inert), at the status bar's end
        self._shown_status = Status()  # the status the status line shows
        self._offered_for: object = None  # what the footer was last worked out for
        self._pins_of = PinsOf()  # a marker's pin stays the same object while unchanged

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
        with StatusBar(id="statusbar"):
            yield ConnectionIndicator(id="connection")
            yield Static(id="status")
            yield Static(id="view-state", classes="-empty")
            yield PointerStatus(id="pointer")
            yield Static(Text(self.where), id="where")
        yield AppFooter(self.footer_mode)

    def on_mount(self) -> None:
        if self.app.console.color_system != "truecolor":
            self.renderer.colors = "256"
        self.query_one(CommentInput).display = False
        self.query_one(ImageView).focus()
        self.set_interval(1.0, self._expire_status)  # every status message has an end
        self.show_connection()

    def _shutting_down(self) -> bool:
        """The widgets are leaving or gone: a report from the link handled now has
        nothing to show. Textual clears ``is_running`` before it removes any widget (and
        a test's shutdown runs beside the app's message loop, which still handles the
        reports the link posted meanwhile), so this covers every step of it."""
        return not self.app.is_running

    # --- drawing what the review says ---------------------------------------------------

    @on(RoomChanged)
    def draw(self) -> None:
        if self._shutting_down():
            return
        review = self.review
        chats = review.chats()
        draft = review.draft
        self.query_one(ImageView).show(
            self._pins_of(chats),
            review.selected,
            review.show_resolved,
            (draft.x, draft.y, draft.w, draft.h) if draft and draft.purpose == "new" else None,
            review.moving is not None,
        )
        self.query_one(MarkerList).show(chats, review.selected, review.unseen)
        self.query_one(ThreadView).show(review.selected_chat, review.me, review.panel_notice())
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
        line.set_class(status.error, "-error")  # said once: in the line, not a toast too
        self.query_one(StatusBar).fit()

    def _offer_what_applies(self) -> None:
        """Refresh the footer when what the app's ``check_action`` depends on changed
        (only then: a remote event that changes none of it costs no footer repaint)."""
        chat = self.review.selected_chat
        basis = (
            chat.id if chat else None,
            chat.resolved if chat else None,
            self.query_one(ThreadView).highlighted_comment_id,
            self.review.moving,
            self.review.undo_offered() is not None,
            self.review.connected,
            self.review.drawing,
            bool(self.query_one(MarkerList).chat_ids),
        )
        if basis != self._offered_for:
            self._offered_for = basis
            self.app.refresh_bindings()

    def footer_mode(self) -> Mode:
        """What the reviewer is doing, by the widget focused (the footer's keys)."""
        place: Place = "image"
        for node in self.focused.ancestors_with_self if self.focused else ():
            if isinstance(node, CommentInput):
                place = "composer"
            elif isinstance(node, MarkerList):
                place = "list"
            elif isinstance(node, ThreadView):
                place = "thread"
        return self.review.mode(place)

    def show_view_state(self) -> None:
        """The view toggles that hide something, always visible in the status bar."""
        review = self.review
        self.query_one(StatusBar).show_view_state(
            " · ".join(review.hidden()), review.hidden_briefly()
        )

    @on(ConnectionChanged)
    def show_connection(self) -> None:
        """Every widget shows the link's state, the one source of truth (the message
        only says it changed)."""
        if self._shutting_down():
            return
        state = self.link.state
        self.query_one(ConnectionIndicator).show(state, self.review.viewer_count())
        self.query_one(StatusBar).fit()
        self.query_one(OfflineBanner).show(state)
        if self.review.connection_changed() == "ask-token":
            self.app.push_screen(TokenScreen(state.reason), self._use_token)
        self.draw()

    def _use_token(self, token: str | None) -> None:
        if token:
            self.review.use_token(token)

    @on(PresenceChanged)
    def show_presence(self) -> None:
        if self._shutting_down():
            return
        indicator = self.query_one(ConnectionIndicator)
        indicator.show(self.link.state, self.review.viewer_count())
        self.query_one(StatusBar).fit()

    @on(ViewersListed)
    def _viewers_listed(self, message: ViewersListed) -> None:
        title, text = self.review.listed(message.viewers)
        self.notify(text, title=title)

    # --- widget messages: each one intent -------------------------------------------------

    @on(ImageView.PlaceRequested)
    def place(self, message: ImageView.PlaceRequested) -> None:
        self._began(self.review.place(message.x, message.y))

    def on_paste(self, event: events.Paste) -> None:
        # Reaches the screen only when no text box took it: it lands nowhere, and acts never.
        self.review.say("Pasted text goes into a comment: r replies, n places a marker first.")
        self.draw()

    @on(RegionDrawing)
    def region_drawing(self, message: RegionDrawing) -> None:
        self.review.drawing_region(message.active)
        self.draw()

    @on(RegionRequested)
    def place_region(self, message: RegionRequested) -> None:
        self._began(self.review.begin_region(message.x, message.y, message.w, message.h))

    def _began(self, _outcome: Draft | Done | Refused | None) -> None:
        self.draw()

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
        self.draw()

    @on(CommentInput.Sent)
    def send_comment(self, message: CommentInput.Sent) -> None:
        purpose = message.draft.purpose
        outcome = self.review.send(message.text)
        self.draw()
        if isinstance(outcome, Done):
            if outcome.comment_id is not None:  # e / x act on what was just written
                self.query_one(ThreadView).highlight(outcome.comment_id)
            (self.query_one(ImageView) if purpose == "new" else self.query_one(ThreadView)).focus()

    @on(CommentInput.Cancelled)
    def cancel_comment(self) -> None:
        """Escape keeps the text; with the text cleared it discards the kept draft, after
        asking (Cancel, or escape again, keeps it)."""
        text = self.query_one(CommentInput).value
        lost = self.review.discard_loses(text)
        if not lost:
            self.review.cancel_draft(text)
            self._composer_closed()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.review.cancel_draft("")
            else:
                self.review.keep_draft()
            self._composer_closed()

        plural = "s" * (lost != 1)
        question = f"Discard your draft ({lost:,} character{plural})? It cannot be brought back."
        self.app.push_screen(ConfirmScreen(question, confirm="Discard"), answered)

    def _composer_closed(self) -> None:
        self.draw()
        self.query_one(ImageView).focus()

    def select(self, chat_id: str | None) -> None:
        self.review.select(chat_id)
        self.draw()
