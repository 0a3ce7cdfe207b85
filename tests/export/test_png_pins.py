"""The PNG export read back pixel by pixel (Pillow): every pin wholly inside the image,
corners and edges included, beside its spot with the spot itself left visible, and a
legend below the image."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from imagechat_tui.export.png import LEGEND_BACKGROUND, OPEN, RESOLVED, legend_height, pin_spot
from imagechat_tui.protocol import Chat, User
from tests.export.hostile_room import BACKGROUND, PLACES, SIZE, Seeded, export


def _chats() -> list[Chat]:
    who = User(id="alice", name="Alice")
    return [
        Chat(id=str(n), number=n, x=x, y=y, w=w, h=h, createdBy=who, createdAt=0, comments=())
        for n, (x, y, w, h) in enumerate(PLACES, start=1)
    ]


async def test_every_pin_is_inside_beside_its_spot_and_legible(
    hostile: Seeded, tmp_path: Path
) -> None:
    target = tmp_path / "review.png"
    code, _, err = await export(hostile, "-f", "png", "-o", str(target))
    assert code == 0, err
    image = Image.open(target).convert("RGB")
    width, height = SIZE
    assert image.size == (width, height + legend_height(SIZE))
    spots = [pin_spot(chat, SIZE) for chat in _chats()]
    resolved = {2}
    for spot in spots:
        # Wholly inside the image: the disc's whole extent.
        assert spot.radius <= spot.cx <= width - 1 - spot.radius, spot
        assert spot.radius <= spot.cy <= height - 1 - spot.radius, spot
        # Its colour on the disc, over the number (open red, resolved green).
        colour = RESOLVED if spot.number in resolved else OPEN
        assert image.getpixel((spot.cx, spot.cy - spot.radius * 3 // 5)) == colour, spot
        # The spot it points at is not hidden: its own pixel is the image's.
        assert image.getpixel((spot.x, spot.y)) == BACKGROUND, spot
        # ... and the disc is off it, by more than the ring around it.
        distance = ((spot.cx - spot.x) ** 2 + (spot.cy - spot.y) ** 2) ** 0.5
        assert distance > spot.radius + spot.ring, spot
        # A ring in the marker's colour marks the spot.
        ring = [
            image.getpixel((spot.x + dx, spot.y))
            for dx in range(-spot.ring, spot.ring + 1)
            if 0 <= spot.x + dx < width
        ]
        assert colour in ring, spot
    # The legend: below the image, over nothing of it, with both colours and a frame.
    strip = [image.getpixel((x, y)) for x in range(width) for y in range(height, image.size[1])]
    assert OPEN in strip and RESOLVED in strip and LEGEND_BACKGROUND in strip
    assert image.getpixel((width // 2, height // 2 + 40)) == BACKGROUND  # far from markers


async def test_the_pins_agree_with_the_w3c_places(hostile: Seeded) -> None:
    """The pin of a point points at the pixel its W3C selector names (one rule)."""
    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    items = json.loads(out)["first"]["items"]
    for item, chat in zip(items, _chats(), strict=True):
        left, top, *_ = (int(v) for v in item["target"]["selector"]["value"][11:].split(","))
        spot = pin_spot(chat, SIZE)
        assert (spot.x, spot.y) == (left, top)
