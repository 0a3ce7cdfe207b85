"""A room made to break exports: hostile text and names, markers at the image's
corners and edges, and the same comment id on two markers. Written through a real
server by two real clients, read back by ``imagechat-tui export`` as a person runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from imagechat_tui.client.image_source import load_image
from tests.wsclient import WsClient, create_op, new_id, update_op

BACKGROUND = (128, 128, 128)
SIZE = (400, 300)
#: Terminal control: set the window title, clear the screen, a C1 CSI, a bidi override.
ESCAPES = "title \x1b]0;pwned\x07 clear \x1b[2J\x1b[H end \x9b31m red \u202egnp.exe"
MARKDOWN = (
    "<script>alert(1)</script> [click](javascript:alert(1)) ![x](http://evil.example/x.png)\n"
    "# Not a heading\n"
    "| a | b |\n|---|---|\n"
    "- not a list **not bold** `not code` <b>not bold</b> &amp; \\*\n"
    "    not code either\n"
    "1. not a list\n"
    "===\n"
    "mail bob@example.com or see www.example.com and https://example.com/x_y\n"
    "é@bob 日本@bob (@carol) snake_case stays, so does 2*3 > 5 and a|b\n"
    "see #123, GH-7, owner/repo#9, !4 %5 &6 ~bug and :smile: :+1: :tada:\n"
    "family 👨\u200d👩\u200d👧 stays whole"
)
FORMULAS = ("=1+1", " =1+1", "\t=1+1", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://evil.example")')
EVE = "**Eve** <img src=x onerror=alert(1)> é@bob"
MALLORY = "\x1b[31mMallory\x1b[0m \x1b]0;owned\x07"
DUPLICATE_ID = "same-comment-id"
#: (x, y, w, h) of every marker, by number.
PLACES: tuple[tuple[float, float, float | None, float | None], ...] = (
    (25.0, 50.0, None, None),
    (50.0, 10.0, 40.0, 30.0),
    (0.0, 0.0, None, None),
    (100.0, 100.0, None, None),
    (100.0, 0.0, None, None),
    (0.0, 100.0, None, None),
    (99.9, 50.0, None, None),
    (90.0, 90.0, 10.0, 10.0),
)


@dataclass
class Seeded:
    image: Path
    room: str
    url: str
    token: str  # Alice's


async def _settled(client: WsClient, frame: dict[str, Any]) -> None:
    await client.send(frame)
    seen = await client.settle()
    assert not [f for f in seen if f["type"] == "error"], seen


async def seed(server: Any, mint_token: Any, tmp_path: Path) -> Seeded:
    path = tmp_path / "screen.png"
    Image.new("RGB", SIZE, BACKGROUND).save(path)
    room = load_image(str(path)).default_room
    alice_token = mint_token("alice", name="Alice")
    alice, *_ = await WsClient.joined(server.url, alice_token, room=room)
    eve, *_ = await WsClient.joined(server.url, mint_token("eve", name=EVE), room=room)
    mallory, *_ = await WsClient.joined(server.url, mint_token("mallory", name=MALLORY), room=room)
    ids: list[str] = []
    texts = ["Button misaligned\nby two pixels", "This whole header is too dark", ESCAPES]
    for number, (x, y, w, h) in enumerate(PLACES, start=1):
        extra = {} if w is None else {"w": w, "h": h}
        text = texts[number - 1] if number <= len(texts) else f"corner {number}"
        op = create_op(x=x, y=y, text=text, **extra)
        await _settled(alice if number != 3 else mallory, op)
        ids.append(op["chat"]["id"])
    reply = {"kind": "comment"}
    await _settled(
        eve, update_op(ids[0], {**reply, "comment": {"id": DUPLICATE_ID, "text": MARKDOWN}})
    )
    await _settled(
        eve, update_op(ids[1], {**reply, "comment": {"id": DUPLICATE_ID, "text": FORMULAS[0]}})
    )
    for formula in FORMULAS[1:]:
        await _settled(
            eve, update_op(ids[1], {**reply, "comment": {"id": new_id(), "text": formula}})
        )
    await _settled(eve, update_op(ids[1], {"kind": "resolve"}))
    await _settled(
        mallory, update_op(ids[2], {**reply, "comment": {"id": new_id(), "text": ESCAPES}})
    )
    await _settled(
        alice, update_op(ids[0], {**reply, "comment": {"id": new_id(), "text": "@eve fixed"}})
    )
    for client in (alice, eve, mallory):
        await client.close()
    return Seeded(path, room, server.url, alice_token)


async def export(
    seeded: Seeded, *args: str, token: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, bytes, str]:
    """Run the real CLI in a process; the server runs in this test's event loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "imagechat_tui",
        "export",
        str(seeded.image),
        "--server",
        seeded.url,
        "--token",
        token or seeded.token,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "60", **(env or {})},
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out, err.decode()
