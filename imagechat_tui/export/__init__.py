"""Take a review out of the tool: Markdown, W3C Web Annotation (JSON-LD), PNG, CSV, .xlsx.

Every format renders one ``Review``: a room's markers in number order plus the image
they are on. Rendering is pure (no I/O); ``fetch`` reads a room from a server over the
real protocol and ``command`` is the ``imagechat-tui export`` CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # the CLI imports this package for --help: no Pillow, no protocol then
    from PIL import Image

    from imagechat_tui.protocol import Chat

Format = Literal["markdown", "w3c", "png", "csv", "xlsx"]
FORMATS: Final[tuple[Format, ...]] = ("markdown", "w3c", "png", "csv", "xlsx")
SUFFIXES: Final[dict[Format, str]] = {
    "markdown": ".md",
    "w3c": ".w3c.json",
    "png": ".png",
    "csv": ".csv",
    "xlsx": ".xlsx",
}
LABELS: Final[dict[Format, str]] = {
    "markdown": "Markdown",
    "w3c": "W3C Web Annotation (JSON-LD)",
    "png": "annotated PNG",
    "csv": "CSV",
    "xlsx": "spreadsheet (.xlsx)",
}


@dataclass(frozen=True, slots=True)
class Review:
    """What an export shows: one room's markers, in number order, on their image."""

    room: str
    chats: tuple[Chat, ...]
    image: Image.Image  # full resolution, upright, RGB
    source: str  # the image's URL (a room link when shared), or its local path
    is_remote: bool
    title: str
    exported_at: int  # epoch ms
    digest: str = ""  # SHA-256 hex of the image's bytes

    @property
    def public_source(self) -> str:
        """The image for anyone reading the export: its URL (a room link without its
        invite code, which is a credential), or ``urn:sha256:`` of its bytes for a local
        file: a path on the exporting machine means nothing to anyone else."""
        if self.is_remote:
            return _without_invite(self.source)
        return f"urn:sha256:{self.digest}"

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
        digest: str = "",
    ) -> Review:
        """A review of ``chats`` (any iterable of Chat), sorted by marker number."""
        ordered = tuple(sorted(chats, key=lambda c: c.number))
        return cls(room, ordered, image, source, is_remote, title, exported_at, digest)


def _without_invite(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "invite"]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def position(chat: Chat, size: tuple[int, int]) -> str:
    """Where a marker is, for people: percent, and pixels of this image (the app's rule)."""
    from imagechat_tui.positions import describe

    return describe(chat.x, chat.y, chat.w, chat.h, size)


def render(review: Review, fmt: Format) -> bytes:
    """The export of ``review`` in ``fmt``, as the bytes of the file."""
    return _renderers()[fmt](review)


def _renderers() -> dict[Format, Callable[[Review], bytes]]:
    from imagechat_tui.export import csvrows, markdown, png, w3c, xlsx

    return {
        "markdown": lambda r: markdown.render(r).encode("utf-8"),
        "w3c": lambda r: w3c.render(r).encode("utf-8"),
        "png": png.render,
        "csv": lambda r: csvrows.render(r).encode("utf-8"),
        "xlsx": xlsx.render,
    }
