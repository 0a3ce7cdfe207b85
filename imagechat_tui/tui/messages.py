"""Messages from the connection worker to the app. Bursts coalesce where that is safe."""

from __future__ import annotations

from textual.message import Message

from imagechat_tui.client.connection import ConnState
from imagechat_tui.protocol import ClientOp, Error, Presence


class RoomChanged(Message):
    """The replica's view changed; redraw from it. Many in a row collapse into one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RoomChanged)


class OpsFailed(Message):
    """Own ops the server refused; already undone in the replica."""

    def __init__(self, failures: list[tuple[ClientOp, Error]]) -> None:
        super().__init__()
        self.failures = failures


class ConnectionChanged(Message):
    def __init__(self, state: ConnState) -> None:
        super().__init__()
        self.state = state

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)


class PresenceChanged(Message):
    def __init__(self, presence: Presence) -> None:
        super().__init__()
        self.viewers = presence.viewers  # the first 100 the server names
        self.count = presence.count or len(presence.viewers)  # everyone viewing

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PresenceChanged)
