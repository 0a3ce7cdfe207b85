"""Which pages may open a WebSocket on this server: cross-site WebSocket hijacking.

A browser sends the page's ``Origin`` with every WebSocket handshake and does not let a
page forge it; it also sends the user's cookies, so without this check a page on any
site could open a socket as the user. Allowed: no ``Origin`` (not a browser: the
terminal app, scripts), the server's own origin (the ``Host`` the request came to), and
the origins given with ``serve --allowed-origin`` (a proxy that rewrites ``Host``).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class OriginError(ValueError):
    """A malformed ``--allowed-origin``; ``str()`` is one line for a person."""


def normalize(origin: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, default port dropped; None if not an origin."""
    parts = urlsplit(origin.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def allowed_origins(values: Iterable[str]) -> frozenset[str]:
    """Check ``--allowed-origin`` values once, at start-up."""
    out = set()
    for value in values:
        origin = normalize(value)
        if origin is None:
            raise OriginError(
                f"--allowed-origin {value!r} is not an origin: use scheme://host[:port], "
                "e.g. https://review.example.com."
            )
        out.add(origin)
    return frozenset(out)


def origin_allowed(origin: str | None, host: str | None, extra: frozenset[str]) -> bool:
    if origin is None:
        return True  # not a browser: a browser always sends Origin on a WebSocket
    wanted = normalize(origin)
    if wanted is None:
        return False  # "null" (a sandboxed or file: page) and anything malformed
    if wanted in extra:
        return True
    if not host:
        return False
    # The page's origin must be this server as the browser addressed it (scheme aside:
    # an https page reaches its own wss, a TLS-terminating proxy speaks http to us).
    scheme = wanted.partition("://")[0]
    return normalize(f"{scheme}://{host}") == wanted
