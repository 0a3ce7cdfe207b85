"""A real Chromium (Debian's, driven by Playwright) on the room link of a real server."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imagechat_tui.server.node import RunningServer
from tests.sharing.images import sha

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
ROOM = "design"
#: The test image's two colours: its background and the block at (40,40)-(200,120).
BLUE, ORANGE = (30, 60, 120), (230, 120, 30)


def need_browser() -> None:
    """Fails in CI (CI set) when there is no browser, skips elsewhere."""
    problem = None
    try:
        import playwright  # noqa: F401
    except ImportError:
        problem = "the playwright package (test extra)"
    if not os.path.exists(CHROMIUM):
        problem = "chromium (apt-get install chromium; .ci/run installs it)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"needs {problem}")
        pytest.skip(f"needs {problem}")


def test_png(width: int = 480, height: int = 270) -> bytes:
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(ORANGE, (40, 40, 200, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def share_room(
    server: RunningServer, token: str, *, role: str = "member", room: str = ROOM, **invite: Any
) -> str:
    """A 480x270 image shared as ``room``; an invite's full link."""
    data = test_png()
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.http_url, headers=auth) as http:
        assert (await http.put(f"/images/{sha(data)}", content=data)).status_code in (200, 201)
        body = {"room": room, "image": sha(data), "title": "landing-page.png"}
        assert (await http.post("/api/rooms", json=body)).status_code in (200, 201)
        answer = await http.post("/api/invites", json={"room": room, "role": role, **invite})
        assert answer.status_code == 201, answer.text
        return server.http_url + str(answer.json()["path"])


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def join(page: Any, link: str, name: str) -> None:
    """Open the link, give a name, wait until the page is live."""
    await page.goto(link)
    await page.get_by_label("Your name, as others will see it").fill(name)
    await page.get_by_role("button", name="Join").click()
    await live(page)


async def live(page: Any) -> None:
    """Joined, and the header laid out with who is viewing (it can wrap on a narrow
    screen and refit the image: measure the image after this)."""
    await page.locator(".status.live").wait_for()
    await page.locator(".presence", has_text="viewing").wait_for()


def pin(page: Any, number: int) -> Any:
    return page.locator(".pin", has_text=str(number)).filter(
        has=page.locator(f"xpath=self::*[normalize-space(text())='{number}']")
    )


async def place_marker(page: Any, x: float, y: float, text: str) -> None:
    """Click at (x, y) percent of the image and send the first comment."""
    box = await page.locator(".stage").bounding_box()
    await page.mouse.click(box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100)
    await page.get_by_label("New marker: the first comment").fill(text)
    await page.get_by_role("button", name="Place").click()


async def until(condition: Callable[[], Any], timeout: float = 30.0) -> None:
    """Wait on a real condition (a backstop timeout against hanging only)."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.02)


async def holds(page: Any, expression: str) -> None:
    """Wait until a JavaScript expression is true in the page (evaluated through the
    driver: Playwright's wait_for_function would need eval, which the page's CSP forbids)."""

    async def check() -> bool:
        return bool(await page.evaluate(expression))

    await until(check)
