"""Kitty graphics commands, parsed as a terminal would and their payload decoded."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image, ImageChops, ImageDraw

from imagechat_tui.client import kitty

COMMAND = re.compile(rb"\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\")


def parse(data: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Every APC graphics command in ``data``: its keys and its payload."""
    found = []
    for keys, payload in COMMAND.findall(data):
        pairs = dict(item.split("=", 1) for item in keys.decode().split(","))
        found.append((pairs, payload))
    return found


def test_transmit_round_trips_the_pixels() -> None:
    image = Image.new("RGB", (300, 200), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for x in range(0, 300, 2):
        draw.line((x, 0, x, 199), fill=(0, 0, 0))
    image = Image.blend(image, Image.effect_noise((300, 200), 60).convert("RGB"), 0.3)
    data = kitty.transmit(77, image)
    commands = parse(data)
    assert len(commands) > 1  # chunked: the payload is larger than one chunk
    first = commands[0][0]
    assert first["a"] == "t" and first["i"] == "77" and first["f"] == "100"
    assert first["q"] == "2"  # no replies into the app's input
    assert [keys["m"] for keys, _ in commands] == ["1"] * (len(commands) - 1) + ["0"]
    assert all(len(payload) <= kitty.CHUNK for _, payload in commands)
    png = base64.standard_b64decode(b"".join(payload for _, payload in commands))
    with Image.open(io.BytesIO(png)) as decoded:
        assert ImageChops.difference(decoded.convert("RGB"), image).getbbox() is None


def test_place_a_part_over_cells_without_moving_the_cursor() -> None:
    data = kitty.place(77, 3, (90, 38, 360, 19), 40, 1, row=2, col=10)
    assert data.startswith(b"\x1b7\x1b[3;11H") and data.endswith(b"\x1b8")
    [(keys, payload)] = parse(data)
    assert keys == {
        "a": "p",
        "i": "77",
        "p": "3",
        "x": "90",
        "y": "38",
        "w": "360",
        "h": "19",
        "c": "40",
        "r": "1",
        "C": "1",
        "q": "2",
    }
    assert payload == b""
    [(unplace, _)] = parse(kitty.unplace(77, 3))
    assert (unplace["a"], unplace["d"], unplace["i"], unplace["p"]) == ("d", "i", "77", "3")


def test_hide_keeps_the_data_delete_frees_it() -> None:
    [(hide, _)] = parse(kitty.hide(5))
    [(delete, _)] = parse(kitty.delete(5))
    assert (hide["a"], hide["d"], hide["i"]) == ("d", "i", "5")
    assert (delete["a"], delete["d"], delete["i"]) == ("d", "I", "5")
