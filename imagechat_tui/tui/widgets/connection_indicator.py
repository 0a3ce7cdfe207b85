"""Always-visible connection state: connected, reconnecting (attempt, countdown), offline."""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from imagechat_tui.client.connection import ConnState


def describe(state: ConnState, viewers: int = 0) -> Text:
    if state.kind == "connected":
        who = f" · {viewers} viewing" if viewers else ""
        return Text.assemble(("● ", "green"), ("Connected", "bold green"), who)
    if state.kind == "connecting":
        return Text.assemble(("◌ ", "yellow"), ("Connecting…", "yellow"))
    if state.kind == "reconnecting":
        seconds = state.seconds_to_retry()
        when = "soon" if seconds is None else f"in {math.ceil(seconds)}s"
        return Text.assemble(
            ("◌ ", "yellow"),
            (
                f"Reconnecting (attempt {state.attempt}, next try {when})",
                "bold yellow",
            ),
            (" · R retries now", "dim"),
        )
    if state.kind == "auth-failed":
        return Text.assemble(("✖ ", "red"), ("Offline: sign-in refused", "bold red"))
    return Text.assemble(("✖ ", "red"), ("Offline", "bold red"), (" · R retries now", "dim"))


class ConnectionIndicator(Static):
    class Widened(Message):
        """Its text took more or fewer cells (the status bar fits its parts again)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = ConnState("connecting")
        self.viewers = 0
        self.says_viewers = True  # off while the status message needs the room
        self._shown: Text | None = None

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)
        self._show_text()

    def show(self, state: ConnState, viewers: int | None = None) -> None:
        self.state = state
        if viewers is not None:
            self.viewers = viewers
        self.set_class(state.kind == "connected", "-connected")
        self.set_class(state.kind == "reconnecting", "-reconnecting")
        self.set_class(state.kind in ("offline", "auth-failed"), "-offline")
        self._show_text()

    def cells(self, viewers: bool) -> int:
        """Cells it takes, padding included, with or without who is viewing."""
        text = describe(self.state, self.viewers if viewers else 0)
        return cell_len(text.plain) + self.styles.gutter.width

    def say_viewers(self, say: bool) -> None:
        self.says_viewers = say
        self._show_text()

    def _show_text(self) -> None:
        text = describe(self.state, self.viewers if self.says_viewers else 0)
        if text != self._shown:  # over ssh every byte counts: no repaint without a change
            widened = self._shown is not None and text.cell_len != self._shown.cell_len
            self._shown = text
            self.update(text)
            if widened:
                self.post_message(self.Widened())

    def _tick(self) -> None:
        if self.state.kind == "reconnecting":
            self._show_text()
