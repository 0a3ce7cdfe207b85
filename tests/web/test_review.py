"""Reviewing in the browser: regions, moving, editing and deleting own comments, the
server's limits shown, zoom and pan, @mentions offered and noticed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imagechat_tui.model import Limits
from imagechat_tui.server.node import RunningServer
from tests.web.helpers import chromium, holds, join, share_room
from tests.wsclient import WsClient, create_op, update_op

DESKTOP = {"width": 1280, "height": 800}


async def at(page: Any, x: float, y: float) -> tuple[float, float]:
    box = await page.locator(".stage").bounding_box()
    return box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100


async def chats(page: Any) -> list[dict[str, Any]]:
    return list(await page.evaluate("[...imagechat.room.chats.values()]"))


async def test_region_move_edit_and_delete_own_comments(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await page.get_by_role("button", name="Region", exact=True).click()
        await page.mouse.move(*await at(page, 10, 10))
        await page.mouse.down()
        await page.mouse.move(*await at(page, 30, 25), steps=5)
        await page.mouse.move(*await at(page, 40, 40), steps=5)
        await page.mouse.up()
        # While the first comment is written, the frame stays where it was drawn.
        await page.locator(".layer .draft-spot.region-spot").wait_for()
        await page.get_by_label("New region: the first comment").fill("a region\nof two lines")
        await page.get_by_role("button", name="Place").click()
        await page.locator(".layer .region .pin", has_text="1").wait_for()
        assert await page.locator(".draft-spot").count() == 0
        (region,) = await chats(page)
        assert [round(region[k]) for k in ("x", "y", "w", "h")] == [10, 10, 30, 30]
        assert region["comments"][0]["text"] == "a region\nof two lines"

        # Move it: its top-left corner goes where the tap is, its size stays.
        await page.locator(".entry").first.click()
        await page.get_by_role("button", name="Move", exact=True).click()
        await page.mouse.click(*await at(page, 50, 50))
        await holds(page, "[...imagechat.room.chats.values()][0].x > 45")
        (moved,) = await chats(page)
        assert [round(moved[k]) for k in ("x", "y", "w", "h")] == [50, 50, 30, 30]

        # Reply, edit the reply, delete it.
        await page.get_by_label("Reply").fill("first try")
        await page.get_by_role("button", name="Send", exact=True).click()
        await page.locator(".comment", has_text="first try").wait_for()
        await (
            page.locator(".comment", has_text="first try")
            .get_by_role("button", name="Edit")
            .click()
        )
        box = page.get_by_label("Edit your comment")
        await box.fill("second try")
        await page.get_by_role("button", name="Save").click()
        await page.locator(".comment", has_text="second try").wait_for()
        await page.locator(".comment .meta", has_text="edited").wait_for()
        await (
            page.locator(".comment", has_text="second try")
            .get_by_role("button", name="Delete")
            .click()
        )
        await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        await holds(page, "[...imagechat.room.chats.values()][0].comments.length === 1")
        # The first comment cannot be deleted on its own (delete the marker instead).
        first = page.locator(".comment").first
        assert await first.get_by_role("button", name="Delete").count() == 0


async def test_the_servers_limit_is_shown_and_a_longer_text_is_not_sent(
    start: Any, mint_token: Callable[..., str]
) -> None:
    server = await start(limits=Limits(max_text=20))
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await page.mouse.click(*await at(page, 50, 50))
        area = page.get_by_label("New marker: the first comment")
        await page.locator("dialog .count", has_text="0 / 20").wait_for()
        await area.fill("é" * 21)  # code points, as the server counts
        await page.locator("dialog .count.over", has_text="21 / 20").wait_for()
        await page.get_by_role("button", name="Place").click()
        await page.locator(".toast", has_text="At most 20 characters").wait_for()
        assert await chats(page) == []


async def test_wheel_zooms_at_the_pointer_and_drag_pans(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        stage = page.locator(".stage")
        before = await stage.bounding_box()
        point = await at(page, 25, 25)
        await page.mouse.move(*point)
        await page.mouse.wheel(0, -400)
        await holds(page, f"document.querySelector('.stage').offsetWidth > {before['width'] * 1.5}")
        zoomed = await stage.bounding_box()
        # The spot under the pointer stays under it.
        x = (point[0] - zoomed["x"]) / zoomed["width"] * 100
        assert abs(x - 25) < 1
        await page.mouse.down()
        await page.mouse.move(point[0] + 100, point[1] + 50, steps=5)
        await page.mouse.up()
        panned = await stage.bounding_box()
        assert abs(panned["x"] - zoomed["x"] - 100) < 2 and abs(panned["y"] - zoomed["y"] - 50) < 2
        assert await chats(page) == []  # a drag is not a tap: nothing placed
        await page.get_by_role("button", name="Fit").click()
        assert (await stage.bounding_box())["width"] == before["width"]


async def test_at_offers_the_rooms_people_and_a_mention_shows_a_notice(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice", name="Alice")
    link = await share_room(server, token)
    alice, _, _ = await WsClient.joined(server.url, token, room="design")
    first = create_op(x=30, y=30, text="Where does this go?")
    await alice.send(first)
    await alice.recv_events(1)
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await page.locator(".entry").first.click()
        reply = page.get_by_label("Reply")
        await reply.press_sequentially("thanks @al")
        await page.get_by_role("option", name="Alice @alice").wait_for()
        await reply.press("Enter")  # picks the offered name
        assert await reply.input_value() == "thanks @alice "
        await reply.press_sequentially("done")
        await reply.press("Control+Enter")
        await page.locator(".comment", has_text="thanks @alice done").wait_for()

        me = await page.evaluate("imagechat.room.user.id")
        await alice.send(
            update_op(
                first["chat"]["id"],
                {"kind": "comment", "comment": {"id": "m1", "text": f"@{me} look"}},
            )
        )
        notice = page.locator(".toast", has_text="Alice mentioned you on #1")
        await notice.wait_for()
        await page.get_by_role("button", name="Back to the list").click()
        await notice.get_by_role("button", name="Open").click()
        await page.locator(".thread h2", has_text="#1").wait_for()
    await alice.close()
