"""The room link's read-only page (``?view=text``, where a browser without script is
sent) in a real browser (headless Chromium): the image, its markers and threads, the one
command to join; no script, user text escaped. The live page: tests/web."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image

from imagechat_tui.server.node import RunningServer
from tests.sharing.browser import dump_dom, screenshot
from tests.sharing.images import sha
from tests.wsclient import WsClient, create_op, update_op

#: Regenerate with IMAGECHAT_UPDATE_SCREENSHOTS=1 python -m pytest tests/sharing/test_browser_page.py
SCREENSHOT = Path(__file__).resolve().parents[2] / "screenshots" / "browser-room-page.png"


async def shared_room(server: RunningServer, token: str) -> str:
    """A 480x270 orange-on-blue image shared as room 'design'; the invite link's path."""
    image = Image.new("RGB", (480, 270), (30, 60, 120))
    image.paste((230, 120, 30), (40, 40, 200, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    data = out.getvalue()
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.http_url, headers=auth) as http:
        assert (await http.put(f"/images/{sha(data)}", content=data)).status_code == 201
        room = {"room": "design", "image": sha(data), "title": "landing-page.png"}
        assert (await http.post("/api/rooms", json=room)).status_code == 201
        invite = await http.post("/api/invites", json={"room": "design", "role": "viewer"})
        return str(invite.json()["path"])


async def test_the_link_in_a_browser_shows_image_markers_threads_and_the_command(
    server: RunningServer, mint_token: Callable[..., str], tmp_path: Path
) -> None:
    token = mint_token("alice", name="Alice")
    path = await shared_room(server, token)
    client, _, _ = await WsClient.joined(server.url, token, room="design")
    first = create_op(x=25.0, y=30.0, text="Logo is <script>alert(1)</script> too small")
    await client.send(first)
    await client.send(create_op(x=75.0, y=70.0, text="Footer overlaps"))
    await client.recv_events(2)
    await client.send(update_op(first["chat"]["id"], {"kind": "resolve"}))
    await client.recv_events(1)
    await client.close()

    url = server.http_url + path
    # The read-only page (what a browser without script is sent to): the live page is
    # tests/web's.
    dom = await dump_dom(url + "&view=text", tmp_path / "profile-dom")
    assert "landing-page.png" in dom
    assert "<img" in dom and "/images/" in dom
    assert dom.count('class="pin') == 2 and "resolved" in dom
    assert "Footer overlaps" in dom and "Alice" in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom and "<script>" not in dom
    assert f"imagechat-tui {url}" in dom or f"imagechat-tui '{url}'" in dom

    shot = tmp_path / "page.png"
    await screenshot(url + "&view=text", tmp_path / "profile-shot", shot, (1000, 760))
    with Image.open(shot) as picture:
        colours = {c for _, c in picture.convert("RGB").getcolors(1 << 20) or []}
    assert (230, 120, 30) in colours  # the image itself loaded (through the invite) ...
    assert (30, 60, 120) in colours
    assert (245, 166, 35) in colours  # ... with an open marker's pin over it
    if os.environ.get("IMAGECHAT_UPDATE_SCREENSHOTS"):  # keep screenshots/ as it is otherwise
        shutil.copyfile(shot, SCREENSHOT)


async def test_a_forged_link_in_a_browser_shows_a_refusal(
    server: RunningServer, mint_token: Callable[..., str], tmp_path: Path
) -> None:
    await shared_room(server, mint_token("alice"))
    dom = await dump_dom(
        server.http_url + "/r/design?invite=AAAAAAAAAAAAAAAAAAAAAAAA", tmp_path / "profile"
    )
    assert "does not open room design" in dom and "<img" not in dom
