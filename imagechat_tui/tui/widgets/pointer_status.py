"""The status bar's view of where the reviewer points: zoom, and the crosshair in
percent of the image and in image pixels. Follows the image view by watching it; on
narrow screens (the app's ``-narrow`` breakpoint) a shorter form leaves room for
messages."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from imagechat_tui.tui.widgets.image_view import ImageView


def pointer_text(view: ImageView, short: bool = False) -> str:
    zoom = view.viewport.zoom
    x, y = view.crosshair
    px, py = view.image_pixel(x, y)
    level = "fit" if zoom == 1 else f"{zoom:.1f}x"
    if short:
        return f"{level} {x:.0f}%,{y:.0f}% {px},{py}px"
    return f"{level} · {x:.1f}%, {y:.1f}% · px {px},{py}"


class PointerStatus(Horizontal):
    SCOPED_CSS = False  # its rules look at the screen's breakpoint class
    DEFAULT_CSS = """
    PointerStatus {
        width: auto;
        height: 1;
        padding: 0 1;
        & > Static {
            width: auto;
            color: $text-muted;
            text-wrap: nowrap;
        }
    }
    PointerStatus > .short, .-narrow PointerStatus > .long {
        display: none;
    }
    .-narrow PointerStatus > .short {
        display: block;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(classes="long")
        yield Static(classes="short")

    def on_mount(self) -> None:
        view = self.app.query_one(ImageView)
        self.watch(view, "crosshair", self._show, init=False)
        self.watch(view, "viewport", self._show, init=False)
        self._show()

    def _show(self, *_changed: object) -> None:
        view = self.app.query_one(ImageView)
        self.query_one(".long", Static).update(Text(pointer_text(view)))
        self.query_one(".short", Static).update(Text(pointer_text(view, short=True)))

    def cells(self) -> int:
        """Cells it takes, padding included, for where the crosshair is now (worked out
        afresh: its text may not be updated yet when the crosshair has just moved)."""
        short = not self.query_one(".long", Static).display
        text = pointer_text(self.app.query_one(ImageView), short=short)
        return cell_len(text) + self.styles.gutter.width

    def render_text(self) -> str:
        """What it shows now (the form the styles display at this width)."""
        (shown,) = [child for child in self.query(Static) if child.display]
        return str(shown.render())
