"""The Sixel encoder, checked by an independent decoder: libsixel's ``sixel2png``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageStat

from imagechat_tui.client import sixel
from tests.tools import require


def decode(data: bytes, tmp_path: Path) -> Image.Image:
    require("sixel2png")
    source, target = tmp_path / "in.six", tmp_path / "out.png"
    source.write_bytes(data)
    subprocess.run(["sixel2png", "-i", str(source), "-o", str(target)], check=True, timeout=60)
    with Image.open(target) as decoded:
        return decoded.convert("RGBA")


def stripes_and_text() -> Image.Image:
    """One-pixel stripes, small text and a few colours; heights not a multiple of 6."""
    image = Image.new("RGB", (123, 47), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for x in range(0, 60, 2):
        draw.line((x, 0, x, 46), fill=(0, 0, 0))
    draw.text((64, 4), "Ab 12", fill=(200, 0, 0))
    draw.rectangle((64, 25, 120, 44), fill=(30, 90, 200))
    return image


def test_few_colours_decode_to_exactly_the_same_pixels(tmp_path: Path) -> None:
    image = stripes_and_text()
    decoded = decode(sixel.encode(sixel.quantize(image)), tmp_path)
    assert decoded.size == image.size
    # Sixel colours are percentages: a channel may move by 1-2 of 255.
    diff = ImageChops.difference(decoded.convert("RGB"), image)
    assert max(high for _, high in diff.getextrema()) <= 2
    # The stripes are resolved: alternate columns black and white.
    assert [decoded.getpixel((x, 20))[0] for x in range(6)] == [0, 255, 0, 255, 0, 255]


def test_a_photo_is_quantized_to_the_registers_and_stays_close(tmp_path: Path) -> None:
    image = Image.radial_gradient("L").resize((200, 130)).convert("RGB")
    image = Image.merge(
        "RGB",
        (
            image.getchannel(0),
            image.rotate(90).getchannel(0),
            Image.linear_gradient("L").resize((200, 130)),
        ),
    )
    assert len(sixel.quantize(image, colors=64).getcolors()) <= 63  # xterm's default: 1024
    paletted = sixel.quantize(image)
    assert len(paletted.getcolors()) <= 255  # index 255 stays free for holes
    decoded = decode(sixel.encode(paletted), tmp_path).convert("RGB")
    mean_error = sum(ImageStat.Stat(ImageChops.difference(decoded, image)).mean) / 3
    assert mean_error < 8


def test_holes_are_left_transparent(tmp_path: Path) -> None:
    """A hole (a text cell over the image) is not drawn: P2=1, nothing set there."""
    image = Image.new("RGB", (40, 30), (255, 0, 0))
    paletted = sixel.quantize(image)
    paletted.paste(sixel.HOLE, (10, 6, 20, 18))
    decoded = decode(sixel.encode(paletted), tmp_path)
    assert decoded.getpixel((5, 5))[:3] == (255, 0, 0)
    assert decoded.getpixel((15, 10)) != decoded.getpixel((5, 5))
    assert decoded.getpixel((15, 10))[:3] != (255, 0, 0)


def test_runs_are_compressed() -> None:
    flat = sixel.quantize(Image.new("RGB", (600, 12), (10, 20, 30)))
    data = sixel.encode(flat)
    assert b"!600~" in data
    assert len(data) < 100
