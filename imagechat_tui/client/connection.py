"""The app's link to the sync server: join, receive, send, and reconnect on loss.

``Connection.run`` is one long-lived coroutine (the app runs it in a worker). It joins
the room with the replica's last ``seq``, folds every server frame into the
``Replica`` and reports what changed through callbacks; when the link drops it retries
with exponential backoff and jitter, re-sends own ops still in flight after each
rejoin, and reports its ``ConnState`` at every step. Ops are only ever sent while
connected: ``submit`` refuses at once when not, nothing is queued.

Given several server URLs (nodes of one deployment), each reconnect attempt goes to the
next one in turn, so losing a node means rejoining another, with ``since``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from imagechat_tui import wire
from imagechat_tui.backoff import Backoff as Backoff  # the app configures its reconnects here
from imagechat_tui.client.link import ConnState as ConnState
from imagechat_tui.client.link import NotConnected as NotConnected
from imagechat_tui.client.link import (
    PresenceListener,
    ReceivedListener,
    StateListener,
    ViewersListener,
    ignore,
)
from imagechat_tui.model import Rejection
from imagechat_tui.protocol import (
    ClientOp,
    CloseCode,
    Error,
    ErrorCode,
    Event,
    Join,
    Joined,
    Presence,
    User,
    Viewers,
    Who,
    decode_server_frame,
    encode,
)
from imagechat_tui.replica import Replica

if TYPE_CHECKING:
    # websockets' client costs ~25 ms to import: it is imported when the link opens its
    # first socket, after the image is in a frame.
    import websockets
    from websockets.asyncio.client import ClientConnection

#: Close codes after which retrying with the same token is pointless.
_AUTH_CLOSE_CODES = {CloseCode.UNAUTHORIZED, CloseCode.TOKEN_EXPIRED, CloseCode.FORBIDDEN}

#: Called before each reconnect attempt; may bring the server back (the local default),
#: saying what it does through the callable it is given.
Reviver = Callable[[Callable[[str], None]], Awaitable[None]]


def open_socket(url: str, **options: Any) -> websockets.connect:
    """A WebSocket to ``ws(s)://...`` or, for ``unix:PATH``, over that unix socket (a
    peer-authenticated server: ``imagechat-tui serve --unix-socket PATH --peer-auth``)."""
    import websockets

    if url.startswith(UNIX_PREFIX):
        options.pop("ssl", None)
        return websockets.unix_connect(
            url.removeprefix(UNIX_PREFIX), "ws://localhost/ws", **options
        )
    return websockets.connect(url, **options)


UNIX_PREFIX = "unix:"
#: The token sent to a peer-authenticated server, which ignores it (the kernel says who
#: we are); a join must carry some token.
PEER_TOKEN = "peer-credentials"


def server_urls(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"ws://a/ws,ws://b/ws"`` or a list of such strings: every URL, in order."""
    parts = [value] if isinstance(value, str) else list(value)
    return tuple(u.strip() for part in parts for u in part.split(",") if u.strip())


class Connection:
    def __init__(
        self,
        url: str | Sequence[str],
        token: str,
        replica: Replica,
        *,
        on_state: StateListener = ignore,
        on_received: ReceivedListener = ignore,
        on_presence: PresenceListener = ignore,
        on_viewers: ViewersListener = ignore,
        ssl_context: ssl.SSLContext | None = None,
        backoff: Backoff | None = None,
        open_timeout: float = 5.0,
        rng: random.Random | None = None,
        revive: Reviver | None = None,
    ) -> None:
        self.urls = server_urls(url)
        self._url_index = 0
        self.token = token
        self.replica = replica
        self._on_state = on_state
        self._on_received = on_received
        self._on_presence = on_presence
        self._on_viewers = on_viewers
        self._ssl_context = ssl_context
        self.backoff = backoff or Backoff()
        self._open_timeout = open_timeout
        self._rng = rng or random.Random()
        self._revive = revive
        self.state = ConnState("connecting")
        self.user: User | None = None
        self.presence: Presence | None = None  # the last one the server sent
        self._ws: ClientConnection | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._send_tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The server URL the current (or next) attempt uses."""
        return self.urls[self._url_index]

    def listen(
        self,
        *,
        on_state: StateListener,
        on_received: ReceivedListener,
        on_presence: PresenceListener = ignore,
        on_viewers: ViewersListener = ignore,
    ) -> None:
        """Report to these callbacks from now on (the app attaches itself this way to a
        connection its launcher built)."""
        self._on_state = on_state
        self._on_received = on_received
        self._on_presence = on_presence
        self._on_viewers = on_viewers

    # --- control -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """``state`` is the one source of truth: it says "connected" exactly while a
        joined link is up (set after the link is stored, replaced as soon as it ends)."""
        return self.state.connected

    def retry_now(self) -> None:
        """Skip the rest of the backoff wait (also leaves offline / auth-failed)."""
        self._wake.set()

    def set_token(self, token: str) -> None:
        """Use a new token from the next attempt on (after an expired or refused one)."""
        self.token = token
        self._wake.set()

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._ws is not None:
            await self._ws.close()

    def submit(self, op: ClientOp, now_ms: int | None = None) -> Event | Rejection:
        """Apply an own op optimistically and send it; refuse at once when offline.

        Returns the predicted event, or the model's Rejection (nothing sent). Raises
        NotConnected when there is no live link: the op is neither applied nor queued.
        """
        if (offline := self.state.offline_reason) is not None:
            raise NotConnected(offline)
        now = int(time.time() * 1000) if now_ms is None else now_ms
        outcome = self.replica.propose(op, now)
        if isinstance(outcome, Rejection):
            return outcome
        task = asyncio.get_running_loop().create_task(self._send(op))
        self._send_tasks.add(task)
        task.add_done_callback(self._send_tasks.discard)
        return outcome

    def request_viewers(self) -> bool:
        """Ask the server for the viewers' names (``who``; the answer goes to
        ``on_viewers``), as a room past ``PRESENCE_NAMED`` viewers sends only the count.
        False when not connected (nothing sent)."""
        if not self.connected or self._ws is None:
            return False
        task = asyncio.get_running_loop().create_task(self._send_frame(Who()))
        self._send_tasks.add(task)
        task.add_done_callback(self._send_tasks.discard)
        return True

    async def _send_frame(self, frame: msgspec.Struct) -> None:
        ws = self._ws
        if ws is not None:
            from websockets.exceptions import ConnectionClosed

            with contextlib.suppress(ConnectionClosed):
                await ws.send(_text(frame))

    async def _send(self, op: ClientOp) -> None:
        ws = self._ws
        if ws is None:
            return  # stays in flight; re-sent after the next rejoin
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            await ws.send(_text(op))

    # --- the loop ------------------------------------------------------------------

    def _set_state(self, state: ConnState) -> None:
        self.state = state
        self._on_state(state)

    async def run(self) -> None:
        """Connect, stay connected, reconnect; returns only after ``close()``."""
        attempt = 0
        while not self._closing:
            if attempt == 0:
                self._set_state(ConnState("connecting", reason=self.state.reason))
            if self._revive is not None:  # the first time too: find it, start it
                await self._revive(self._announce)  # e.g. start the local server (again)
            outcome = await self._session()
            if self._closing:
                break
            if not outcome.resync:  # fail over: the next attempt tries the next server
                self._url_index = (self._url_index + 1) % len(self.urls)
            if outcome.resync:
                attempt = 0
                continue
            if outcome.was_connected:
                attempt = 0
            attempt += 1
            if outcome.close_code in _AUTH_CLOSE_CODES:
                self._set_state(
                    ConnState("auth-failed", reason=outcome.reason, close_code=outcome.close_code)
                )
                await self._wait(None)
                attempt = 0
                continue
            give_up = self.backoff.give_up_after
            if give_up and attempt > give_up:
                self._set_state(ConnState("offline", attempt=attempt - 1, reason=outcome.reason))
                await self._wait(None)
                attempt = 0
                continue
            delay = self.backoff.delay(attempt, self._rng)
            self._set_state(
                ConnState(
                    "reconnecting",
                    attempt=attempt,
                    retry_at=time.monotonic() + delay,
                    reason=outcome.reason,
                    close_code=outcome.close_code,
                )
            )
            if await self._wait(delay):
                attempt = 0  # retry asked for: start counting again
        self._set_state(ConnState("offline", reason="Closed."))

    def _announce(self, text: str) -> None:
        """A reviver's words about what it is doing, shown while the link is down."""
        kind = self.state.kind if self.state.kind in ("reconnecting", "offline") else "connecting"
        self._set_state(ConnState(kind, attempt=self.state.attempt, reason=text))

    async def _wait(self, delay: float | None) -> bool:
        """Wait for ``retry_now``/``close`` (True) or ``delay`` seconds (False)."""
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            return False
        return True

    async def _session(self) -> _SessionEnd:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
        from websockets.typing import Subprotocol

        end = _SessionEnd()
        try:
            async with open_socket(
                self.url,
                ssl=self._ssl_context if self.url.startswith("wss://") else None,
                open_timeout=self._open_timeout,
                max_size=8 * 2**20,
                ping_interval=15,
                ping_timeout=15,
                # Events as compact binary frames if the server speaks it (wire.py);
                # permessage-deflate stays websockets' default offer.
                subprotocols=[Subprotocol(wire.SUBPROTOCOL)],
            ) as ws:
                join = Join(room=self.replica.room, token=self.token, since=self.replica.seq)
                await ws.send(_text(join))
                await self._serve(ws, end)
        except ConnectionClosed as exc:
            if exc.rcvd is not None:
                end.close_code = exc.rcvd.code
                end.reason = _close_reason(exc.rcvd.code, exc.rcvd.reason)
            else:
                end.reason = "The connection was lost."
        except (OSError, TimeoutError) as exc:
            end.reason = f"Cannot reach the sync server at {self.url}: {_why_unreachable(exc)}."
        except (InvalidHandshake, InvalidURI) as exc:
            end.reason = f"The server at {self.url} refused the connection: {exc}."
        finally:
            self._ws = None
        return end

    async def _serve(self, ws: ClientConnection, end: _SessionEnd) -> None:
        async for message in ws:
            try:
                frame = (
                    wire.decode_frame(message)
                    if isinstance(message, bytes)
                    else decode_server_frame(message)
                )
            except msgspec.DecodeError:
                continue  # a frame from a newer server; skip rather than die
            if isinstance(frame, Presence):
                self.presence = frame
                self._on_presence(frame)
                continue
            if isinstance(frame, Viewers):
                self._on_viewers(frame)
                continue
            if isinstance(frame, Error) and frame.broadcastId is None and not self.connected:
                if frame.code in (ErrorCode.UNAUTHORIZED, ErrorCode.FORBIDDEN):
                    end.close_code = CloseCode.UNAUTHORIZED
                end.reason = frame.message
                continue
            received = self.replica.receive(frame)
            if isinstance(frame, Joined):
                self.user = frame.user
            self._on_received(received)
            caught_up = (isinstance(frame, Joined) and frame.recovered) or received.snapshot
            if caught_up and self._ws is None:
                self._ws = ws
                end.was_connected = True
                self._set_state(ConnState("connected"))
                for op in self.replica.in_flight():  # idempotent on the server
                    await ws.send(_text(op))
            if received.needs_resync:
                end.resync = True
                await ws.close()
                return


@dataclass(slots=True)
class _SessionEnd:
    was_connected: bool = False
    resync: bool = False
    close_code: int | None = None
    reason: str = "The connection was lost."


def _text(frame: msgspec.Struct) -> str:
    """Frames go as WebSocket text frames (the server refuses binary ones)."""
    return encode(frame).decode("utf-8")


def _why_unreachable(exc: OSError | TimeoutError) -> str:
    """Why a connection could not be made, in our words (the system's in brackets when
    it is not one we know)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted ({exc.verify_message}; --ca-file names a CA)"
    if isinstance(exc, ssl.SSLError):
        return "it does not answer TLS (a plain ws:// server?)"
    if isinstance(exc, ConnectionRefusedError):
        return "nothing is listening there (is the server running?)"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, socket.gaierror):
        return "that host name is not known"
    if isinstance(exc, ConnectionResetError):
        return "the connection was cut"
    detail = exc.strerror or str(exc) or exc.__class__.__name__
    return f"the network failed (the system said: {detail})"


def _close_reason(code: int, reason: str) -> str:
    if code == CloseCode.TOKEN_EXPIRED:
        return "Your token has expired; enter a new one."
    if code == CloseCode.UNAUTHORIZED:
        # The server's reason is a whole sentence of its own ("The token was refused: …"):
        # said once, as it is, not wrapped in another.
        return reason if reason else "The server refused the token."
    if code == CloseCode.FORBIDDEN:
        return "The token is not valid for this room."
    if code == CloseCode.GOING_AWAY:
        return "The server went away."
    if code == CloseCode.TOO_SLOW:
        return "Fell behind the server; catching up."
    return f"The connection closed ({code}{': ' + reason if reason else ''})."
