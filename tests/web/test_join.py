"""Joining from the link in a real browser: a name once, the credential in an HttpOnly
cookie (not in the URL, not in storage), and back later without the invite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from imagechat_tui.server.node import RunningServer
from tests.web.helpers import chromium, holds, join, place_marker, share_room
from tests.wsclient import WsClient


async def test_redeem_join_and_place_a_marker_that_a_socket_client_sees(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice", name="Alice")
    link = await share_room(server, token)
    watcher, _, _ = await WsClient.joined(server.url, token, room="design")
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        await join(page, link, "Dana")
        assert "invite=" not in page.url  # the code left the address bar
        assert await page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it
        assert await page.evaluate("localStorage.length + sessionStorage.length") == 0
        await place_marker(page, 25, 30, "Logo too small")
        event = await watcher.recv_type("new-image-chat")
        assert event["chat"]["comments"][0]["text"] == "Logo too small"
        assert event["chat"]["createdBy"]["name"] == "Dana"
        assert abs(event["chat"]["x"] - 25) < 1 and abs(event["chat"]["y"] - 30) < 1
        await page.locator(".pin", has_text="1").wait_for()
        cookies = await page.context.cookies()
        (cookie,) = cookies
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/r/design"

        # Back later, without the invite: the cookie is enough, no name asked.
        again = await context.new_page()
        await again.goto(server.http_url + "/r/design")
        await again.locator(".status.live").wait_for()
        assert await again.get_by_label("Your name, as others will see it").count() == 0
        await again.locator(".pin", has_text="1").wait_for()
    await watcher.close()


async def test_the_link_share_prints_opens_the_live_page_with_the_image(
    server: RunningServer, mint_token: Callable[..., str], tmp_path: Path
) -> None:
    from tests.sharing.images import png
    from tests.sharing.test_two_users import share

    mint_token("alice")  # the tenant share's local token is minted in
    image = tmp_path / "mock.png"
    image.write_bytes(png(320, 180, (200, 40, 40)))
    link = await share(server, image)  # the real command; its last line is the link
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        await join(page, link, "Bea")
        assert await page.title() == "mock.png · imagechat"
        await holds(page, "document.querySelector('.stage img').naturalWidth === 320")
