"""The image at full resolution with every marker drawn in: numbered pins and region frames.

Sizes scale with the image so that pins stay legible on a 4K screenshot and do not swamp
an icon. Every mark has a dark rim around a light one around its colour, so it stays
readable over any image, light or dark. Open markers are red, resolved ones green.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from imagechat_tui.client.halfblock import opaque
from imagechat_tui.export import Review
from imagechat_tui.protocol import Chat

OPEN: Final = (220, 38, 38)
RESOLVED: Final = (22, 163, 74)
LIGHT: Final = (255, 255, 255)
DARK: Final = (17, 17, 17)


@dataclass(frozen=True, slots=True)
class PinSpot:
    """Where a marker's numbered pin is drawn, in pixels (for readers and tests)."""

    number: int
    cx: int
    cy: int
    radius: int
    colour: tuple[int, int, int]


def pin_radius(size: tuple[int, int]) -> int:
    return max(9, round(min(size) / 36))


def frame_width(size: tuple[int, int]) -> int:
    return max(2, round(min(size) / 300))


def colour(chat: Chat) -> tuple[int, int, int]:
    return RESOLVED if chat.resolved else OPEN


def pin_spot(chat: Chat, size: tuple[int, int]) -> PinSpot:
    """A point's pin is on its spot; a region's sits on its top-left corner."""
    width, height = size
    cx = min(width - 1, round(chat.x * width / 100))
    cy = min(height - 1, round(chat.y * height / 100))
    return PinSpot(chat.number, cx, cy, pin_radius(size), colour(chat))


def region_box(chat: Chat, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """A region's rectangle in pixels (left, top, right, bottom, inclusive)."""
    if chat.w is None or chat.h is None:
        return None
    width, height = size
    left, top = round(chat.x * width / 100), round(chat.y * height / 100)
    right = min(width - 1, round((chat.x + chat.w) * width / 100))
    bottom = min(height - 1, round((chat.y + chat.h) * height / 100))
    return left, top, max(left, right), max(top, bottom)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _draw_frame(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], chat: Chat, stroke: int
) -> None:
    left, top, right, bottom = box
    # Dark, light, then the colour inside: visible on white, black and busy images.
    draw.rectangle(box, outline=DARK, width=stroke + 2)
    inner = (left + 1, top + 1, right - 1, bottom - 1)
    if inner[2] > inner[0] and inner[3] > inner[1]:
        draw.rectangle(inner, outline=LIGHT, width=stroke + 1)
    inner = (left + 2, top + 2, right - 2, bottom - 2)
    if inner[2] > inner[0] and inner[3] > inner[1]:
        draw.rectangle(inner, outline=colour(chat), width=stroke)


def _draw_pin(draw: ImageDraw.ImageDraw, spot: PinSpot) -> None:
    r = spot.radius
    rim = max(1, r // 6)
    draw.ellipse(
        (spot.cx - r - rim, spot.cy - r - rim, spot.cx + r + rim, spot.cy + r + rim), fill=DARK
    )
    draw.ellipse((spot.cx - r, spot.cy - r, spot.cx + r, spot.cy + r), fill=LIGHT)
    inner = r - rim
    draw.ellipse(
        (spot.cx - inner, spot.cy - inner, spot.cx + inner, spot.cy + inner), fill=spot.colour
    )
    label = str(spot.number)
    size = max(8, round(r * (1.1 if len(label) < 3 else 0.8)))
    draw.text((spot.cx, spot.cy), label, fill=LIGHT, font=_font(size), anchor="mm")


def annotate(review: Review) -> Image.Image:
    """A copy of the image with every marker drawn in, lowest number first."""
    image = opaque(review.image)  # transparency flattened, as the app did before
    draw = ImageDraw.Draw(image)
    for chat in review.chats:
        if (box := region_box(chat, image.size)) is not None:
            _draw_frame(draw, box, chat, frame_width(image.size))
    for chat in review.chats:
        _draw_pin(draw, pin_spot(chat, image.size))
    return image


def render(review: Review) -> bytes:
    out = io.BytesIO()
    annotate(review).save(out, format="PNG", optimize=False)
    return out.getvalue()
