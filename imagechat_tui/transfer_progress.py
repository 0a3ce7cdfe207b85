"""The one progress bar for moving an image over the network (downloads and uploads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

#: Transfers smaller than this finish too soon for a bar to help.
PROGRESS_FROM_BYTES = 1_000_000


def transfer_progress(console: Console, *, disable: bool = False) -> Progress:
    """A transient bar with bytes and speed, drawn on ``console`` (stderr, for the CLI)."""
    # Imported when a bar is made: the app imports this module (sharing) for its first
    # frame, which needs no bar (tests/tui/test_first_frame_imports.py).
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
        disable=disable,
    )
