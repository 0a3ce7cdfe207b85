"""The review app: runs the link, routes each key to one intent of the ``Review``.

Thin by design: the review itself (selection, move, draft, undo, what applies, the
status line, activity) is ``client/review.py``, with no screen; the widgets, and the
drawing of what the review says, are the ``Workspace`` screen (``workspace.py``). The
app holds the keys (the footer, the help and the palette read them here), runs the link
(``client/link.py``) in a worker and tells the workspace what it reports, through
messages (``messages.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image
from textual import events, on, work
from textual.app import App
from textual.driver import Driver

from imagechat_tui.client.drafts import Drafts, draft_file
from imagechat_tui.client.graphics import TerminalSetup, make_renderer
from imagechat_tui.client.link import ConnState, Link, ignore
from imagechat_tui.client.review import Restored, Review
from imagechat_tui.client.session import Refused
from imagechat_tui.client.undo import Deleted
from imagechat_tui.protocol import Presence, Viewers
from imagechat_tui.replica import Received
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
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.dialogs import ConfirmScreen
from imagechat_tui.tui.widgets.help_screen import HelpScreen
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.marker_list import MarkerList
from imagechat_tui.tui.widgets.thread_view import ThreadView
from imagechat_tui.tui.workspace import Workspace

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
        self.type_ahead = TypeAhead()  # keys typed while the composer is being opened
        where = f"{self.title} · {self.sub_title}"
        self.workspace = Workspace(self.review, link, self.renderer, self.terminal, where)
        self._link_started = False  # the link runs once the image is shown

    @property
    def selected(self) -> str | None:
        return self.review.selected

    @property
    def moving(self) -> str | None:
        return self.review.moving

    def get_default_screen(self) -> Workspace:
        return self.workspace

    def on_mount(self) -> None:
        self.link.listen(
            on_state=self._state_changed,
            on_received=self._received,
            on_presence=self._presence_changed,
            on_viewers=self._viewers_arrived,
        )
        # The image is drawn before the link connects (and before it finds or starts
        # the local server): the link starts when the image is shown, or in 1 s anyway.
        self.set_timer(1.0, self._start_link)

    @on(ImageView.Shown)
    def _start_link(self) -> None:
        if not self._link_started:
            self._link_started = True
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
        compose = self.workspace.query_one(CommentInput)
        if compose.composing:  # focus now, not when its deferred focus callback runs
            self.workspace.set_focus(compose.area)
        for key in self.type_ahead.release():
            await self._take_key(key)

    # --- from the link's worker: told to the workspace ------------------------------

    def _state_changed(self, _state: ConnState) -> None:
        self.workspace.post_message(ConnectionChanged())

    def _presence_changed(self, _presence: Presence) -> None:
        self.workspace.post_message(PresenceChanged())

    def _viewers_arrived(self, viewers: Viewers) -> None:
        self.workspace.post_message(ViewersListed(viewers))

    def _received(self, received: Received) -> None:
        changed = self.review.received(received)
        for notice in changed.notices:
            self.activity.notify(notice)
        if changed.room or received.failed:
            self.workspace.post_message(RoomChanged())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """What applies now (``Review.applies``): the footer and the palette show only
        these."""
        if action == "focus_image":
            image = self.workspace.query_one(ImageView)
            return self.focused is not image and self.review.moving is None
        comment = self.workspace.query_one(ThreadView).highlighted_comment_id
        listed = bool(self.workspace.query_one(MarkerList).chat_ids)
        return self.review.applies(action, *parameters, comment=comment, listed=listed)

    # --- actions: each one intent ----------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(live_sections(self, self.workspace)))

    def action_retry(self) -> None:
        self.review.retry()
        self.workspace.draw()

    def action_select_step(self, step: int) -> None:
        """The previous / next marker of those the list shows (its filter applies)."""
        self.review.step(self.workspace.query_one(MarkerList).chat_ids, step)
        self.workspace.draw()

    def action_cycle_filter(self) -> None:
        self.workspace.query_one(MarkerList).action_cycle_filter()

    def action_focus_image(self) -> None:
        self.workspace.query_one(ImageView).focus()

    def action_toggle_sidebar(self) -> None:
        self.review.toggle_sidebar()
        sidebar = self.workspace.query_one("#sidebar")
        sidebar.display = self.review.show_sidebar
        if not sidebar.display and self.focused is not None and sidebar in self.focused.ancestors:
            self.workspace.query_one(ImageView).focus()
        self.workspace.show_view_state()

    def action_toggle_resolved_pins(self) -> None:
        self.review.toggle_resolved()
        self.workspace.draw()
        self.workspace.show_view_state()

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
        compose = self.workspace.query_one(CommentInput)
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
        self.workspace.draw()

    def action_edit(self) -> None:
        self.review.begin_edit(self.workspace.query_one(ThreadView).highlighted_comment_id)
        self.workspace.draw()

    def action_delete_comment(self) -> None:
        deleted = self.review.delete_comment(
            self.workspace.query_one(ThreadView).highlighted_comment_id
        )
        self._deleted(deleted)

    def action_delete_marker(self) -> None:
        chat = self.review.ask_delete_marker()
        self.workspace.draw()
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
        self.workspace.draw()
        if isinstance(deleted, Deleted):  # the status line says it (no notification: once)
            self.set_timer(self.review.undo_slot.seconds, self._undo_expired)

    def _undo_expired(self) -> None:
        if self.review.undo_expired():
            self.workspace.draw()  # u leaves the footer, "Press u within 10 s" the status

    def action_undo(self) -> None:
        restored = self.review.undo()
        self.workspace.draw()
        if isinstance(restored, Restored) and restored.comment_id is not None:
            self.workspace.query_one(ThreadView).highlight(restored.comment_id)

    def action_set_resolved(self, resolved: bool) -> None:
        self.review.set_resolved(resolved)
        self.workspace.draw()

    def action_move_marker(self) -> None:
        chat = self.review.begin_move()
        self.workspace.draw()
        if not isinstance(chat, Refused):
            view = self.workspace.query_one(ImageView)
            view.show_crosshair_at(chat.x, chat.y)
            view.focus()

    def action_cancel_move(self) -> None:
        self.review.cancel_move()
        self.workspace.draw()
