"""The image at full resolution with every marker drawn in: numbered pins and region frames.

Sizes scale with the image so that pins stay legible on a 4K screenshot and do not swamp
an icon. Every mark has a dark rim around a light one around its colour, so it stays
readable over any image, light or dark. Open markers are red, resolved ones green.

A pin never hides what it points at: it sits beside its spot (up and to the right, or
wherever it fits) with a short leader to a small ring around the spot, whose centre is
left as it was. Every pin lies wholly inside the image, moved inwards at the edges. A
legend (open, resolved, region) is drawn in a strip below the image, so it covers
nothing; the image keeps its pixels and coordinates above it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from imagechat_tui.client.halfblock import opaque
from imagechat_tui.export import Review
from imagechat_tui.positions import box
from imagechat_tui.protocol import Chat

OPEN: Final = (220, 38, 38)
RESOLVED: Final = (22, 163, 74)
LIGHT: Final = (255, 255, 255)
DARK: Final = (17, 17, 17)
LEGEND_BACKGROUND: Final = (245, 245, 245)


@dataclass(frozen=True, slots=True)
class PinSpot:
    """Where a marker's pin is drawn, in pixels (for readers and tests): the spot it
    points at (``x``, ``y``) and the centre of its numbered disc (``cx``, ``cy``)."""

    number: int
    x: int
    y: int
    cx: int
    cy: int
    radius: int  # of the disc, its dark rim included
    ring: int  # radius of the ring around the spot
    colour: tuple[int, int, int]


def pin_radius(size: tuple[int, int]) -> int:
    return max(9, round(min(size) / 36))


def frame_width(size: tuple[int, int]) -> int:
    return max(2, round(min(size) / 300))


def colour(chat: Chat) -> tuple[int, int, int]:
    return RESOLVED if chat.resolved else OPEN


def _rim(radius: int) -> int:
    return max(1, radius // 6)


def _inside(centre: int, reach: int, length: int) -> int:
    """``centre`` moved inwards so that ``centre +- reach`` is inside ``0..length-1``."""
    return max(reach, min(length - 1 - reach, centre)) if length > 2 * reach else length // 2


def pin_spot(chat: Chat, size: tuple[int, int]) -> PinSpot:
    """A point's pin points at its pixel; a region's at its top-left corner."""
    width, height = size
    x, y, _, _ = box(chat.x, chat.y, chat.w, chat.h, size)
    r = pin_radius(size)
    reach = r + _rim(r)  # the disc's whole extent from its centre
    ring = max(3, r // 3)
    gap = reach + ring + max(2, r // 2)  # centre to spot: the disc clears the ring
    # Up and to the right by preference; to the other side where that leaves the image.
    dx = gap if x + gap + reach <= width - 1 else -gap
    dy = -gap if y - gap - reach >= 0 else gap
    cx = _inside(x + dx * 7 // 10, reach, width)
    cy = _inside(y + dy * 7 // 10, reach, height)
    return PinSpot(chat.number, x, y, cx, cy, reach, ring, colour(chat))


def region_box(chat: Chat, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """A region's rectangle in pixels (left, top, right, bottom, inclusive)."""
    if chat.w is None or chat.h is None:
        return None
    left, top, w, h = box(chat.x, chat.y, chat.w, chat.h, size)
    return left, top, left + w - 1, top + h - 1


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _draw_frame(
    draw: ImageDraw.ImageDraw,
    rect: tuple[int, int, int, int],
    fill: tuple[int, int, int],
    stroke: int,
) -> None:
    left, top, right, bottom = rect
    # Dark, light, then the colour inside: visible on white, black and busy images.
    draw.rectangle(rect, outline=DARK, width=stroke + 2)
    inner = (left + 1, top + 1, right - 1, bottom - 1)
    if inner[2] > inner[0] and inner[3] > inner[1]:
        draw.rectangle(inner, outline=LIGHT, width=stroke + 1)
    inner = (left + 2, top + 2, right - 2, bottom - 2)
    if inner[2] > inner[0] and inner[3] > inner[1]:
        draw.rectangle(inner, outline=fill, width=stroke)


def _disc(
    draw: ImageDraw.ImageDraw, cx: int, cy: int, reach: int, fill: tuple[int, int, int]
) -> None:
    rim = _rim(reach)
    draw.ellipse((cx - reach, cy - reach, cx + reach, cy + reach), fill=DARK)
    r = reach - rim
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=LIGHT)
    inner = r - rim
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=fill)


def _draw_pin(draw: ImageDraw.ImageDraw, spot: PinSpot, stroke: int) -> None:
    # The leader and the ring first (dark under light), then the disc over the leader.
    draw.line((spot.x, spot.y, spot.cx, spot.cy), fill=DARK, width=stroke + 2)
    draw.line((spot.x, spot.y, spot.cx, spot.cy), fill=LIGHT, width=stroke)
    ring = spot.ring
    area = (spot.x - ring, spot.y - ring, spot.x + ring, spot.y + ring)
    draw.ellipse(area, fill=DARK)
    draw.ellipse((area[0] + 1, area[1] + 1, area[2] - 1, area[3] - 1), fill=spot.colour)
    # The ring's middle is put back as the image had it (``_restore_centres``).
    _disc(draw, spot.cx, spot.cy, spot.radius, spot.colour)
    label = str(spot.number)
    size = max(8, round((spot.radius - _rim(spot.radius)) * (1.1 if len(label) < 3 else 0.8)))
    draw.text((spot.cx, spot.cy), label, fill=LIGHT, font=_font(size), anchor="mm")


def _restore_centres(image: Image.Image, original: Image.Image, spots: list[PinSpot]) -> None:
    """Put back the pixels inside each ring: the spot itself stays visible."""
    mask = Image.new("L", original.size, 0)
    draw = ImageDraw.Draw(mask)
    for spot in spots:
        hole = max(1, spot.ring - 2)
        draw.ellipse((spot.x - hole, spot.y - hole, spot.x + hole, spot.y + hole), fill=255)
    # Not where a disc (another pin's, or this one's at a cramped edge) covers it.
    for spot in spots:
        r = spot.radius
        draw.ellipse((spot.cx - r, spot.cy - r, spot.cx + r, spot.cy + r), fill=0)
    image.paste(original, (0, 0), mask)


LEGEND: Final = (("open", OPEN, "pin"), ("resolved", RESOLVED, "pin"), ("region", OPEN, "frame"))


def legend_height(size: tuple[int, int]) -> int:
    return pin_radius(size) * 2 + 8


def _draw_legend(draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
    width, height = size
    strip = legend_height(size)
    draw.rectangle((0, height, width - 1, height + strip - 1), fill=LEGEND_BACKGROUND)
    reach = max(5, pin_radius(size) // 2)
    font = _font(max(10, reach * 2))
    x = 4 + reach
    cy = height + strip // 2
    for label, fill, kind in LEGEND:
        if kind == "pin":
            _disc(draw, x, cy, reach, fill)
        else:
            _draw_frame(draw, (x - reach, cy - reach, x + reach, cy + reach), fill, 1)
        draw.text((x + reach + 4, cy), label, fill=DARK, font=font, anchor="lm")
        x += reach * 2 + 12 + round(draw.textlength(label, font=font))


def annotate(review: Review) -> Image.Image:
    """A copy of the image with every marker drawn in, lowest number first, and the
    legend in a strip below it."""
    original = opaque(review.image)  # transparency flattened, as the app did before
    size = original.size
    image = Image.new("RGB", (size[0], size[1] + legend_height(size)), LEGEND_BACKGROUND)
    image.paste(original, (0, 0))
    draw = ImageDraw.Draw(image)
    stroke = frame_width(size)
    for chat in review.chats:
        if (rect := region_box(chat, size)) is not None:
            _draw_frame(draw, rect, colour(chat), stroke)
    spots = [pin_spot(chat, size) for chat in review.chats]
    for spot in spots:
        _draw_pin(draw, spot, max(1, stroke // 2))
    _restore_centres(image, original, spots)
    _draw_legend(draw, size)
    return image


def render(review: Review) -> bytes:
    out = io.BytesIO()
    annotate(review).save(out, format="PNG", optimize=False)
    return out.getvalue()
