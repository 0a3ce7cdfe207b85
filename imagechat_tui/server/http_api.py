"""The HTTP routes' interface: what a route gets, what it answers, how it is registered.

Every HTTP request on the node's port (everything but the WebSocket upgrade on ``/ws``)
is parsed by ``server.http_door`` (h11) and handed to the one ``Router`` built in
``server/node.py``. A route sees the request's head at once and its body only if it
asks for it, so it decides from the head (path, method, credentials) and a refusal is
answered before a byte of the body is read.

How to add a route
------------------

1. Write an async handler ``(request: HttpRequest) -> HttpResponse``::

       async def metrics(request: HttpRequest) -> HttpResponse:
           if request.headers.get("Authorization") != expected:   # from the head
               raise HttpError(HTTPStatus.UNAUTHORIZED, "Send the metrics token.")
           return HttpResponse(HTTPStatus.OK, text, content_type="text/plain")

2. Register it in ``start_server`` (server/node.py)::

       router.add("GET", "/metrics", metrics)
       router.add("PUT", "/images/{digest}", put_image)   # request.params["digest"]

   A ``{name}`` matches one path segment (no ``/``), still percent-encoded; a path
   ending in ``{name...}`` matches the rest of the path (static files). ``GET`` routes
   answer ``HEAD`` too (the door sends the headers, not the body). A path that matches
   with another method gets ``405`` with ``Allow``; no match: ``404``.

3. Read the body only after deciding to accept the request, through ``request.body``:
   ``await request.body.json()`` (a small JSON object, in memory), ``await
   request.body.read(limit)`` (small bytes) or ``await request.body.spool(limit)`` (a
   temporary file with the SHA-256 and size, for uploads: never whole in memory). Each
   answers 413 before reading when the declared length is over ``limit`` and 503 when
   the server's budget of bodies in flight is spent (``HttpError``, raised through the
   handler). A body never asked for is drained or the connection closed by the door.

4. Answer with ``HttpResponse``: ``body`` is ``bytes``, a ``Path`` (a file, streamed
   with its size as Content-Length) or an async iterator of ``bytes`` (streamed,
   chunked unless the headers give a Content-Length). ``headers`` is a dict or a list
   of pairs (repeat a name, e.g. ``Set-Cookie``, with the list). ``Cache-Control:
   no-store`` and ``X-Content-Type-Options: nosniff`` are added unless given; an HTML
   page always gets ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'`` in its CSP
   (``page_headers``).
   ``raise HttpError(status, message)`` answers ``{"error": message}`` (JSON) from
   anywhere in a handler; an unexpected exception is logged and answered 500.

``HttpRequest.connection`` is the websockets connection (e.g. its transport for peer
credentials); ``peer`` the client's address (the proxy's, behind one).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

#: A JSON body larger than this is refused (413) before it is read.
MAX_JSON_BYTES = 16 * 1024


class HttpError(Exception):
    """Raised from a handler (or by ``Body``): answered as ``{"error": message}``."""

    def __init__(
        self,
        status: HTTPStatus,
        message: str,
        *,
        reason: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> HttpResponse:
        body: dict[str, str] = {"error": self.message}
        if self.reason:
            body["reason"] = self.reason
        return json_response(self.status, body, **self.headers)


@dataclass(frozen=True, slots=True)
class SpooledBody:
    """An upload's bytes in a temporary file (deleted when the request is answered)."""

    path: Path
    size: int
    sha256: str

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


class Body(Protocol):
    """A request's body, read only when asked for (see the module's docstring)."""

    #: The declared length: ``Content-Length``, ``None`` for a chunked body, 0 for none.
    length: int | None

    async def read(self, limit: int) -> bytes: ...

    async def json(self, limit: int = MAX_JSON_BYTES) -> dict[str, Any]: ...

    async def spool(self, limit: int, owner: str | None = None) -> SpooledBody:
        """The body in a temporary file; ``owner`` (e.g. the uploading user) is whose
        share of the bodies in flight it counts against (default: the client address)."""
        ...


@dataclass(slots=True)
class HttpRequest:
    method: str
    target: str  # as sent: path and query
    path: str  # without the query, still percent-encoded
    query: dict[str, list[str]]
    headers: Headers
    peer: str
    body: Body
    connection: ServerConnection | None = None
    params: dict[str, str] = field(default_factory=dict)  # from the route's {names}


@dataclass(slots=True)
class HttpResponse:
    status: HTTPStatus
    body: bytes | Path | AsyncIterator[bytes] = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = field(default_factory=dict)

    def header_items(self) -> list[tuple[str, str]]:
        items = self.headers.items() if isinstance(self.headers, Mapping) else self.headers
        return list(items)


#: What every HTML page the server sends carries, whichever route made it (the door adds
#: it, ``page_headers``): no other site may frame it (clickjacking).
FRAME_ANCESTORS = "frame-ancestors 'none'"
PAGE_CSP = f"default-src 'none'; base-uri 'none'; form-action 'none'; {FRAME_ANCESTORS}"


def page_headers(content_type: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` with, for an HTML page, ``X-Frame-Options: DENY`` and a CSP that has
    ``frame-ancestors 'none'`` (the route's own policy, completed; ``PAGE_CSP`` if none)."""
    if not content_type.lower().startswith("text/html"):
        return headers
    out: list[tuple[str, str]] = []
    csp = False
    for name, value in headers:
        lower = name.lower()
        if lower == "x-frame-options":
            continue
        if lower == "content-security-policy":
            csp = True
            if "frame-ancestors" not in value:
                value = f"{value.rstrip('; ')}; {FRAME_ANCESTORS}"
        out.append((name, value))
    if not csp:
        out.append(("Content-Security-Policy", PAGE_CSP))
    out.append(("X-Frame-Options", "DENY"))
    return out


def json_response(status: HTTPStatus, body: object, **headers: str) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode() + b"\n", headers=headers)


def text_response(status: HTTPStatus, text: str, **headers: str) -> HttpResponse:
    return HttpResponse(
        status, text.encode(), content_type="text/plain; charset=utf-8", headers=headers
    )


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]

_PARAM = re.compile(r"\{([a-z_]+)(\.\.\.)?\}")


@dataclass(frozen=True, slots=True)
class _Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]


class Router:
    """Method + path -> handler. The first registered pattern that matches wins."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._by_path: dict[str, _Route] = {}

    def add(self, methods: str | Iterable[str], path: str, handler: Handler) -> None:
        route = self._by_path.get(path)
        if route is None:
            route = _Route(_compile(path), {})
            self._by_path[path] = route
            self._routes.append(route)
        for method in [methods] if isinstance(methods, str) else methods:
            if method in route.methods:
                raise ValueError(f"{method} {path} is already routed")
            route.methods[method] = handler

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | HttpError:
        allowed: set[str] = set()
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            handler = route.methods.get(method)
            if handler is None and method == "HEAD":
                handler = route.methods.get("GET")
            if handler is not None:
                return handler, match.groupdict()
            allowed.update(route.methods)
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
            allow = ", ".join(sorted(allowed))
            return HttpError(
                HTTPStatus.METHOD_NOT_ALLOWED, f"Use {allow}.", headers={"Allow": allow}
            )
        return HttpError(HTTPStatus.NOT_FOUND, "Not found.")


def _compile(path: str) -> re.Pattern[str]:
    out, at = [], 0
    for match in _PARAM.finditer(path):
        out.append(re.escape(path[at : match.start()]))
        out.append(f"(?P<{match[1]}>.+)" if match[2] else f"(?P<{match[1]}>[^/]+)")
        at = match.end()
    out.append(re.escape(path[at:]))
    return re.compile("^" + "".join(out) + "$")


def split_target(target: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(target)
    return parts.path, parse_qs(parts.query)


def bearer_token(request: HttpRequest) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if there is one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
