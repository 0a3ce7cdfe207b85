"""A scrollable list of multi-line items on the Line API that repaints only what changed.

Every row is a cached ``Strip``. A subclass renders its items (one tuple of strips per
item, unstyled by state, exactly the content width; it caches them per content) and
hands them over with ``_set_items`` (and again from ``_relayout`` when the content
width changes: a resize, a scrollbar coming or going); the rows whose strips differ from what is on the
screen are refreshed, nothing else. The border title is updated by refreshing its row
alone, and the virtual size without a layout unless a scrollbar comes or goes, so an
item added at the end costs the terminal its own rows and the title row.

Highlight (the item keys act on), hover and the placeholder (an item without a key:
"nothing here" text) are styled with the component classes ``line-list--highlighted``,
``line-list--hover`` and ``line-list--placeholder``, shared by every subclass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True, slots=True)
class Item:
    key: str | None  # None: a placeholder, never highlighted
    lines: tuple[Strip, ...]  # unstyled by state, exactly the content width


def to_strips(lines: Iterable[Text], width: int, console: Console) -> tuple[Strip, ...]:
    """Each line (at most ``width`` cells) as a strip of exactly ``width`` cells."""
    return tuple(
        Strip(line.render(console), line.cell_len).extend_cell_length(width) for line in lines
    )


class LineList(ScrollView, can_focus=True):
    """Rows of items, a highlight moved by keys and clicks, a hover under the mouse."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="list.down", tooltip="Next entry"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="list.up", tooltip="Previous entry"),
        Binding(
            "pagedown",
            "page(1)",
            "Page down",
            show=False,
            id="list.page-down",
            tooltip="A page down",
        ),
        Binding(
            "pageup", "page(-1)", "Page up", show=False, id="list.page-up", tooltip="A page up"
        ),
        Binding("home,g", "first", "First", show=False, id="list.first", tooltip="First entry"),
        Binding("end,G", "last", "Last", show=False, id="list.last", tooltip="Last entry"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-list--highlighted",
        "line-list--hover",
        "line-list--placeholder",
    }

    DEFAULT_CSS = """
    LineList {
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $foreground;
        padding: 0 1;
        & > .line-list--highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus > .line-list--highlighted {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .line-list--hover {
            background: $block-hover-background;
        }
        & > .line-list--placeholder {
            color: $text-muted;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: list[Item] = []
        self._rows: list[tuple[int, int]] = []  # (item index, line in item) per row
        self._strips: list[Strip] = []  # what each row shows now
        self._highlighted: int | None = None  # item index
        self._hover: int | None = None
        self._only_title = False

    @property
    def content_width(self) -> int:
        return self.scrollable_content_region.width

    @property
    def highlighted_key(self) -> str | None:
        if self._highlighted is None:
            return None
        return self._items[self._highlighted].key

    @property
    def keys(self) -> list[str]:
        """The keys of the listed items, in order."""
        return [item.key for item in self._items if item.key is not None]

    def item_lines(self, key: str | None) -> tuple[Strip, ...]:
        """The rows of an item (``None``: the placeholder), unstyled by state."""
        for item in self._items:
            if item.key == key:
                return item.lines
        raise KeyError(key)

    def item_text(self, key: str | None) -> str:
        """The plain text of an item, one line per row (for tests and tools)."""
        return "\n".join(strip.text.rstrip() for strip in self.item_lines(key))

    # --- rows ------------------------------------------------------------------------

    def _set_items(self, items: list[Item], highlighted: str | None, title: str) -> None:
        """Show ``items`` with the one keyed ``highlighted`` highlighted (and scrolled
        into view) under ``title``; refreshes only the rows that changed."""
        self._items = items
        keys = [item.key for item in items]
        self._highlighted = (
            keys.index(highlighted) if highlighted is not None and highlighted in keys else None
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
        self._set_title(title)
        self._scroll_to_highlight()

    def _row_strip(self, index: int, line: int) -> Strip:
        item = self._items[index]
        if item.key is None:
            component = "line-list--placeholder"
        elif index == self._highlighted:
            component = "line-list--highlighted"
        elif index == self._hover:
            component = "line-list--hover"
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

    def _highlight(self, index: int) -> None:
        """Move the highlight to item ``index`` and into view."""
        if index != self._highlighted:
            self._highlighted = index
            self._restyle()
        self._scroll_to_highlight()

    def _set_virtual_height(self, height: int) -> None:
        size = Size(self.content_width, height)
        if size == self.virtual_size:
            return
        view = self.scrollable_content_region.height
        if (self.virtual_size.height > view) == (height > view):
            # No scrollbar comes or goes: no layout needed. (Assigning ``virtual_size``
            # would lay out and repaint the whole widget.)
            self.set_reactive(LineList.virtual_size, size)
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
    ) -> LineList:
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

    # --- keys: the subclass says what moving the highlight to an item means ---------

    def _move_to(self, index: int) -> None:
        raise NotImplementedError

    def action_cursor(self, step: int) -> None:
        if self._highlighted is None:
            self._move_to(0 if step > 0 else len(self.keys) - 1)
        else:
            self._move_to(self._highlighted + step)

    def action_page(self, direction: int) -> None:
        if self._highlighted is None:
            self.action_cursor(direction)
        else:  # as many items as fit in the view
            self._move_to(self._highlighted + direction * self._page_step())

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self.keys) - 1)

    def _page_step(self) -> int:
        """How many items of the highlighted one's height fit in the view."""
        if self._highlighted is None:
            return 1
        rows = self.scrollable_content_region.height
        return max(1, rows // max(1, len(self._items[self._highlighted].lines)))

    # --- rendering -------------------------------------------------------------------

    def _relayout(self) -> None:
        """The content width changed: build the items again (subclasses)."""

    def on_resize(self) -> None:
        self._relayout()

    def watch_show_vertical_scrollbar(self) -> None:
        # The scrollbar takes its columns from the rows without a Resize event.
        self.call_later(self._relayout)

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        if 0 <= row < len(self._strips):
            return self._strips[row]
        return Strip.blank(self.content_width, self.get_visual_style().rich_style)

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._rows:
            self._restyle()

    # --- mouse -----------------------------------------------------------------------

    def _item_at(self, event: events.MouseEvent) -> int | None:
        """The index of the (keyed) item under the mouse."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        row = offset.y + self.scroll_offset.y
        if not 0 <= row < len(self._rows):
            return None
        index = self._rows[row][0]
        return index if self._items[index].key is not None else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._item_at(event)
        if index != self._hover:
            self._hover = index
            self._restyle()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self._restyle()
