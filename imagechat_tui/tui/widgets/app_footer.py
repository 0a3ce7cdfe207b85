"""The footer: what applies now (``check_action``). Retry (while the link is down), the
palette, Help and Quit are kept together at the right end, so a narrow terminal cuts
other keys, never those."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Actions kept at the right end, in this order.
PINNED = ("retry", "command_palette", "help", "quit")  # retry: only while the link is down


class AppFooter(Footer):
    DEFAULT_CSS = """
    AppFooter > #footer-pinned {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
        border-left: vkey $foreground 15%;
    }
    AppFooter > #footer-pinned > FooterKey.-command-palette {
        dock: none;
        border-left: none;
    }
    """

    def compose(self) -> Iterable[Widget]:
        keys = list(super().compose())
        pinned = {
            key.action: key for key in keys if isinstance(key, FooterKey) and key.action in PINNED
        }
        for key in keys:
            if key not in pinned.values():
                yield key
        if pinned:
            with Horizontal(id="footer-pinned"):
                for action in PINNED:
                    if action in pinned:
                        yield pinned[action]
