"""``imagechat-tui import``: the W3C export read back into a new room through a real
server's normal ops, then exported again: the same review (ids, room, authors and times
aside: the importer writes every comment, as a server allows nobody else's name)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.export.hostile_room import Seeded, export
from tests.wsclient import WsClient


async def import_file(seeded: Seeded, file: Path, room: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "imagechat_tui",
        "import",
        str(file),
        "--room",
        room,
        "--server",
        seeded.url,
        "--token",
        seeded.token,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "60"},
    )
    _, err = await proc.communicate()
    return proc.returncode or 0, err.decode()


def review(doc: dict[str, Any]) -> dict[str, Any]:
    """What the export says about the review, without ids, room, authors and times."""
    return {
        "label": doc["label"],
        "size": (doc["imageWidth"], doc["imageHeight"]),
        "total": doc["total"],
        "markers": [
            {
                "number": a["number"],
                "resolved": a["resolved"],
                "shape": a["shape"],
                "target": a["target"],
                "thread": [(b["purpose"], b["value"]) for b in a["body"]],
            }
            for a in doc["first"]["items"]
        ],
    }


async def _chat_count(seeded: Seeded, room: str) -> int:
    client, _, (snapshot,) = await WsClient.joined(seeded.url, seeded.token, room=room)
    await client.close()
    return len(snapshot["chats"])


async def test_export_import_export_gives_the_same_review(hostile: Seeded, tmp_path) -> None:
    first = tmp_path / "review.w3c.json"
    code, _, err = await export(hostile, "-f", "w3c", "-o", str(first))
    assert code == 0, err
    code, err = await import_file(hostile, first, "moved-review")
    assert code == 0, err
    assert err == "Imported 8 markers into room moved-review.\n"
    code, again, err = await export(hostile, "-f", "w3c", "--room", "moved-review")
    assert code == 0, err
    before, after = json.loads(first.read_text("utf-8")), json.loads(again)
    assert review(after) == review(before)
    assert after["id"] != before["id"]  # another room: other ids


async def test_a_room_with_markers_is_refused_and_left_as_it_was(hostile: Seeded, tmp_path) -> None:
    file = tmp_path / "review.w3c.json"
    code, _, err = await export(hostile, "-f", "w3c", "-o", str(file))
    assert code == 0, err
    code, err = await import_file(hostile, file, hostile.room)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"imagechat-tui: Room {hostile.room} already has 8 markers")
    assert await _chat_count(hostile, hostile.room) == 8


async def test_a_bad_file_is_one_line_and_nothing_is_sent(hostile: Seeded, tmp_path) -> None:
    good = {
        "type": "Annotation",
        "body": {"type": "TextualBody", "value": "fine"},
        "target": {"selector": {"type": "FragmentSelector", "value": "xywh=pixel:1,2,3,4"}},
    }
    polygon = {"type": "Annotation", "target": {"selector": {"type": "SvgSelector"}}}
    sized = ("--size", "400x300")
    cases = {
        "not-json.json": ("{", "is not JSON", sized),
        "polygon.json": (json.dumps([good, polygon]), "Annotation 2: it has no Fragment", sized),
        "no-size.json": (json.dumps([good]), "pass --size WxH", ()),
        "bad-size.json": (json.dumps([good]), "--size must be WIDTHxHEIGHT", ("--size", "4x")),
    }
    for name, (text, message, args) in cases.items():
        file = tmp_path / name
        file.write_text(text, encoding="utf-8")
        code, err = await import_file(hostile, file, "never-written", *args)
        assert code != 0 and err.count("\n") == 1 and message in err, err
    assert await _chat_count(hostile, "never-written") == 0
    file = tmp_path / "sized.json"
    file.write_text(json.dumps([good]), encoding="utf-8")
    code, err = await import_file(hostile, file, "sized", *sized)
    assert code == 0, err
    assert await _chat_count(hostile, "sized") == 1
