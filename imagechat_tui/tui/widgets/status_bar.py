"""The status bar: the link's state, the status message (wrapped when long, never cut),
the view toggles, where the crosshair is. Notifications stay above it at any height."""

from __future__ import annotations

from textual import events
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets._toast import ToastRack

FOOTER_ROWS = 1


class StatusBar(Horizontal):
    def on_resize(self, event: events.Resize) -> None:
        """A message that wraps makes the bar taller: lift the notifications with it."""
        try:
            rack = self.screen.get_child_by_type(ToastRack)
        except NoMatches:
            return  # notifications are off (tests)
        rack.styles.margin = (0, 0, event.size.height + FOOTER_ROWS, 0)
