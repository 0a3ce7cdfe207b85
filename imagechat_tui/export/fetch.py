"""Read a room's current state from its server, over the real protocol.

It is the app's own ``Connection`` (join, snapshot or replay, folded by the
``Replica``), run until it is caught up: whatever the app would show, an export shows.
"""

from __future__ import annotations

import asyncio
import ssl

from imagechat_tui.backoff import Backoff
from imagechat_tui.client.connection import Connection, ConnState
from imagechat_tui.model import Actor, RoomState
from imagechat_tui.protocol import User
from imagechat_tui.replica import Replica


class FetchError(Exception):
    """The room could not be read; ``str(error)`` is one line for a person."""


async def fetch_room(
    server_url: str,
    token: str,
    room: str,
    *,
    user: User,
    ssl_context: ssl.SSLContext | None = None,
    wait: float = 30.0,
) -> RoomState:
    """The room's confirmed state once the server has sent all of it."""
    replica = Replica(room, Actor(user=user, role="viewer"))
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[None] = loop.create_future()
    connection: Connection

    def on_state(state: ConnState) -> None:
        if outcome.done():
            return
        if state.connected:
            outcome.set_result(None)
        elif state.kind == "auth-failed" or (
            # Every server named was tried once: give up rather than retry for ever.
            state.kind in ("reconnecting", "offline") and state.attempt >= len(connection.urls)
        ):
            outcome.set_exception(FetchError(state.reason))
        elif state.kind == "reconnecting":
            connection.retry_now()  # the next server at once, no backoff

    connection = Connection(
        server_url,
        token,
        replica,
        on_state=on_state,
        on_received=lambda _received: None,
        ssl_context=ssl_context,
        backoff=Backoff(base=0.0, cap=0.0, jitter=0.0),
    )
    task = loop.create_task(connection.run())
    try:
        await asyncio.wait_for(asyncio.shield(outcome), wait)
    except TimeoutError:
        raise FetchError(
            f"The server at {connection.url} did not send room {room} within {wait:g} s."
        ) from None
    finally:
        await connection.close()
        await task
    return replica.confirmed
