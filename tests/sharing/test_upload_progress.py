"""share's upload shows a progress bar on a terminal for a large image, and only then."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Callable

import httpx
from PIL import Image
from rich.console import Console

from imagechat_tui.client.share import upload
from imagechat_tui.server.node import RunningServer
from imagechat_tui.transfer_progress import PROGRESS_FROM_BYTES
from tests.sharing.images import png, sha


def noisy_png(side: int) -> bytes:
    """A PNG that does not compress: random pixels, so its size is about 3 bytes a pixel."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload_to(server: RunningServer, token: str, data: bytes, console: Console) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.http_url, headers=headers, timeout=60) as http:
        upload(http, data, sha(data), console)


async def test_a_large_upload_shows_its_progress_on_a_terminal(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    big = noisy_png(700)
    assert len(big) >= PROGRESS_FROM_BYTES
    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    await asyncio.to_thread(upload_to, server, token, big, terminal)
    shown = terminal.file.getvalue()  # type: ignore[attr-defined]
    assert "Uploading" in shown and "MB" in shown

    # Stored as sent.
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        got = await http.get(f"/images/{sha(big)}", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.content == big

    # A small image, or output that is not a terminal, gets no bar.
    for data, console in (
        (png(80, 60), Console(file=io.StringIO(), force_terminal=True, width=100)),
        (noisy_png(701), Console(file=io.StringIO(), force_terminal=False, width=100)),
    ):
        await asyncio.to_thread(upload_to, server, token, data, console)
        assert "Uploading" not in console.file.getvalue()  # type: ignore[attr-defined]
