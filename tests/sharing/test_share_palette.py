"""The palette's Share in the real app against a real server: a link that works."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from imagechat_tui.links import parse_link
from imagechat_tui.server.node import RunningServer
from tests.sharing.images import png, sha
from tests.sharing.test_http_api import redeem
from tests.tui.helpers import ROOM, make_app, running, until


def first_command(app: object) -> str:
    """The highlighted palette entry's text ("" until the list has one)."""
    found = app.screen.query("CommandList")  # type: ignore[attr-defined]
    if not found or found.first().option_count == 0:
        return ""
    return str(found.first().get_option_at_index(0).prompt)


async def test_share_from_the_palette_uploads_the_file_and_copies_a_working_link(
    server: RunningServer, mint_token: Callable[..., str], tmp_path: Path
) -> None:
    image = tmp_path / "mock.png"
    data = png(320, 180, (10, 200, 90))
    image.write_bytes(data)
    app = make_app(server.url, mint_token("alice"), image_source=str(image), title="mock.png")
    async with running(app, (120, 36)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Share")
        await until(pilot, lambda: first_command(app).startswith("Share"))
        await pilot.press("enter")
        # Copied (OSC 52) and shown: the notification is posted right after the copy.
        await until(
            pilot,
            lambda: (
                app.clipboard.startswith("http")
                and any(app.clipboard in str(n.message) for n in app._notifications)
            ),
            timeout=30,
        )
        link = app.clipboard
    parsed = parse_link(link)
    assert parsed.room == ROOM and parsed.invite
    grant = await redeem(server, parsed.invite, "Bea")
    assert grant.status_code == 200
    auth = {"Authorization": f"Bearer {grant.json()['token']}"}
    async with httpx.AsyncClient(base_url=server.http_url, headers=auth) as http:
        room = (await http.get(f"/api/rooms/{ROOM}")).json()
        assert room["image"]["digest"] == sha(data) and room["image"]["title"] == "mock.png"
        assert (await http.get(f"/images/{sha(data)}")).content == data
