"""The link's page over HTTP: its headers, the static client, the refusals with their
reason, the read-only page without script, and the cookie's exchange."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from imagechat_tui.server.node import RunningServer
from imagechat_tui.web import assets
from tests.web.helpers import ORANGE, chromium, join, live, share_room


async def test_the_page_and_its_client_have_csp_cache_headers_and_etags(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with httpx.AsyncClient() as http:
        page = await http.get(link)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text and 'type="module" src="../static/app.js"' in page.text

        app = assets.find("app.js")
        assert app is not None
        plain = await http.get(
            f"{server.http_url}/static/app.js", headers={"Accept-Encoding": "identity"}
        )
        assert plain.content == app.data and plain.headers["etag"] == app.etag
        assert plain.headers["cache-control"] == "no-cache"
        assert plain.headers["content-type"].startswith("text/javascript")
        zipped = await http.get(
            f"{server.http_url}/static/app.js", headers={"Accept-Encoding": "gzip"}
        )
        assert zipped.headers["content-encoding"] == "gzip" and zipped.content == app.data
        assert int(zipped.headers["content-length"]) == len(gzip.compress(app.data, 9, mtime=0))
        again = await http.get(
            f"{server.http_url}/static/app.js", headers={"If-None-Match": app.etag}
        )
        assert again.status_code == 304 and again.content == b""
        assert (await http.get(f"{server.http_url}/static/nope.js")).status_code == 404
        assert (await http.get(f"{server.http_url}/static/..%2Fassets.py")).status_code == 404


async def test_an_invalid_invite_shows_its_reason_and_no_live_page(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    used = await share_room(server, token, max_uses=1)
    async with httpx.AsyncClient() as http:
        forged = await http.get(server.http_url + "/r/design?invite=AAAAAAAAAAAAAAAAAAAAAAAA")
        assert forged.status_code == 404 and "unknown" in forged.text
        assert (await http.get(server.http_url + "/r/design")).status_code == 404
        code = used.rpartition("=")[2]
        redeemed = await http.post(
            server.http_url + "/r/design/session", json={"code": code, "name": "Dana"}
        )
        assert redeemed.status_code == 200 and "token" not in redeemed.json()
        http.cookies.clear()
        gone = await http.get(used)
        assert gone.status_code == 410 and "used as many times as it allows" in gone.text
        again = await http.post(
            server.http_url + "/r/design/session", json={"code": code, "name": "Eve"}
        )
        assert again.status_code == 410 and again.json()["reason"] == "used-up"


async def test_a_returning_browser_needs_no_invite_even_once_it_is_used_up(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"), max_uses=1)
    async with chromium() as browser:
        context = await browser.new_context()
        page = await context.new_page()
        await join(page, link, "Dana")
        # The same link again: the invite is used up, but this browser has its access.
        again = await context.new_page()
        await again.goto(link)
        await live(again)
        assert "invite=" not in again.url
        # Another browser with the same link is told why not.
        stranger = await (await browser.new_context()).new_page()
        answer = await stranger.goto(link)
        assert answer is not None and answer.status == 410
        assert "used as many times as it allows" in await stranger.locator("main").inner_text()


async def test_without_script_the_read_only_page_is_shown(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        context = await browser.new_context(java_script_enabled=False)
        page = await context.new_page()
        await page.goto(link)
        await page.wait_for_url("**view=text**")
        await page.locator("h2", has_text="Threads").wait_for()
        assert "imagechat-tui " in await page.locator(".join").inner_text()
        shot = await page.locator(".stage img").screenshot()
        from io import BytesIO

        from PIL import Image

        with Image.open(BytesIO(shot)) as picture:
            assert ORANGE in {c for _, c in picture.convert("RGB").getcolors(1 << 20) or []}


async def test_the_token_exchange_needs_the_cookie_and_this_origin(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    code = link.rpartition("=")[2]
    base = server.http_url + "/r/design"
    async with httpx.AsyncClient() as http:
        assert (await http.post(base + "/token", json={})).status_code == 401
        evil = {"Origin": "http://evil.example"}
        refused = await http.post(base + "/session", json={"code": code, "name": "D"}, headers=evil)
        assert refused.status_code == 403 and not http.cookies
        answer = await http.post(base + "/session", json={"code": code, "name": "Dana"})
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path" not in cookie
        assert (await http.post(base + "/token", json={}, headers=evil)).status_code == 403
        short = await http.post(base + "/token", json={}, headers={"Origin": server.http_url})
        assert short.status_code == 200 and 0 < short.json()["expiresIn"] <= 15 * 60
        image = await http.get(base + "/image")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert (await http.get(server.http_url + "/r/other/image")).status_code == 404
        await http.request("DELETE", base + "/session")
        assert (await http.post(base + "/token", json={})).status_code == 401


async def test_the_page_weighs_under_60_kb_compressed_as_the_browser_loads_it(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        first = await browser.new_context()
        await join(await first.new_page(), link, "Dana")
        # A returning visitor with nothing cached: the cookie only.
        context = await browser.new_context(storage_state=await first.storage_state())
        page = await context.new_page()
        loaded: list[Any] = []
        page.on("requestfinished", lambda request: loaded.append(request))
        await page.goto(server.http_url + "/r/design")  # a returning visitor
        await live(page)
        sizes = {}
        for request in loaded:
            path = urlsplit(request.url).path
            if request.resource_type in ("document", "script", "stylesheet", "fetch"):
                if path.endswith("/token"):
                    continue  # the credential, not the page
                sizes[path] = (await request.sizes())["responseBodySize"]
                if path.startswith("/static/"):
                    headers = await (await request.response()).all_headers()
                    assert headers["content-encoding"] == "gzip", path
    names = {path.removeprefix("/static/") for path in sizes if path.startswith("/static/")}
    assert names == set(assets.assets())  # every file the package serves, and no other
    assert sum(sizes.values()) < 60 * 1024, sizes
