"""The status bar's view of where the reviewer points: zoom, and the crosshair in
percent of the image and in image pixels. Follows the image view by watching it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from imagechat_tui.tui.widgets.image_view import ImageView


def pointer_text(view: ImageView) -> str:
    zoom = view.viewport.zoom
    x, y = view.crosshair
    px, py = view.image_pixel(x, y)
    level = "fit" if zoom == 1 else f"{zoom:.1f}x"
    return f"{level} · {x:.1f}%, {y:.1f}% · px {px},{py}"


class PointerStatus(Static):
    DEFAULT_CSS = """
    PointerStatus {
        width: auto;
        padding: 0 1;
        color: $text-muted;
        text-wrap: nowrap;
    }
    """

    def on_mount(self) -> None:
        view = self.app.query_one(ImageView)
        self.watch(view, "crosshair", self._show, init=False)
        self.watch(view, "viewport", self._show, init=False)
        self._show()

    def _show(self, *_changed: object) -> None:
        self.update(Text(pointer_text(self.app.query_one(ImageView))))
