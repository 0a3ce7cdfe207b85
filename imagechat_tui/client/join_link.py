"""Open a room link: redeem its invite once, fetch the room's image, and join.

``imagechat-tui http://HOST:PORT/r/ROOM?invite=CODE`` needs nothing else. The first time
it asks for a display name (unless ``--name``), redeems the invite for a personal token
and keeps name and token for that server (``client.accounts``, mode 0600). Whoever
already holds a token for the server (for that room, or for every room) just opens the
room. The image comes from the server, checked against its digest and cached by it.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagechat_tui.client.accounts import ANY_ROOM, Accounts
from imagechat_tui.client.image_source import LoadedImage, Progress, decode_image
from imagechat_tui.links import LinkError, RoomLink, parse_link
from imagechat_tui.paths import cache_dir
from imagechat_tui.safe_text import inert

if TYPE_CHECKING:
    import httpx  # ~25 ms: imported where a request is made, not before the first frame

TIMEOUT = 20.0
#: Connecting, the TLS handshake included: a server that does not speak TLS may never
#: answer a ClientHello, and that is said after this, not after ``TIMEOUT``.
CONNECT_TIMEOUT = 5.0


class JoinError(Exception):
    """The link cannot be opened; ``str()`` is one line for a person."""


@dataclass(frozen=True, slots=True)
class JoinedLink:
    link: RoomLink
    loaded: LoadedImage
    token: str
    title: str


def open_link(
    text: str,
    *,
    name: str | None = None,
    token: str | None = None,
    verify: ssl.SSLContext | bool = True,
    ask_name: Callable[[], str] | None = None,
    progress: Progress | None = None,
) -> JoinedLink:
    try:
        link = parse_link(text)
    except LinkError as exc:
        raise JoinError(str(exc)) from None
    accounts = _accounts()
    account = accounts.server(link.base)
    import httpx

    timeout = httpx.Timeout(TIMEOUT, connect=CONNECT_TIMEOUT)
    with httpx.Client(base_url=link.base, verify=verify, timeout=timeout) as http:
        held: str | None = token or account.token_for(link.room)
        room = _room(http, link, held) if held else None
        if room is None:  # no token, or the one held was refused: the invite it is
            if link.invite is None:
                raise JoinError(
                    "This link has no invite and you hold no token for that server; "
                    "ask for an invite link."
                )
            display = (name or account.name or accounts.default_name or "").strip()
            if not display:
                if ask_name is None:
                    raise JoinError("Pass --name NAME: the name others see next to your comments.")
                display = ask_name().strip()
            held = _redeem(http, link, display, account.token_for(ANY_ROOM))
            account.tokens[link.room] = held
            account.name = display
            accounts.default_name = accounts.default_name or display
            accounts.save()
            room = _room(http, link, held)
            if room is None:
                raise JoinError("The server refused the token it just gave; try again.")
        elif name and name != account.name:
            account.name = name
            accounts.save()
        image = room.get("image")
        if not isinstance(image, dict):
            raise JoinError("That room was not shared with an image; open it with the image.")
        digest = str(image["digest"])
        assert held is not None  # a room was described: some token was accepted
        data = _image_bytes(http, digest, held, progress)
    loaded = LoadedImage(
        image=decode_image(data, name="the room's image"),
        source=link.url,
        digest=digest,
        is_remote=True,
    )
    return JoinedLink(link=link, loaded=loaded, token=held, title=str(image.get("title") or ""))


def _accounts() -> Accounts:
    try:
        return Accounts()
    except ValueError as exc:
        raise JoinError(str(exc)) from None


def _call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    import httpx

    try:
        return http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise JoinError(unreachable(str(http.base_url).rstrip("/"), exc)) from None


def unreachable(base: str, exc: httpx.HTTPError) -> str:
    """Why ``base`` could not be reached, as one sentence of ours (the library's words
    only in brackets, when it is not a case we know)."""
    import httpx

    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError | OSError):
        cause = cause.__cause__ or cause.__context__
    https = base.startswith("https://")
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (
            f"{base} has a certificate this machine does not trust"
            f" ({cause.verify_message}); pass --ca-file with the CA that signed it."
        )
    if https and (isinstance(cause, ssl.SSLError) or isinstance(exc, httpx.ConnectTimeout)):
        return (
            f"{base} does not answer https (a plain http server?); try the link with"
            " http:// instead."
        )
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
        return f"Cannot reach {base}: nothing is listening there (is the server running?)."
    if isinstance(exc, httpx.TimeoutException):
        return f"Cannot reach {base}: no answer in time."
    detail = inert(str(exc)).rstrip(".") or exc.__class__.__name__
    return f"Cannot reach {base}: the network failed (the HTTP library said: {detail})."


def _error_of(response: httpx.Response) -> str:
    try:
        return inert(str(response.json()["error"]))
    except (ValueError, KeyError, TypeError):
        return f"the server answered {response.status_code}"


def _room(http: httpx.Client, link: RoomLink, token: str) -> dict[str, Any] | None:
    """The room's description, or None when the token is refused (expired, rotated)."""
    from urllib.parse import quote

    response = _call(
        http,
        "GET",
        f"/api/rooms/{quote(link.room, safe='')}",
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code in (401, 403):
        return None
    if response.status_code != 200:
        raise JoinError(f"Cannot open the room: {_error_of(response)}.")
    body = response.json()
    return body if isinstance(body, dict) else None


def _redeem(http: httpx.Client, link: RoomLink, name: str, known: str | None) -> str:
    response = _call(
        http,
        "POST",
        "/api/invites/redeem",
        json={"code": link.invite, "name": name, "token": known, "room": link.room},
    )
    if response.status_code != 200:
        raise JoinError(_error_of(response))
    body = response.json()
    # A server that predates the room check: never keep its token under another room.
    if body.get("room") not in (None, link.room):
        raise JoinError(
            f"This invite is for room {inert(str(body['room']))}, not the room the link"
            " names; open the link it came with."
        )
    return str(body["token"])


def _image_bytes(http: httpx.Client, digest: str, token: str, progress: Progress | None) -> bytes:
    import httpx

    path = _cached(digest)
    if path.exists():
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() == digest:
            return data
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with http.stream("GET", f"/images/{digest}", headers=headers) as response:
            if response.status_code != 200:
                response.read()
                raise JoinError(f"Cannot fetch the room's image: {_error_of(response)}.")
            total = int(response.headers.get("Content-Length", 0)) or None
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, total)
    except httpx.HTTPError as exc:
        raise JoinError(
            f"The image download failed. {unreachable(str(http.base_url).rstrip('/'), exc)}"
        ) from None
    data = b"".join(chunks)
    if hashlib.sha256(data).hexdigest() != digest:
        raise JoinError("The image the server sent does not match its digest; not used.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


def _cached(digest: str) -> Path:
    return cache_dir() / "images" / f"{digest}.img"
