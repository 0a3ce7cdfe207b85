"""Turn an image into terminal cells, two pixels per cell with the upper half block.

Each cell shows two vertically stacked pixels: the top one as the foreground of ``▀``,
the bottom one as its background. ``Geometry`` is the pure mapping between image
percent and cell positions for a given area and ``Viewport`` (zoom and pan); the
``HalfBlockRenderer`` turns a geometry into Textual ``Strip``s, using Pillow for all
per-pixel work and caching Styles per colour pair and strips per view.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Literal

from PIL import Image
from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

ColorMode = Literal["truecolor", "256"]
UPPER_HALF = "\u2580"
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
        self.image = image if image.mode == "RGB" else image.convert("RGB")
        self.background = background
        self.colors: ColorMode = colors
        self._styles: dict[bytes, Style] = {}
        self._colors: dict[bytes, Color] = {}
        self._cache: OrderedDict[tuple[object, ...], list[Strip]] = OrderedDict()
        self._cache_size = cache_size

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def geometry(self, cols: int, rows: int, view: Viewport) -> Geometry:
        return Geometry.fit(self.image.size, cols, rows, view)

    def render(self, geometry: Geometry) -> list[Strip]:
        """One strip per row of the area, each exactly ``geometry.cols`` cells wide."""
        key = (geometry, self.colors, self.background)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        strips = self._strips(self._pixels(geometry), geometry.cols, geometry.rows)
        self._cache[key] = strips
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return strips

    def _pixels(self, geometry: Geometry) -> bytes:
        """The area as RGB bytes, ``cols`` x ``rows * 2`` pixels, image pasted in place."""
        cols, height = geometry.cols, geometry.rows * 2
        canvas = Image.new("RGB", (cols, height), self.background)
        x0, y0, x1, y1 = geometry.image_box()
        if x1 > x0 and y1 > y0:
            scale = geometry.scale
            box = (
                max(0.0, (x0 - geometry.left) / scale),
                max(0.0, (y0 - geometry.top) / scale),
                min(self.image.width, (x1 - geometry.left) / scale),
                min(self.image.height, (y1 - geometry.top) / scale),
            )
            resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST
            shown = self.image.resize((x1 - x0, y1 - y0), resample, box=box, reducing_gap=2.0)
            canvas.paste(shown, (x0, y0))
        if self.colors == "256":
            canvas = canvas.quantize(palette=_PALETTE_256, dither=Image.Dither.NONE).convert("RGB")
        else:
            # 6 bits a channel (262,144 colours): no visible difference in half blocks,
            # but far fewer distinct colours, so more reuse of Styles and longer runs.
            canvas = canvas.point(_SIX_BITS * 3)
        return canvas.tobytes()

    def _color(self, rgb: bytes) -> Color:
        colour = self._colors.get(rgb)
        if colour is None:
            # What Color.from_rgb builds, without its per-call hex formatting overhead.
            triplet = _new_tuple(ColorTriplet, (rgb[0], rgb[1], rgb[2]))
            colour = _new_tuple(Color, ("#" + rgb.hex(), ColorType.TRUECOLOR, None, triplet))
            self._colors[rgb] = colour
        return colour

    def _style(self, pair: bytes) -> Style:
        style = self._styles.get(pair)
        if style is None:
            style = Style.from_color(self._color(pair[:3]), self._color(pair[3:]))
            self._styles[pair] = style
        return style

    def _strips(self, data: bytes, cols: int, rows: int) -> list[Strip]:
        # The hot loop: locals only, and a Style lookup only where the colour pair changes.
        stride = cols * 3
        styles = self._styles
        make_style = self._style
        new_segment = _new_tuple
        strips: list[Strip] = []
        for row in range(rows):
            base = 2 * row * stride
            top = data[base : base + stride]
            bottom = data[base + stride : base + 2 * stride]
            segments: list[Segment] = []
            append = segments.append
            run_key = b""
            run_length = 0
            style: Style | None = None
            for offset in range(0, stride, 3):
                key = top[offset : offset + 3] + bottom[offset : offset + 3]
                if key == run_key:
                    run_length += 1
                    continue
                if run_length:
                    append(new_segment(Segment, (UPPER_HALF * run_length, style, None)))
                style = styles.get(key) or make_style(key)
                run_key, run_length = key, 1
            if run_length:
                append(new_segment(Segment, (UPPER_HALF * run_length, style, None)))
            strips.append(Strip(segments, cols))
        return strips
