"""The app's command palette entries for exporting the review (``imagechat-tui export``
from inside the app): one per format, written next to where the app was started."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from imagechat_tui.export import FORMATS, LABELS, SUFFIXES, Format, Review, render

if TYPE_CHECKING:
    from imagechat_tui.tui.app import ImageChatApp


def export_path(directory: Path, title: str, fmt: Format) -> Path:
    """``<image name>-review.<ext>`` in ``directory``, numbered so nothing is overwritten."""
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(title).stem)
    stem = (stem or "image")[:60] + "-review"
    path = directory / f"{stem}{SUFFIXES[fmt]}"
    number = 2
    while path.exists():
        path = directory / f"{stem}-{number}{SUFFIXES[fmt]}"
        number += 1
    return path


def review_of(app: ImageChatApp) -> Review:
    """What the server has confirmed (own ops still in flight are not in a report)."""
    return Review.of(
        app.link.replica.confirmed.chats.values(),
        room=app.link.replica.room,
        image=app.renderer.image,
        source=app.image_source,
        is_remote=app.image_source.startswith(("http://", "https://")),
        title=app.title,
        exported_at=int(time.time() * 1000),
        digest=_digest(app.image_source),
    )


def _digest(source: str) -> str:
    """SHA-256 of a local image's file (what a W3C export names it by), else ""."""
    if source.startswith(("http://", "https://")):
        return ""
    try:
        return hashlib.sha256(Path(source).expanduser().read_bytes()).hexdigest()
    except OSError:
        return ""


def export_from_app(app: ImageChatApp, fmt: Format, directory: Path | None = None) -> None:
    """Render and write in a thread (a large PNG takes a while); report when done."""
    if not app.link.replica.synced:
        app.notify("Nothing to export yet: the room has not arrived.", severity="warning")
        return
    review = review_of(app)
    path = export_path(directory or Path.cwd(), app.title, fmt)

    # Here, not at the top: export.command is the CLI's and imports typer (the first
    # frame does not need it; tests/tui/test_first_frame_imports.py).
    from imagechat_tui.export.command import write_file

    def work() -> None:
        try:
            write_file(path, render(review, fmt))
        except OSError as exc:
            app.call_from_thread(
                app.notify, f"Export failed: {exc.strerror or exc}", severity="error"
            )
            return
        count = len(review.chats)
        app.call_from_thread(
            app.notify, f"Exported {count} marker{'s' * (count != 1)} to {path}", title="Export"
        )

    app.run_worker(work, thread=True, group="export", name=f"export-{fmt}")


class ExportCommands(Provider):
    """'Export review as Markdown' and the like."""

    def _commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        app: ImageChatApp = self.app  # type: ignore[assignment]
        return [
            (
                f"Export review as {LABELS[fmt]}",
                f"Write every marker and thread to a {SUFFIXES[fmt]} file in the current directory",
                partial(export_from_app, app, fmt),
            )
            for fmt in FORMATS
        ]

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)
