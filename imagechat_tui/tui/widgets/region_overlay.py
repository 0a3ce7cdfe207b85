"""Rectangle regions on the image: their frames as cell overlays, and the one being drawn.

Kept apart from ``image_view`` (which owns the image, pins, crosshair, zoom and pan):
this module only says which characters go where. A frame is box-drawing characters in
a bright colour on a dark cell, so it reads over any image; its number is the marker's
pin, which sits on the region's top-left corner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.style import Style
from textual.message import Message

from imagechat_tui.client.halfblock import Geometry

FRAME_OPEN = Style(color="rgb(255,196,0)", bgcolor="rgb(0,0,0)", bold=True)
FRAME_SELECTED = Style(color="rgb(255,80,110)", bgcolor="rgb(0,0,0)", bold=True)
FRAME_RESOLVED = Style(color="rgb(150,150,150)", bgcolor="rgb(30,30,30)")
FRAME_DRAWING = Style(color="rgb(0,255,255)", bgcolor="rgb(0,0,0)", bold=True)

Box = tuple[int, int, int, int]  # left, top, right, bottom cells, inclusive


@dataclass(frozen=True, slots=True)
class Frame:
    """A region to draw: its marker, its rectangle in percent, its style."""

    chat_id: str
    x: float
    y: float
    w: float
    h: float
    style: Style


@dataclass(frozen=True, slots=True)
class Span:
    """Characters of a frame on one row, from ``col``."""

    chat_id: str
    col: int
    text: str
    style: Style


class RegionRequested(Message):
    """A region was drawn (percent of the image): create a marker covering it."""

    def __init__(self, x: float, y: float, w: float, h: float) -> None:
        super().__init__()
        self.x, self.y, self.w, self.h = x, y, w, h


class RegionDrawing(Message):
    """A region is being drawn (``active``), or no longer is (finished or cancelled)."""

    def __init__(self, active: bool) -> None:
        super().__init__()
        self.active = active


#: Edges within this many cells of a cell boundary are on it (percentages are rounded).
_SNAP = 0.05


def cell_box(geometry: Geometry, x: float, y: float, w: float, h: float) -> Box:
    """The cells a region covers: from the cell of its corner to the cell holding its
    last pixel (at least 2 x 2 cells, so that a tiny region still shows as a frame)."""
    span_x = geometry.image_width * geometry.scale / 100
    span_y = geometry.image_height * geometry.scale / 100 / 2
    near_x, near_y = geometry.left + x * span_x, geometry.top / 2 + y * span_y
    far_x, far_y = near_x + w * span_x, near_y + h * span_y
    left, top = math.floor(near_x + _SNAP), math.floor(near_y + _SNAP)
    right = max(left + 1, math.ceil(far_x - _SNAP) - 1)
    bottom = max(top + 1, math.ceil(far_y - _SNAP) - 1)
    return left, top, right, bottom


def frame_spans(box: Box, chat_id: str, style: Style) -> dict[int, list[Span]]:
    """The frame of ``box`` row by row: ┌─┐ on top, │ │ down the sides, └─┘ below."""
    left, top, right, bottom = box
    inner = "─" * (right - left - 1)
    rows: dict[int, list[Span]] = {
        top: [Span(chat_id, left, f"┌{inner}┐", style)],
        bottom: [Span(chat_id, left, f"└{inner}┘", style)],
    }
    for row in range(top + 1, bottom):
        rows[row] = [Span(chat_id, left, "│", style), Span(chat_id, right, "│", style)]
    return rows


def layout(geometry: Geometry, frames: list[Frame], rows: int) -> dict[int, list[Span]]:
    """Every frame's spans on the rows ``0 .. rows - 1``, later frames over earlier ones."""
    out: dict[int, list[Span]] = {}
    for frame in frames:
        box = cell_box(geometry, frame.x, frame.y, frame.w, frame.h)
        for row, spans in frame_spans(box, frame.chat_id, frame.style).items():
            if 0 <= row < rows:
                out.setdefault(row, []).extend(spans)
    return out


def frame_at(rows: dict[int, list[Span]], col: int, row: int) -> str | None:
    """The marker whose frame is drawn at this cell (the topmost), if any."""
    hit = None
    for span in rows.get(row, ()):
        if span.chat_id and span.col <= col < span.col + len(span.text):
            hit = span.chat_id
    return hit


def _edge(geometry: Geometry, col: float, row: float) -> tuple[float, float]:
    """Image percent at a cell boundary, clamped to the image."""
    px = (col - geometry.left) / geometry.scale / geometry.image_width * 100
    py = (row * 2 - geometry.top) / geometry.scale / geometry.image_height * 100
    return min(100.0, max(0.0, px)), min(100.0, max(0.0, py))


def region_between(
    geometry: Geometry, a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float, float, float] | None:
    """The region (x, y, w, h in percent) covering the cells of points ``a`` and ``b``
    and every cell between them; None if it would have no area."""
    (ac, ar), (bc, br) = geometry.to_cell(*a), geometry.to_cell(*b)
    x0, y0 = _edge(geometry, min(ac, bc), min(ar, br))
    x1, y1 = _edge(geometry, max(ac, bc) + 1, max(ar, br) + 1)
    # Round to what a person can see (and keep x + w <= 100 exactly).
    x0, y0 = round(x0, 3), round(y0, 3)
    w, h = round(x1 - x0, 3), round(y1 - y0, 3)
    w, h = min(w, round(100 - x0, 3)), min(h, round(100 - y0, 3))
    if w <= 0 or h <= 0:
        return None
    return x0, y0, w, h
