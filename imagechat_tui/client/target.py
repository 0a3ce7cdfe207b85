"""What opening IMAGE resolves to, for every command that opens a room: the image, its
room, the server and who we are (``resolve``), and how an expected failure is reported
(``report``: one line, an exit code). ``imagechat-tui IMAGE`` opens the ``Target`` in the
app; ``imagechat-tui export`` reads the same room from the same server. No UI here.

``is_loopback`` is the one rule for "that server is on this machine, so it shares our data
directory and our local token works there", used by open, export and share.
"""

from __future__ import annotations

import ipaddress
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from imagechat_tui.auth import AuthError, local_user_id, unverified_claims
from imagechat_tui.client.connection import PEER_TOKEN, UNIX_PREFIX, server_urls
from imagechat_tui.client.image_source import ImageLoadError, LoadedImage, is_url, load_image
from imagechat_tui.client.join_link import JoinError, open_link
from imagechat_tui.client.local_server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_URL,
    LocalServerError,
    LocalServerKeeper,
    local_token,
)
from imagechat_tui.links import ROOM_PATTERN, looks_like_room_link
from imagechat_tui.paths import data_home
from imagechat_tui.protocol import User
from imagechat_tui.safe_text import inert

if TYPE_CHECKING:
    from rich.console import Console

EXIT_USAGE = 2
EXIT_FAILED = 1


Remint = Callable[[], str] | None


class LaunchError(Exception):
    """A problem to report in one line before anything starts."""


@dataclass(frozen=True, slots=True)
class Target:
    """What opening IMAGE resolved to: the image, its room, the server and who we are.

    The app opens it; ``imagechat-tui export`` reads the same room from the same server.
    """

    loaded: LoadedImage
    room: str
    server_url: str
    token: str
    user: User
    title: str
    ssl_context: ssl.SSLContext | None
    remint_token: Remint  # mints a fresh local token, if the server is local
    keeper: LocalServerKeeper | None = None  # the local server we started, kept running


#: The expected failures of ``resolve``: each is reported as one line.
TargetError = (LaunchError, ImageLoadError, LocalServerError, JoinError)


def is_loopback(url: str) -> bool:
    """Whether every server in ``url`` (one ``ws(s)://``/``http(s)://`` URL or a comma
    list) is on this machine: ``localhost`` or a loopback address (127.0.0.0/8, ::1).
    Only then is the local token sent; one remote node in the list rules it out."""
    urls = server_urls(url)
    return bool(urls) and all(_host_is_loopback(urlsplit(u).hostname or "") for u in urls)


def _host_is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(
    image: str,
    server: str | None,
    room: str | None,
    token: str | None,
    ca_file: str | None,
    err: Console,
    name: str | None = None,
) -> Target:
    """Load ``image`` and find its room, server and token (raises one of TargetError)."""
    if looks_like_room_link(image):
        return _resolve_link(image, token, ca_file, err, name)
    loaded = _load(image, err, ssl_context(ca_file))
    room_name = room or loaded.default_room
    if not ROOM_PATTERN.match(room_name):
        raise LaunchError(
            "The room may only use letters, digits and _ . : - / (at most 128 characters)."
        )
    server_url, token, remint, keeper = _server_and_token(server, token, name)
    return Target(
        loaded=loaded,
        room=room_name,
        server_url=server_url,
        token=token,
        user=_user_from_token(token),
        title=Path(image).name if not is_url(image) else image.rsplit("/", 1)[-1] or image,
        ssl_context=ssl_context(ca_file) if server_url.startswith("wss://") else None,
        remint_token=remint,
        keeper=keeper,
    )


def report(err: Console, exc: Exception) -> int:
    """Print an expected failure as one line; returns the exit code for it."""
    # One line, whatever the terminal's width (soft_wrap: no hard line breaks).
    err.print(f"imagechat-tui: {inert(str(exc))}", markup=False, soft_wrap=True)
    return EXIT_USAGE if isinstance(exc, LaunchError) else EXIT_FAILED


def ssl_context(ca_file: str | None) -> ssl.SSLContext | None:
    """A context trusting ``ca_file`` (None: the system's CAs)."""
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise LaunchError(f"Cannot use CA file {ca_file}: {exc}.") from None


def ask_until_named(prompt: Callable[[], str], say: Callable[[str], object]) -> str:
    """Ask for a display name until one is given, saying why an empty one will not do
    (the prompt used to repeat the question without a word)."""
    while not (name := prompt().strip()):
        say("A name is needed: it is shown beside your comments (any name you like).")
    return name


def _resolve_link(
    link: str, token: str | None, ca_file: str | None, err: Console, name: str | None
) -> Target:
    """A room link (``http://HOST/r/ROOM?invite=CODE``): the server, room and image are
    the link's; the token is the one held for that server or the invite's."""
    context = ssl_context(ca_file)

    def ask_name() -> str:
        if not sys.stdin.isatty():
            raise LaunchError("Pass --name NAME: the name others see next to your comments.")
        import typer

        def prompt() -> str:
            answer = typer.prompt("Your name, as others in the room will see it", default="")
            return str(answer)

        return ask_until_named(prompt, err.print)

    joined = open_link(link, name=name, token=token, verify=context or True, ask_name=ask_name)
    ws_url = joined.link.ws_url
    return Target(
        loaded=joined.loaded,
        room=joined.link.room,
        server_url=ws_url,
        token=joined.token,
        user=_user_from_token(joined.token),
        title=joined.title or joined.link.room,
        ssl_context=context if ws_url.startswith("wss://") else None,
        remint_token=None,
    )


def _load(image: str, err: Console, context: ssl.SSLContext | None) -> LoadedImage:
    if not is_url(image):
        return load_image(image)
    if not err.is_terminal:  # no progress bar into a file or pipe
        return load_image(image, verify=context or True)
    # Only for a URL: rich.progress is not imported for a file (the first paint waits).
    from imagechat_tui.transfer_progress import PROGRESS_FROM_BYTES, transfer_progress

    with transfer_progress(err) as progress:
        task = progress.add_task("Downloading", total=None, visible=False)

        def report(received: int, total: int | None) -> None:
            big = (total or received) >= PROGRESS_FROM_BYTES
            progress.update(task, completed=received, total=total, visible=big)

        return load_image(image, progress=report, verify=context or True)


def _server_and_token(
    server: str | None, token: str | None, name: str | None = None
) -> tuple[str, str, Remint, LocalServerKeeper | None]:
    """The server URL and token (and how to mint a fresh one, for a local server); with
    no server, the local default, started if needed and kept running if we started it."""
    if server and server.startswith(UNIX_PREFIX):
        # A peer-authenticated socket: our OS account is who we are, no token needed.
        return server, token or PEER_TOKEN, None, None
    if server:
        urls = server_urls(server)  # several: the app fails over between them in turn
        for url in urls or ("",):
            if not url.startswith(("ws://", "wss://")):
                raise LaunchError(f"The server must be a ws:// or wss:// URL, not {url!r}.")
        url = ",".join(urls)
        if token:
            return url, token, None, None
        if is_loopback(url):  # a local server shares our data dir
            return url, local_token(name=name), partial(local_token, name=name), None
        raise LaunchError("A token is needed for that server: pass --token or set IMAGECHAT_TOKEN.")
    if token:
        return DEFAULT_URL, token, None, None
    # Found or started by the connection's first attempt, while the app draws the image.
    keeper = LocalServerKeeper(None, host=DEFAULT_HOST, port=DEFAULT_PORT, home=data_home())
    return DEFAULT_URL, local_token(name=name), partial(local_token, name=name), keeper


def _user_from_token(token: str) -> User:
    """Who we are, read (not verified: the server does that) from the token."""
    if token == PEER_TOKEN:  # the server knows us by our OS account
        return User(id=local_user_id(), name=local_user_id())
    try:
        claims = unverified_claims(token)
    except AuthError:
        raise LaunchError(
            "The token is not a valid JWT; get one with `imagechat-tui token`."
        ) from None
    sub = str(claims.get("sub", "me"))
    return User(id=sub, name=str(claims.get("name", sub)))
