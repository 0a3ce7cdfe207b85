"""The markers of the room: number, author, first line, replies, open or resolved.

Line API: every row of the list is a cached ``Strip``; when the room changes the rows
are built again (each marker's text is rendered once per width and content) and only
the rows whose strips differ are refreshed. A remote marker added to the list costs
the terminal its two or three new rows and the title, not a repaint of the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from imagechat_tui.protocol import Chat
from imagechat_tui.safe_text import inert

Filter = Literal["all", "open", "resolved"]
FILTERS: tuple[Filter, ...] = ("all", "open", "resolved")
INDENT = 4  # the comment's first line sits under the author, wrapped lines too
MAX_TEXT_LINES = 2  # of the first comment's first line; the rest ends in an ellipsis

ItemKey = tuple[str, int, bool, str, str, int]


def marker_key(chat: Chat) -> ItemKey:
    """Everything a list entry shows; equal keys render the same."""
    first = chat.comments[0].text if chat.comments else ""
    return (chat.id, chat.number, chat.resolved, chat.createdBy.name, first, len(chat.comments))


def marker_lines(chat: Chat, width: int, console: Console) -> list[Text]:
    """The entry for ``chat`` in lines of at most ``width`` cells: a header with number,
    state, author and reply count, then the first line of the first comment, wrapped
    and indented, at most ``MAX_TEXT_LINES`` lines."""
    first = chat.comments[0].text.split("\n", 1)[0] if chat.comments else ""
    replies = len(chat.comments) - 1
    header = Text(no_wrap=True, overflow="ellipsis", end="")
    header.append(f"#{chat.number:<3}", style="bold dim" if chat.resolved else "bold")
    header.append("✓ " if chat.resolved else "○ ", style="green" if chat.resolved else "yellow")
    header.append(inert(chat.createdBy.name), style="cyan")
    if replies:
        header.append(f" +{replies}", style="magenta")
    header.truncate(width, overflow="ellipsis")
    text_width = max(1, width - INDENT)
    body = Text(inert(first), style="dim" if chat.resolved else "", end="")
    wrapped = list(body.wrap(console, text_width, overflow="fold"))[: MAX_TEXT_LINES + 1] or [
        Text("")
    ]
    if len(wrapped) > MAX_TEXT_LINES:
        # The rest does not fit: the last shown line runs on into an ellipsis.
        rest = Text("", end="").join(wrapped[MAX_TEXT_LINES - 1 :])
        rest.truncate(text_width - 1)
        rest.rstrip()
        rest.append("…", style="dim")
        wrapped = [*wrapped[: MAX_TEXT_LINES - 1], rest]
    lines = [header]
    for line in wrapped:
        line.rstrip()
        lines.append(Text(" " * INDENT, end="") + line)
    return lines


@dataclass(frozen=True, slots=True)
class _Item:
    chat_id: str | None  # None: the placeholder of an empty list
    lines: tuple[Strip, ...]  # unstyled by state, exactly the list's width


class MarkerList(ScrollView, can_focus=True):
    """A scrollable list of markers; highlighting one selects it in the app."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "cycle_filter", "Filter", id="markers.filter"),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "choose", "Open thread", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "marker-list--highlighted",
        "marker-list--hover",
        "marker-list--placeholder",
    }

    DEFAULT_CSS = """
    MarkerList {
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $foreground;
        padding: 0 1;
        & > .marker-list--highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus > .marker-list--highlighted {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .marker-list--hover {
            background: $block-hover-background;
        }
        & > .marker-list--placeholder {
            color: $text-muted;
        }
    }
    """

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
        self._chats: list[Chat] = []
        self._rendered: dict[tuple[ItemKey, int], tuple[Strip, ...]] = {}
        self._items: list[_Item] = []
        self._rows: list[tuple[int, int]] = []  # (item index, line in item) per row
        self._strips: list[Strip] = []  # what each row shows now
        self._highlighted: int | None = None  # item index
        self._hover: int | None = None
        self._width = 0
        self._only_title = False
        self.border_title = "Markers · all"

    # --- what the app calls ----------------------------------------------------------

    def show(self, chats: list[Chat], selected: str | None) -> None:
        """List these markers (filtered) with ``selected`` highlighted; refreshes only
        the rows that changed."""
        self._chats = chats
        self._rebuild(selected)

    def highlight_chat(self, chat_id: str | None) -> None:
        self._rebuild(chat_id)

    @property
    def highlighted_chat(self) -> str | None:
        if self._highlighted is None:
            return None
        return self._items[self._highlighted].chat_id

    @property
    def chat_ids(self) -> list[str]:
        """The listed markers, in order."""
        return [item.chat_id for item in self._items if item.chat_id is not None]

    def entry_text(self, chat_id: str) -> str:
        """The plain text of a marker's entry, one line per row (for tests and tools)."""
        for item in self._items:
            if item.chat_id == chat_id:
                return "\n".join(strip.text.rstrip() for strip in item.lines)
        raise KeyError(chat_id)

    # --- rows ------------------------------------------------------------------------

    def _listed(self) -> list[Chat]:
        if self.filter == "all":
            return self._chats
        want_resolved = self.filter == "resolved"
        return [c for c in self._chats if c.resolved == want_resolved]

    def _render_item(self, chat: Chat, width: int) -> tuple[Strip, ...]:
        key = (marker_key(chat), width)
        lines = self._rendered.get(key)
        if lines is None:
            console = self.app.console
            lines = tuple(
                Strip(line.render(console), line.cell_len).extend_cell_length(width)
                for line in marker_lines(chat, width, console)
            )
            self._rendered[key] = lines
        return lines

    def _placeholder(self, width: int) -> tuple[Strip, ...]:
        text = {
            "all": "No markers yet: press n or click the image.",
            "open": "No open markers (f: change the filter).",
            "resolved": "No resolved markers (f: change the filter).",
        }[self.filter]
        console = self.app.console
        lines = Text(text, end="").wrap(console, max(1, width))
        return tuple(
            Strip(line.render(console), line.cell_len).extend_cell_length(width) for line in lines
        )

    def _rebuild(self, selected: str | None) -> None:
        if not self.is_mounted:
            return
        width = self.scrollable_content_region.width
        listed = self._listed()
        if width != self._width:
            self._rendered.clear()
            self._width = width
        if listed:
            items = [_Item(c.id, self._render_item(c, width)) for c in listed]
        else:
            items = [_Item(None, self._placeholder(width))]
        # Forget renders of markers no longer in the room (edited text, deleted).
        live = {(marker_key(c), width) for c in listed}
        for key in [k for k in self._rendered if k not in live]:
            del self._rendered[key]
        self._items = items
        ids = [item.chat_id for item in items]
        self._highlighted = (
            ids.index(selected) if selected is not None and selected in ids else None
        )
        if self._hover is not None and self._hover >= len(items):
            self._hover = None
        self._rows = [
            (index, line) for index, item in enumerate(items) for line in range(len(item.lines))
        ]
        strips = [self._row_strip(index, line) for index, line in self._rows]
        old = self._strips
        self._strips = strips
        self._set_virtual_height(len(strips))
        for row in range(max(len(old), len(strips))):
            if row >= len(old) or row >= len(strips) or old[row] != strips[row]:
                self.refresh_line(row)
        self._set_title(f"Markers · {self.filter} ({len(listed)})")
        self._scroll_to_highlight()

    def _row_strip(self, index: int, line: int) -> Strip:
        item = self._items[index]
        if item.chat_id is None:
            component = "marker-list--placeholder"
        elif index == self._highlighted:
            component = "marker-list--highlighted"
        elif index == self._hover:
            component = "marker-list--hover"
        else:
            component = ""
        style = self.get_visual_style(component) if component else self.get_visual_style()
        rich_style: Style = style.rich_style
        return item.lines[line].apply_style(rich_style)

    def _restyle(self) -> None:
        """Highlight, hover or focus changed: rebuild the affected rows from the cache."""
        strips = [self._row_strip(index, line) for index, line in self._rows]
        for row, strip in enumerate(strips):
            if row >= len(self._strips) or self._strips[row] != strip:
                self.refresh_line(row)
        self._strips = strips

    def _set_virtual_height(self, height: int) -> None:
        size = Size(self._width, height)
        if size == self.virtual_size:
            return
        view = self.scrollable_content_region.height
        if (self.virtual_size.height > view) == (height > view):
            # No scrollbar comes or goes: no layout needed. (Assigning ``virtual_size``
            # would lay out and repaint the whole widget.)
            self.set_reactive(MarkerList.virtual_size, size)
            if height > view:
                self.vertical_scrollbar.window_virtual_size = height
                self.vertical_scrollbar.refresh()
            self.scroll_y = self.validate_scroll_y(self.scroll_y)
        else:
            self.virtual_size = size

    def _set_title(self, title: str) -> None:
        if title == self.border_title:
            return
        # Setting a border title repaints the whole widget; only its top row changes.
        self._only_title = True
        try:
            self.border_title = title
        finally:
            self._only_title = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> MarkerList:
        if self._only_title and not regions and not layout and not recompose:
            offset = self.content_offset
            regions = (Region(-offset.x, -offset.y, self.outer_size.width, 1),)
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        return self

    def _scroll_to_highlight(self) -> None:
        if self._highlighted is None:
            return
        first = next(row for row, (index, _) in enumerate(self._rows) if index == self._highlighted)
        height = len(self._items[self._highlighted].lines)
        self.scroll_to_region(Region(0, first, 1, height), animate=False, immediate=True)

    # --- rendering -------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        if 0 <= row < len(self._strips):
            return self._strips[row]
        return Strip.blank(self.scrollable_content_region.width, self.get_visual_style().rich_style)

    def on_resize(self) -> None:
        self._rebuild(self.highlighted_chat)

    def on_mount(self) -> None:
        self._rebuild(None)

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._rows:
            self._restyle()

    # --- keys ------------------------------------------------------------------------

    def _move_to(self, index: int, *, choose: bool = False) -> None:
        ids = self.chat_ids
        if not ids:
            return
        index = min(max(index, 0), len(ids) - 1)
        self._rebuild(ids[index])
        message = self.Selected if choose else self.Highlighted
        self.post_message(message(self, ids[index]))

    def action_cursor(self, step: int) -> None:
        if self._highlighted is None:
            self._move_to(0 if step > 0 else len(self.chat_ids) - 1)
        else:
            self._move_to(self._highlighted + step)

    def action_page(self, direction: int) -> None:
        if self._highlighted is None:
            self.action_cursor(direction)
            return
        # As many entries as fit in the view (entries are 2-3 rows each).
        rows = self.scrollable_content_region.height
        step = max(1, rows // max(1, len(self._items[self._highlighted].lines)))
        self._move_to(self._highlighted + direction * step)

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self.chat_ids) - 1)

    def action_choose(self) -> None:
        if self._highlighted is not None and self.highlighted_chat is not None:
            self.post_message(self.Selected(self, self.highlighted_chat))

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.post_message(self.FilterChanged())

    # --- mouse -----------------------------------------------------------------------

    def _item_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        row = offset.y + self.scroll_offset.y
        if not 0 <= row < len(self._rows):
            return None
        index = self._rows[row][0]
        return index if self._items[index].chat_id is not None else None

    def on_click(self, event: events.Click) -> None:
        index = self._item_at(event)
        if index is not None:
            event.stop()
            self._move_to(index, choose=True)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._item_at(event)
        if index != self._hover:
            self._hover = index
            self._restyle()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self._restyle()
