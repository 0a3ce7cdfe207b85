"""Room links: ``http(s)://HOST:PORT[/PREFIX]/r/ROOM?invite=CODE``.

A link is an ordinary URL on the server, so it passes the same proxy as the WebSocket
(``.../ws`` next to it) and opens in a browser too. Pure: building and parsing only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from imagechat_tui.invites import is_well_formed

ROOM_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-/]{1,128}$")
_LINK_PATH = re.compile(r"^(?P<prefix>(?:/[^/]+)*?)/r/(?P<room>[^/?#]+)/?$")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")


class LinkError(ValueError):
    """Not a usable room link; ``str()`` is one line for a person."""


@dataclass(frozen=True, slots=True)
class RoomLink:
    base: str  # http(s)://host[:port][/prefix], no trailing slash
    room: str
    invite: str | None = None

    @property
    def ws_url(self) -> str:
        return "ws" + self.base.removeprefix("http") + "/ws"

    @property
    def url(self) -> str:
        query = f"?{urlencode({'invite': self.invite})}" if self.invite else ""
        return f"{self.base}/r/{quote(self.room, safe='')}{query}"


def http_base(server: str) -> str:
    """The HTTP base of a server given as ``http(s)://...`` or ``ws(s)://.../ws``."""
    parts = urlsplit(server.strip())
    scheme = {"ws": "http", "wss": "https", "http": "http", "https": "https"}.get(
        parts.scheme.lower()
    )
    if scheme is None or not parts.hostname:
        raise LinkError(f"Not an http(s) or ws(s) server URL: {server!r}.")
    if parts.username is not None or parts.password is not None:
        raise LinkError("A server URL must not carry a user name or password.")
    path = parts.path.rstrip("/").removesuffix("/ws")
    return f"{scheme}://{parts.netloc.lower()}{path}"


def looks_like_room_link(text: str) -> bool:
    """A link to a room rather than to an image file (``/r/NAME``, no image suffix)."""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        return False
    match = _LINK_PATH.match(parts.path)
    if match is None:
        return False
    return "invite=" in parts.query or not match["room"].lower().endswith(_IMAGE_SUFFIXES)


def parse_link(text: str) -> RoomLink:
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise LinkError("A room link starts with http:// or https:// and names a server.")
    if parts.username is not None or parts.password is not None:
        raise LinkError("A room link must not carry a user name or password.")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise LinkError("The room link's port is not a number from 0 to 65535.") from None
    match = _LINK_PATH.match(parts.path)
    if match is None:
        raise LinkError("Not a room link: its path should end in /r/ROOM.")
    room = unquote(match["room"])
    if not ROOM_PATTERN.match(room):
        raise LinkError("The room link's room name is malformed.")
    query = parse_qs(parts.query, keep_blank_values=True)
    codes = query.get("invite", [])
    if len(codes) > 1 or (codes and not is_well_formed(codes[0])):
        raise LinkError("The room link's invite code is malformed; copy the whole link again.")
    base = f"{parts.scheme.lower()}://{parts.netloc.lower()}{match['prefix']}"
    return RoomLink(base=base, room=room, invite=codes[0] if codes else None)
