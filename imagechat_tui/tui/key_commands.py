"""The command palette's entries for every key the app has: each says its key.

Read from the bindings (``keys.py``), like the help, so the palette never lists an
action without its key or a key that no longer exists. Actions that do not apply now
(``check_action`` says so: nothing selected, a resolved marker's "Resolve") are left out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from imagechat_tui.tui.keys import KeyRow, live_bindings

#: Keys that only make sense as keys (moving a highlight, closing a dialog).
NOT_COMMANDS = {
    "cursor",
    "page",
    "first",
    "last",
    "move",
    "pan",
    "cancel",
    "cancel_move",
    "newline",
}


def _title(row: KeyRow) -> str:
    return row.text


def _help(row: KeyRow) -> str:
    return f"key: {'  '.join(row.keys)}"


class KeyCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], Awaitable[bool]]]]:
        app = self.app
        found: list[tuple[str, str, Callable[[], Awaitable[bool]]]] = []
        seen: set[str] = set()
        for node, row in live_bindings(app, self.screen):
            name = row.action.split("(", 1)[0]
            if name in NOT_COMMANDS or row.text in seen:
                continue
            if app._check_action_state(row.action, node) is False:
                continue  # does not apply now
            seen.add(row.text)
            found.append((_title(row), _help(row), partial(app.run_action, row.action, node)))
        return found

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
