"""The live page in a real Chromium against a real server: a terminal reviewer and a
browser reviewer in one room, two tabs, a server that goes away and comes back, hostile
text, the page offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from imagechat_tui.server.node import RunningServer, ServerConfig, start_server
from imagechat_tui.tui.widgets.image_view import ImageView
from tests.tui.helpers import ROOM as APP_ROOM
from tests.tui.helpers import make_app
from tests.tui.helpers import until as app_until
from tests.web.helpers import chromium, join, live, place_marker, share_room, until
from tests.wsclient import WsClient, create_op, update_op

DESKTOP = {"width": 1280, "height": 800}


def pins(page: Any) -> Any:
    return page.locator(".layer .pin")


async def pin_texts(page: Any) -> list[str]:
    return [t.strip() for t in await pins(page).all_inner_texts()]


async def test_a_terminal_and_a_browser_see_each_others_markers_replies_resolves_deletes(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice", name="alice")
    link = await share_room(server, token, room=APP_ROOM)
    app = make_app(server.url, token)
    async with chromium() as browser, app.run_test(size=(120, 36)) as pilot:
        await app_until(pilot, lambda: app.link.connected)
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")

        # The browser's marker reaches the terminal ...
        await place_marker(page, 30, 40, "From the browser")
        await app_until(pilot, lambda: len(app.link.replica.confirmed.chats) == 1)
        (mine,) = app.link.replica.confirmed.chats.values()
        assert mine.comments[0].text == "From the browser" and mine.createdBy.name == "Dana"
        await app_until(pilot, lambda: mine.id in app.query_one(ImageView).pins)

        # ... the terminal replies to it and resolves it: the open thread follows.
        await page.locator(".entry").first.click()
        await pilot.press("right_square_bracket")
        await app_until(pilot, lambda: app.selected == mine.id)
        await pilot.press("r")
        await app_until(pilot, lambda: app.query_one("#compose").display)
        await pilot.press(*"from the terminal", "enter")
        await page.locator(".comment", has_text="from the terminal").wait_for()
        await pilot.press("s")
        await page.locator(".thread h2", has_text="resolved").wait_for()

        # The terminal's own marker reaches the browser; the browser replies, resolves.
        await pilot.press("escape", "n", *"terminal marker", "enter")
        await page.locator(".layer .pin", has_text="2").wait_for()
        await page.get_by_role("button", name="Back to the list").click()
        await page.get_by_role("button", name="Open 1").click()
        await page.locator(".entry", has_text="terminal marker").click()
        # Another's marker: a member may reply and resolve, not move, delete or edit it.
        await page.locator(".comment", has_text="terminal marker").wait_for()
        for name in ("Move", "Delete", "Edit"):
            assert await page.get_by_role("button", name=name, exact=True).count() == 0, name
        await page.get_by_label("Reply").fill("browser reply")
        await page.get_by_role("button", name="Send", exact=True).click()
        theirs = next(c for c in app.link.replica.view.chats.values() if c.id != mine.id)
        await app_until(
            pilot, lambda: len(app.link.replica.confirmed.chats[theirs.id].comments) == 2
        )
        assert app.link.replica.confirmed.chats[theirs.id].comments[1].text == "browser reply"
        await page.get_by_role("button", name="Resolve", exact=True).click()
        await app_until(pilot, lambda: app.link.replica.confirmed.chats[theirs.id].resolved)

        # The browser deletes its own marker (after confirming); the terminal sees it go.
        await page.get_by_role("button", name="Back to the list").click()
        await page.get_by_role("button", name="All 2").click()
        await page.locator(".entry", has_text="From the browser").click()
        await page.get_by_role("button", name="Delete", exact=True).click()
        await page.get_by_role("dialog").get_by_role("button", name="Delete", exact=True).click()
        await app_until(pilot, lambda: mine.id not in app.link.replica.confirmed.chats)
        # The terminal deletes its marker; the browser sees it go.
        await pilot.press("escape")
        await app_until(pilot, lambda: app.selected == theirs.id)
        await page.locator(".entry", has_text="terminal marker").click()  # open in the browser
        await pilot.press("D", "y")
        await until(lambda: _count(page, 0))
        await page.locator(".toast", has_text="Marker #2 was deleted.").wait_for()
        assert await page.locator(".empty").inner_text() == "No markers yet."


async def _count(page: Any, n: int) -> bool:
    return bool(await pins(page).count() == n)


async def test_two_tabs_of_one_person_stay_in_sync(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        context = await browser.new_context(viewport=DESKTOP)
        first = await context.new_page()
        await join(first, link, "Dana")
        second = await context.new_page()
        await second.goto(server.http_url + "/r/design")  # the cookie: no invite, no name
        await live(second)
        await place_marker(first, 50, 50, "one")
        await second.locator(".layer .pin", has_text="1").wait_for()
        await place_marker(second, 70, 20, "two")
        await first.locator(".layer .pin", has_text="2").wait_for()
        await second.locator(".entry", has_text="one").click()
        await second.get_by_role("button", name="Resolve", exact=True).click()
        await first.get_by_role("button", name="Resolved 1").wait_for()
        assert await first.evaluate("imagechat.room.seq") == 3


async def test_a_hostile_comment_and_name_are_shown_as_text(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    hostile = '<img src=x onerror="document.title=1"><script>document.title=2</script>\u202eevil'
    name = '<img src=y onerror="document.title=3">\u202eMallory'  # a token can carry any name
    link = await share_room(server, mint_token("alice"))
    mallory, _, _ = await WsClient.joined(
        server.url, mint_token("mallory", name=name), room="design"
    )
    await mallory.send(create_op(x=10, y=10, text=hostile))
    await mallory.recv_events(1)
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "<b>Dana</b>")  # a redeemed name: printable, HTML or not
        await place_marker(page, 60, 60, "<i>mine</i>")
        await page.locator(".layer .pin", has_text="2").wait_for()
        await page.locator(".entry").first.click()
        assert await page.locator(".comment .text").first.inner_text() == hostile
        assert await page.locator(".comment .meta b").first.inner_text() == name
        await page.get_by_role("button", name="Back to the list").click()
        assert "<i>mine</i>" in await page.locator(".entry").nth(1).inner_text()
        assert "<b>Dana</b>" in await page.locator(".entry").nth(1).inner_text()
        assert (
            await page.locator("main img, main script, main i, .entry b").count() == 1
        )  # the image
        assert await page.title() == "landing-page.png · imagechat"
        assert "Mallory" in await page.locator(".presence").inner_text()
    await mallory.close()


async def test_server_gone_banner_refuses_then_resyncs_with_nothing_missed(
    home: Path, mint_token: Callable[..., str]
) -> None:
    first = await start_server(ServerConfig(port=0, home=home))
    port = first.port
    token = mint_token("alice")
    link = await share_room(first, token)
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await place_marker(page, 20, 20, "before")
        await page.locator(".layer .pin", has_text="1").wait_for()
        await first.close()
        banner = page.locator(".banner")
        await banner.wait_for()
        assert "nothing you do is sent" in await banner.inner_text()
        assert await page.locator(".presence").inner_text() == ""  # not claimed while away
        # Creating now is refused with the reason, not queued.
        box = await page.locator(".stage").bounding_box()
        await page.mouse.click(box["x"] + 100, box["y"] + 100)
        await page.locator(".toast", has_text="nothing was sent").wait_for()
        assert await page.locator("dialog[open]").count() == 0  # no composer opened

        second = await start_server(ServerConfig(port=port, home=home))
        try:
            other, _, _ = await WsClient.joined(second.url, token, room="design")
            for i in range(3):  # made while the page is away (or just coming back)
                await other.send(create_op(x=40 + i, y=60, text=f"while away {i}"))
            await other.recv_events(3)
            await live(page)
            await until(lambda: _count(page, 4))
            assert await page.locator(".banner").is_hidden()
            assert await page.evaluate("imagechat.room.seq") == 4
            assert sorted(await pin_texts(page)) == ["1", "2", "3", "4"]
            await other.close()
            state = await second.storage.load_room("local", "design")
            assert [c.comments[0].text for c in state.chats.values()] == [
                "before",
                *(f"while away {i}" for i in range(3)),
            ]
        finally:
            await second.close()


async def test_offline_says_so_keeps_markers_browsable_and_refuses_creating(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        await join(page, link, "Dana")
        await place_marker(page, 20, 20, "kept")
        await page.locator(".layer .pin", has_text="1").wait_for()
        await context.set_offline(True)
        await page.locator(".status.offline").wait_for()
        assert "offline" in (await page.locator(".banner").inner_text()).lower()
        await page.locator(".entry", has_text="kept").click()  # still browsable
        await page.get_by_label("Reply").fill("not now")
        await page.get_by_role("button", name="Send", exact=True).click()
        await page.locator(".toast", has_text="offline").wait_for()
        await context.set_offline(False)
        await live(page)
        assert await page.locator(".comment").count() == 1


async def test_an_own_marker_shows_at_once_and_its_echo_is_not_applied_twice(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await page.evaluate(
            """window.seen = {added: 0, pending: 0};
            new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes)
              if (n.classList?.contains('pin')) { seen.added++; if (n.classList.contains('pending')) seen.pending++; }
            }).observe(document.querySelector('.layer'), {childList: true, subtree: true})"""
        )
        await place_marker(page, 40, 40, "mine")
        await page.locator(".layer .pin:not(.pending)", has_text="1").wait_for()
        # Added once, while pending (before any frame came back); the echo only confirmed it.
        assert await page.evaluate("seen") == {"added": 1, "pending": 1}
        assert await page.evaluate("imagechat.room.pending.size") == 0
        assert await pins(page).count() == 1


async def test_a_remote_event_touches_only_its_markers_nodes(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    link = await share_room(server, token)
    alice, _, _ = await WsClient.joined(server.url, token, room="design")
    ops = [create_op(x=i, y=i, text=f"m{i}") for i in range(1, 40)]
    for op in ops:
        await alice.send(op)
    await alice.recv_events(len(ops))
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await join(page, link, "Dana")
        await until(lambda: _count(page, 39))
        await page.evaluate(
            """window.touched = new Set();
            new MutationObserver((records) => { for (const r of records) {
              const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
              touched.add(el.closest('li, .pin, .region')?.textContent ?? el.className);
            }}).observe(document.querySelector('main'),
              {childList: true, subtree: true, attributes: true, characterData: true})"""
        )
        await alice.send(
            update_op(
                ops[9]["chat"]["id"], {"kind": "comment", "comment": {"id": "r", "text": "hi"}}
            )
        )
        await page.locator(".entry", has_text="1 reply").wait_for()
        touched = await page.evaluate("[...touched]")
        # The one marker's list entry (and the filter counts), no other pin or entry.
        assert [t for t in touched if t.startswith(("10m10", "10"))], touched
        others = [t for t in touched if t[:1].isdigit() and not t.startswith("10")]
        assert others == [], touched
    await alice.close()


async def test_a_large_rooms_snapshot_in_parts_is_merged(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    link = await share_room(server, token)
    alice, _, _ = await WsClient.joined(server.url, token, room="design")
    ops = [create_op(x=i % 100, y=50, text=f"{i} " + "x" * 1900) for i in range(200)]
    for op in ops:
        await alice.send(op)
    await alice.recv_events(len(ops))
    await alice.close()
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await page.evaluate("1")  # a page to count frames on
        frames: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
        await join(page, link, "Dana")
        await until(lambda: _count(page, 200))
        parts = [f for f in frames if '"type":"snapshot"' in f]
        assert len(parts) >= 2  # the server sent it in parts; the page put them together
        texts = await page.evaluate(
            "[...imagechat.room.chats.values()].map(c => c.comments[0].text)"
        )
        assert texts == [op["chat"]["text"] for op in ops]


async def test_a_short_token_ending_is_invisible_the_page_rejoins_with_a_fresh_one(
    server: RunningServer, mint_token: Callable[..., str], monkeypatch: Any
) -> None:
    from imagechat_tui.server import browser_routes

    monkeypatch.setattr(browser_routes, "TOKEN_TTL", 2)  # the server closes with 4002 at its end
    token = mint_token("alice")
    link = await share_room(server, token)
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        closes: list[Any] = []
        page.on("websocket", lambda ws: ws.on("close", lambda _: closes.append(ws)))
        await join(page, link, "Dana")
        await page.evaluate(
            """window.bannerShown = false;
            new MutationObserver(() => { if (!document.querySelector('.banner').hidden) bannerShown = true; })
              .observe(document.querySelector('.banner'), {attributes: true})"""
        )
        await until(lambda: _closed(closes, 2))  # two short tokens ended, two rejoins
        alice, _, _ = await WsClient.joined(server.url, token, room="design")
        await alice.send(create_op(x=30, y=30, text="seen across rejoins"))
        await alice.recv_events(1)
        await page.locator(".layer .pin", has_text="1").wait_for()
        assert await page.evaluate("bannerShown") is False
        assert await page.locator(".toast").count() == 0
        await alice.close()


async def _closed(closes: list[Any], n: int) -> bool:
    return len(closes) >= n
