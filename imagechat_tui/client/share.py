"""The one share routine, for ``imagechat-tui share IMAGE`` and the app's palette "Share":
make sure the server shows the room's image (upload the bytes if it lacks them, record
them as the room's image), then create an invite. Blocking HTTP: the app runs it in a
worker thread. Every failure is a ``ShareError`` whose text is one line for a person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from imagechat_tui.transfer_progress import PROGRESS_FROM_BYTES, transfer_progress

if TYPE_CHECKING:
    import httpx  # ~25 ms: imported where a request is made, not before the first frame
    from rich.console import Console

CHUNK = 256 * 1024


class ShareError(Exception):
    """One line for a person; the command exits non-zero, the app shows it."""


def share_room(
    http: httpx.Client,
    room: str,
    *,
    image: Callable[[], bytes],
    title: str,
    role: str,
    expires_in: int | None = None,
    max_uses: int | None = None,
    progress: Console | None = None,
    only_if_missing: bool = False,
) -> dict[str, Any]:
    """Share ``room`` on the server ``http`` is for; returns the new invite (its ``id``,
    ``path`` and ``expires_at``).

    ``image`` gives the bytes, asked for only when they are to be recorded: always, or with
    ``only_if_missing`` only when the room shows no image yet (the palette's case: the room
    may have been opened from a link, the file already shared). The server keeps a room's
    image once: another image for a room that has one is refused (409), in one line.
    ``progress``: the console for an upload's progress bar (a terminal, a large image).
    """
    if (
        not only_if_missing
        or call(http, "GET", f"/api/rooms/{quote(room, safe='')}", {200}).get("image") is None
    ):
        data = image()
        digest = hashlib.sha256(data).hexdigest()
        upload(http, data, digest, progress)
        call(
            http,
            "POST",
            "/api/rooms",
            {201, 200},
            json={"room": room, "image": digest, "title": title},
        )
    body: dict[str, Any] = {"room": room, "role": role}
    if expires_in is not None:
        body["expires_in"] = expires_in
    if max_uses is not None:
        body["max_uses"] = max_uses
    return call(http, "POST", "/api/invites", {201}, json=body)


def call(http: httpx.Client, method: str, path: str, ok: set[int], **kwargs: Any) -> dict[str, Any]:
    """One request; its JSON object, or ``ShareError`` with the server's reason."""
    import httpx

    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ShareError(f"Cannot reach {http.base_url}: {exc or 'no answer'}.") from None
    if response.status_code not in ok:
        raise ShareError(f"{method} {path}: {_error_of(response)}")
    body = response.json()
    return body if isinstance(body, dict) else {}


def _error_of(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"the server answered {response.status_code}."


def upload(http: httpx.Client, data: bytes, digest: str, progress: Console | None) -> None:
    """Store ``data`` on the server unless it has it; a bar on ``progress`` when that is a
    terminal and the image large enough for one to help."""
    import httpx

    try:
        if http.head(f"/images/{digest}").status_code == 200:
            return  # the server has it already
    except httpx.HTTPError as exc:
        raise ShareError(f"Cannot reach {http.base_url}: {exc or 'no answer'}.") from None
    show = progress is not None and progress.is_terminal and len(data) >= PROGRESS_FROM_BYTES
    if progress is None:
        from rich.console import Console

        progress = Console(quiet=True)
    with transfer_progress(progress, disable=not show) as bar:
        task = bar.add_task("Uploading", total=len(data))

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), CHUNK):
                piece = data[start : start + CHUNK]
                yield piece
                bar.advance(task, len(piece))

        # An explicit length: the server reads a sized body, never a chunked one.
        call(
            http,
            "PUT",
            f"/images/{digest}",
            {200, 201},
            content=chunks(),
            headers={"Content-Length": str(len(data))},
        )
