"""Draws ``ImageView``'s pixels with Kitty graphics or Sixel, around Textual's text.

Textual paints the image area as blank cells (``PixelRenderer.render``) and the pins,
crosshair and selection as text cells over them. After each frame this layer sends
only the graphics the frame made necessary:

- **Kitty**: one image per zoom/pan/size state, transmitted once (the last few are kept
  in the terminal, so going back costs only placements), shown above the text by one
  placement per run of image cells in each row. A pin or the crosshair splits its row's
  run: that row's placements are sent again (a few hundred bytes), the image is not.
  (Placing the image under the text, z < 0, would need no re-placing, but kitty 0.26
  under Xvfb draws coloured cells wrongly over such images; runs work everywhere.)
- **Sixel**: the area is cut into at most ``MAX_BANDS`` full-width bands of cell rows,
  fixed per state (xterm keeps 16 images and reuses the one at the same place and
  size, so bands never push each other out). Text written over a sixel erases it (in
  xterm, more than the cells written), so after a frame the bands holding a row that
  Textual wrote to are sent again, with the cells that are text now (pins, crosshair)
  left transparent.

A cell counts as image when it is a blank with no background colour of its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from PIL import Image
from rich.cells import cell_len
from textual.errors import NoWidget
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from imagechat_tui.client import kitty, sixel
from imagechat_tui.client.halfblock import Geometry
from imagechat_tui.client.pixel_renderer import IMAGE_CELL, PixelRenderer
from imagechat_tui.client.terminal_probe import GraphicsMode

MAX_BANDS = 12  # xterm keeps 16 sixel images at once: stay well under
KITTY_IMAGES_KEPT = 4
KITTY_FIRST_ID = 0x1C4A7  # arbitrary, unlikely to clash with another program's ids
SIXEL_SCROLLING = b"\x1b[?80l"  # sixels at the cursor (DECSDM reset), not at the top left


def image_cells(strip: Strip, width: int) -> bytearray:
    """One byte per cell: 1 where the cell shows the image (a blank, default background)."""
    mask = bytearray(width)
    col = 0
    for text, style, control in strip:
        if control:
            continue
        bgcolor = style.bgcolor if style is not None else None
        plain = bgcolor is None or bgcolor.is_default
        for char in text:
            if col >= width:
                return mask
            mask[col] = plain and char == IMAGE_CELL
            col += cell_len(char)
    return mask


def image_runs(mask: bytes | bytearray, width: int) -> list[tuple[int, int]]:
    """The runs [x0, x1) of image cells in a row."""
    runs = []
    start = None
    for x in range(width):
        is_image = x < len(mask) and mask[x]
        if is_image and start is None:
            start = x
        elif not is_image and start is not None:
            runs.append((start, x))
            start = None
    if start is not None:
        runs.append((start, width))
    return runs


def _placement(row: int, n: int) -> int:
    return row * 1024 + n + 1


class PixelLayer:
    """The graphics side of one ``ImageView``."""

    def __init__(
        self,
        widget: Widget,
        renderer: PixelRenderer,
        mode: GraphicsMode,
        *,
        color_registers: int | None = None,
        write: Callable[[bytes], None] | None = None,
    ) -> None:
        self.widget = widget
        self.renderer = renderer
        self.mode = mode
        self.colors = min(sixel.MAX_COLORS, color_registers or sixel.MAX_COLORS)
        self._write = write
        self._scheduled = False
        self._hidden = True
        self._state: tuple[Geometry, Region] | None = None  # what the terminal shows
        self._masks: dict[int, bytearray] = {}  # row -> image cells, as last painted
        self._dirty: dict[int, list[tuple[int, int]]] = {}  # row -> written column spans
        self._quantized: tuple[Geometry, Image.Image] | None = None
        self._kitty_ids: OrderedDict[Geometry, int] = OrderedDict()
        self._placed: dict[int, list[tuple[int, int]]] = {}  # row -> runs placed
        self._covered_before: set[tuple[int, int]] = set()
        self._next_id = KITTY_FIRST_ID
        self._started = False
        self.bytes_written = 0

    # --- from ImageView --------------------------------------------------------------

    def damaged(self, regions: Iterable[Region]) -> None:
        """Textual will write these regions of the widget (content coordinates): text
        written over a sixel erases it there."""
        width, height = self.widget.size
        for region in regions:
            for y in range(max(0, region.y), min(height, region.bottom)):
                self._dirty.setdefault(y, []).append((max(0, region.x), min(width, region.right)))
        self._schedule()

    def painted(self, crop: Region, lines: list[Strip]) -> None:
        """Textual rendered these lines (the widget's ``crop``): which cells are image."""
        width = self.widget.size.width
        for offset, line in enumerate(lines):
            y = crop.y + offset
            mask = self._masks.get(y)
            if mask is None or len(mask) != width:
                mask = self._masks[y] = bytearray(b"\x01" * width)
            fresh = image_cells(line, crop.width)
            mask[crop.x : crop.x + len(fresh)] = fresh
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self.widget.call_after_refresh(self.flush)

    def close(self) -> None:
        """Remove what we drew from the terminal (the app is ending)."""
        if self.mode == "kitty":
            self._send(b"".join(kitty.delete(image_id) for image_id in self._kitty_ids.values()))
            self._kitty_ids.clear()

    # --- after the frame ---------------------------------------------------------------

    def flush(self) -> None:
        self._scheduled = False
        widget = self.widget
        dirty, self._dirty = self._dirty, {}
        if not widget.is_mounted or widget.screen is not widget.app.screen:
            self._hide()  # under a dialog: Textual painted the dialog over our cells
            return
        region = widget.content_region
        if not region.width or not region.height:
            return
        geometry = widget.geometry  # type: ignore[attr-defined]
        covered = self._covered(region)
        visible = {row: bytearray(self._masks.get(row, b"")) for row in range(region.height)}
        for row, x in covered:
            if x < len(visible[row]):
                visible[row][x] = 0
        if self.mode == "kitty":
            self._kitty(geometry, region, visible)
        else:
            # Uncovered cells (a floating widget went away) were repainted by Textual.
            for row, x in self._covered_before - covered:
                dirty.setdefault(row, []).append((x, x + 1))
            self._sixel(geometry, region, dirty, visible)
        self._covered_before = covered

    def _covered(self, region: Region) -> set[tuple[int, int]]:
        """The cells (row, column) of the widget that another widget on top covers."""
        covered: set[tuple[int, int]] = set()
        widget = self.widget
        screen = widget.screen
        ancestors = set(widget.ancestors_with_self)
        for other in screen.walk_children(with_self=False):
            if not isinstance(other, Widget) or other in ancestors or widget in other.ancestors:
                continue
            overlap = other.region.intersection(region)
            for y in range(overlap.y, overlap.bottom):
                for x in range(overlap.x, overlap.right):
                    try:
                        top, _ = screen.get_widget_at(x, y)
                    except NoWidget:  # nothing there: nothing covers us
                        continue
                    if top is not widget:
                        covered.add((y - region.y, x - region.x))
        return covered

    def _hide(self) -> None:
        if self.mode == "kitty" and not self._hidden:
            self._send(b"".join(kitty.hide(image_id) for image_id in self._kitty_ids.values()))
        self._hidden = True
        self._state = None

    def _kitty(self, geometry: Geometry, region: Region, visible: dict[int, bytearray]) -> None:
        out = []
        if self._state != (geometry, region) or self._hidden:
            if not self._hidden and self._state is not None:
                old = self._kitty_ids.get(self._state[0])
                if old is not None:
                    out.append(kitty.hide(old))
            self._placed = {}
            image_id = self._kitty_ids.get(geometry)
            if image_id is None:
                image_id = self._next_id
                self._next_id += 1
                self._kitty_ids[geometry] = image_id
                out.append(kitty.transmit(image_id, self.renderer.view_image(geometry)))
                if len(self._kitty_ids) > KITTY_IMAGES_KEPT:
                    _, oldest = self._kitty_ids.popitem(last=False)
                    out.append(kitty.delete(oldest))
            else:
                self._kitty_ids.move_to_end(geometry)
            self._state = (geometry, region)
            self._hidden = False
        image_id = self._kitty_ids[geometry]
        cell_w, cell_h = self.renderer.cell_width, self.renderer.cell_height
        for row in range(region.height):
            runs = image_runs(visible[row], region.width)
            before = self._placed.get(row, [])
            if runs == before:
                continue
            for n, (x0, x1) in enumerate(runs):
                source = (x0 * cell_w, row * cell_h, (x1 - x0) * cell_w, cell_h)
                out.append(
                    kitty.place(
                        image_id,
                        _placement(row, n),
                        source,
                        x1 - x0,
                        1,
                        row=region.y + row,
                        col=region.x + x0,
                    )
                )
            for n in range(len(runs), len(before)):
                out.append(kitty.unplace(image_id, _placement(row, n)))
            self._placed[row] = runs
        self._send(b"".join(out))

    def bands(self, rows: int) -> list[tuple[int, int]]:
        """The fixed bands (first row, row count) cutting ``rows`` rows."""
        height = max(1, -(-rows // MAX_BANDS))
        return [(top, min(height, rows - top)) for top in range(0, rows, height)]

    def _repainted_rows(self, dirty: dict[int, list[tuple[int, int]]]) -> set[int]:
        """Rows of the image where Textual wrote anything, even only a pin's cells: xterm
        erases more of a sixel than the cells written (on a pin's row, the image from
        the band's left edge up to the pin), so the row's band is drawn again, with the
        text cells left transparent: outside them, the same pixels as before."""
        rows = set()
        for y, spans in dirty.items():
            mask = self._masks.get(y)
            if spans and (mask is None or any(mask)):
                rows.add(y)
        return rows

    def _sixel(
        self,
        geometry: Geometry,
        region: Region,
        dirty: dict[int, list[tuple[int, int]]],
        visible: dict[int, bytearray],
    ) -> None:
        if self._state != (geometry, region) or self._hidden:
            rows = set(range(region.height))  # a new state: every band
        else:
            rows = self._repainted_rows(dirty)
        self._state = (geometry, region)
        self._hidden = False
        if self._quantized is None or self._quantized[0] != geometry:
            view = self.renderer.view_image(geometry)
            self._quantized = (geometry, sixel.quantize(view, self.colors))
        paletted = self._quantized[1]
        cell_w, cell_h = self.renderer.cell_width, self.renderer.cell_height
        out = []
        for top, height in self.bands(region.height):
            if not any(top <= row < top + height for row in rows):
                continue
            box = (0, top * cell_h, region.width * cell_w, (top + height) * cell_h)
            band = paletted.crop(box)
            for row in range(top, top + height):
                mask = visible.get(row, b"")
                for col in range(min(len(mask), region.width)):
                    if not mask[col]:  # text here (a pin, the crosshair): leave it visible
                        y = (row - top) * cell_h
                        band.paste(sixel.HOLE, (col * cell_w, y, (col + 1) * cell_w, y + cell_h))
            out.append(b"\x1b7\x1b[%d;%dH" % (region.y + top + 1, region.x + 1))
            out.append(sixel.encode(band))
            out.append(b"\x1b8")
        if out and not self._started:
            self._started = True
            out.insert(0, SIXEL_SCROLLING)
        self._send(b"".join(out))

    def _send(self, data: bytes) -> None:
        if not data:
            return
        self.bytes_written += len(data)
        if self._write is not None:
            self._write(data)
            return
        driver = self.widget.app._driver  # Textual has no public raw-write API
        if driver is not None:
            driver.write(data.decode("ascii"))
