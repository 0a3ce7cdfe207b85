"""Turn an image into terminal cells, two pixels per cell with the upper half block.

Each cell shows two vertically stacked pixels: the top one as the foreground of ``▀``,
the bottom one as its background. ``Geometry`` is the pure mapping between image
percent and cell positions for a given area and ``Viewport`` (zoom and pan); the
``HalfBlockRenderer`` turns a geometry into Textual ``Strip``s, using Pillow for all
per-pixel work and caching Styles per colour pair and strips per view.
"""

from __future__ import annotations

import gc
import sys
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from itertools import chain, compress, repeat
from operator import lshift, mul, ne, or_, sub
from typing import Literal

from PIL import Image
from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

ColorMode = Literal["truecolor", "256"]
UPPER_HALF = "\u2580"
#: Transparent areas: mid-tone checks like GIMP's (multiples of 4, so the 6-bit colours
#: below keep them exact) in squares of 4x4 pixels (4 cells wide, 2 rows high: about
#: square on screen), fixed to the screen as image viewers do.
CHECKS = ((152, 152, 152), (100, 100, 100))
CHECK_SIZE = 4
MIN_ZOOM = 1.0
MAX_ZOOM = 16.0


@dataclass(frozen=True, slots=True)
class Viewport:
    """What part of the image is shown: ``zoom`` 1 fits the whole image; the centre
    ``(cx, cy)`` is in fractions of the image's width and height."""

    zoom: float = 1.0
    cx: float = 0.5
    cy: float = 0.5

    def zoomed(self, factor: float) -> Viewport:
        return replace(self, zoom=min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor)))

    def panned(self, dx: float, dy: float) -> Viewport:
        return replace(
            self, cx=min(1.0, max(0.0, self.cx + dx)), cy=min(1.0, max(0.0, self.cy + dy))
        )


@dataclass(frozen=True, slots=True)
class Geometry:
    """Where the image lies in an area of ``cols`` x ``rows`` cells (2 pixels per row).

    ``left``/``top`` are the area-pixel coordinates of the image's top-left corner
    (negative when zoomed in and panned), ``scale`` is area pixels per image pixel.
    """

    cols: int
    rows: int
    image_width: int
    image_height: int
    scale: float
    left: float
    top: float

    @classmethod
    def fit(cls, image_size: tuple[int, int], cols: int, rows: int, view: Viewport) -> Geometry:
        width, height = image_size
        area_w, area_h = max(1, cols), max(1, rows) * 2
        scale = min(area_w / width, area_h / height) * max(MIN_ZOOM, view.zoom)
        shown_w, shown_h = width * scale, height * scale
        return cls(
            cols=cols,
            rows=rows,
            image_width=width,
            image_height=height,
            scale=scale,
            left=_place(area_w, shown_w, view.cx),
            top=_place(area_h, shown_h, view.cy),
        )

    @property
    def centre(self) -> tuple[float, float]:
        """The effective view centre (after clamping), as image fractions."""
        cx = (self.cols / 2 - self.left) / (self.image_width * self.scale)
        cy = (self.rows - self.top) / (self.image_height * self.scale)
        return cx, cy

    def to_percent(self, cell_x: float, cell_y: float) -> tuple[float, float] | None:
        """Image percent at a point given in (fractional) cells; None off the image."""
        px = (cell_x - self.left) / self.scale
        py = (cell_y * 2 - self.top) / self.scale
        if not (0 <= px <= self.image_width and 0 <= py <= self.image_height):
            return None
        return (
            min(100.0, max(0.0, px / self.image_width * 100)),
            min(100.0, max(0.0, py / self.image_height * 100)),
        )

    def to_cell(self, x_percent: float, y_percent: float) -> tuple[int, int]:
        """The cell (column, row) showing an image point given in percent."""
        px = self.left + x_percent / 100 * self.image_width * self.scale
        py = self.top + y_percent / 100 * self.image_height * self.scale
        return int(px // 1), int(py // 2)

    def image_box(self) -> tuple[int, int, int, int]:
        """The area-pixel box (x0, y0, x1, y1) the image covers, clipped to the area."""
        x0 = max(0, round(self.left))
        y0 = max(0, round(self.top))
        x1 = min(self.cols, round(self.left + self.image_width * self.scale))
        y1 = min(self.rows * 2, round(self.top + self.image_height * self.scale))
        return x0, y0, x1, y1

    def contains_cell(self, col: int, row: int) -> bool:
        x0, y0, x1, y1 = self.image_box()
        return x0 <= col < x1 and y0 // 2 <= row < (y1 + 1) // 2


def _place(area: float, shown: float, centre: float) -> float:
    if shown <= area:
        return (area - shown) / 2
    return min(0.0, max(area - shown, area / 2 - centre * shown))


def _xterm_palette() -> Image.Image:
    """A palette image of the xterm 6x6x6 colour cube and grey ramp (240 colours)."""
    levels = (0, 95, 135, 175, 215, 255)
    colours = [(r, g, b) for r in levels for g in levels for b in levels]
    colours += [(8 + 10 * i,) * 3 for i in range(24)]
    flat = [channel for colour in colours for channel in colour]
    flat += flat[-3:] * (256 - len(colours))
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat)
    return palette


_PALETTE_256 = _xterm_palette()
_SIX_BITS = [value & 0xFC for value in range(256)]
_new_tuple = tuple.__new__  # NamedTuple construction without keyword-argument overhead
_TRUECOLOR = ColorType.TRUECOLOR


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


#: Transparency flattened onto this where an opaque image is needed (exports).
FLAT_BACKGROUND = (40, 40, 40)


def opaque(image: Image.Image) -> Image.Image:
    """``image`` as opaque RGB, any transparency composited over ``FLAT_BACKGROUND``."""
    if not _has_alpha(image):
        return image if image.mode == "RGB" else image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*FLAT_BACKGROUND, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def checkered(image: Image.Image, squares: int = 48) -> Image.Image:
    """``image`` as opaque RGB over checks of about ``1/squares`` of its longer side
    (for renderers that draw image pixels, not screen cells)."""
    if not _has_alpha(image):
        return opaque(image)
    rgba = image.convert("RGBA")
    size = max(4, max(rgba.size) // squares)
    board = checkerboard(rgba.width, rgba.height, size).convert("RGBA")
    return Image.alpha_composite(board, rgba).convert("RGB")


@lru_cache(maxsize=8)
def checkerboard(width: int, height: int, size: int = CHECK_SIZE) -> Image.Image:
    """A ``width`` x ``height`` RGB checkerboard of ``size``-pixel squares in ``CHECKS``."""
    across, down = -(-width // size), -(-height // size)
    pattern = Image.new("P", (across, down))
    pattern.putpalette([*CHECKS[0], *CHECKS[1]])
    pattern.putdata([(i + j) % 2 for j in range(down) for i in range(across)])
    board = pattern.resize((across * size, down * size), Image.Resampling.NEAREST)
    return board.crop((0, 0, width, height)).convert("RGB")


class HalfBlockRenderer:
    """Renders one image into strips for any area and viewport; keeps recent results."""

    def __init__(
        self,
        image: Image.Image,
        *,
        background: tuple[int, int, int] = (0, 0, 0),
        colors: ColorMode = "truecolor",
        cache_size: int = 8,
    ) -> None:
        self._given = image
        # An image with transparency is kept premultiplied: resizing it then costs what
        # resizing RGB does (Pillow premultiplies an RGBA image on every resize).
        self._premultiplied: Image.Image | None = None
        self._rgb: Image.Image | None = None
        if _has_alpha(image):
            self._premultiplied = image.convert("RGBA").convert("RGBa")
        else:
            self._rgb = image if image.mode == "RGB" else image.convert("RGB")
        self.background = background
        self.colors: ColorMode = colors
        self._styles: dict[int, Style] = {}  # by (top pixel << 32 | bottom pixel)
        self._colors: dict[int, Color] = {}  # by 32-bit pixel
        self._cache: OrderedDict[tuple[object, ...], list[Strip]] = OrderedDict()
        self._cache_size = cache_size

    @cached_property
    def image(self) -> Image.Image:
        """The image as opaque RGB (for exports): transparency flattened onto
        ``FLAT_BACKGROUND``, made only when asked for."""
        return self._rgb if self._rgb is not None else opaque(self._given)

    @property
    def size(self) -> tuple[int, int]:
        return self._given.size

    def geometry(self, cols: int, rows: int, view: Viewport) -> Geometry:
        return Geometry.fit(self.size, cols, rows, view)

    def render(self, geometry: Geometry) -> list[Strip]:
        """One strip per row of the area, each exactly ``geometry.cols`` cells wide."""
        key = (geometry, self.colors, self.background)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        # Tens of thousands of small objects are made here, none of them in a cycle:
        # the cyclic GC would only walk them over and over (10-15% of the time).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            strips = self._strips(self._pixels(geometry), geometry.cols, geometry.rows)
        finally:
            if gc_was_enabled:
                gc.enable()
        self._cache[key] = strips
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return strips

    def _pixels(self, geometry: Geometry) -> memoryview:
        """The area, ``cols`` x ``rows * 2`` pixels with the image pasted in place, as
        one native-endian 32-bit integer per pixel (R, G, B, padding bytes)."""
        cols, height = geometry.cols, geometry.rows * 2
        canvas = Image.new("RGB", (cols, height), self.background)
        x0, y0, x1, y1 = geometry.image_box()
        if x1 > x0 and y1 > y0:
            scale = geometry.scale
            box = (
                max(0.0, (x0 - geometry.left) / scale),
                max(0.0, (y0 - geometry.top) / scale),
                min(self.size[0], (x1 - geometry.left) / scale),
                min(self.size[1], (y1 - geometry.top) / scale),
            )
            resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST
            size = (x1 - x0, y1 - y0)
            if self._premultiplied is None:
                assert self._rgb is not None
                shown = self._rgb.resize(size, resample, box=box, reducing_gap=2.0)
                canvas.paste(shown, (x0, y0))
            else:
                shown = self._premultiplied.resize(size, resample, box=box, reducing_gap=2.0)
                shown = shown.convert("RGBA")
                canvas.paste(checkerboard(cols, height).crop((x0, y0, x1, y1)), (x0, y0))
                canvas.paste(shown, (x0, y0), shown)  # its alpha as the mask
        if self.colors == "256":
            canvas = canvas.quantize(palette=_PALETTE_256, dither=Image.Dither.NONE).convert("RGB")
        else:
            # 6 bits a channel (262,144 colours): no visible difference in half blocks,
            # but far fewer distinct colours, so more reuse of Styles and longer runs.
            canvas = canvas.point(_SIX_BITS * 3)
        return memoryview(canvas.convert("RGBX").tobytes()).cast("I")

    def _strips(self, pixels: memoryview, cols: int, rows: int) -> list[Strip]:
        """Strips from 32-bit pixels: each row pairs a line of top pixels (foreground of
        the half block) with a line of bottom ones (background); runs of equal pairs
        become one Segment.

        Per-cell work is done by ``set``/``map``/``compress`` in C; Python-level loops
        run once per new colour (a Color), once per new colour pair (a Style) and once
        per row. Colours and styles are kept for the next render of this image.
        """
        colors = self._colors
        order = sys.byteorder
        for pixel in set(pixels).difference(colors):
            rgb = pixel.to_bytes(4, order)[:3]
            # What Color.from_rgb builds, without its per-call formatting overhead.
            triplet = _new_tuple(ColorTriplet, rgb)
            colors[pixel] = _new_tuple(Color, ("#" + rgb.hex(), _TRUECOLOR, None, triplet))

        next_cols = [*range(1, cols), cols]
        row_runs: list[tuple[list[int], list[int]]] = []
        for row in range(rows):
            base = 2 * row * cols
            top = pixels[base : base + cols]
            bottom = pixels[base + cols : base + 2 * cols]
            # One int per cell: top pixel in the high 32 bits, bottom in the low ones.
            keys = list(map(or_, map(lshift, top, repeat(32, cols)), bottom))
            # Where each run of equal pairs starts, and how long it is.
            starts = [0, *compress(next_cols, map(ne, keys[1:], keys))]
            lengths = list(map(sub, [*starts[1:], cols], starts))
            row_runs.append((list(map(keys.__getitem__, starts)), lengths))

        styles = self._styles
        new_style = Style.__new__
        for key in set(chain.from_iterable(keys for keys, _ in row_runs)).difference(styles):
            # Style.from_color(fg, bg), inlined.
            style = new_style(Style)
            style._ansi = None
            style._style_definition = None
            style._color = colors[key >> 32]
            style._bgcolor = colors[key & 0xFFFFFFFF]
            style._set_attributes = 0
            style._attributes = 0
            style._link = None
            style._link_id = ""
            style._meta = None
            style._null = False
            style._hash = None
            styles[key] = style

        style_of = styles.__getitem__
        return [
            Strip(
                list(
                    map(
                        _new_tuple,
                        repeat(Segment),
                        zip(
                            map(mul, repeat(UPPER_HALF), lengths),
                            map(style_of, keys),
                            repeat(None),
                        ),
                    )
                ),
                cols,
            )
            for keys, lengths in row_runs
        ]
