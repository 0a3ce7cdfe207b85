"""Messages from the connection worker to the app. Bursts coalesce where that is safe."""

from __future__ import annotations

from textual.message import Message

from imagechat_tui.protocol import Viewers


class RoomChanged(Message):
    """The replica's view changed; redraw from it. Many in a row collapse into one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RoomChanged)


class ConnectionChanged(Message):
    """The link's ``state`` changed; widgets read it from there (one source of truth)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)


class PresenceChanged(Message):
    """The link's ``presence`` changed: who is viewing."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PresenceChanged)


class ViewersListed(Message):
    """The server's answer to ``who``: the viewers by name."""

    def __init__(self, viewers: Viewers) -> None:
        super().__init__()
        self.viewers = viewers
