"""Messages from the connection worker to the app. Bursts coalesce where that is safe."""

from __future__ import annotations

from textual.message import Message

from imagechat_tui.client.connection import ConnState
from imagechat_tui.protocol import ClientOp, Error, User


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
    def __init__(self, viewers: tuple[User, ...]) -> None:
        super().__init__()
        self.viewers = viewers

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PresenceChanged)
