"""The markers of the room: number, author, first line, replies, open or resolved."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from imagechat_tui.protocol import Chat
from imagechat_tui.safe_text import inert

Filter = Literal["all", "open", "resolved"]
FILTERS: tuple[Filter, ...] = ("all", "open", "resolved")


def marker_label(chat: Chat, width: int = 40) -> Text:
    first = chat.comments[0].text.split("\n", 1)[0] if chat.comments else ""
    replies = len(chat.comments) - 1
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"#{chat.number:<3}", style="bold dim" if chat.resolved else "bold")
    text.append("✓ " if chat.resolved else "○ ", style="green" if chat.resolved else "yellow")
    text.append(inert(chat.createdBy.name)[:16], style="cyan")
    if replies:
        text.append(f" +{replies}", style="magenta")
    text.append("\n    ")
    text.append(inert(first)[: max(8, width - 6)], style="dim" if chat.resolved else "")
    return text


class MarkerList(OptionList):
    """Options are chat ids; highlighting one selects that marker."""

    BINDINGS = [
        Binding("f", "cycle_filter", "Filter", id="markers.filter"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter: Filter = "all"
        self._shown: list[tuple[str, int, bool, str, str, int]] = []
        self.border_title = "Markers · all"

    def show(self, chats: list[Chat], selected: str | None) -> None:
        """Rebuild only when what is listed changed, and keep the highlight."""
        listed = [
            c for c in chats if self.filter == "all" or (self.filter == "resolved") == c.resolved
        ]
        key = [
            (
                c.id,
                c.number,
                c.resolved,
                c.createdBy.name,
                c.comments[0].text if c.comments else "",
                len(c.comments),
            )
            for c in listed
        ]
        if key != self._shown:
            self._shown = key
            with self.prevent(OptionList.OptionHighlighted):
                self.clear_options()
                self.add_options(
                    Option(marker_label(c, self.size.width or 40), id=c.id) for c in listed
                )
        self.border_title = f"Markers · {self.filter} ({len(listed)})"
        self.highlight_chat(selected)

    def highlight_chat(self, chat_id: str | None) -> None:
        with self.prevent(OptionList.OptionHighlighted):
            if chat_id is None:
                self.highlighted = None
                return
            try:
                self.highlighted = self.get_option_index(chat_id)
            except OptionDoesNotExist:
                self.highlighted = None

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self._shown = []
        self.post_message(self.FilterChanged())

    class FilterChanged(Message):
        """The filter changed; the app lists the markers again."""
