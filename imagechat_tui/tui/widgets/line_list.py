"""A scrollable list of multi-line items on the Line API that repaints only what changed.

Every row is a cached ``Strip``. A subclass renders its items (one tuple of strips per
item, unstyled by state, exactly the content width; it caches them per content) and
hands them over with ``_set_items`` (and again from ``_relayout`` when the content
width changes: a resize, a scrollbar coming or going). The list is keyed: an item
passed again as the same ``Item`` object keeps its styled rows, so the work of an
update is the items that changed, not the list's length; the rows in view whose
strips differ from what is on the screen are refreshed, nothing else. The border
title is updated by refreshing its row alone, and the virtual size without a layout
unless a scrollbar comes or goes, so an item added at the end costs the terminal its
own rows and the title row.

Highlight (the item keys act on), hover and the placeholder (an item without a key:
"nothing here" text) are styled with the component classes ``line-list--highlighted``,
``line-list--hover`` and ``line-list--placeholder``, shared by every subclass.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class Item:
    """An entry of the list: its key (None: a placeholder, never highlighted) and its
    rows, unstyled by state and exactly the content width. The rows are given, or made
    by ``render`` when first shown: then ``height`` says how many there will be, so a
    long list lays out without rendering what is not in view."""

    __slots__ = ("_lines", "_render", "height", "key")

    def __init__(
        self,
        key: str | None,
        lines: tuple[Strip, ...] | None = None,
        *,
        height: int | None = None,
        render: Callable[[], tuple[Strip, ...]] | None = None,
    ) -> None:
        if lines is None and (render is None or height is None):
            raise TypeError("an item needs its lines, or their height and a render")
        self.key = key
        self._lines = lines
        self._render = render
        self.height: int = len(lines) if lines is not None else height  # type: ignore[assignment]

    @property
    def lines(self) -> tuple[Strip, ...]:
        if self._lines is None:
            assert self._render is not None
            lines = self._render()
            if len(lines) != self.height:
                raise ValueError(f"rendered {len(lines)} rows, not {self.height}")
            self._lines, self._render = lines, None
        return self._lines


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
        self._states: dict[int, str] = {}  # the component class of items that have one
        self._starts: list[int] = [0]  # each item's first row, then the row count
        self._strips: list[Strip | None] = []  # what each row shows (None: not yet styled)
        self._styles: dict[str, Style] = {}  # the rich style of each component now
        self._highlighted: int | None = None  # item index
        self._hover: int | None = None
        self._only_title = False

    @property
    def content_width(self) -> int:
        return self.scrollable_content_region.width

    def width_for(self, rows: int) -> int:
        """The content width items should be rendered at when they take at least
        ``rows`` rows: without the scrollbar's columns when those rows will bring it
        (else the items would be rendered twice, once before it comes: a big room's
        first paint)."""
        width = self.content_width
        if (
            not self.show_vertical_scrollbar
            and rows > self.scrollable_content_region.height
            and self.styles.overflow_y == "auto"
        ):
            width -= self.styles.scrollbar_size_vertical
        return max(1, width)

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

    def item_rows(self, index: int) -> range:
        """The rows item ``index`` takes."""
        return range(self._starts[index], self._starts[index + 1])

    # --- rows ------------------------------------------------------------------------

    def _set_items(self, items: list[Item], highlighted: str | None, title: str) -> None:
        """Show ``items`` with the one keyed ``highlighted`` highlighted (and scrolled
        into view) under ``title``; refreshes only the rows that changed."""
        keys = [item.key for item in items]
        self._highlighted = (
            keys.index(highlighted) if highlighted is not None and highlighted in keys else None
        )
        if self._hover is not None and self._hover >= len(items):
            self._hover = None
        self._lay_out(items)
        self._set_title(title)
        self._scroll_to_highlight()

    def _lay_out(self, items: list[Item]) -> None:
        """The rows of ``items``, each styled by its state (highlighted, hovered, a
        placeholder) when first shown; refreshed where they changed in view.

        Keyed: the items passed again (the same ``Item`` objects, in the same order)
        at either end keep their styled rows, so an update costs the items between
        them (those added, changed or gone) and the few whose state changed, not the
        whole list; and rows are only rendered and styled when shown (``_row``)."""
        old_items, old_strips, old_starts = self._items, self._strips, self._starts
        if self._take_styles():  # the theme or a pseudo-class changed: every row
            old_items, old_strips, old_starts = [], [], [0]
        states = self._item_states(items)
        limit = min(len(old_items), len(items))
        same = list(map(operator.is_, items[:limit], old_items[:limit]))
        prefix = same.index(False) if False in same else limit
        tail = list(map(operator.is_, reversed(items), reversed(old_items)))[: limit - prefix]
        suffix = tail.index(False) if False in tail else len(tail)
        old_end, new_end = len(old_items) - suffix, len(items) - suffix  # ends of the middle
        starts = old_starts[: prefix + 1]
        for item in items[prefix:new_end]:
            starts.append(starts[-1] + item.height)
        row_shift = starts[-1] - old_starts[old_end]
        starts += [start + row_shift for start in old_starts[old_end + 1 :]]
        strips = old_strips[: old_starts[prefix]]
        strips += [None] * (starts[new_end] - starts[prefix])  # styled when shown
        strips += old_strips[old_starts[old_end] :]
        # Kept items whose state changed: those with a state now or before (moved by
        # the items added or removed before them, when in the suffix): styled anew.
        before = {i + (new_end - old_end if i >= old_end else 0) for i in self._states}
        for index in before | set(states):
            if 0 <= index < len(items) and not prefix <= index < new_end:
                strips[starts[index] : starts[index + 1]] = [None] * items[index].height
        self._items, self._states, self._starts = items, states, starts
        self._show_rows(strips)

    def _show_rows(self, strips: list[Strip | None]) -> None:
        """Show ``strips``; refreshes the rows in view that differ from what is shown
        (those out of view are drawn when scrolled to)."""
        old, self._strips = self._strips, strips
        self._set_virtual_height(len(strips))
        top = round(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height
        for row in range(top, min(bottom, max(len(old), len(strips)))):
            before = old[row] if row < len(old) else None
            after = self._row(row) if row < len(strips) else None
            if before is None or (before is not after and before != after):
                self.refresh_line(row)

    def _row(self, row: int) -> Strip:
        """What row ``row`` shows: its item's line, styled by the item's state (rendered
        and styled now if not yet)."""
        strip = self._strips[row]
        if strip is None:
            index = bisect.bisect_right(self._starts, row) - 1
            start = self._starts[index]
            styled = self._styled(self._items[index], self._states.get(index, ""))
            self._strips[start : start + len(styled)] = styled
            strip = styled[row - start]
        return strip

    def _item_states(self, items: list[Item]) -> dict[int, str]:
        """The component class of each item that has one (by index); the rest none."""
        states: dict[int, str] = {}
        if self._hover is not None:
            states[self._hover] = "line-list--hover"
        if self._highlighted is not None:
            states[self._highlighted] = "line-list--highlighted"
        for index in [i for i, item in enumerate(items) if item.key is None]:
            states[index] = "line-list--placeholder"
        return states

    def _take_styles(self) -> bool:
        """Look up each component's style (they follow focus and the theme): True when
        any changed since the rows were styled."""
        styles = {
            component: (
                self.get_visual_style(component) if component else self.get_visual_style()
            ).rich_style
            for component in ("", *sorted(self.COMPONENT_CLASSES))
        }
        changed = styles != self._styles
        self._styles = styles
        return changed

    def _styled(self, item: Item, state: str) -> list[Strip]:
        style = self._styles[state]
        return [line.apply_style(style) for line in item.lines]

    def _restyle(self) -> None:
        """Highlight, hover or focus changed: restyle the items whose style changed."""
        self._lay_out(self._items)

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
        rows = self.item_rows(self._highlighted)
        self.scroll_to_region(Region(0, rows.start, 1, len(rows)), animate=False, immediate=True)

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
        return max(1, rows // max(1, self._items[self._highlighted].height))

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
            return self._row(row)
        return Strip.blank(self.content_width, self.get_visual_style().rich_style)

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._items:
            self._restyle()

    # --- mouse -----------------------------------------------------------------------

    def _item_at(self, event: events.MouseEvent) -> int | None:
        """The index of the (keyed) item under the mouse."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        row = offset.y + self.scroll_offset.y
        if not 0 <= row < len(self._strips):
            return None
        index = bisect.bisect_right(self._starts, row) - 1
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
