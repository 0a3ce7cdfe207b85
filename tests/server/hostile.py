"""Helpers for the security tests: refused joins, close codes, and quiet observers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.wsclient import WsClient


async def closed_with(client: WsClient) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the server closes; the close code and every non-presence frame before it."""
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frame = await client.recv()
            if frame["type"] != "presence":
                frames.append(frame)
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), frames


async def refused_join(
    url: str, token: str, room: str = "room-1"
) -> tuple[int | None, list[dict[str, Any]]]:
    """Join with ``token``; the close code and the frames the server sent before closing."""
    client = await WsClient.open(url)
    await client.send({"op": "join", "room": room, "token": token})
    return await closed_with(client)


async def settle(observer: WsClient) -> list[dict[str, Any]]:
    """Everything (but presence) the server queued for ``observer`` so far (a ping
    barrier, see ``WsClient.settle``)."""
    return await observer.settle()


async def joined_before_its_token_ends(url: str, mint_token: Callable[..., str]) -> WsClient:
    """A client fully joined (``joined`` and the snapshot read) with a token that runs out
    soon after. Its lifetime starts at 1 s, which can be mere milliseconds (``exp`` is
    whole seconds), and doubles each time the join did not complete before the token ran
    out, so the session was live first however slow the machine is."""
    ttl = 1
    while True:
        try:
            client, *_ = await WsClient.joined(url, mint_token("alice", ttl_seconds=ttl))
        except AssertionError as exc:  # the join itself was refused
            if "expired" not in str(exc):
                raise
        except ConnectionClosed as exc:  # it ran out while the snapshot was on its way
            if exc.rcvd is None or exc.rcvd.code != 4002:
                raise
        else:
            return client
        ttl *= 2
