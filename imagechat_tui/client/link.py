"""The seam between the review and the sync server: what a link does, not how.

``Link`` is what ``client/review.py`` and the app talk to: its state, who is viewing,
submit an own op, be told what arrives, retry, take a new token, close. ``Connection``
(``connection.py``) is the WebSocket implementation; ``LoopbackLink``
(``loopback.py``) runs the real model in memory, so the review and the app can be
exercised with no socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from imagechat_tui.model import Rejection
from imagechat_tui.protocol import ClientOp, CloseCode, Event, Presence, Viewers
from imagechat_tui.replica import Received, Replica

StateKind = Literal["connecting", "connected", "reconnecting", "offline", "auth-failed"]


@dataclass(frozen=True, slots=True)
class ConnState:
    kind: StateKind
    attempt: int = 0  # failed attempts in a row (reconnecting)
    retry_at: float | None = None  # time.monotonic() of the next try (reconnecting)
    reason: str = ""  # why the last link ended, for people
    close_code: int | None = None

    @property
    def connected(self) -> bool:
        return self.kind == "connected"

    @property
    def token_expired(self) -> bool:
        return self.close_code == CloseCode.TOKEN_EXPIRED

    @property
    def offline_reason(self) -> str | None:
        """Why nothing can be sent now, for people; None while connected. The one
        offline check: the review asks it before any effort, the link before sending."""
        if self.connected:
            return None
        if self.kind == "auth-failed":
            return f"Offline: {self.reason} Nothing was sent."
        return "Offline: not connected to the sync server, so nothing can be created or changed."

    def seconds_to_retry(self, now: float | None = None) -> float | None:
        if self.retry_at is None:
            return None
        return max(0.0, self.retry_at - (time.monotonic() if now is None else now))


class NotConnected(Exception):
    """An op was submitted while the app is not connected; nothing was sent or queued."""


# Listeners' return values are ignored (so ``post_message``, which returns a bool, fits).
StateListener = Callable[[ConnState], object]
ReceivedListener = Callable[[Received], object]
PresenceListener = Callable[[Presence], object]
ViewersListener = Callable[[Viewers], object]


def ignore(_: object) -> None:
    pass


class Link(Protocol):
    """A live link to one room for one user."""

    @property
    def replica(self) -> Replica:
        """The room as this client sees it: confirmed state plus own ops in flight."""

    @property
    def state(self) -> ConnState:
        """The one source of truth for connected or not, and why."""

    @property
    def presence(self) -> Presence | None:
        """Who is viewing (the last presence the server sent)."""

    @property
    def connected(self) -> bool: ...

    @property
    def url(self) -> str:
        """Where the link goes (the server's URL), for sharing the room."""

    @property
    def token(self) -> str:
        """The token the link joins with (also the bearer of the HTTP API)."""

    def listen(
        self,
        *,
        on_state: StateListener,
        on_received: ReceivedListener,
        on_presence: PresenceListener = ignore,
        on_viewers: ViewersListener = ignore,
    ) -> None:
        """Report to these callbacks from now on."""

    def submit(self, op: ClientOp, now_ms: int | None = None) -> Event | Rejection:
        """Apply an own op at once and send it; the model's Rejection if it may not
        happen (nothing sent). Raises ``NotConnected`` when offline (nothing queued)."""

    def request_viewers(self) -> bool:
        """Ask for the viewers by name (the answer goes to ``on_viewers``); False when
        not connected (nothing asked)."""

    async def run(self) -> None:
        """Connect and stay connected until ``close``."""

    def retry_now(self) -> None:
        """Skip the rest of a backoff wait."""

    def set_token(self, token: str) -> None:
        """Use a new token from the next attempt on."""

    async def close(self) -> None: ...
