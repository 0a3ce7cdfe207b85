"""The room link's live page in a real Chromium: weight, first paint, cost of a remote event.

Run: python bench/browser_bench.py [--markers 300] [--events 60] [--loads 5]

- page weight: the HTML and every module and stylesheet as served gzip-compressed
  (Content-Encoding: gzip), the image aside; target < 60 KB;
- first paint of a room with --markers markers, on loopback, a returning visitor (the
  cookie): from navigation start to the frame in which every pin and list entry is
  drawn (and the browser's own first-contentful-paint); target < 1 s;
- a remote event (a reply to a random marker, from another client) in that room: the
  time from the frame's arrival in the page to the DOM updated and laid out, ours
  (keyed patching: only that marker's pin and entry) against the baseline, a full
  re-render of pins and list for every event, in the same page and run. Ratio reported.

A real server on loopback (SQLite) in a temporary data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imagechat_tui.auth import TenantStore  # noqa: E402
from imagechat_tui.server.node import ServerConfig, start_server  # noqa: E402
from imagechat_tui.web import assets  # noqa: E402
from tests.web.helpers import chromium, join, share_room  # noqa: E402
from tests.wsclient import WsClient, create_op, update_op  # noqa: E402


async def page_weight(http_url: str, link: str) -> tuple[int, dict[str, int]]:
    sizes: dict[str, int] = {}
    async with httpx.AsyncClient(headers={"Accept-Encoding": "gzip"}) as http:
        page = await http.get(link)
        # The HTML shell is small and sent as it is: counted as sent.
        sizes["page (html)"] = int(page.headers["content-length"])
        for name in sorted(assets.assets()):
            answer = await http.get(f"{http_url}/static/{name}")
            assert answer.headers.get("content-encoding") == "gzip"
            sizes[name] = int(answer.headers["content-length"])
    return sum(sizes.values()), sizes


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def remote_events(
    page: Any, writer: WsClient, ids: list[str], n: int, full: bool, run: int
) -> list[float]:
    await page.evaluate(
        f"imagechat.ui.fullRender = {'true' if full else 'false'}; imagechat.measureLayout = true"
    )
    times = []
    rng = random.Random(7)
    for i in range(n):
        seq = await page.evaluate("imagechat.room.seq")
        await writer.send(
            update_op(
                rng.choice(ids),
                {"kind": "comment", "comment": {"id": f"r{run}-{i}", "text": f"reply {i}"}},
            )
        )
        await writer.recv_events(1)
        for _ in range(2000):
            got = await page.evaluate("[imagechat.room.seq, imagechat.lastFrame.ms]")
            if got[0] > seq:
                break
            await asyncio.sleep(0.005)
        times.append(float(got[1]))
    return times


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markers", type=int, default=300)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        server = await start_server(ServerConfig(home=home, port=0))
        tenants = TenantStore.in_home(home)
        tenants.ensure("local")
        token = tenants.mint(tenant="local", user_id="alice", name="Alice")
        link = await share_room(server, token)
        writer, _, _ = await WsClient.joined(server.url, token, room="design")
        rng = random.Random(1)
        ops = [
            create_op(
                x=rng.uniform(0, 100),
                y=rng.uniform(0, 100),
                text=f"marker {i}: " + "words " * rng.randint(1, 12),
            )
            for i in range(args.markers)
        ]
        for op in ops:
            await writer.send(op)
        await writer.recv_events(len(ops))
        ids = [op["chat"]["id"] for op in ops]

        total, sizes = await page_weight(server.http_url, link)
        print(f"page weight, gzip: {total / 1024:.1f} KB (target < 60 KB)")
        for name, size in sizes.items():
            print(f"  {name}: {size} B")

        async with chromium() as browser:
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            await join(page, link, "Bench")  # sets the cookie: the loads below are returning visits
            shown, fcp = [], []
            for _ in range(args.loads):
                visit = await context.new_page()
                await visit.goto(server.http_url + "/r/design")
                for _ in range(4000):
                    if await visit.evaluate("!!(window.imagechat && imagechat.shown)"):
                        break
                    await asyncio.sleep(0.005)
                assert await visit.locator(".layer .pin").count() == args.markers
                assert await visit.locator(".entry").count() == args.markers
                shown.append(await visit.evaluate("imagechat.shown"))
                fcp.append(
                    await visit.evaluate(
                        "performance.getEntriesByName('first-contentful-paint')[0].startTime"
                    )
                )
                await visit.close()
            print(
                f"first paint, {args.markers} markers: all pins and entries drawn at median {statistics.median(shown):.0f} ms "
                f"(max {max(shown):.0f}); first-contentful-paint median {statistics.median(fcp):.0f} ms (target < 1000 ms)"
            )

            await page.evaluate("imagechat.ui.filter = 'all'")
            keyed = await remote_events(page, writer, ids, args.events, full=False, run=1)
            full = await remote_events(page, writer, ids, args.events, full=True, run=2)
            keyed2 = await remote_events(page, writer, ids, args.events, full=False, run=3)
            keyed += keyed2
            print(
                f"remote event -> DOM updated and laid out, {args.markers} markers, {len(keyed)} / {len(full)} events:"
            )
            print(
                f"  keyed patching (ours):   median {statistics.median(keyed):.2f} ms, p95 {pct(keyed, 0.95):.2f} ms"
            )
            print(
                f"  full re-render (baseline): median {statistics.median(full):.2f} ms, p95 {pct(full, 0.95):.2f} ms"
            )
            print(
                f"  ratio ours / baseline: median {statistics.median(keyed) / statistics.median(full):.3f}x, "
                f"p95 {pct(keyed, 0.95) / pct(full, 0.95):.3f}x"
            )
        await writer.close()
        await server.close()


if __name__ == "__main__":
    asyncio.run(main())
