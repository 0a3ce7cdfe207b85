"""The palette's "Share": an invite link to this room, shown and copied to the clipboard
(OSC 52, so it works over ssh too). The same routine as ``imagechat-tui share``
(client/share.py): when the room was opened from a local file and the server does not show
an image for it yet, the file is uploaded and recorded as the room's image first, so the
link is all anyone needs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from imagechat_tui.client.share import ShareError, share_room
from imagechat_tui.links import LinkError, http_base

if TYPE_CHECKING:
    from imagechat_tui.tui.app import ImageChatApp

SHARE_ROLE = "member"


def invite_link(
    server_url: str, token: str, room: str, image_source: str, title: str, role: str = SHARE_ROLE
) -> str:
    """A new invite link to ``room`` (blocking: run it in a worker thread)."""
    try:
        base = http_base(server_url.split(",", 1)[0])
    except LinkError:
        raise ShareError(
            "Links need a server reached over http(s) or ws(s); this one is not."
        ) from None

    def local_file() -> bytes:
        path = Path(image_source)
        if not path.is_file():
            raise ShareError(
                "This room has no image on the server yet, and the image is not a local "
                "file: share it with `imagechat-tui share FILE`."
            )
        return path.read_bytes()

    import httpx  # ~25 ms: not before the first frame

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60.0) as http:
        # No progress bar: it would draw over the app's screen.
        invite = share_room(
            http, room, image=local_file, title=title, role=role, only_if_missing=True
        )
    return base + str(invite["path"])


def share_from_app(app: ImageChatApp) -> None:
    """Make the link in a thread; show it and copy it when it arrives."""
    connection = app.link
    room, source, title = app.link.replica.room, app.image_source, app.title

    def work() -> None:
        try:
            link = invite_link(connection.url, connection.token, room, source, title)
        except (ShareError, OSError) as exc:
            app.call_from_thread(app.notify, f"Share failed: {exc}", severity="error")
            return
        app.call_from_thread(shared, app, link)

    app.run_worker(work, thread=True, group="share", name="share")


def shared(app: ImageChatApp, link: str) -> None:
    app.copy_to_clipboard(link)
    app.notify(
        f"{link}\nCopied to the clipboard. Anyone with it can join as a {SHARE_ROLE}.",
        title="Share",
        timeout=60,
    )


class ShareCommands(Provider):
    """'Share': an invite link for this room."""

    def _commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        app: ImageChatApp = self.app  # type: ignore[assignment]
        return [
            (
                "Share",
                "Make an invite link to this room, show it and copy it to the clipboard",
                lambda: share_from_app(app),
            )
        ]

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)
