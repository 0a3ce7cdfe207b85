"""Shown whenever the app is not connected: browsing works, creating does not."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from imagechat_tui.client.connection import ConnState
from imagechat_tui.safe_text import inert

OFFLINE_TEXT = (
    "Offline: you can still browse the image and markers, but nothing can be created or changed."
)


class OfflineBanner(Static):
    def show(self, state: ConnState) -> None:
        self.display = state.kind not in ("connected", "connecting")
        reason = f" {inert(state.reason)}" if state.reason else ""
        self.update(Text(OFFLINE_TEXT + reason + " Press R to retry now."))
