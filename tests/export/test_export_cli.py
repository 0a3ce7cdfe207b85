"""``imagechat-tui export`` as a person runs it: a real process reading a room from a real
server, each format read back with a real parser."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import re
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from PIL import Image

from imagechat_tui.client.image_source import load_image
from imagechat_tui.export.png import OPEN, RESOLVED, pin_spot
from imagechat_tui.protocol import Chat
from tests.wsclient import WsClient, create_op, new_id, update_op

BACKGROUND = (128, 128, 128)
HOSTILE = (
    "<script>alert(1)</script> [click](javascript:alert(1)) ![x](http://evil.example/x.png)\n"
    "# Not a heading\n"
    "| a | b |\n|---|---|\n"
    "- not a list **not bold** `not code` <b>not bold</b> &amp; \\*\n"
    "    not code either"
)
FORMULA = '=HYPERLINK("http://evil.example","click")'


class Seeded:
    def __init__(self, image: Path, room: str, url: str, token: str) -> None:
        self.image, self.room, self.url, self.token = image, room, url, token


async def _export(seeded: Seeded, *args: str, token: str | None = None) -> tuple[int, bytes, str]:
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
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "60"},
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out, err.decode()


@pytest.fixture
async def seeded(server, mint_token, tmp_path: Path) -> Seeded:
    """A room with a point, a resolved region, replies, an edit and hostile text."""
    path = tmp_path / "screen.png"
    Image.new("RGB", (400, 300), BACKGROUND).save(path)
    room = load_image(str(path)).default_room
    alice_token = mint_token("alice", name="Alice")
    alice, *_ = await WsClient.joined(server.url, alice_token, room=room)
    eve, *_ = await WsClient.joined(
        server.url, mint_token("eve", name="**Eve** <img src=x onerror=alert(1)>"), room=room
    )
    point = create_op(x=25, y=50, text="Button misaligned\nby two pixels")
    region = create_op(x=50, y=10, w=40, h=30, text="This whole header is too dark")
    await alice.send(point)
    await alice.send(region)
    await alice.recv_events(2)
    reply_id = new_id()
    await eve.send(
        update_op(
            point["chat"]["id"], {"kind": "comment", "comment": {"id": reply_id, "text": HOSTILE}}
        )
    )
    await eve.send(
        update_op(
            region["chat"]["id"], {"kind": "comment", "comment": {"id": new_id(), "text": FORMULA}}
        )
    )
    await eve.send(update_op(region["chat"]["id"], {"kind": "resolve"}))
    await eve.recv_events(5)
    await alice.send(
        update_op(
            point["chat"]["id"],
            {"kind": "comment", "comment": {"id": new_id(), "text": "@eve fixed"}},
        )
    )
    await alice.recv_events(4)
    await alice.send(
        update_op(
            point["chat"]["id"],
            {"kind": "edit-comment", "commentId": reply_id, "text": HOSTILE},
        )
    )
    # Alice may not edit Eve's comment: refused, nothing changes (a real server decides).
    assert (await alice.recv_type("error"))["code"] == "forbidden"
    await alice.close()
    await eve.close()
    return Seeded(path, room, server.url, alice_token)


def _chats(seeded: Seeded) -> list[Chat]:
    """The seeded room's markers: a point at (25, 50) and a region from (50, 10)."""
    from imagechat_tui.protocol import User

    who = User(id="alice", name="Alice")
    return [
        Chat(id="1", number=1, x=25, y=50, createdBy=who, createdAt=0, comments=()),
        Chat(id="2", number=2, x=50, y=10, w=40, h=30, createdBy=who, createdAt=0, comments=()),
    ]


class _Text(HTMLParser):
    """Text of an HTML fragment, per top-level block, and every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)  # a <br /> is followed by a newline in the HTML itself

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _html(markdown: str) -> _Text:
    parser = _Text()
    parser.feed(MarkdownIt("gfm-like").render(markdown))
    return parser


async def test_markdown_lists_every_marker_by_number_with_its_whole_thread(seeded) -> None:
    code, out, err = await _export(seeded, "--format", "markdown")
    assert code == 0, err
    md = out.decode()
    tokens = MarkdownIt("gfm-like").parse(md)
    headings = [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == "h2"
    ]
    assert len(headings) == 2
    assert headings[0] == "1. Open · point at 25.0%, 50.0% (pixel 100, 150)"
    assert (
        headings[1]
        == "2. Resolved · region at 50.0%, 10.0%, 40.0% x 30.0% (pixel 200, 30, 160 x 90)"
    )
    # Threads in order, each comment's text back exactly (line breaks kept).
    entry_one = md.split("\n## ")[1]
    parsed = _html(entry_one)
    text = "".join(parsed.text)
    assert "Button misaligned\nby two pixels" in text
    assert "@eve fixed" in text
    assert text.index("Button misaligned") < text.index("<script>") < text.index("@eve fixed")
    # Hostile text and names are shown, never obeyed: no tag but ours.
    whole = _html(md)
    assert set(whole.tags) <= {"h1", "h2", "p", "br", "strong", "blockquote", "code"}, whole.tags
    assert whole.tags.count("code") == 2  # the image's urn:sha256: and the one mention, @eve
    assert whole.tags.count("h1") == 1 and whole.tags.count("h2") == 2
    assert "**Eve** <img src=x onerror=alert(1)>" in "".join(whole.text)
    assert "# Not a heading\n| a | b |\n|---|---|" in "".join(whole.text)
    for line in HOSTILE.split("\n"):
        assert line.strip() in "".join(whole.text).replace("\xa0", " ")


async def test_w3c_is_one_web_annotation_per_marker(seeded) -> None:
    code, out, err = await _export(seeded, "--format", "w3c")
    assert code == 0, err
    doc = json.loads(out)
    assert "http://www.w3.org/ns/anno.jsonld" in doc["@context"]
    assert doc["type"] == "AnnotationCollection" and doc["total"] == 2
    point, region = doc["first"]["items"]
    for anno in (point, region):
        # The model's MUSTs: id (an IRI), type, target; TextualBody has a value.
        assert re.match(r"^urn:uuid:[0-9a-f-]{36}$", anno["id"])
        assert anno["type"] == "Annotation" and anno["motivation"] == "commenting"
        selector = anno["target"]["selector"]
        assert selector["type"] == "FragmentSelector"
        assert selector["conformsTo"] == "http://www.w3.org/TR/media-frags/"
        digest = hashlib.sha256(seeded.image.read_bytes()).hexdigest()
        assert anno["target"]["source"] == f"urn:sha256:{digest}"  # never a local path
        assert anno["creator"] == {
            "id": "urn:imagechat:user:alice",
            "type": "Person",
            "name": "Alice",
        }
        for body in anno["body"]:
            assert body["type"] == "TextualBody" and isinstance(body["value"], str)
        for stamp in (
            anno["created"],
            anno["modified"],
            *(b.get("created") for b in anno["body"] if "created" in b),
        ):
            assert stamp.endswith("Z") and datetime.fromisoformat(stamp)
    assert point["target"]["selector"]["value"] == "xywh=pixel:100,150,1,1"
    assert region["target"]["selector"]["value"] == "xywh=pixel:200,30,160,90"
    assert [b["purpose"] for b in point["body"]] == ["commenting", "replying", "replying"]
    assert [b["value"] for b in point["body"]] == [
        "Button misaligned\nby two pixels",
        HOSTILE,
        "@eve fixed",
    ]
    assert point["body"][1]["creator"]["name"] == "**Eve** <img src=x onerror=alert(1)>"
    assert point["resolved"] is False and region["resolved"] is True
    assert region["body"][-1] == {"type": "TextualBody", "purpose": "tagging", "value": "resolved"}
    assert [point["number"], region["number"]] == [1, 2]


async def test_png_has_every_pin_and_frame_drawn_at_full_resolution(seeded, tmp_path) -> None:
    target = tmp_path / "out.png"
    code, out, err = await _export(seeded, "--format", "png", "-o", str(target))
    assert code == 0, err
    assert out == b"" and "Wrote 2 markers" in err
    image = Image.open(target).convert("RGB")
    assert image.size[0] == 400 and image.size[1] > 300  # the legend's strip below
    spots = {s.number: s for s in (pin_spot(c, (400, 300)) for c in _chats(seeded))}
    # In each pin's disc (above its number), the pin's colour: open red, resolved green.
    for number, colour in ((1, OPEN), (2, RESOLVED)):
        s = spots[number]
        assert image.getpixel((s.cx, s.cy - s.radius * 3 // 5)) == colour
        assert image.getpixel((s.x, s.y)) == BACKGROUND  # the spot itself stays visible
    # The region is framed (its bottom edge at y = 120) and not filled.
    column = [image.getpixel((300, y)) for y in range(110, 125)]
    assert RESOLVED in column
    assert image.getpixel((300, 75)) == BACKGROUND
    assert image.getpixel((20, 280)) == BACKGROUND  # far from any marker: untouched


async def test_csv_is_one_row_per_comment_with_formulas_neutralised(seeded) -> None:
    code, out, err = await _export(seeded, "--format", "csv")
    assert code == 0, err
    assert out.startswith("\ufeff".encode())  # UTF-8 with a byte order mark
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8-sig"), newline="")))
    assert len(rows) == 5
    assert [(r["marker"], r["kind"]) for r in rows] == [
        ("1", "comment"),
        ("1", "reply"),
        ("1", "reply"),
        ("2", "comment"),
        ("2", "reply"),
    ]
    assert rows[0]["text"] == "Button misaligned\nby two pixels"
    assert (
        rows[1]["text"] == HOSTILE and rows[1]["author"] == "**Eve** <img src=x onerror=alert(1)>"
    )
    assert rows[2]["text"] == "'@eve fixed"
    assert rows[4]["text"] == "'" + FORMULA
    assert (rows[3]["status"], rows[3]["w"], rows[3]["h"]) == ("resolved", "40", "30")
    assert (rows[0]["w"], rows[0]["x"]) == ("", "25")
    assert all(not r[c].startswith(("=", "+", "-", "@")) for r in rows for c in r)


async def test_a_room_the_token_cannot_read_is_one_line_and_a_failure(seeded, mint_token) -> None:
    elsewhere = mint_token("mallory", room_scope="some-other-room")
    code, out, err = await _export(seeded, "--format", "markdown", token=elsewhere)
    assert code != 0 and out == b""
    assert err.count("\n") == 1 and err.startswith("imagechat-tui: Cannot read room img-")
    assert "not valid for this room" in err


async def test_an_unreachable_server_is_one_line_and_a_failure(seeded) -> None:
    seeded.url = "ws://127.0.0.1:9/ws"  # discard port: nothing listens
    code, out, err = await _export(seeded)
    assert code != 0 and out == b"" and err.count("\n") == 1
    assert err.startswith("imagechat-tui: Cannot read room") and "Cannot reach" in err
