"""An https:// link to a server that speaks plain http: a clear sentence at once, not a
TLS handshake that hangs until its timeout and the ssl module's text."""

from __future__ import annotations

import asyncio

import pytest

from imagechat_tui.client.join_link import JoinError, open_link
from imagechat_tui.invites import new_code
from imagechat_tui.server.node import RunningServer


async def test_an_https_link_to_an_http_server_says_so(server: RunningServer, home: object) -> None:
    link = server.http_url.replace("http://", "https://", 1) + f"/r/some-room?invite={new_code()}"
    with pytest.raises(JoinError) as refused:
        # Well inside the 20 s the handshake used to hang for (a backstop, not a timing).
        async with asyncio.timeout(15):
            await asyncio.to_thread(open_link, link, name="Dora")
    said = str(refused.value)
    assert said == (
        f"{server.http_url.replace('http://', 'https://', 1)} does not answer https (a plain"
        f" http server?); try the link with http:// instead."
    ), said


async def test_a_server_that_never_answers_the_handshake_is_given_up_on_in_words(
    home: object,
) -> None:
    """A plain server that waits for a request that never comes (the TLS ClientHello is
    not one): given up after the connect timeout, with the same sentence."""
    held: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # read nothing, answer nothing

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    base = f"https://127.0.0.1:{port}"
    try:
        with pytest.raises(JoinError) as refused:
            await asyncio.to_thread(open_link, f"{base}/r/room?invite={new_code()}", name="D")
    finally:
        for writer in held:
            writer.close()
        listener.close()
    assert str(refused.value).startswith(f"{base} does not answer https")
