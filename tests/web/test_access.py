"""The live page for every hand: touch only on a tablet and a phone, keyboard only,
axe-core's audit, and only what the role allows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from imagechat_tui.server.node import RunningServer
from tests.web.helpers import chromium, join, live, share_room
from tests.wsclient import WsClient, create_op

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TABLET, PHONE = (768, 1024), (390, 844)


async def seeded(server: RunningServer, token: str, **invite: Any) -> str:
    link = await share_room(server, token, **invite)
    alice, _, _ = await WsClient.joined(server.url, token, room="design")
    await alice.send(create_op(x=20, y=30, text="Logo too small"))
    await alice.send(create_op(x=50, y=50, w=30, h=20, text="Contrast\nsecond line"))
    await alice.recv_events(2)
    await alice.close()
    return link


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    await page.evaluate(
        AXE.read_text()
    )  # through the driver: the page's CSP allows no inline script
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "nodes": [n["html"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", [(1280, 800), TABLET, PHONE])
async def test_no_serious_or_critical_axe_violations(
    server: RunningServer, mint_token: Callable[..., str], size: tuple[int, int]
) -> None:
    link = await seeded(server, mint_token("alice", name="Alice"))
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = await context.new_page()
        await page.goto(link)
        await page.get_by_label("Your name, as others will see it").wait_for()
        assert await axe_violations(page) == []  # the join dialog
        await page.get_by_label("Your name, as others will see it").fill("Dana")
        await page.get_by_role("button", name="Join").click()
        await live(page)
        await page.locator(".entry").first.wait_for()
        assert await axe_violations(page) == []  # the list
        await page.locator(".entry").first.click()
        await page.locator(".comment").first.wait_for()
        assert await axe_violations(page) == []  # a thread


@pytest.mark.parametrize("size", [TABLET, PHONE])
async def test_touch_only_tap_places_a_marker_and_targets_are_32px(
    server: RunningServer, mint_token: Callable[..., str], size: tuple[int, int]
) -> None:
    link = await seeded(server, mint_token("alice"))
    async with chromium() as browser:
        context = await browser.new_context(
            viewport={"width": size[0], "height": size[1]}, has_touch=True, is_mobile=True
        )
        page = await context.new_page()
        await page.goto(link)
        await page.get_by_label("Your name, as others will see it").fill("Tess")
        await page.get_by_role("button", name="Join").tap()
        await live(page)
        await page.locator(".layer .pin").nth(1).wait_for()
        # The header is laid out in full (who is viewing may wrap it on a phone, and the
        # image is fitted again) before the spot is measured.
        await page.locator(".presence", has_text="1 viewing").wait_for()
        box = await page.locator(".stage").bounding_box()
        await page.touchscreen.tap(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.2)
        await page.get_by_label("New marker: the first comment").fill("tapped")
        await page.get_by_role("button", name="Place").tap()
        await page.locator(".layer .pin", has_text="3").wait_for()
        chats = await page.evaluate("[...imagechat.room.chats.values()].map(c => [c.x, c.y])")
        assert abs(chats[2][0] - 80) < 1 and abs(chats[2][1] - 20) < 1
        # The list and thread are a sheet below the image, not beside it.
        side = await page.locator(".side").bounding_box()
        assert side["y"] >= box["y"] + box["height"] - 1
        # Every control a finger can reach is at least 32 CSS px each way.
        await page.locator(".entry").first.tap()
        await page.locator(".comment").first.wait_for()
        small = await page.evaluate(
            """[...document.querySelectorAll('button, textarea, input')]
               .filter(e => e.offsetParent !== null)
               .map(e => [e.textContent.trim() || e.getAttribute('aria-label') || e.tagName,
                          e.getBoundingClientRect()])
               .filter(([, r]) => r.width < 32 || r.height < 32).map(([n]) => n)"""
        )
        assert small == []


async def test_keyboard_tab_reaches_pins_and_entries_enter_opens_escape_closes(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await seeded(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        await join(page, link, "Kim")
        await page.locator(".entry").nth(1).wait_for()
        names = await page.locator(".layer .pin").evaluate_all(
            "ps => ps.map(p => [p.tagName, p.getAttribute('aria-label')])"
        )
        assert names == [
            ["BUTTON", "Marker 1, open: Logo too small"],
            ["BUTTON", "Region 2, open: Contrast … +1 line"],
        ]
        focused: list[str] = []
        for _ in range(20):
            await page.keyboard.press("Tab")
            focused.append(await page.evaluate("document.activeElement.className"))
        assert "pin" in focused and "entry" in focused
        # Tab to the first pin, Enter opens its thread, Escape closes it.
        await page.locator(".layer .pin").first.focus()
        await page.keyboard.press("Enter")
        await page.locator(".thread h2", has_text="#1").wait_for()
        await page.keyboard.press("Escape")
        await page.locator(".thread").wait_for(state="hidden")
        await page.locator(".entry").nth(1).focus()
        await page.keyboard.press("Enter")
        await page.locator(".thread h2", has_text="#2").wait_for()
        await page.keyboard.press("Escape")
        assert await page.evaluate("document.activeElement.className") == "entry"


async def test_a_viewer_is_offered_nothing_to_change(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await seeded(server, mint_token("alice"), role="viewer")
    async with chromium() as browser:
        page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        await join(page, link, "Vic")
        await page.locator(".entry").first.click()
        await page.locator(".comment").first.wait_for()
        for name in ("Resolve", "Move", "Delete", "Send", "Edit", "Pin", "Region"):
            assert await page.get_by_role("button", name=name, exact=True).count() == 0, name
        box = await page.locator(".stage").bounding_box()
        await page.mouse.click(box["x"] + 10, box["y"] + 10)
        assert await page.locator("dialog[open]").count() == 0


async def test_pinch_zooms_and_one_finger_pans_on_a_tablet(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await seeded(server, mint_token("alice"))
    async with chromium() as browser:
        context = await browser.new_context(
            viewport={"width": TABLET[0], "height": TABLET[1]}, has_touch=True, is_mobile=True
        )
        page = await context.new_page()
        await page.goto(link)
        await page.get_by_label("Your name, as others will see it").fill("Tess")
        await page.get_by_role("button", name="Join").tap()
        await live(page)
        cdp = await context.new_cdp_session(page)
        stage = page.locator(".stage")
        before = await stage.bounding_box()
        cx, cy = before["x"] + before["width"] / 2, before["y"] + before["height"] / 2

        async def touch(kind: str, points: list[tuple[float, float]]) -> None:
            await cdp.send(
                "Input.dispatchTouchEvent",
                {
                    "type": kind,
                    "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)],
                },
            )

        await touch("touchStart", [(cx - 40, cy), (cx + 40, cy)])
        for step in range(1, 11):  # the fingers move apart: 80 px to 280 px
            await touch("touchMove", [(cx - 40 - 10 * step, cy), (cx + 40 + 10 * step, cy)])
        await touch("touchEnd", [])
        pinched = await stage.bounding_box()
        assert pinched["width"] > before["width"] * 2.5  # 3.5x apart, zoomed about as much
        # One finger drags the zoomed image (away from the pin at its centre); no marker
        # is placed by it.
        sx, sy = cx - 150, cy - 100
        await touch("touchStart", [(sx, sy)])
        for step in range(1, 6):
            await touch("touchMove", [(sx + 20 * step, sy + 10 * step)])
        await touch("touchEnd", [])
        panned = await stage.bounding_box()
        assert (
            abs(panned["x"] - pinched["x"] - 100) < 3 and abs(panned["y"] - pinched["y"] - 50) < 3
        )
        assert await page.locator("dialog[open]").count() == 0


async def test_on_a_phone_the_region_hint_leaves_the_zoom_buttons_free(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (
            await browser.new_context(
                viewport={"width": PHONE[0], "height": PHONE[1]}, has_touch=True, is_mobile=True
            )
        ).new_page()
        await page.goto(link)
        await page.get_by_label("Your name, as others will see it").fill("Pia")
        await page.get_by_role("button", name="Join").tap()
        await live(page)
        await page.get_by_role("button", name="Region", exact=True).tap()
        hint = await page.locator(".stage-hint").bounding_box()
        zoom = await page.locator(".zoom").bounding_box()
        assert hint is not None and zoom is not None
        assert hint["x"] + hint["width"] <= zoom["x"]  # side by side, not over "+"
