"""The room link in a browser: the live page, its credential cookie, its image, and the
static client (``imagechat_tui/web``).

- ``GET /r/{room}``: the live page for a valid invite in ``?invite=`` or a valid cookie;
  ``?view=text`` the read-only page (for a browser without script); otherwise the
  refusal with its reason (404 unknown, 410 expired, revoked or used up).
- ``POST /r/{room}/session`` ``{"code","name"}``: redeems the invite (as ``POST
  /api/invites/redeem``) and keeps the personal token in an HttpOnly, SameSite=Strict
  cookie scoped to the room's path; the answer carries no token. ``DELETE`` forgets it.
- ``POST /r/{room}/token``: the cookie's token traded for a short-lived copy to join
  with (``TOKEN_TTL``); 401 when the cookie is missing or no longer valid.
- ``GET /r/{room}/image``: the room's image, for the cookie's holder.
- ``GET /static/{name}``: the client's modules and CSS (ETag, gzip).

The POSTs also check ``Origin`` like the WebSocket (``web/origin.py``): SameSite=Strict
already keeps another site's requests from carrying the cookie; this is the second lock.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from imagechat_tui.auth import AuthError, Identity, TenantStore
from imagechat_tui.invites import Invite
from imagechat_tui.links import ROOM_PATTERN
from imagechat_tui.protocol import CloseCode
from imagechat_tui.server import room_page
from imagechat_tui.server.http_api import (
    HttpError,
    HttpRequest,
    HttpResponse,
    Router,
    json_response,
)
from imagechat_tui.server.revocations import REVOKED, Revocations
from imagechat_tui.server.routes import unavailable_is_503
from imagechat_tui.server.storage import Storage
from imagechat_tui.web import assets, page
from imagechat_tui.web.cookie import clear_cookie, read_cookie, set_cookie
from imagechat_tui.web.origin import origin_allowed

#: How long a page's join token lasts; the page fetches another when it reconnects (a
#: live session whose token ends is closed with 4002 and rejoins with a fresh one).
TOKEN_TTL = 15 * 60

#: ``redeem(address, {"code","name","token"?})`` -> (status, body): the invite API's own.
Redeem = Callable[[str, dict[str, Any]], Awaitable[tuple[HTTPStatus, dict[str, Any]]]]
#: ``guess(request, codes)``: the invite a stranger's ``?invite=`` names, within the
#: guessing budget (``Routes.guessed_invite``: ``HttpError`` 429 beyond it).
Guess = Callable[[HttpRequest, list[str]], Awaitable[Invite | None]]

_HTML = "text/html; charset=utf-8"
_GONE = {"expired", "revoked", "used-up", "access-revoked", "access-expired"}
#: What the page says when the cookie's access ended (answered by ``POST /token``).
_ENDED = {
    "access-revoked": REVOKED,
    "access-expired": "Your access to this room has expired; ask for a new link.",
}


class BrowserRoutes:
    def __init__(
        self,
        *,
        storage: Storage,
        tenants: TenantStore,
        redeem: Redeem,
        guess: Guess,
        address_of: Callable[[HttpRequest], str],
        revocations: Revocations,
        allowed_origins: frozenset[str] = frozenset(),
        tls: bool = False,
    ) -> None:
        self.storage = storage
        self.tenants = tenants
        self.redeem = redeem
        self.guess = guess
        self.address_of = address_of
        self.revocations = revocations
        self.allowed_origins = allowed_origins
        self.tls = tls

    def register(self, router: Router) -> None:
        for methods, path, handler in (
            ("GET", "/r/{room}", self.page),
            ("GET", "/r/{room}/", self.page),
            (("POST", "DELETE"), "/r/{room}/session", self.session),
            ("POST", "/r/{room}/token", self.token),
            ("GET", "/r/{room}/image", self.image),
            ("GET", "/static/{name}", self.static),
        ):
            router.add(methods, path, unavailable_is_503(handler))

    # --- who is asking ---------------------------------------------------------------

    def _secure(self, request: HttpRequest) -> bool:
        return self.tls or request.headers.get("X-Forwarded-Proto", "").lower() == "https"

    def _check_origin(self, request: HttpRequest) -> None:
        if not origin_allowed(
            request.headers.get("Origin"), request.headers.get("Host"), self.allowed_origins
        ):
            raise HttpError(HTTPStatus.FORBIDDEN, "Requests from another site are refused.")

    async def _holder(self, request: HttpRequest, room: str) -> tuple[str, Identity] | None:
        """The cookie's token and who it is, if it still opens this room (not expired,
        its invite not revoked)."""
        return (await self._access(request, room))[0]

    async def _access(
        self, request: HttpRequest, room: str
    ) -> tuple[tuple[str, Identity] | None, str | None]:
        """The cookie's holder as ``_holder``, or why a cookie this browser still sends no
        longer opens the room: ``access-revoked`` (its invite, or one above it, was
        revoked) or ``access-expired``; None without a cookie or for one never valid."""
        token = read_cookie(request.headers.get("Cookie"))
        if token is None:
            return None, None
        try:
            identity = self.tenants.verify(token)
        except AuthError as exc:
            expired = exc.close_code == CloseCode.TOKEN_EXPIRED
            return None, "access-expired" if expired else None
        try:
            await self.revocations.check(identity)
        except AuthError:
            return None, "access-revoked"
        return ((token, identity) if identity.may_join(room) else None), None

    # --- the page --------------------------------------------------------------------

    async def page(self, request: HttpRequest) -> HttpResponse:
        room = _room(request)
        holder, ended = await self._access(request, room)
        codes = request.query.get("invite", [])
        code = codes[0] if len(codes) == 1 else None
        reason = ended or "not-found"
        tenant = holder[1].tenant if holder else None
        if tenant is None and codes:
            try:
                invite = await self.guess(request, codes)
            except HttpError as exc:  # out of guesses: 429, as a page
                return self._refused(request, room, "rate-limited", exc)
            if invite is not None and invite.room == room:
                reason = invite.status(time.time())
                tenant = invite.tenant if reason == "active" else None
        if tenant is None:
            return self._refused(request, room, reason)
        image = await self.storage.room_image(tenant, room)
        title = image.title if image is not None and image.title else room
        headers = {**page.SECURITY_HEADERS}
        if request.query.get("view") == ["text"]:
            state = await self.storage.load_room(tenant, room)
            host = request.headers.get("Host", "localhost")
            scheme = "https" if self._secure(request) else "http"
            link = f"{scheme}://{host}{request.path}" + (f"?invite={code}" if code else "")
            body = room_page.render(
                room=room,
                state=state,
                image=image,
                link=link,
                invite=code,
                image_src=None if code else "image",
            )
            headers["Content-Security-Policy"] = page.TEXT_CSP
            return HttpResponse(HTTPStatus.OK, body, _HTML, headers)
        headers["Content-Security-Policy"] = page.LIVE_CSP
        shell = page.shell(
            room=room,
            title=title,
            path=request.path,
            invite=code if holder is None else None,
            state="member" if holder else "invite",
        )
        return HttpResponse(HTTPStatus.OK, shell, _HTML, headers)

    def _refused(
        self, request: HttpRequest, room: str, reason: str, error: HttpError | None = None
    ) -> HttpResponse:
        status = HTTPStatus.GONE if reason in _GONE else HTTPStatus.NOT_FOUND
        body = room_page.refused(room, reason, script=page.refusal_script(request.path))
        headers = {**page.SECURITY_HEADERS, "Content-Security-Policy": page.TEXT_CSP}
        if error is not None:
            status = error.status
            headers.update(error.headers)
        return HttpResponse(status, body, _HTML, headers)

    # --- the credential --------------------------------------------------------------

    async def session(self, request: HttpRequest) -> HttpResponse:
        room = _room(request)
        self._check_origin(request)
        secure = self._secure(request)
        if request.method == "DELETE":
            return json_response(HTTPStatus.OK, {}, **{"Set-Cookie": clear_cookie(secure=secure)})
        body = await request.body.json()
        code, name = body.get("code"), body.get("name")
        held = await self._holder(request, room)
        status, answer = await self.redeem(
            self.address_of(request),
            {"code": code, "name": name, "room": room, "token": held[0] if held else None},
        )
        if status != HTTPStatus.OK:
            wait = answer.pop("retry_after", None)
            return json_response(status, answer, **({"Retry-After": str(wait)} if wait else {}))
        token = str(answer.pop("token"))
        identity = self.tenants.verify(token)
        cookie = set_cookie(token, identity.expires_at - int(time.time()), secure=secure)
        return json_response(HTTPStatus.OK, answer, **{"Set-Cookie": cookie})

    async def token(self, request: HttpRequest) -> HttpResponse:
        room = _room(request)
        self._check_origin(request)
        held, ended = await self._access(request, room)
        if held is None:
            # The page shows the error as it is and stops reconnecting (live.js).
            error = _ENDED.get(
                ended or "", "No access to this room from this browser: open the invite link."
            )
            return json_response(
                HTTPStatus.UNAUTHORIZED, {"error": error, "reason": ended or "no-access"}
            )
        try:
            short, identity = self.tenants.reissue(held[0], TOKEN_TTL)
        except AuthError as exc:
            return json_response(HTTPStatus.UNAUTHORIZED, {"error": exc.message})
        expires_in = identity.expires_at - int(time.time())
        return json_response(
            HTTPStatus.OK, {"token": short, "expiresIn": min(TOKEN_TTL, expires_in)}
        )

    async def image(self, request: HttpRequest) -> HttpResponse:
        room = _room(request)
        held = await self._holder(request, room)
        if held is None:
            raise HttpError(HTTPStatus.NOT_FOUND, "Not found.")
        tenant = held[1].tenant
        image = await self.storage.room_image(tenant, room)
        if image is None:
            raise HttpError(HTTPStatus.NOT_FOUND, "This room has no image.")
        etag = f'"{image.digest}"'
        cache = {"Cache-Control": "private, max-age=31536000, immutable", "ETag": etag}
        if assets.matches(request.headers.get("If-None-Match", ""), etag):
            return HttpResponse(HTTPStatus.NOT_MODIFIED, headers=cache)
        stored = await self.storage.image_data(tenant, image.digest)
        if stored is None:
            raise HttpError(HTTPStatus.NOT_FOUND, "Not found.")
        info, data = stored
        return HttpResponse(HTTPStatus.OK, data, info.mime, cache)

    # --- the client ------------------------------------------------------------------

    async def static(self, request: HttpRequest) -> HttpResponse:
        asset = assets.find(request.params["name"])
        if asset is None:
            raise HttpError(HTTPStatus.NOT_FOUND, "Not found.")
        headers = {"Cache-Control": "no-cache", "ETag": asset.etag, "Vary": "Accept-Encoding"}
        if assets.matches(request.headers.get("If-None-Match", ""), asset.etag):
            return HttpResponse(HTTPStatus.NOT_MODIFIED, headers=headers)
        if assets.accepts_gzip(request.headers.get("Accept-Encoding", "")):
            headers["Content-Encoding"] = "gzip"
            return HttpResponse(HTTPStatus.OK, asset.gzipped, asset.content_type, headers)
        return HttpResponse(HTTPStatus.OK, asset.data, asset.content_type, headers)


def _room(request: HttpRequest) -> str:
    room = unquote(request.params["room"])
    if not ROOM_PATTERN.match(room):
        raise HttpError(HTTPStatus.NOT_FOUND, "No such room.")
    return room
