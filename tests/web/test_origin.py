"""Cross-site WebSocket hijacking: a page on another site cannot open a socket to the
server (its Origin is refused), unless the operator allowed that origin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from imagechat_tui.server.config import ServerConfig
from imagechat_tui.server.node import RunningServer
from tests.web.helpers import chromium

EVIL = "http://evil.example"


async def socket_opens(server: RunningServer, origin: str | None) -> bool:
    try:
        async with connect(server.url, origin=origin) as ws:  # type: ignore[arg-type]
            await ws.send('{"op":"ping"}')
            return bool(await ws.recv())
    except InvalidStatus as exc:
        assert exc.response.status_code == 403
        return False


async def test_a_socket_from_another_origin_is_refused(server: RunningServer) -> None:
    assert await socket_opens(server, None)  # not a browser: the terminal app, scripts
    assert await socket_opens(server, server.http_url)  # the server's own pages
    assert not await socket_opens(server, EVIL)
    assert not await socket_opens(server, "null")
    assert not await socket_opens(server, server.http_url.replace("127.0.0.1", "localhost"))


@asynccontextmanager
async def another_site(html: str) -> AsyncIterator[str]:
    """A page on another origin of this machine: a bare HTTP server on another loopback
    port (to the browser another site, and in the same local network space)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = html.encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    site = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{site.sockets[0].getsockname()[1]}"
    finally:
        site.close()
        await site.wait_closed()


async def foreign_page_socket(server: RunningServer, site: str) -> str:
    """What a page of ``site`` gets when its script opens a socket to the server."""
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{site}/")
        await page.wait_for_function("document.title !== ''")
        return str(await page.title())


def page_opening(server: RunningServer) -> str:
    return (
        f"<script>const ws = new WebSocket('{server.url}');"
        "ws.onopen = () => { document.title = 'opened'; };"
        "ws.onerror = () => { document.title = 'refused'; };</script>"
    )


async def test_a_page_on_another_site_cannot_open_a_socket(server: RunningServer) -> None:
    async with another_site(page_opening(server)) as site:
        assert await foreign_page_socket(server, site) == "refused"
        assert not await socket_opens(server, site)


async def test_allowed_origin_lets_a_proxied_sites_page_in(start: Any) -> None:
    async with another_site("") as probe:  # learn a free port for the allowed origin
        pass
    server = await start(allowed_origin=f"{probe}, https://other.example")
    assert await socket_opens(server, probe) and await socket_opens(server, "https://other.example")
    assert not await socket_opens(server, "http://third.example")


def test_a_malformed_allowed_origin_is_one_line_at_start() -> None:
    problem = ServerConfig(allowed_origin="evil.example").problem()
    assert problem is not None and "is not an origin" in problem and "\n" not in problem
    assert ServerConfig(allowed_origin=None).problem() is None


@pytest.mark.parametrize("origin", [EVIL, "null"])
async def test_the_cookie_exchange_refuses_another_origin(
    server: RunningServer, origin: str
) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        answer = await http.post(
            server.http_url + "/r/design/token", json={}, headers={"Origin": origin}
        )
        assert answer.status_code == 403
