"""Messages from the connection worker to the app. Bursts coalesce where that is safe."""

from __future__ import annotations

from textual.message import Message

from imagechat_tui.protocol import ClientOp, Error, Presence, User, Viewers


class RoomChanged(Message):
    """The replica's view changed; redraw from it. Many in a row collapse into one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RoomChanged)


def viewer_count(presence: Presence | Viewers | None) -> int:
    """Everyone viewing (past PRESENCE_NAMED viewers the server sends the count alone)."""
    if presence is None:
        return 0
    return presence.count or len(presence.viewers)


class OpsFailed(Message):
    """Own ops the server refused; already undone in the replica."""

    def __init__(self, failures: list[tuple[ClientOp, Error]]) -> None:
        super().__init__()
        self.failures = failures


class ConnectionChanged(Message):
    """``connection.state`` changed; widgets read it from there (one source of truth)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)


class PresenceChanged(Message):
    """``connection.presence`` changed: who is viewing."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PresenceChanged)


class ViewersListed(Message):
    """The server's answer to ``who``: the viewers by name."""

    def __init__(self, viewers: Viewers) -> None:
        super().__init__()
        self.viewers = viewers


def who_text(viewers: tuple[User, ...], count: int) -> str:
    """'Alice, Bob and 3 more', or 'Only you.' (names made inert by the caller)."""
    more = count - len(viewers)
    text = ", ".join(user.name for user in viewers) + (f" and {more} more" if more > 0 else "")
    return text or "Only you."
