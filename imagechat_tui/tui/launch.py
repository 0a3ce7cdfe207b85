"""``imagechat-tui IMAGE``: resolve the target (client/target.py), run the app.

Every expected failure (image, room, server, token, CA file) ends as one line on
stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import ssl
import sys

from rich.console import Console

from imagechat_tui.backoff import Backoff
from imagechat_tui.client.connection import Connection
from imagechat_tui.client.graphics import detect_terminal
from imagechat_tui.client.local_server import LocalServerKeeper
from imagechat_tui.client.target import LaunchError, TargetError, report, resolve
from imagechat_tui.client.terminal_probe import GRAPHICS_CHOICES, Asked
from imagechat_tui.model import Actor
from imagechat_tui.protocol import User
from imagechat_tui.replica import Replica
from imagechat_tui.tui.activity import ALERT_MODES


def build_connection(
    server_url: str,
    token: str,
    room: str,
    user: User,
    *,
    ssl_context: ssl.SSLContext | None = None,
    keeper: LocalServerKeeper | None = None,
    backoff: Backoff | None = None,
) -> Connection:
    """The app's link to the room, not yet running (the app runs it). With ``keeper``,
    a local server this process started is started again if it dies."""
    return Connection(
        server_url,
        token,
        Replica(room, Actor(user=user)),
        ssl_context=ssl_context,
        backoff=backoff,
        revive=keeper.revive if keeper is not None else None,
    )


def run(
    image: str,
    server: str | None,
    room: str | None,
    token: str | None,
    ca_file: str | None,
    *,
    graphics: str = "auto",
    name: str | None = None,
    alert: str = "auto",
    asked: Asked | None = None,
) -> int:
    """Open ``image`` for review; returns the process exit code. ``asked``: the terminal
    was asked what it can show before this was imported (entry.py); its replies are
    read here, and the terminal given its mode back whatever happens."""
    try:
        return _run(image, server, room, token, ca_file, graphics, name, alert, asked)
    finally:
        if asked is not None:
            asked.close()


def _run(
    image: str,
    server: str | None,
    room: str | None,
    token: str | None,
    ca_file: str | None,
    graphics: str,
    name: str | None,
    alert: str,
    asked: Asked | None,
) -> int:
    err = Console(stderr=True, highlight=False)
    try:
        if graphics not in GRAPHICS_CHOICES:
            raise LaunchError(f"--graphics must be one of {', '.join(GRAPHICS_CHOICES)}.")
        if alert not in ALERT_MODES:
            raise LaunchError(f"--alert must be one of {', '.join(ALERT_MODES)}.")
        target = resolve(image, server, room, token, ca_file, err, name)
    except TargetError as exc:
        return report(err, exc)
    terminal = detect_terminal(graphics, asked=asked)  # type: ignore[arg-type]  # checked above
    from imagechat_tui.tui.app import ImageChatApp  # Textual import only when needed

    connection = build_connection(
        target.server_url,
        target.token,
        target.room,
        target.user,
        ssl_context=target.ssl_context,
        keeper=target.keeper,
    )
    app = ImageChatApp(
        target.loaded.image,
        connection,
        title=target.title,
        remint_token=target.remint_token,
        image_source=target.loaded.source,
        terminal=terminal,
        alert=alert,
    )
    try:
        app.run()
    except KeyboardInterrupt:
        return 130
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover - convenience for manual runs
    sys.exit(run(sys.argv[1], None, None, None, None))
