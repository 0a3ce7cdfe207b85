"""A graceful stop says goodbye to healthy peers and does not wait for dead ones.

``bench/stop_time.py`` measures the time a SIGTERM takes with such peers (10.4 s before,
1.6 s after); these tests check the behaviour without timing anything.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from websockets.exceptions import ConnectionClosed

from tests.wsclient import WsClient


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_a_stop_drops_peers_that_cannot_answer_and_closes_the_rest_with_1001(
    start, mint_token, caplog
) -> None:
    server = await start()
    healthy, *_ = await WsClient.joined(server.url, mint_token("alice"))
    dead, *_ = await WsClient.joined(server.url, mint_token("bob"))
    dead.ws.transport.pause_reading()  # alive for TCP, but never reads the close frame
    half_open = socket.create_connection((server.host, server.port))  # never upgrades
    half_open.setblocking(False)
    await _until(lambda: len(server.live) == 3)

    with caplog.at_level(logging.INFO, logger="imagechat_tui.server.node"):
        await server.close()

    assert not server.live
    assert "dropping 1 connections that did not answer the close" in caplog.text
    try:
        while True:
            await healthy.recv()
    except ConnectionClosed as exc:
        assert exc.rcvd is not None and exc.rcvd.code == 1001
    loop = asyncio.get_running_loop()
    try:
        assert await loop.sock_recv(half_open, 1) == b""  # closed by the server
    except ConnectionResetError:
        pass  # or aborted: either way the server let go of it
    finally:
        half_open.close()
        dead.ws.transport.abort()
