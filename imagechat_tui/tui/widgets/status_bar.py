"""The status bar: the link's state, the status message (wrapped when long, never cut),
the view toggles, where the crosshair is. Notifications stay above it at any height.

The message comes first: who is viewing ("· 2 viewing", also one key away: w) is left
out while the message would not fit on one line beside it (the move prompt wrapped at
80 columns beside it)."""

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


class StatusBar(Horizontal):
    """``#connection``, ``#status`` (the message), then the parts that say where and how
    you look (``PointerStatus``, ``#view-state``, ``#where``)."""

    def on_mount(self) -> None:
        view = self.app.query_one(ImageView)  # the crosshair changes the pointer's width
        self.watch(view, "crosshair", self.fit, init=False)
        self.watch(view, "viewport", self.fit, init=False)

    def fit(self, *_changed: object) -> None:
        """Say who is viewing only if the message still fits on one line beside it
        (call it when a part changes: the message, the link, the view toggles)."""
        indicator = self.query_one(ConnectionIndicator)
        status = self.query_one("#status", Static)
        message = cell_len(str(status.content))
        if not message:
            indicator.say_viewers(True)
            return
        used = indicator.cells(viewers=False) + message + status.styles.gutter.width
        for part in self.children:
            if part in (indicator, status) or not part.display:
                continue
            used += part.cells() if isinstance(part, PointerStatus) else part.outer_size.width
        room = (self.size.width or self.app.size.width) - used
        indicator.say_viewers(indicator.cells(viewers=True) - indicator.cells(False) <= room)

    def on_resize(self, event: events.Resize) -> None:
        """A message that wraps makes the bar taller: lift the notifications with it."""
        self.fit()
        try:
            rack = self.screen.get_child_by_type(ToastRack)
        except NoMatches:
            return  # notifications are off (tests)
        rack.styles.margin = (0, 0, event.size.height + FOOTER_ROWS, 0)
