"""The status bar: the link's state, the status message (wrapped when long, never cut),
the view toggles, where the crosshair is, the image and room. Notifications stay above it
at any height.

What does not fit gives way, least needed first, never cut: the message keeps its room
(whole on one line if it can, else at least ``MESSAGE_ROOM`` cells to wrap in), then the
link's state and the view toggles always show; then where the crosshair is, then the
image and room, then who is viewing ("· 2 viewing", also one key away: w). At 80
columns the move prompt wrapped beside "2 viewing", and "Reconnecting (attempt 4, next
try in 3s) · R retries now" cut the pointer to "815,6".
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import Static
from textual.widgets._toast import ToastRack

from imagechat_tui.tui.widgets.connection_indicator import ConnectionIndicator
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.pointer_status import PointerStatus

FOOTER_ROWS = 1
MESSAGE_ROOM = 30  # the narrowest a message wraps into before the pointer gives way
WHERE_SHARE = 0.3  # #where's max-width (app.tcss): the image and room, ellipsized past it


def _cells(where: Static, width: int) -> int:
    """Cells ``#where`` takes at this width: its text, up to its share of the bar."""
    text = cell_len(str(where.content)) + where.styles.gutter.width
    return min(text, int(width * WHERE_SHARE))


class StatusBar(Horizontal):
    """``#connection``, ``#status`` (the message), then the parts that say where and how
    you look (``#view-state``, ``PointerStatus``, ``#where``)."""

    DEFAULT_CSS = """
    StatusBar > .-crowded {
        display: none;
    }
    """

    def on_mount(self) -> None:
        view = self.app.query_one(ImageView)  # the crosshair changes the pointer's width
        self.watch(view, "crosshair", self.fit, init=False)
        self.watch(view, "viewport", self.fit, init=False)

    def fit(self, *_changed: object) -> None:
        """Choose the parts shown (call it when one changes: the message, the link, the
        view toggles; the crosshair, the width and the link's countdown call it)."""
        indicator = self.query_one(ConnectionIndicator)
        status = self.query_one("#status", Static)
        pointer = self.query_one(PointerStatus)
        where = self.query_one("#where", Static)
        view_state = self.query_one("#view-state", Static)
        width = self.size.width or self.app.size.width
        message = cell_len(str(status.content))
        message = message + status.styles.gutter.width if message else 0
        room = width - indicator.cells(viewers=False) - min(message, MESSAGE_ROOM)
        if view_state.display:
            room -= view_state.outer_size.width
        pointer.set_class(pointer.cells() > room, "-crowded")
        room -= 0 if pointer.has_class("-crowded") else pointer.cells()
        # (below the app's -narrow breakpoint the styles hide it anyway)
        shown = 0 if self.screen.has_class("-narrow") else _cells(where, width)
        where.set_class(shown > room, "-crowded")
        room -= 0 if where.has_class("-crowded") else shown
        room -= message - min(message, MESSAGE_ROOM)  # who is viewing: the message whole
        viewers = indicator.cells(viewers=True) - indicator.cells(viewers=False)
        indicator.say_viewers(viewers <= room)

    def on_connection_indicator_widened(self) -> None:
        self.fit()  # "next try in 10s" became "in 9s"

    def on_resize(self, event: events.Resize) -> None:
        """A message that wraps makes the bar taller: lift the notifications with it."""
        self.fit()
        try:
            rack = self.screen.get_child_by_type(ToastRack)
        except NoMatches:
            return  # notifications are off (tests)
        rack.styles.margin = (0, 0, event.size.height + FOOTER_ROWS, 0)
