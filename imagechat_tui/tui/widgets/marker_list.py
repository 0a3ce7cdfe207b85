"""The markers of the room: number, author, first line (and how many more), replies,
open or resolved.

Line API (``LineList``): every row of the list is a cached ``Strip``; when the room
changes the rows are built again (each marker's text is rendered once per width and
content) and only the rows whose strips differ are refreshed. A remote marker added to the list costs
the terminal its two or three new rows and the title, not a repaint of the whole list.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar, Literal

from rich._wrap import divide_line
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip

from imagechat_tui.protocol import Chat
from imagechat_tui.safe_text import inert
from imagechat_tui.tui.widgets.line_list import Item, LineList, to_strips

Filter = Literal["all", "open", "resolved"]
FILTERS: tuple[Filter, ...] = ("all", "open", "resolved")
INDENT = 4  # the comment's first line sits under the author, wrapped lines too
MAX_TEXT_LINES = 2  # of the first comment's first line; the rest ends in an ellipsis

ItemKey = tuple[str, int, bool, str, str, int, bool]


def marker_key(chat: Chat, unseen: bool = False) -> ItemKey:
    """Everything a list entry shows; equal keys render the same."""
    first = chat.comments[0].text if chat.comments else ""
    return (
        chat.id,
        chat.number,
        chat.resolved,
        chat.createdBy.name,
        first,
        len(chat.comments),
        unseen,
    )


def _more_lines(text: str) -> int:
    """How many lines a comment has after its first (blank lines at its end left out)."""
    return len(text.rstrip().split("\n")) - 1


def _ending(cut: bool, more: int) -> str:
    """What ends the shown text: an ellipsis when the first line is cut, and the count
    of the comment's further lines, so a reviewer knows there is more."""
    if more:
        return ("…" if cut else " …") + f" +{more} line{'s' * (more != 1)}"
    return "…" if cut else ""


def _wrapped(body: Text, text_width: int) -> list[Text]:
    """``body`` (one line) wrapped to ``text_width`` cells as ``Text.wrap`` does (words
    folded when longer than a line), at most ``MAX_TEXT_LINES + 1`` lines: where it
    breaks is ``divide_line``'s answer, which ``entry_height`` asks too."""
    offsets = divide_line(body.plain, text_width, fold=True)[:MAX_TEXT_LINES]
    lines = list(body.divide(offsets))
    for line in lines:
        line.rstrip_end(text_width)
        line.truncate(text_width, overflow="fold")
    return lines


def _own_line(shown: int, last_cells: int, more: int, text_width: int) -> bool:
    """Whether "… +N lines" goes on a line of its own below an uncut text of ``shown``
    lines, the last ``last_cells`` wide: when it does not fit after it, and there is
    room for another line."""
    ending = _ending(False, more)
    return (
        shown < MAX_TEXT_LINES
        and len(ending) <= text_width + 1
        and last_cells + len(ending) > text_width
    )


def entry_height(chat: Chat, width: int) -> int:
    """How many rows ``marker_lines`` takes for ``chat`` at ``width``, without drawing
    it (a long list lays out every entry, and draws those in view)."""
    text = chat.comments[0].text if chat.comments else ""
    first = inert(text.split("\n", 1)[0])
    more = _more_lines(text)
    text_width = max(1, width - INDENT)
    lines = min(len(divide_line(first, text_width, fold=True)) + 1, MAX_TEXT_LINES + 1)
    if lines > MAX_TEXT_LINES:  # cut: the ending goes on the last line shown
        return 1 + MAX_TEXT_LINES
    if more and lines == 1 and _own_line(1, cell_len(first.rstrip()), more, text_width):
        return 3
    return 1 + lines


def marker_lines(chat: Chat, width: int, console: Console, unseen: bool = False) -> list[Text]:
    """The entry for ``chat`` in lines of at most ``width`` cells: a header with number,
    state, author and reply count, then the first line of the first comment, wrapped
    and indented, at most ``MAX_TEXT_LINES`` lines, ending in an ellipsis when cut and
    in "… +N lines" when the comment has more lines."""
    text = chat.comments[0].text if chat.comments else ""
    first = text.split("\n", 1)[0]
    more = _more_lines(text)
    replies = len(chat.comments) - 1
    header = Text(no_wrap=True, overflow="ellipsis", end="")
    header.append(f"#{chat.number:<3}", style="bold dim" if chat.resolved else "bold")
    header.append("✓ " if chat.resolved else "○ ", style="green" if chat.resolved else "yellow")
    header.append(inert(chat.createdBy.name), style="cyan")
    if replies:
        # Said in words: "+1" read like a thumbs-up.
        header.append(f" · {replies} {'reply' if replies == 1 else 'replies'}", style="magenta")
    if unseen:  # others did something here since you last opened it
        header.append(" ● new", style="bold magenta")
    header.truncate(width, overflow="ellipsis")
    text_width = max(1, width - INDENT)
    body = Text(inert(first), style="dim" if chat.resolved else "", end="")
    wrapped = _wrapped(body, text_width)
    cut = len(wrapped) > MAX_TEXT_LINES
    if cut or more:
        shown = wrapped[:MAX_TEXT_LINES]
        # The last shown line, and (when cut) the rest that runs on from it.
        last = Text("", end="").join(wrapped[len(shown) - 1 :])
        last.rstrip()
        ending = _ending(cut, more)
        if not cut and _own_line(len(shown), last.cell_len, more, text_width):
            shown, last, ending = [*shown, Text("", end="")], Text("", end=""), ending.lstrip()
        elif cut or last.cell_len + len(ending) > text_width:
            ending = _ending(True, more)
            if len(ending) >= text_width:  # too narrow for the count: the ellipsis says it
                ending = "…"
            last.truncate(max(0, text_width - len(ending)))
            last.rstrip()
        last.append(ending, style="dim")
        wrapped = [*shown[:-1], last]
    lines = [header]
    for line in wrapped:
        line.rstrip()
        lines.append(Text(" " * INDENT, end="") + line)
    return lines


class MarkerList(LineList):
    """A scrollable list of markers; highlighting one selects it in the app."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # (f, the filter, is the app's: it works everywhere.)
        Binding(
            "enter",
            "choose",
            "Open thread",
            show=False,
            id="markers.open",
            tooltip="Open the highlighted marker's thread",
        ),
    ]

    class _MarkerMessage(Message):
        def __init__(self, marker_list: MarkerList, chat_id: str) -> None:
            super().__init__()
            self.marker_list = marker_list
            self.chat_id = chat_id

        @property
        def control(self) -> MarkerList:
            return self.marker_list

    class Highlighted(_MarkerMessage):
        """The user moved the highlight to this marker (keys)."""

    class Selected(_MarkerMessage):
        """The user chose this marker (enter or click): open its thread."""

    class FilterChanged(Message):
        """The filter changed; the app lists the markers again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter: Filter = "all"
        self._chats: Sequence[Chat] = []
        # Each listed marker's entry at the current width: the chat it was made from,
        # whether it was unseen, what it shows, and the item (kept while that holds).
        self._entries: dict[str, tuple[Chat, bool, ItemKey, Item]] = {}
        self._width = 0
        self._selected: str | None = None  # the marker to highlight, once laid out
        self._unseen: frozenset[str] = frozenset()
        self.border_title = "Markers · all"

    # --- what the app calls ----------------------------------------------------------

    def show(
        self,
        chats: Sequence[Chat],
        selected: str | None,
        unseen: Collection[str] = frozenset(),
    ) -> None:
        """List these markers (filtered) with ``selected`` highlighted and ``unseen`` ones
        marked new; refreshes only the rows that changed. Keyed by marker: an entry is
        made again only when what it shows changed, so a remote event costs the
        entries it touched, not the room's size."""
        self._chats = chats
        self._unseen = frozenset(unseen)
        self._rebuild(selected)

    def highlight_chat(self, chat_id: str | None) -> None:
        self._rebuild(chat_id)

    @property
    def highlighted_chat(self) -> str | None:
        return self.highlighted_key

    @property
    def chat_ids(self) -> list[str]:
        """The listed markers, in order."""
        return self.keys

    def entry_text(self, chat_id: str) -> str:
        """The plain text of a marker's entry, one line per row (for tests and tools)."""
        return self.item_text(chat_id)

    # --- rows ------------------------------------------------------------------------

    def _listed(self) -> Sequence[Chat]:
        if self.filter == "all":
            return self._chats
        want_resolved = self.filter == "resolved"
        return [c for c in self._chats if c.resolved == want_resolved]

    def _item(self, chat: Chat, width: int) -> Item:
        """``chat``'s entry: the one made before while the marker is the same object (or
        shows the same), else rendered anew."""
        unseen = chat.id in self._unseen
        entry = self._entries.get(chat.id)
        if entry is not None and entry[0] is chat and entry[1] == unseen:
            return entry[3]
        key = marker_key(chat, unseen)
        if entry is not None and entry[2] == key:
            item = entry[3]  # changed where the list does not look (a move, a reply's text)
        else:
            item = Item(
                chat.id,
                height=entry_height(chat, width),
                render=lambda: self._render_entry(chat, width, unseen),
            )
        self._entries[chat.id] = (chat, unseen, key, item)
        return item

    def _render_entry(self, chat: Chat, width: int, unseen: bool) -> tuple[Strip, ...]:
        console = self.app.console
        return to_strips(marker_lines(chat, width, console, unseen), width, console)

    def _placeholder(self, width: int) -> tuple[Strip, ...]:
        text = {
            "all": "No markers yet: press n or click the image.",
            "open": "No open markers (f: change the filter).",
            "resolved": "No resolved markers (f: change the filter).",
        }[self.filter]
        console = self.app.console
        return to_strips(Text(text, end="").wrap(console, max(1, width)), width, console)

    def _rebuild(self, selected: str | None) -> None:
        self._selected = selected
        if not self.is_mounted or not self.content_width:
            return  # not laid out yet: _relayout builds the rows
        listed = self._listed()
        width = self.width_for(2 * len(listed))  # an entry: a header and a line or two
        if width != self._width:
            self._entries.clear()
            self._width = width
        if listed:
            items = [self._item(chat, width) for chat in listed]
        else:
            items = [Item(None, self._placeholder(width))]
        if len(self._entries) > len(listed):  # forget the entries of markers not listed
            for gone in self._entries.keys() - {chat.id for chat in listed}:
                del self._entries[gone]
        self._set_items(items, selected, f"Markers · {self.filter} ({len(listed)})")

    # --- rendering -------------------------------------------------------------------

    def _relayout(self) -> None:
        self._rebuild(self._selected)

    # --- keys ------------------------------------------------------------------------

    def _move_to(self, index: int, *, choose: bool = False) -> None:
        ids = self.chat_ids
        if not ids:
            return
        index = min(max(index, 0), len(ids) - 1)
        self._rebuild(ids[index])
        message = self.Selected if choose else self.Highlighted
        self.post_message(message(self, ids[index]))

    def action_choose(self) -> None:
        if self._highlighted is not None and self.highlighted_chat is not None:
            self.post_message(self.Selected(self, self.highlighted_chat))

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.post_message(self.FilterChanged())

    # --- mouse -----------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        index = self._item_at(event)
        if index is not None:
            event.stop()
            self._move_to(index, choose=True)
