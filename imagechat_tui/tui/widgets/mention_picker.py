"""The names offered while typing ``@`` in the composer.

Under the text box, a line of the room's people matching what follows the ``@``; tab
or enter puts the highlighted one in (as ``@id ``), up and down (or shift+tab) choose,
escape closes it. The composer passes its keys here first while it is open.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static, TextArea

from imagechat_tui.client.mentions import matching, typing_mention
from imagechat_tui.protocol import User
from imagechat_tui.safe_text import inert

MAX_SHOWN = 6


class MentionPicker(Static):
    DEFAULT_CSS = """
    MentionPicker {
        height: auto;
        padding: 0 1;
        display: none;
    }
    """

    def __init__(
        self,
        people: Callable[[], list[User]],
        me: Callable[[], str | None],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.people = people
        self.me = me
        self.choices: list[User] = []
        self.index = 0
        self._query: str | None = None

    @property
    def is_open(self) -> bool:
        return bool(self.choices)

    def update_for(self, area: TextArea) -> None:
        """Offer names for the mention being typed at the cursor (or close)."""
        row, col = area.cursor_location
        line = area.document.get_line(row)[:col]
        query = typing_mention(line)
        if query is None:
            self.close()
            return
        choices = matching(query, self.people(), exclude=self.me())[:MAX_SHOWN]
        if query != self._query:
            self.index = 0
        self._query, self.choices = query, choices
        self.index = min(self.index, max(0, len(choices) - 1))
        self._show()

    def close(self) -> None:
        self.choices, self._query, self.index = [], None, 0
        self.display = False

    def _show(self) -> None:
        if not self.choices:
            self.display = False
            return
        line = Text("@ ", style="dim", no_wrap=True, overflow="ellipsis")
        for i, user in enumerate(self.choices):
            style = "bold reverse magenta" if i == self.index else "magenta"
            line.append(f" {inert(user.name)} ", style=style)
            line.append(f"@{inert(user.id)}", style="dim")
            line.append("  ")
        line.append("tab: put in · ↑↓ choose · esc close", style="dim italic")
        self.update(line)
        self.display = True

    def handle(self, key: str, area: TextArea) -> bool:
        """A key while open: True if it was the picker's."""
        if key in ("tab", "enter"):
            self.accept(area)
        elif key == "down":
            self.index = (self.index + 1) % len(self.choices)
            self._show()
        elif key in ("up", "shift+tab"):
            self.index = (self.index - 1) % len(self.choices)
            self._show()
        elif key == "escape":
            self.close()
        else:
            return False
        return True

    def accept(self, area: TextArea) -> None:
        """Replace the partial ``@name`` before the cursor with the chosen ``@id ``."""
        user = self.choices[self.index]
        row, col = area.cursor_location
        typed = len(self._query or "") + 1
        self.close()
        result = area.replace(f"@{user.id} ", (row, col - typed), (row, col))
        area.move_cursor(result.end_location)
