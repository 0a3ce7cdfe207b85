"""The /admin dashboard in headless Chromium (Debian's, through playwright): its totals
for the last hour, day and month are what ``stats --since`` prints, its charts are
drawn, the busiest rooms are listed; the page runs under CSP script-src 'self' with no
inline script; an admin token becomes an HttpOnly session cookie for /admin, and
nothing less than a tenant admin's token gets one."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagechat_tui.server.node import RunningServer
from tests.tools import require
from tests.wsclient import WsClient, create_op

#: Regenerate with IMAGECHAT_UPDATE_SCREENSHOTS=1 python -m pytest tests/server/test_admin_dashboard.py
SCREENSHOT = Path(__file__).resolve().parents[2] / "screenshots" / "admin-dashboard.png"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def stats(since: str) -> dict[str, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", "stats", "--since", since, "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {row["tenant"]: row for row in json.loads(out)}


async def _quiet(client: WsClient) -> None:
    try:
        while True:
            await client.recv(0.3)
    except TimeoutError:
        pass


async def _load(server: RunningServer, mint_token: Any) -> list[WsClient]:
    """Room 'design' with three viewers, 'logo' with one, and another tenant's room."""
    clients = []
    for user, room in [("ann", "design"), ("ben", "design"), ("cat", "design"), ("dan", "logo")]:
        client, *_ = await WsClient.joined(server.url, mint_token(user), room=room)
        clients.append(client)
    other, *_ = await WsClient.joined(server.url, mint_token("zed", tenant="acme"), room="x")
    clients.append(other)
    for i in range(4):
        await clients[0].send(create_op(text=f"design note {i}"))
    await clients[3].send(create_op(text="logo note"))
    await other.send(create_op(text="acme note"))
    for client in clients:
        await _quiet(client)
    return clients


async def _until_flushed(clients: list[WsClient]) -> None:
    """Until the usage buckets hold every frame the local tenant's viewers received."""
    expected = sum(c.frames_received for c in clients[:4])
    deadline = time.monotonic() + 120  # flushes are every 0.1 s; this only ends a hang
    while time.monotonic() < deadline:
        row = (await asyncio.to_thread(stats, "1h")).get("local")
        if row and row["pubSubMessageCount"] == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"usage never reached {expected}: {row}")


@pytest.fixture
async def browser() -> Any:
    require(CHROMIUM)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


async def test_the_dashboard_shows_what_stats_prints(start, mint_token, browser) -> None:
    server = await start(usage_flush_interval=0.1)
    clients = await _load(server, mint_token)
    await _until_flushed(clients)
    admin = mint_token("boss", role="admin")
    page = await browser.new_page(viewport={"width": 1000, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    answer = await page.goto(f"{server.http_url}/admin#token={admin}")
    assert answer is not None and answer.status == 200
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    await page.wait_for_selector("body[data-loaded=true]")
    assert page.url == f"{server.http_url}/admin"  # the token left the address bar
    assert await page.text_content("#tenant") == "local"
    for range_name, since in [("hour", "1h"), ("day", "24h"), ("month", "30d")]:
        expected = stats(since)["local"]
        for field in ("pubSubMessageCount", "pubSubBandwidth", "peakConnections"):
            cell = f'#totals tr[data-range="{range_name}"] td[data-field="{field}"]'
            assert await page.text_content(cell) == str(expected[field]), (range_name, field)
    assert stats("1h")["local"]["peakConnections"] == 4
    # Charts: one bar per minute of the hour, the traffic in them.
    bars = await page.locator("#chart-messages rect.bar").count()
    assert 60 <= bars <= 61
    rooms = await page.locator("#rooms tbody tr").all_inner_texts()
    assert [r.split("\t")[:2] for r in rooms] == [["design", "3"], ["logo", "1"]]
    # The other ranges draw too.
    await page.click("button[data-range=day]")
    assert 24 <= await page.locator("#chart-bytes rect.bar").count() <= 25
    # The browser session: an HttpOnly cookie for /admin (no script sees it) that
    # carries the page across a reload without the token in the link.
    (cookie,) = await page.context.cookies()
    assert (cookie["path"], cookie["httpOnly"], cookie["sameSite"]) == ("/admin", True, "Strict")
    assert await page.evaluate("document.cookie") == ""
    await page.goto(f"{server.http_url}/admin")
    await page.wait_for_selector("body[data-loaded=true]")
    assert await page.text_content("#tenant") == "local"
    if os.environ.get("IMAGECHAT_UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
        await page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert problems == []  # no CSP violation, no script error
    html = (await (await page.request.get(f"{server.http_url}/admin")).text()).lower()
    assert "<script src=" in html and "<script>" not in html and " on" + "click=" not in html
    for client in clients:
        await client.close()


async def test_the_dashboard_needs_a_tenant_admin(start, mint_token, browser) -> None:
    server = await start()
    page = await browser.new_page()
    await page.goto(f"{server.http_url}/admin")
    await page.wait_for_selector("#login:not([hidden])")
    member = mint_token("alice")
    await page.fill("#token", member)
    await page.click("#login button")
    await page.wait_for_function("document.getElementById('status').textContent.includes('admin')")
    assert await page.is_hidden("#board")
    assert await page.context.cookies() == []  # no session for a member
    # An admin signs in with the form, then out.
    await page.fill("#token", mint_token("boss", role="admin"))
    await page.click("#login button")
    await page.wait_for_selector("body[data-loaded=true]")
    await page.click("#signout")
    await page.wait_for_selector("#login:not([hidden])")
    assert await page.context.cookies() == []
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await http.get("/admin/api/usage")).status_code == 401
        scoped = mint_token("boss", role="admin", room_scope="design")
        headers = {"Authorization": f"Bearer {scoped}"}
        assert (await http.get("/admin/api/usage", headers=headers)).status_code == 403
        refused = await http.post("/admin/session", headers=headers)
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
        forged = {"Cookie": "imagechat=not-a-token"}
        assert (await http.get("/admin/api/usage", headers=forged)).status_code == 401


async def test_stats_since_prints_a_table_and_refuses_a_bad_duration(start, mint_token) -> None:
    server = await start(usage_flush_interval=0.1)
    clients = await _load(server, mint_token)
    await _until_flushed(clients)
    table = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", "stats", "--since", "24h"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert table[0].split() == [
        "tenant",
        "pubSubMessageCount",
        "pubSubBandwidth",
        "peakConnections",
    ]
    usage = table[: table.index("")]  # then a blank line and the images' budgets
    rows = {line.split()[0]: line.split()[1:] for line in usage[1:]}
    day = stats("24h")
    for tenant in ("local", "acme"):
        assert rows[tenant] == [
            str(day[tenant][k])
            for k in ("pubSubMessageCount", "pubSubBandwidth", "peakConnections")
        ]
    bad = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", "stats", "--since", "yesterday"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
    (line,) = (bad.stdout + bad.stderr).strip().splitlines()
    assert "--since" in line and "yesterday" in line
    for client in clients:
        await client.close()
