"""The image at the real pixel size of the cells it occupies (Kitty and Sixel modes).

Same interface as ``HalfBlockRenderer`` (``geometry``, ``render``), so ``ImageView``'s
pins, crosshair, zoom and pan work unchanged: ``render`` gives blank cells with the
terminal's default background (the pixels are drawn by the terminal, under or between
the text cells), and ``view_image`` gives the pixels of the whole area for a geometry.

``Geometry`` counts two units per cell row (the half-block layout). Here a unit is
``cell_width`` pixels wide and ``cell_height / 2`` high, so the image's height is scaled
by ``2 * cell_width / cell_height`` in geometry space: the image keeps its aspect ratio
on screen, and percentages (pins) map exactly as before.
"""

from __future__ import annotations

from collections import OrderedDict

from PIL import Image
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from imagechat_tui.client.halfblock import ColorMode, Geometry, Viewport, checkered, opaque

IMAGE_CELL = " "  # what an image cell holds: a blank with the default background
_BLANK = Style()


class PixelRenderer:
    """Renders one image at real pixel resolution for any area and viewport."""

    def __init__(
        self,
        image: Image.Image,
        *,
        cell_size: tuple[int, int],
        background: tuple[int, int, int] = (0, 0, 0),
        cache_size: int = 4,
    ) -> None:
        self.image = opaque(image)  # for exports
        self._drawn = checkered(image)  # transparency over checks, as in half blocks
        self.cell_width, self.cell_height = cell_size
        self.background = background
        self.colors: ColorMode = "truecolor"  # for the app; pixels do not depend on it
        self._aspect = 2 * self.cell_width / self.cell_height
        self._views: OrderedDict[Geometry, Image.Image] = OrderedDict()
        self._cache_size = cache_size

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def geometry(self, cols: int, rows: int, view: Viewport) -> Geometry:
        width, height = self.image.size
        return Geometry.fit((width, max(1, round(height * self._aspect))), cols, rows, view)

    def render(self, geometry: Geometry) -> list[Strip]:
        """Blank default-background cells: the terminal shows the pixels there."""
        line = Strip([Segment(IMAGE_CELL * geometry.cols, _BLANK)], geometry.cols)
        return [line] * geometry.rows

    def pixel_size(self, geometry: Geometry) -> tuple[int, int]:
        return geometry.cols * self.cell_width, geometry.rows * self.cell_height

    def view_image(self, geometry: Geometry) -> Image.Image:
        """The whole area for ``geometry`` in screen pixels: the visible part of the image
        scaled by Pillow (Lanczos down, nearest up: zoomed pixels stay sharp), on the
        background."""
        cached = self._views.get(geometry)
        if cached is not None:
            self._views.move_to_end(geometry)
            return cached
        width, height = self.pixel_size(geometry)
        canvas = Image.new("RGB", (max(1, width), max(1, height)), self.background)
        # Screen pixels per image pixel, and where the image's corner lies on screen.
        scale = geometry.scale * self.cell_width
        left = geometry.left * self.cell_width
        top = geometry.top * self.cell_height / 2
        image_w, image_h = self.image.size
        x0, y0 = max(0, round(left)), max(0, round(top))
        x1 = min(width, round(left + image_w * scale))
        y1 = min(height, round(top + image_h * scale))
        if x1 > x0 and y1 > y0:
            box = (
                max(0.0, (x0 - left) / scale),
                max(0.0, (y0 - top) / scale),
                min(float(image_w), (x1 - left) / scale),
                min(float(image_h), (y1 - top) / scale),
            )
            resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST
            canvas.paste(self._drawn.resize((x1 - x0, y1 - y0), resample, box=box), (x0, y0))
        self._views[geometry] = canvas
        if len(self._views) > self._cache_size:
            self._views.popitem(last=False)
        return canvas
