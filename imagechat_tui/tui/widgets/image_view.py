"""The image in half-block pixels, with numbered pins and a keyboard crosshair.

Line API: the image strips come from ``HalfBlockRenderer`` (cached per geometry) and
pins are overlaid per line, so when markers change only the lines whose pins changed
are refreshed: a remote marker costs a few dozen bytes of terminal output, not a
repaint of the image.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from imagechat_tui.client.graphics import TerminalSetup
from imagechat_tui.client.halfblock import Geometry, HalfBlockRenderer, Viewport
from imagechat_tui.client.pixel_renderer import PixelRenderer
from imagechat_tui.positions import percent, pixel
from imagechat_tui.protocol import Chat
from imagechat_tui.tui.widgets import region_overlay
from imagechat_tui.tui.widgets.pixel_layer import PixelLayer
from imagechat_tui.tui.widgets.region_overlay import Frame, RegionDrawing, RegionRequested, Span

PIN_OPEN = Style(color="rgb(0,0,0)", bgcolor="rgb(255,196,0)", bold=True)
PIN_SELECTED = Style(color="rgb(255,255,255)", bgcolor="rgb(220,20,60)", bold=True)
PIN_RESOLVED = Style(color="rgb(150,150,150)", bgcolor="rgb(60,60,60)")
CROSSHAIR = Style(color="rgb(0,255,255)", bgcolor="rgb(0,0,0)", bold=True)
PENDING = Style(color="rgb(0,0,0)", bgcolor="rgb(0,255,255)", bold=True)  # the spot being commented
PENDING_TEXT = "●+"
ZOOM_STEP = 1.5
PAN_STEP = 0.1  # of the visible part


@dataclass(frozen=True, slots=True)
class Pin:
    chat_id: str
    number: int
    x: float  # percent
    y: float
    resolved: bool = False
    w: float | None = None  # a region's size (percent): drawn as a frame from (x, y)
    h: float | None = None


@dataclass(frozen=True, slots=True)
class _PlacedPin:
    chat_id: str
    col: int
    text: str
    style: Style
    order: tuple[bool, int] = (False, 0)  # drawn in this order: the selected one last


def _draw_order(placed: _PlacedPin) -> tuple[bool, int]:
    return placed.order


def _is_region(pin: Pin | None) -> bool:
    return pin is not None and pin.w is not None and pin.h is not None


class PinsOf:
    """The pins of markers, for ``ImageView.show``: the same ``Pin`` object for a marker
    for as long as its pin looks the same (so the view's diff is by identity, and a
    remote event costs the markers it changed)."""

    def __init__(self) -> None:
        self._pins: dict[str, tuple[Chat, Pin]] = {}

    def __call__(self, chats: Sequence[Chat]) -> list[Pin]:
        known = self._pins
        pins = []
        for chat in chats:
            entry = known.get(chat.id)
            if entry is None or entry[0] is not chat:
                pin = Pin(chat.id, chat.number, chat.x, chat.y, chat.resolved, chat.w, chat.h)
                if entry is not None and entry[1] == pin:
                    pin = entry[1]
                known[chat.id] = entry = (chat, pin)
            pins.append(entry[1])
        if len(known) > len(pins):  # markers gone
            for gone in known.keys() - {pin.chat_id for pin in pins}:
                del known[gone]
        return pins


class ImageView(Widget, can_focus=True):
    """Shows the image fitted to its size; zoom, pan, pins, crosshair."""

    BINDINGS = [
        Binding(
            "left,h",
            "move(-1, 0)",
            "Move",
            show=False,
            tooltip="Move the crosshair",
            id="crosshair.left",
        ),
        Binding(
            "right,l",
            "move(1, 0)",
            "Move",
            show=False,
            tooltip="Move the crosshair",
            id="crosshair.right",
        ),
        Binding(
            "up,k",
            "move(0, -1)",
            "Move",
            show=False,
            tooltip="Move the crosshair",
            id="crosshair.up",
        ),
        Binding(
            "down,j",
            "move(0, 1)",
            "Move",
            show=False,
            tooltip="Move the crosshair",
            id="crosshair.down",
        ),
        Binding(
            "shift+left,H",
            "move(-1, 0, 10)",
            "Move x10",
            show=False,
            tooltip="Move the crosshair ten times as far",
            id="crosshair.left-far",
        ),
        Binding(
            "shift+right,L",
            "move(1, 0, 10)",
            "Move x10",
            show=False,
            tooltip="Move the crosshair ten times as far",
            id="crosshair.right-far",
        ),
        Binding(
            "shift+up,K",
            "move(0, -1, 10)",
            "Move x10",
            show=False,
            tooltip="Move the crosshair ten times as far",
            id="crosshair.up-far",
        ),
        Binding(
            "shift+down,J",
            "move(0, 1, 10)",
            "Move x10",
            show=False,
            tooltip="Move the crosshair ten times as far",
            id="crosshair.down-far",
        ),
        Binding(
            "ctrl+left",
            "pan(-1, 0)",
            "Pan",
            show=False,
            tooltip="Pan the zoomed image (or drag)",
            id="view.pan-left",
        ),
        Binding(
            "ctrl+right",
            "pan(1, 0)",
            "Pan",
            show=False,
            tooltip="Pan the zoomed image (or drag)",
            id="view.pan-right",
        ),
        Binding(
            "ctrl+up",
            "pan(0, -1)",
            "Pan",
            show=False,
            tooltip="Pan the zoomed image (or drag)",
            id="view.pan-up",
        ),
        Binding(
            "ctrl+down",
            "pan(0, 1)",
            "Pan",
            show=False,
            tooltip="Pan the zoomed image (or drag)",
            id="view.pan-down",
        ),
        Binding(
            "plus,equals_sign",
            "zoom(1)",
            "Zoom in",
            key_display="+",
            id="view.zoom-in",
            tooltip="Zoom in",
        ),
        Binding(
            "minus", "zoom(-1)", "Zoom out", key_display="-", id="view.zoom-out", tooltip="Zoom out"
        ),
        Binding("0", "fit", "Fit", show=False, id="view.fit", tooltip="Fit the whole image"),
        # Before "place": while a region is drawn, enter finishes it (the footer says so).
        Binding(
            "enter",
            "finish_region",
            "Finish",
            show=False,
            id="marker.region-finish",
            tooltip="Finish the region being drawn",
        ),
        Binding(
            "n,enter",
            "place",
            "New marker",
            key_display="n",
            id="marker.new",
            tooltip="New marker at the crosshair (or click the spot)",
        ),
        Binding(
            "a",
            "draw_region",
            "Region",
            id="marker.region",
            tooltip="New region: a, arrows, enter (or drag)",
        ),
        Binding(
            "escape",
            "cancel_region",
            "Cancel region",
            show=False,
            id="marker.region-cancel",
            tooltip="Cancel the region",
        ),
    ]

    viewport: reactive[Viewport] = reactive(Viewport, layout=False)
    #: Where the crosshair points, in percent of the image (the status bar watches it).
    crosshair: reactive[tuple[float, float]] = reactive((50.0, 50.0), layout=False, repaint=False)

    class PlaceRequested(Message):
        """Place a marker at this image point (percent)."""

        def __init__(self, x: float, y: float) -> None:
            super().__init__()
            self.x = x
            self.y = y

    RegionRequested = RegionRequested

    class Shown(Message):
        """The image is in a frame for the first time (the app connects after it)."""

    class PinClicked(Message):
        def __init__(self, chat_id: str) -> None:
            super().__init__()
            self.chat_id = chat_id

    def __init__(
        self,
        renderer: HalfBlockRenderer | PixelRenderer,
        *,
        id: str | None = None,
        terminal: TerminalSetup | None = None,
    ) -> None:
        super().__init__(id=id)
        self.renderer = renderer
        # Kitty or Sixel: the terminal draws the pixels under / between our text cells.
        self.pixels: PixelLayer | None = None
        if isinstance(renderer, PixelRenderer) and terminal is not None:
            self.pixels = PixelLayer(
                self, renderer, terminal.mode, color_registers=terminal.caps.color_registers
            )
            self.styles.background = "ansi_default"  # blank cells must let the image show
        self.pins: dict[str, Pin] = {}
        self.selected: str | None = None
        self.show_resolved = True
        self._rows: dict[int, list[_PlacedPin]] = {}  # the pins drawn, by row
        self._placed: dict[str, tuple[int, _PlacedPin]] = {}  # the same, by marker
        self._rows_geometry: Geometry | None = None
        self._drag_from: tuple[float, float] | None = None
        self._dragged = False
        self.moving = False  # a click places (a marker being moved), even on a pin
        self._pending_spot: tuple[float, float] | None = None
        self._frames: dict[int, list[Span]] = {}  # region frames by row
        # The region being drawn: its first corner; the crosshair is the other one.
        self.region_anchor: tuple[float, float] | None = None
        # A drawn region whose first comment is being written (x, y, w, h in percent).
        self.pending_region: tuple[float, float, float, float] | None = None
        self._drag_button = 0
        self._shown = False  # the image has been in a frame

    # --- geometry --------------------------------------------------------------------

    @property
    def geometry(self) -> Geometry:
        return self.renderer.geometry(self.size.width, self.size.height, self.viewport)

    def percent_at(self, cell_x: float, cell_y: float) -> tuple[float, float] | None:
        return self.geometry.to_percent(cell_x, cell_y)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    def image_pixel(self, x: float, y: float) -> tuple[int, int]:
        """The image pixel at a point given in percent."""
        width, height = self.renderer.size
        return pixel(x, width), pixel(y, height)  # the one rule, shared with exports

    def describe_spot(self, x: float, y: float) -> str:
        """A point for people: percent of the image and its pixel."""
        px, py = self.image_pixel(x, y)
        return f"{percent(x)}%, {percent(y)}% (pixel {px}, {py})"

    # --- pins ------------------------------------------------------------------------

    @property
    def pending_spot(self) -> tuple[float, float] | None:
        """Where a new marker will go (its first comment is being written), shown as a
        pin of its own until it is sent or cancelled."""
        return self._pending_spot

    @pending_spot.setter
    def pending_spot(self, spot: tuple[float, float] | None) -> None:
        if spot == self._pending_spot:
            return
        self._refresh_spot_row(self._pending_spot)
        self._pending_spot = spot
        if spot is not None:
            col, row = self.geometry.to_cell(*spot)
            if not (0 <= col < self.size.width and 0 <= row < self.size.height):
                self.viewport = Viewport(self.viewport.zoom, spot[0] / 100, spot[1] / 100)
        self._refresh_spot_row(spot)

    def _refresh_spot_row(self, spot: tuple[float, float] | None) -> None:
        if spot is not None and self.size.height:
            _, row = self.geometry.to_cell(*spot)
            self.refresh(Region(0, row, self.size.width, 1))

    def show(
        self,
        pins: list[Pin],
        selected: str | None,
        show_resolved: bool,
        pending: tuple[float, float, float | None, float | None] | None = None,
        moving: bool = False,
    ) -> None:
        """What the view shows of the review, in one call: the pins (resolved ones
        only with ``show_resolved``), the selected one, the new marker being written
        (x, y and, for a region, w, h) and whether a marker is being moved (then a click
        places it, even on a pin). Refreshes only what changed."""
        self.moving = moving
        self.set_pins(pins, selected, show_resolved)
        self.pending_spot = None if pending is None else (pending[0], pending[1])
        x, y, w, h = pending or (0.0, 0.0, None, None)
        region = (x, y, w, h) if w is not None and h is not None else None
        if region != self.pending_region:
            self.pending_region = region
            self.refresh()

    def set_pins(self, pins: list[Pin], selected: str | None, show_resolved: bool) -> None:
        """Show these pins; refreshes only the cells of pins that changed.

        Keyed by marker: a pin passed again as the same ``Pin`` object (``PinsOf``
        keeps them) is not looked at again, so a remote event costs the pins it touched
        (and the two whose selection changed), not every pin in the room."""
        old = self.pins
        self.pins = new = {pin.chat_id: pin for pin in pins}
        if (
            show_resolved != self.show_resolved
            or self.geometry != self._rows_geometry
            or len(new) != len(pins)  # the same marker twice: laid out in full
        ):
            self.selected = selected
            self.show_resolved = show_resolved
            self._relayout_pins(refresh_changed=True)
            return
        touched = {pin.chat_id for pin in pins if old.get(pin.chat_id) is not pin}
        touched |= old.keys() - new.keys()
        if selected != self.selected:  # both redrawn: in the other style, on top or not
            touched |= {chat_id for chat_id in (self.selected, selected) if chat_id is not None}
        self.selected = selected
        if touched:
            self._patch_pins(touched, old)

    def _place(
        self, pin: Pin, geometry: Geometry, width: int, height: int
    ) -> tuple[int, _PlacedPin] | None:
        """Where ``pin`` is drawn in a view of ``width`` x ``height`` cells (its row, and
        what goes there), or None: hidden, or out of the view."""
        if pin.resolved and not self.show_resolved:
            return None
        col, row = _pin_cell(geometry, pin)
        if not (0 <= col < width and 0 <= row < height):
            return None
        selected = pin.chat_id == self.selected
        style = PIN_SELECTED if selected else PIN_RESOLVED if pin.resolved else PIN_OPEN
        return row, _PlacedPin(pin.chat_id, col, f"●{pin.number}", style, (selected, pin.number))

    def _patch_pins(self, touched: set[str], old: dict[str, Pin]) -> None:
        """Place again the pins of the markers in ``touched`` (changed, gone, selected or
        no longer selected); refresh the cells they left and took."""
        geometry = self.geometry
        width, height = self.size
        crosshair_row = geometry.to_cell(*self.crosshair)[1] if self.has_focus else None
        regions = False
        for chat_id in touched:
            before, pin = old.get(chat_id), self.pins.get(chat_id)
            regions |= _is_region(before) or _is_region(pin)
            was = self._placed.pop(chat_id, None)
            if was is not None:
                row, placed = was
                self._rows[row].remove(placed)
                if not self._rows[row]:
                    del self._rows[row]
                self._refresh_pin(row, placed, crosshair_row)
            now = self._place(pin, geometry, width, height) if pin is not None else None
            if now is not None:
                row, placed = now
                self._placed[chat_id] = now
                line = self._rows.setdefault(row, [])
                line.append(placed)
                line.sort(key=_draw_order)  # the selected one on top
                self._refresh_pin(row, placed, crosshair_row)
        if regions:
            self._layout_frames(geometry, refresh_changed=True)

    def _refresh_pin(self, row: int, placed: _PlacedPin, crosshair_row: int | None) -> None:
        # Beside the pin too on the crosshair's row: the crosshair brackets a pin there.
        margin = 1 if row == crosshair_row else 0
        self.refresh(Region(placed.col - margin, row, len(placed.text) + 2 * margin, 1))

    def _relayout_pins(self, refresh_changed: bool) -> None:
        old = self._rows
        new: dict[int, list[_PlacedPin]] = {}
        placed_by_chat: dict[str, tuple[int, _PlacedPin]] = {}
        geometry = self.geometry
        self._rows_geometry = geometry
        width, height = self.size
        if width and height:
            for pin in self.pins.values():
                spot = self._place(pin, geometry, width, height)
                if spot is not None:
                    placed_by_chat[pin.chat_id] = spot
                    new.setdefault(spot[0], []).append(spot[1])
        for line in new.values():
            line.sort(key=_draw_order)
        self._rows, self._placed = new, placed_by_chat
        self._layout_frames(geometry, refresh_changed)
        if refresh_changed:
            # Only the cells under pins that appeared, moved, changed or went away (and
            # beside them on the crosshair's row: it brackets a pin it falls on).
            crosshair_row = geometry.to_cell(*self.crosshair)[1] if self.has_focus else None
            for row in set(old) | set(new):
                before, after = old.get(row, []), new.get(row, [])
                if before != after:
                    for placed in {*before, *after} - ({*before} & {*after}):
                        self._refresh_pin(row, placed, crosshair_row)

    def _layout_frames(self, geometry: Geometry, refresh_changed: bool) -> None:
        """Region frames (``region_overlay``); refreshes the rows whose frames changed."""
        frames = [
            Frame(pin.chat_id, pin.x, pin.y, pin.w, pin.h, _frame_style(pin, self.selected))
            for pin in sorted(self.pins.values(), key=lambda p: p.chat_id == self.selected)
            if pin.w is not None and pin.h is not None and (self.show_resolved or not pin.resolved)
        ]
        old, self._frames = self._frames, region_overlay.layout(geometry, frames, self.size.height)
        if refresh_changed:
            for row in set(old) | set(self._frames):
                if old.get(row) != self._frames.get(row):
                    self.refresh(Region(0, row, self.size.width, 1))

    # --- rendering -------------------------------------------------------------------

    def on_resize(self) -> None:
        self._relayout_pins(refresh_changed=False)

    def watch_viewport(self) -> None:
        self._relayout_pins(refresh_changed=False)
        self._keep_crosshair_in_view()
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if self.pixels is not None:
            self.pixels.painted(crop, lines)  # the graphics follow after this frame
        if not self._shown and lines:
            self._shown = True  # this frame has the image: it is written when we return
            self.post_message(self.Shown())
        return lines

    def _exchange_repaint_regions(self) -> Collection[Region]:
        regions = super()._exchange_repaint_regions()  # what Textual will write of us
        if self.pixels is not None:
            offset = self.content_offset
            self.pixels.damaged(region.translate(-offset) for region in regions)
        return regions

    def on_unmount(self) -> None:
        if self.pixels is not None:
            self.pixels.close()

    def _keep_crosshair_in_view(self) -> None:
        """After a pan or zoom, bring the crosshair to the nearest spot still in view, so
        that n never places a marker where the reviewer cannot see."""
        width, height = self.size
        if not (width and height):
            return
        geometry = self.geometry
        col, row = geometry.to_cell(*self.crosshair)
        if 0 <= col < width and 0 <= row < height:
            return
        (c0, c1), (r0, r1) = _cell_range(geometry)
        col = min(max(col, c0, 0), c1, width - 1)
        row = min(max(row, r0, 0), r1, height - 1)
        spot = geometry.to_percent(col + 0.5, row + 0.5)
        if spot is not None:
            self.crosshair = spot

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        geometry = self.geometry
        if geometry != self._rows_geometry:  # resized, zoomed or panned since the layout
            self._relayout_pins(refresh_changed=False)
        strips = self.renderer.render(geometry)
        strip = strips[y] if y < len(strips) else Strip.blank(width)
        pins = self._rows.get(y, [])
        overlays: list[_PlacedPin] = []
        if self.has_focus:
            col, row = geometry.to_cell(*self.crosshair)
            if row == y:
                overlays = _crosshair(col, pins)
            elif abs(row - y) == 1 and not _on_pin(col, pins):
                overlays = [_PlacedPin("", col, "│", CROSSHAIR)]  # its vertical arms
        if self._pending_spot is not None:
            col, row = geometry.to_cell(*self._pending_spot)
            if row == y:
                pins = [*pins, _PlacedPin("", col, PENDING_TEXT, PENDING)]
        marks = self._frame_spans(y, geometry)
        # Pins last: a pin under the crosshair stays readable, bracketed by it.
        marks += [(placed.col, placed.text, placed.style) for placed in [*overlays, *pins]]
        return _overlay(strip, marks, width)

    def _frame_spans(self, y: int, geometry: Geometry) -> list[tuple[int, str, Style]]:
        """Region frames on line ``y``, and the region being drawn over them."""
        spans = list(self._frames.get(y, ()))
        if (drawing := self.drawn_region() or self.pending_region) is not None:
            box = region_overlay.cell_box(geometry, *drawing)
            spans += region_overlay.frame_spans(box, "", region_overlay.FRAME_DRAWING).get(y, [])
        return [(span.col, span.text, span.style) for span in spans]

    def on_focus(self) -> None:
        self._refresh_crosshair_row()

    def on_blur(self) -> None:
        self._refresh_crosshair_row()

    def _refresh_crosshair_row(self) -> None:
        if self.size.height:
            col, row = self.geometry.to_cell(*self.crosshair)
            self.refresh(Region(0, row, self.size.width, 1))
            self.refresh(Region(col, row - 1, 1, 1), Region(col, row + 1, 1, 1))  # its arms

    # --- actions ---------------------------------------------------------------------

    def action_move(self, dx: int, dy: int, times: int = 1) -> None:
        """Move the crosshair ``times`` steps. A step is one cell, or one image pixel
        when zoomed in so far that a pixel spans several cells (a smaller step could not
        point anywhere new). It stops at the image's edges; when it would leave the
        view, the view pans with it."""
        geometry = self.geometry
        width, height = geometry.image_width, geometry.image_height
        x, y = self.crosshair
        (c0, c1), (r0, r1) = _cell_range(geometry)
        col, row = geometry.to_cell(x, y)
        if dx:
            if geometry.scale <= 1:  # a cell shows one pixel or more
                col = min(max(col + dx * times, c0), c1)
                x = (col + 0.5 - geometry.left) / geometry.scale / width * 100
            else:
                px = min(max(int(x / 100 * width) + dx * times, 0), width - 1)
                x = (px + 0.5) / width * 100
        if dy:
            # A row of cells is two geometry pixels high; the pixel renderer's geometry
            # stretches the image's height to the cells' aspect.
            real_height = self.renderer.size[1]
            if 2 / geometry.scale * real_height / height >= 1:
                row = min(max(row + dy * times, r0), r1)
                y = ((row + 0.5) * 2 - geometry.top) / geometry.scale / height * 100
            else:
                py = min(max(int(y / 100 * real_height) + dy * times, 0), real_height - 1)
                y = (py + 0.5) / real_height * 100
        spot = (min(100.0, max(0.0, x)), min(100.0, max(0.0, y)))
        if spot == self.crosshair:
            return
        self._refresh_crosshair_row()
        self.crosshair = spot
        col, row = geometry.to_cell(*spot)
        view_w, view_h = self.size
        shift_x = col - (view_w - 1) if col >= view_w else min(0, col)
        shift_y = row - (view_h - 1) if row >= view_h else min(0, row)
        if shift_x or shift_y:
            cx, cy = geometry.centre
            self.viewport = Viewport(
                self.viewport.zoom,
                cx + shift_x / (geometry.image_width * geometry.scale),
                cy + shift_y * 2 / (geometry.image_height * geometry.scale),
            )
        else:
            self._refresh_crosshair_row()
        if self.region_anchor is not None:
            self.refresh()  # the region being drawn follows the crosshair

    def show_crosshair_at(self, x: float, y: float) -> None:
        """Put the crosshair on this image point (percent), panning to it if needed."""
        self._refresh_crosshair_row()
        self.crosshair = (x, y)
        col, row = self.geometry.to_cell(x, y)
        if not (0 <= col < self.size.width and 0 <= row < self.size.height):
            self.viewport = Viewport(self.viewport.zoom, x / 100, y / 100)
        self._refresh_crosshair_row()

    def action_pan(self, dx: int, dy: int) -> None:
        cx, cy = self.geometry.centre
        step = PAN_STEP / self.viewport.zoom
        self.viewport = Viewport(self.viewport.zoom, cx, cy).panned(dx * step, dy * step)

    def action_zoom(self, direction: int) -> None:
        cx, cy = self.crosshair[0] / 100, self.crosshair[1] / 100
        if not self.has_focus:
            cx, cy = self.geometry.centre
        factor = ZOOM_STEP if direction > 0 else 1 / ZOOM_STEP
        self.viewport = Viewport(self.viewport.zoom, cx, cy).zoomed(factor)

    def action_fit(self) -> None:
        """The whole image in view."""
        self.viewport = Viewport()

    def zoom_at(self, factor: float, cell_x: float, cell_y: float) -> None:
        """Zoom by ``factor`` keeping the image point under (cell_x, cell_y) in place
        (as far as the image's edges allow)."""
        before = self.geometry
        zoom = Viewport(self.viewport.zoom).zoomed(factor).zoom
        after = self.renderer.geometry(before.cols, before.rows, Viewport(zoom))
        # The point under the pointer, as fractions of the image.
        fx = (cell_x - before.left) / (before.image_width * before.scale)
        fy = (cell_y * 2 - before.top) / (before.image_height * before.scale)
        shown_w = after.image_width * after.scale
        shown_h = after.image_height * after.scale
        cx = fx + (before.cols / 2 - cell_x) / shown_w
        cy = fy + (before.rows - cell_y * 2) / shown_h
        self.viewport = Viewport(zoom, min(1.0, max(0.0, cx)), min(1.0, max(0.0, cy)))

    @property
    def zoom(self) -> float:
        return self.viewport.zoom

    def action_place(self) -> None:
        if self.region_anchor is not None:
            self._finish_region()
            return
        self.post_message(self.PlaceRequested(*self.crosshair))

    # --- drawing a region --------------------------------------------------------------

    def drawn_region(self) -> tuple[float, float, float, float] | None:
        """The region being drawn (x, y, w, h in percent): anchor to crosshair."""
        if self.region_anchor is None:
            return None
        return region_overlay.region_between(self.geometry, self.region_anchor, self.crosshair)

    def action_draw_region(self) -> None:
        """Start a region at the crosshair; arrows stretch it, enter confirms."""
        self.region_anchor = self.crosshair
        self.refresh()
        self.post_message(RegionDrawing(True))

    def action_cancel_region(self) -> None:
        self.region_anchor = None
        self.refresh()
        self.post_message(RegionDrawing(False))

    def action_finish_region(self) -> None:
        self._finish_region()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel_region", "finish_region"):
            return self.region_anchor is not None  # else escape goes on to the app
        if action in ("place", "draw_region"):
            review = getattr(self.app, "review", None)  # the app's; absent in widget tests
            return review is None or review.applies(action)
        return True

    def _finish_region(self) -> None:
        region = self.drawn_region()
        self.region_anchor = None
        self.refresh()
        self.post_message(RegionDrawing(False))
        if region is not None:
            self.post_message(self.RegionRequested(*region))

    # --- mouse -----------------------------------------------------------------------

    def _pointer(self, event: events.MouseEvent) -> tuple[float, float]:
        """The pointer in fractional cells: sub-cell when the terminal reports pixels,
        else the middle of the cell."""
        x, y = event.pointer_x, event.pointer_y
        if float(x).is_integer() and float(y).is_integer():
            return x + 0.5, y + 0.5
        return x, y

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button in (1, 2, 3):
            self._drag_from = (event.pointer_screen_x, event.pointer_screen_y)
            self._drag_button = event.button
            self._dragged = False
            self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag_from is not None and self._drag_button == 1:
            self._drag_region(event)  # a left drag draws a region
            return
        if self._drag_from is None or not event.button:
            return
        fx, fy = self._drag_from
        dx, dy = event.pointer_screen_x - fx, event.pointer_screen_y - fy
        if abs(dx) < 1 and abs(dy) < 1:
            return
        self._dragged = True
        self._drag_from = (event.pointer_screen_x, event.pointer_screen_y)
        geometry = self.geometry
        cx, cy = geometry.centre
        span_x = geometry.image_width * geometry.scale
        span_y = geometry.image_height * geometry.scale / 2
        self.viewport = Viewport(self.viewport.zoom, cx - dx / span_x, cy - dy / span_y)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.zoom_at(ZOOM_STEP, *self._pointer(event))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.zoom_at(1 / ZOOM_STEP, *self._pointer(event))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._drag_from = None
        self.release_mouse()
        if self._drag_button == 1 and self._dragged and self.region_anchor is not None:
            self._finish_region()

    def _drag_region(self, event: events.MouseMove) -> None:
        """Left button held: a region from where it went down to the pointer."""
        assert self._drag_from is not None
        if not self._dragged:
            fx, fy = self._drag_from
            if abs(event.pointer_screen_x - fx) < 1 and abs(event.pointer_screen_y - fy) < 1:
                return  # not moved off the cell yet: still a click
            start = self.percent_at(fx - self.region.x + 0.5, fy - self.region.y + 0.5)
            if start is None:
                return  # started off the image
            self._dragged = True
            self.region_anchor = start
        spot = self.percent_at(*self._pointer(event))
        if spot is not None:
            self.crosshair = spot
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        if event.button != 1 or self._dragged:
            return
        event.stop()
        self.focus()
        for placed in () if self.moving else self._rows.get(event.y, ()):
            if placed.col <= event.x < placed.col + len(placed.text):
                self.post_message(self.PinClicked(placed.chat_id))
                return
        if not self.moving and (hit := region_overlay.frame_at(self._frames, event.x, event.y)):
            self.post_message(self.PinClicked(hit))  # a region's frame selects it too
            return
        spot = self.percent_at(*self._pointer(event))
        if spot is not None:
            self._refresh_crosshair_row()
            self.crosshair = spot
            self._refresh_crosshair_row()
            self.post_message(self.PlaceRequested(*spot))


def _pin_cell(geometry: Geometry, pin: Pin) -> tuple[int, int]:
    """A point's pin is on its cell; a region's sits on its frame's top-left corner."""
    if pin.w is not None and pin.h is not None:
        left, top, _, _ = region_overlay.cell_box(geometry, pin.x, pin.y, pin.w, pin.h)
        return left, top
    return geometry.to_cell(pin.x, pin.y)


def _frame_style(pin: Pin, selected: str | None) -> Style:
    if pin.chat_id == selected:
        return region_overlay.FRAME_SELECTED
    return region_overlay.FRAME_RESOLVED if pin.resolved else region_overlay.FRAME_OPEN


def _cell_range(geometry: Geometry) -> tuple[tuple[int, int], tuple[int, int]]:
    """The first and last column and row whose centres lie on the image (in or out of
    the view)."""
    right = geometry.left + geometry.image_width * geometry.scale
    bottom = geometry.top + geometry.image_height * geometry.scale
    c0, c1 = math.ceil(geometry.left - 0.5), math.floor(right - 0.5)
    r0, r1 = math.ceil(geometry.top / 2 - 0.5), math.floor(bottom / 2 - 0.5)
    return (c0, max(c0, c1)), (r0, max(r0, r1))


def _on_pin(col: int, pins: list[_PlacedPin]) -> bool:
    return any(pin.col <= col < pin.col + len(pin.text) for pin in pins)


def _crosshair(col: int, pins: list[_PlacedPin]) -> list[_PlacedPin]:
    """The crosshair at ``col`` of a row with these pins: ``─┼─`` (with a ``│`` above
    and below: a plus five cells tall and wide, findable on any image; its arms give
    way to pins), or when it falls on a pin, brackets on either side of that pin (the
    topmost one there) so that the pin's number stays readable."""
    under = [pin for pin in pins if pin.col <= col < pin.col + len(pin.text)]
    if not under:
        return [
            _PlacedPin("", x, mark, CROSSHAIR)
            for x, mark in ((col - 1, "─"), (col, "┼"), (col + 1, "─"))
            if x == col or (x >= 0 and not _on_pin(x, pins))
        ]
    pin = under[-1]
    return [
        _PlacedPin("", pin.col - 1, "[", CROSSHAIR),
        _PlacedPin("", pin.col + len(pin.text), "]", CROSSHAIR),
    ]


def _overlay(strip: Strip, marks: list[tuple[int, str, Style]], width: int) -> Strip:
    """``strip`` with each mark's text (one cell a character) drawn from its column,
    in order, a later one over an earlier one, clipped to the line: in one pass over
    the strip however many marks (a row of a big room has dozens of pins)."""
    if not marks:
        return strip
    if strip.cell_length != width:
        strip = strip.adjust_cell_length(width)
    owner = [-1] * width  # which mark each cell shows (-1: the image)
    for index, (col, text, _style) in enumerate(marks):
        start, end = max(0, col), min(width, col + len(text))
        if start < end:
            owner[start:end] = [index] * (end - start)
    spans: list[tuple[int, int, int]] = []  # (start, end, mark) in order along the line
    start = 0
    for mark, cells in itertools.groupby(owner):
        end = start + sum(1 for _ in cells)
        spans.append((start, end, mark))
        start = end
    pieces = list(strip.divide([end for _, end, _ in spans]))  # (a cached list: copied)
    for at, (start, end, mark) in enumerate(spans):
        if mark >= 0:
            col, text, style = marks[mark]
            pieces[at] = Strip([Segment(text[start - col : end - col], style)], end - start)
    return Strip.join(pieces)
