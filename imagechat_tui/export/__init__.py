"""Take a review out of the tool: Markdown, W3C Web Annotation (JSON-LD), PNG, CSV.

Every format renders one ``Review``: a room's markers in number order plus the image
they are on. Rendering is pure (no I/O); ``fetch`` reads a room from a server over the
real protocol and ``command`` is the ``imagechat-tui export`` CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:  # the CLI imports this package for --help: no Pillow, no protocol then
    from PIL import Image

    from imagechat_tui.protocol import Chat

Format = Literal["markdown", "w3c", "png", "csv"]
FORMATS: Final[tuple[Format, ...]] = ("markdown", "w3c", "png", "csv")
SUFFIXES: Final[dict[Format, str]] = {
    "markdown": ".md",
    "w3c": ".jsonld",
    "png": ".png",
    "csv": ".csv",
}
LABELS: Final[dict[Format, str]] = {
    "markdown": "Markdown",
    "w3c": "W3C Web Annotation (JSON-LD)",
    "png": "annotated PNG",
    "csv": "CSV",
}


@dataclass(frozen=True, slots=True)
class Review:
    """What an export shows: one room's markers, in number order, on their image."""

    room: str
    chats: tuple[Chat, ...]
    image: Image.Image  # full resolution, upright, RGB
    source: str  # the image's URL, or its local path
    is_remote: bool
    title: str
    exported_at: int  # epoch ms

    @classmethod
    def of(
        cls,
        chats: Iterable[Chat],
        *,
        room: str,
        image: Image.Image,
        source: str,
        is_remote: bool,
        title: str,
        exported_at: int,
    ) -> Review:
        """A review of ``chats`` (any iterable of Chat), sorted by marker number."""
        ordered = tuple(sorted(chats, key=lambda c: c.number))
        return cls(room, ordered, image, source, is_remote, title, exported_at)


def position(chat: Chat, size: tuple[int, int]) -> str:
    """Where a marker is, for people: percent, and pixels of this image."""
    width, height = size
    px, py = round(chat.x * width / 100), round(chat.y * height / 100)
    if chat.w is None or chat.h is None:
        return f"point at {chat.x:g}%, {chat.y:g}% ({px}, {py} px)"
    pw, ph = round(chat.w * width / 100), round(chat.h * height / 100)
    return (
        f"region at {chat.x:g}%, {chat.y:g}%, {chat.w:g}% x {chat.h:g}% "
        f"({px}, {py} px, {pw} x {ph} px)"
    )


def render(review: Review, fmt: Format) -> bytes:
    """The export of ``review`` in ``fmt``, as the bytes of the file."""
    return _renderers()[fmt](review)


def _renderers() -> dict[Format, Callable[[Review], bytes]]:
    from imagechat_tui.export import csvrows, markdown, png, w3c

    return {
        "markdown": lambda r: markdown.render(r).encode("utf-8"),
        "w3c": lambda r: w3c.render(r).encode("utf-8"),
        "png": png.render,
        "csv": lambda r: csvrows.render(r).encode("utf-8"),
    }
