"""Screenshots of the room link's live page in a real Chromium: desktop, tablet, phone.

Run: python scripts/browser_screenshots.py  (writes screenshots/browser-*.png)
A real server on loopback in a temporary data directory; two reviewers' markers.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the browser helpers live with the tests

from imagechat_tui.auth import TenantStore  # noqa: E402
from imagechat_tui.server.node import ServerConfig, start_server  # noqa: E402
from tests.web.helpers import SCREENSHOTS, chromium, join, share_room  # noqa: E402
from tests.wsclient import WsClient, create_op, update_op  # noqa: E402

SIZES = {"desktop": (1280, 800), "tablet": (768, 1024), "phone": (390, 844)}


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        server = await start_server(ServerConfig(home=home, port=0))
        tenants = TenantStore.in_home(home)
        tenants.ensure("local")
        token = tenants.mint(tenant="local", user_id="alice", name="Alice")
        link = await share_room(server, token)
        alice, _, _ = await WsClient.joined(server.url, token, room="design")
        ops = [
            create_op(x=20, y=22, text="Logo is too small next to the headline"),
            create_op(
                x=62, y=58, w=30, h=28, text="This block needs more contrast.\nSee the brand guide."
            ),
            create_op(x=80, y=15, text="Menu items are misaligned"),
        ]
        for op in ops:
            await alice.send(op)
        await alice.recv_events(len(ops))
        await alice.send(update_op(ops[2]["chat"]["id"], {"kind": "resolve"}))
        await alice.send(
            update_op(
                ops[1]["chat"]["id"],
                {
                    "kind": "comment",
                    "comment": {"id": "r1", "text": "Agreed, @dana can you take it?"},
                },
            )
        )
        await alice.recv_events(2)
        async with chromium() as browser:
            for name, (w, h) in SIZES.items():
                touch = name != "desktop"
                context = await browser.new_context(
                    viewport={"width": w, "height": h}, has_touch=touch, is_mobile=touch
                )
                page = await context.new_page()
                await join(page, link, "Dana")
                await page.locator(".pin").first.wait_for()
                await page.locator(".entry").first.wait_for()
                await page.screenshot(path=str(SCREENSHOTS / f"browser-{name}.png"))
                await page.locator(".entry").nth(1).click()
                await page.locator(".comment").first.wait_for()
                await page.screenshot(path=str(SCREENSHOTS / f"browser-{name}-thread.png"))
                if name == "tablet":  # a tap on the image opens the first comment's box
                    box = await page.locator(".stage").bounding_box()
                    await page.touchscreen.tap(
                        box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.7
                    )
                    await page.get_by_label("New marker: the first comment").fill(
                        "The footer links are too close together\nfor a finger."
                    )
                    await page.screenshot(path=str(SCREENSHOTS / "browser-tablet-new-marker.png"))
                await context.close()
        await alice.close()
        await server.close()


if __name__ == "__main__":
    asyncio.run(main())
