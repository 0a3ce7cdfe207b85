"""The thread of the selected marker: every comment, each one highlightable.

Line API (``LineList``): each comment is rendered once per width and content into
cached strips (author and time, then the text wrapped under an indent); when the thread
changes only the rows whose strips differ are refreshed. A remote reply to the open
marker costs the terminal the reply's rows and the title row, not a repaint of the panel.
The highlighted comment is the one the reply/edit/delete keys act on.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual import events
from textual.strip import Strip

from imagechat_tui.mention_syntax import MENTION
from imagechat_tui.protocol import Chat, Comment
from imagechat_tui.safe_text import inert
from imagechat_tui.tui.widgets.line_list import Item, LineList, to_strips

MENTION_STYLE = "bold magenta"
NOTICE_STYLE = "bold yellow"
INDENT = 2  # a comment's text sits under its author, wrapped lines too
TITLE_FRAME = 6  # the border's cells around its title: "╭─ " and " ─╮"
EMPTY = "Select a marker, or press n or click the image to place one."


def comment_lines(comment: Comment, own: bool, width: int, console: Console) -> list[Text]:
    """A comment in lines of at most ``width`` cells: author (cyan when ``own``), time
    and "(edited)", then each line of the text wrapped under ``INDENT``. User text is
    made inert and never parsed as markup."""
    when = datetime.fromtimestamp(comment.createdAt / 1000).strftime("%H:%M")
    header = Text(no_wrap=True, overflow="ellipsis", end="")
    header.append(inert(comment.author.name), style="bold cyan" if own else "bold")
    header.append(f"  {when}", style="dim")
    if comment.editedAt is not None:
        header.append(" (edited)", style="dim italic")
    header.truncate(width, overflow="ellipsis")
    lines = [header]
    text_width = max(1, width - INDENT)
    for paragraph in inert(comment.text, keep_newlines=True).split("\n"):
        body = Text(paragraph, end="")
        body.highlight_regex(MENTION, style=MENTION_STYLE)  # @someone stands out
        wrapped = body.wrap(console, text_width, overflow="fold") or [Text("")]
        for line in wrapped:
            line.rstrip()
            lines.append(Text(" " * INDENT, end="") + line)
    return lines


class ThreadView(LineList):
    """The comments of the shown chat; items are keyed by comment id."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chat: Chat | None = None
        self.user_id: str | None = None
        self.notice: str | None = None  # someone else changed this marker (Review.panel_notice)
        self._rendered: dict[tuple[Comment, bool, int], tuple[Strip, ...]] = {}
        self._width = 0
        self.border_title = "Thread"

    # --- what the app calls ----------------------------------------------------------

    def show(self, chat: Chat | None, user_id: str | None, notice: str | None = None) -> None:
        """Show ``chat``'s thread, and under it ``notice`` (what someone else just did to
        it; with no chat, what became of it). The highlighted comment stays highlighted
        while it is there, else the last one is; refreshes only the rows that changed."""
        if chat == self.chat and user_id == self.user_id and notice == self.notice:
            return
        self.chat, self.user_id, self.notice = chat, user_id, notice
        self._rebuild(self.highlighted_comment_id)

    @property
    def highlighted_comment_id(self) -> str | None:
        """The comment reply/edit/delete act on."""
        return self.highlighted_key

    @property
    def comment_ids(self) -> list[str]:
        return self.keys

    def highlight(self, comment_id: str) -> None:
        """Highlight this comment (and scroll to it) if it is shown."""
        if comment_id in self.comment_ids:
            self._move_to(self.comment_ids.index(comment_id))

    # --- rows ------------------------------------------------------------------------

    def _render_comment(self, comment: Comment, width: int) -> tuple[Strip, ...]:
        own = comment.author.id == self.user_id
        key = (comment, own, width)
        lines = self._rendered.get(key)
        if lines is None:
            console = self.app.console
            lines = to_strips(comment_lines(comment, own, width, console), width, console)
            self._rendered[key] = lines
        return lines

    def _rebuild(self, highlighted: str | None) -> None:
        if not self.is_mounted or not self.content_width:
            return  # not laid out yet: _relayout builds the rows
        width = self.content_width
        if width != self._width:
            self._rendered.clear()
            self._width = width
        chat = self.chat
        console = self.app.console
        if chat is None:
            lines = list(Text(EMPTY, end="").wrap(console, max(1, width)))
            if self.notice is not None:  # the marker you had open is gone: say so here
                lines = [*self._notice_lines(width), *lines]
            self._set_items([Item(None, to_strips(lines, width, console))], None, "Thread")
            self._rendered.clear()
            return
        items = [Item(c.id, self._render_comment(c, width)) for c in chat.comments]
        if self.notice is not None:  # last, as the latest news (comment indices unchanged)
            items.append(Item(None, to_strips(self._notice_lines(width), width, console)))
        # Forget renders of comments no longer shown (edited, deleted, another chat).
        live = {(c, c.author.id == self.user_id, width) for c in chat.comments}
        for key in [k for k in self._rendered if k not in live]:
            del self._rendered[key]
        ids = [c.id for c in chat.comments]
        if highlighted not in ids:
            highlighted = ids[-1] if ids else None
        state = "resolved" if chat.resolved else "open"
        count = len(ids)
        title = f"#{chat.number} · {state} · {count} comment{'s' * (count != 1)}"
        if cell_len(title) > self.outer_size.width - TITLE_FRAME:  # not "2 com…": the count goes
            title = f"#{chat.number} · {state}"  # (the thread below shows the comments)
        self._set_items(items, highlighted, title)

    def _notice_lines(self, width: int) -> list[Text]:
        text = Text(self.notice or "", style=NOTICE_STYLE, end="")
        lines = list(text.wrap(self.app.console, max(1, width - 2)))
        # The bullet on the first line, the rest under the text (as a comment's text).
        return [
            Text(("● " if n == 0 else "  "), style=NOTICE_STYLE, end="") + line
            for n, line in enumerate(lines)
        ]

    def _relayout(self) -> None:
        self._rebuild(self.highlighted_comment_id)

    # --- keys: a comment taller than the panel is scrolled through, not jumped ------

    def _span(self, index: int) -> tuple[int, int]:
        """The first row and the row after the last of item ``index``."""
        rows = self.item_rows(index)
        return rows.start, rows.stop

    def _view(self) -> tuple[int, int]:
        top = round(self.scroll_offset.y)
        return top, top + self.scrollable_content_region.height

    def _scroll_rows(self, rows: int) -> None:
        self.scroll_to(y=max(0, round(self.scroll_offset.y) + rows), animate=False, immediate=True)

    def _hidden_below(self) -> int:
        """Rows of the highlighted comment below the view (0: its end is shown)."""
        if self._highlighted is None:
            return 0
        return max(0, self._span(self._highlighted)[1] - self._view()[1])

    def _hidden_above(self) -> int:
        if self._highlighted is None:
            return 0
        return max(0, self._view()[0] - self._span(self._highlighted)[0])

    def action_cursor(self, step: int) -> None:
        if step > 0 and self._hidden_below():
            self._scroll_rows(1)
        elif step < 0 and self._hidden_above():
            self._scroll_rows(-1)
        else:
            super().action_cursor(step)

    def action_page(self, direction: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        if direction > 0 and (below := self._hidden_below()):
            self._scroll_rows(min(page, below))
        elif direction < 0 and (above := self._hidden_above()):
            self._scroll_rows(-min(page, above))
        else:
            super().action_page(direction)

    def action_first(self) -> None:
        super().action_first()
        self.scroll_home(animate=False, immediate=True)

    def action_last(self) -> None:
        """The last comment, scrolled to its very end."""
        super().action_last()
        self.scroll_end(animate=False, immediate=True)

    def _scroll_to_highlight(self) -> None:
        # Reading inside a tall comment: a refresh (a remote reply) must not jump back
        # to its top while the view is within it.
        if self._highlighted is not None:
            first, end = self._span(self._highlighted)
            top, bottom = self._view()
            if end - first > bottom - top and first <= top and bottom <= end:
                return
        super()._scroll_to_highlight()

    # --- keys and mouse --------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self.comment_ids:
            return
        self._highlight(min(max(index, 0), len(self.comment_ids) - 1))

    def on_click(self, event: events.Click) -> None:
        index = self._item_at(event)
        if index is not None:
            event.stop()
            self._move_to(index)
