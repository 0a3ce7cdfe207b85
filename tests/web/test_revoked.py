"""A browser whose invite is revoked: the open page loses its access (the socket closed,
the token exchange refused) and says so in words; coming back later gets the refusal
page with the reason, not the room."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.conftest import StartServer
from tests.sharing.test_invite_access import revoke
from tests.web.helpers import chromium, join, place_marker, share_room

DESKTOP = {"width": 1280, "height": 800}


async def test_a_revoked_invite_ends_the_open_page_and_a_later_visit(
    start: StartServer, mint_token: Callable[..., str], home: Path
) -> None:
    server = await start(reverify_interval=0.1, revocation_cache_seconds=0)
    link = await share_room(server, mint_token("alice"))
    code = parse_qs(urlsplit(link).query)["invite"][0]
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await place_marker(page, 20, 20, "before")
        await page.locator(".layer .pin", has_text="1").wait_for()

        await revoke(f"sqlite:///{home / 'imagechat.sqlite3'}", code)

        banner = page.locator(".banner", has_text="was revoked")
        await banner.wait_for()
        assert "The markers already shown stay readable." in await banner.inner_text()
        assert await page.locator(".status").inner_text() == "Ended"
        assert await page.evaluate("imagechat.live.ws") is None  # the socket is closed
        exchange = await page.evaluate(
            "fetch(location.pathname + '/token', {method: 'POST', body: '{}',"
            " headers: {'Content-Type': 'application/json'}}).then(r => r.status)"
        )
        assert exchange == 401
        # Still browsable, with nothing offered to change; tapping places nothing.
        await page.locator(".entry", has_text="before").click()
        await page.locator(".comment", has_text="before").wait_for()
        assert await page.get_by_label("Reply").count() == 0
        assert await page.locator(".thread .actions button, .tools:visible").count() == 0
        box = await page.locator(".stage").bounding_box()
        await page.mouse.click(box["x"] + 300, box["y"] + 200)
        assert await page.locator("dialog[open]").count() == 0

        # Coming back: the cookie is still sent, and the page says why it opens nothing.
        answer = await page.goto(server.http_url + "/r/design")
        assert answer is not None and answer.status == 410
        text = await page.locator("main").inner_text()
        assert "access to it came from an invite that was revoked" in text
        assert await page.locator(".layer").count() == 0  # not the live page
        # The old link itself: the invite's own reason.
        answer = await page.goto(link)
        assert answer is not None and answer.status == 410
        assert "The invite in it was revoked." in await page.locator("main").inner_text()
