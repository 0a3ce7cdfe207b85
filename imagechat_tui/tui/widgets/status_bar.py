"""The status bar: the link's state, the status message (wrapped when long, never cut),
the view toggles, where the crosshair is, the image and room. Notifications stay above it
at any height.

What does not fit gives way, least needed first, never cut: the message keeps its room
(whole on one line if it can, else at least ``MESSAGE_ROOM`` cells to wrap in), then the
link's state and the view toggles always show (briefly if need be: "hidden: pins (v),
sidebar (b)"); then, where they fit, where the crosshair is, the view toggles in full,
the image and room, and who is viewing ("· 2 viewing", also one key away: w). At 80
columns the move prompt wrapped beside "2 viewing" or the toggles, and "Reconnecting
(attempt 4, next try in 3s) · R retries now" cut the pointer to "815,6".
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


def _cells(text: str, part: Static) -> int:
    """Cells ``part`` takes showing ``text`` (nothing: none, it is hidden)."""
    return cell_len(text) + part.styles.gutter.width if text else 0


def _where_cells(where: Static, width: int) -> int:
    """Cells ``#where`` takes at this width: its text, up to its share of the bar."""
    return min(_cells(str(where.content), where), int(width * WHERE_SHARE))


class StatusBar(Horizontal):
    """``#connection``, ``#status`` (the message), then the parts that say where and how
    you look (``#view-state``, ``PointerStatus``, ``#where``)."""

    DEFAULT_CSS = """
    StatusBar > .-crowded {
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view_state = ("", "")  # the view toggles' text, in full and brief

    def on_mount(self) -> None:
        view = self.app.query_one(ImageView)  # the crosshair changes the pointer's width
        self.watch(view, "crosshair", self.fit, init=False)
        self.watch(view, "viewport", self.fit, init=False)

    def show_view_state(self, full: str, brief: str) -> None:
        """The view toggles that hide something (``brief``: the same, shorter)."""
        self._view_state = (full, brief)
        self.fit()

    def fit(self, *_changed: object) -> None:
        """Choose the parts shown (call it when one changes: the message, the link;
        the view toggles, the crosshair, the width and the link's countdown call it)."""
        indicator = self.query_one(ConnectionIndicator)
        status = self.query_one("#status", Static)
        pointer = self.query_one(PointerStatus)
        where = self.query_one("#where", Static)
        view_state = self.query_one("#view-state", Static)
        width = self.size.width or self.app.size.width
        full, brief = self._view_state
        toggles = _cells(full, view_state), _cells(brief, view_state)
        message = cell_len(str(status.content))
        message = message + status.styles.gutter.width if message else 0
        room = width - indicator.cells(viewers=False) - toggles[1]
        room -= message if message <= room else min(message, MESSAGE_ROOM)
        # The rest, most needed first, each where it fits in what is left.
        show_pointer = pointer.cells() <= room
        room -= pointer.cells() if show_pointer else 0
        show_full = toggles[0] - toggles[1] <= room
        room -= toggles[0] - toggles[1] if show_full else 0
        # (below the app's -narrow breakpoint the styles hide it anyway)
        here = 0 if self.screen.has_class("-narrow") else _where_cells(where, width)
        show_where = here <= room
        room -= here if show_where else 0
        viewers = indicator.cells(viewers=True) - indicator.cells(viewers=False)
        pointer.set_class(not show_pointer, "-crowded")
        where.set_class(not show_where, "-crowded")
        shown = full if show_full else brief
        if str(view_state.content) != shown:
            view_state.update(shown)
        view_state.set_class(not shown, "-empty")
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
