"""The HTTP side of a node: images, shared rooms, invites and the browser page.

Answered from websockets' ``process_request`` (see ``http_front`` for bodies), so the
node itself only moves bytes. Every answer is built here as a ``Reply`` and turned into
a websockets ``Response`` at the end. Who may do what:

- ``PUT /images/{sha256}``: a member (or higher) of a tenant stores an image for it.
- ``GET|HEAD /images/{sha256}``: whoever may join a room showing it (a token, or the
  room's invite code in ``?invite=``); an unscoped token sees its tenant's images.
  Everyone else gets 404, whether or not the image exists.
- ``POST /api/rooms``: a member records which image a room shows (once).
- ``GET /api/rooms/{room}``: the room's image, for whoever may join the room.
- ``POST /api/invites``: a member (moderator for moderator invites) of a room invites.
- ``POST /api/invites/redeem``: an invite code and a display name for a personal token;
  rate-limited per client address.
- ``GET /r/{room}?invite=CODE``: the link itself; a page for a browser.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from imagechat_tui.auth import AuthError, Identity, TenantStore
from imagechat_tui.invites import (
    DEFAULT_EXPIRES_SECONDS,
    DEFAULT_USES,
    Invite,
    InviteRefused,
    hash_code,
    is_well_formed,
    new_invite,
)
from imagechat_tui.links import ROOM_PATTERN
from imagechat_tui.model import ROLE_RANK
from imagechat_tui.protocol import RoomImage
from imagechat_tui.server import room_page
from imagechat_tui.server.config import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from imagechat_tui.server.metrics import NodeMetrics
from imagechat_tui.server.ratelimit import TokenBucket
from imagechat_tui.server.storage import Storage, StorageUnavailable
from imagechat_tui.server.uploads import (
    DIGEST_PATTERN,
    UploadRejected,
    check_image,
)

log = logging.getLogger(__name__)

_IMAGE_PATH = re.compile(r"^/images/([^/]+)$")
_ROOM_API_PATH = re.compile(r"^/api/rooms/([^/]+)$")
_LINK_PATH = re.compile(r"^/r/([^/]+)/?$")
_MAX_JSON = 16 * 1024
_NAME_MAX = 64
#: Invite redemptions per client address: a burst of 10, then one every 6 seconds.
REDEEM_RATE, REDEEM_BURST = 1 / 6, 10


@dataclass
class Reply:
    status: HTTPStatus
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: HTTPStatus, body: object, **headers: str) -> Reply:
    return Reply(status, json.dumps(body).encode() + b"\n", headers=headers)


def _error(status: HTTPStatus, message: str, reason: str | None = None) -> Reply:
    body: dict[str, str] = {"error": message}
    if reason:
        body["reason"] = reason
    return _json(status, body)


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="imagechat"'}
_INVITE_STATUS = {
    "not-found": HTTPStatus.NOT_FOUND,
    "expired": HTTPStatus.GONE,
    "revoked": HTTPStatus.GONE,
    "used-up": HTTPStatus.GONE,
    "forbidden": HTTPStatus.FORBIDDEN,
    "invalid": HTTPStatus.BAD_REQUEST,
}


class Routes:
    def __init__(
        self,
        *,
        storage: Storage,
        tenants: TenantStore,
        on_room_image: Any = None,
        max_image_bytes: int = DEFAULT_MAX_BYTES,
        max_image_pixels: int = DEFAULT_MAX_PIXELS,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.storage = storage
        self.tenants = tenants
        self.on_room_image = on_room_image  # called (tenant, room, image) when one is set
        self.max_image_bytes = max_image_bytes
        self.max_image_pixels = max_image_pixels
        # One decode at a time: the memory an upload can take is bounded by one image.
        self._decoding = asyncio.Semaphore(1)
        self._redeem_buckets: dict[str, TokenBucket] = {}

    # --- entry point -----------------------------------------------------------------

    def handles(self, path: str) -> bool:
        return path.startswith(("/images/", "/api/", "/r/"))

    async def respond(self, connection: ServerConnection, request: Request) -> Response:
        try:
            reply = await self._route(connection, request)
        except _Refused as refused:
            reply = refused.reply
        except StorageUnavailable:
            log.warning("storage unavailable for %s %s", request.method, request.path)
            reply = _error(HTTPStatus.SERVICE_UNAVAILABLE, "The database is unavailable; retry.")
        return _response(reply, head_only=request.method == "HEAD")

    async def _route(self, connection: ServerConnection, request: Request) -> Reply:
        parts = urlsplit(request.path)
        path, query = parts.path, parse_qs(parts.query)
        method = request.method
        if match := _IMAGE_PATH.match(path):
            if method == "PUT":
                return await self._put_image(connection, request, match[1])
            if method in ("GET", "HEAD"):
                return await self._get_image(request, match[1], query)
            return _not_allowed("GET, HEAD, PUT")
        if path == "/api/rooms":
            return (
                await self._post_room(connection, request)
                if method == "POST"
                else (_not_allowed("POST"))
            )
        if match := _ROOM_API_PATH.match(path):
            return (
                await self._get_room(request, _room(match[1]))
                if method == "GET"
                else (_not_allowed("GET"))
            )
        if path == "/api/invites":
            return (
                await self._post_invite(connection, request)
                if method == "POST"
                else (_not_allowed("POST"))
            )
        if path == "/api/invites/redeem":
            if method != "POST":
                return _not_allowed("POST")
            return await self._redeem(connection, request)
        if match := _LINK_PATH.match(path):
            if method not in ("GET", "HEAD"):
                return _not_allowed("GET, HEAD")
            return await self._page(request, _room(match[1]), query)
        return _error(HTTPStatus.NOT_FOUND, "Not found.")

    # --- who is asking ---------------------------------------------------------------

    def _identity(self, request: Request) -> Identity | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self.tenants.verify(token.strip())
        except AuthError as exc:
            raise _Refused(
                _json(HTTPStatus.UNAUTHORIZED, {"error": exc.message}, **_CHALLENGE)
            ) from None

    def _require(self, request: Request, role: str = "member") -> Identity:
        identity = self._identity(request)
        if identity is None:
            raise _Refused(
                _json(
                    HTTPStatus.UNAUTHORIZED,
                    {"error": "Send Authorization: Bearer <token>."},
                    **_CHALLENGE,
                )
            )
        if ROLE_RANK.get(identity.actor.role, -1) < ROLE_RANK[role]:
            raise _Refused(_error(HTTPStatus.FORBIDDEN, f"This needs a {role} or higher."))
        return identity

    async def _active_invite(self, query: dict[str, list[str]]) -> Invite | None:
        """The invite named in ``?invite=``, if it still lets people look (not expired,
        not revoked; a used-up invite still shows what its people joined)."""
        codes = query.get("invite", [])
        if len(codes) != 1 or not is_well_formed(codes[0]):
            return None
        invite = await self.storage.get_invite(hash_code(codes[0]))
        if invite is None or invite.status(time.time()) in ("expired", "revoked"):
            return None
        return invite

    # --- images ----------------------------------------------------------------------

    async def _put_image(
        self, connection: ServerConnection, request: Request, digest: str
    ) -> Reply:
        identity = self._require(request, "member")
        reply = await self._store_image(connection, identity, digest)
        if self.metrics is not None:
            if reply.status == HTTPStatus.CREATED:
                self.metrics.upload(identity.tenant, len(getattr(connection, "body", None) or b""))
            elif reply.status >= 400:
                self.metrics.upload_refused(identity.tenant, reply.status)
        return reply

    async def _store_image(
        self, connection: ServerConnection, identity: Identity, digest: str
    ) -> Reply:
        if getattr(connection, "body_too_large", False):
            return _error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"Images are at most {self.max_image_bytes} bytes on this server.",
            )
        data: bytes | None = getattr(connection, "body", None)
        if data is None:
            return _error(HTTPStatus.BAD_REQUEST, "Send the image's bytes as the request body.")
        tenant = identity.tenant
        if DIGEST_PATTERN.match(digest) and hashlib.sha256(data).hexdigest() == digest:
            known = await self.storage.image_info(tenant, digest)
            if known is not None:  # stored already: checked then, nothing to do now
                return _json(HTTPStatus.OK, _image_json(known), ETag=f'"{digest}"')
        try:
            async with self._decoding:
                info = await asyncio.to_thread(
                    check_image,
                    data,
                    digest,
                    max_bytes=self.max_image_bytes,
                    max_pixels=self.max_image_pixels,
                )
        except UploadRejected as exc:
            return _error(exc.status, exc.message)
        created = await self.storage.put_image(tenant, info, data)
        status = HTTPStatus.CREATED if created else HTTPStatus.OK
        return _json(status, _image_json(info), ETag=f'"{digest}"')

    async def _get_image(self, request: Request, digest: str, query: dict[str, list[str]]) -> Reply:
        identity = self._identity(request)
        invite = None if identity is not None else await self._active_invite(query)
        if identity is None and invite is None:
            if "invite" in query:
                return _error(HTTPStatus.NOT_FOUND, "Not found.")
            raise _Refused(
                _json(
                    HTTPStatus.UNAUTHORIZED, {"error": "Send a token or an invite."}, **_CHALLENGE
                )
            )
        if not DIGEST_PATTERN.match(digest):
            return _error(HTTPStatus.NOT_FOUND, "Not found.")
        tenant = identity.tenant if identity is not None else invite.tenant  # type: ignore[union-attr]
        if not await self._may_see(tenant, digest, identity, invite):
            return _error(HTTPStatus.NOT_FOUND, "Not found.")
        etag = f'"{digest}"'
        cache = {"Cache-Control": "private, max-age=31536000, immutable", "ETag": etag}
        if etag in request.headers.get("If-None-Match", ""):
            return Reply(HTTPStatus.NOT_MODIFIED, headers=cache)
        stored = await self.storage.image_data(tenant, digest)
        if stored is None:
            return _error(HTTPStatus.NOT_FOUND, "Not found.")
        info, data = stored
        return Reply(HTTPStatus.OK, data, content_type=info.mime, headers=cache)

    async def _may_see(
        self, tenant: str, digest: str, identity: Identity | None, invite: Invite | None
    ) -> bool:
        if identity is not None and identity.room_scope is None:
            return await self.storage.image_info(tenant, digest) is not None
        rooms = await self.storage.rooms_showing(tenant, digest)
        if identity is not None:
            return any(identity.may_join(room) for room in rooms)
        return invite is not None and invite.room in rooms

    # --- rooms -----------------------------------------------------------------------

    async def _post_room(self, connection: ServerConnection, request: Request) -> Reply:
        identity = self._require(request, "member")
        body = _body_json(connection)
        room, digest, title = body.get("room"), body.get("image"), body.get("title", "")
        if not isinstance(room, str) or not ROOM_PATTERN.match(room):
            return _error(HTTPStatus.BAD_REQUEST, "room: letters, digits and _ . : - / (1-128).")
        if not isinstance(digest, str) or not DIGEST_PATTERN.match(digest):
            return _error(HTTPStatus.BAD_REQUEST, "image: the sha256 hex of a stored image.")
        if not isinstance(title, str) or len(title) > 200:
            return _error(HTTPStatus.BAD_REQUEST, "title: text of at most 200 characters.")
        if not identity.may_join(room):
            return _error(HTTPStatus.FORBIDDEN, "This token is not valid for that room.")
        info = await self.storage.image_info(identity.tenant, digest)
        if info is None:
            return _error(HTTPStatus.NOT_FOUND, "No such image here: PUT /images/{sha256} first.")
        wanted = RoomImage(digest=digest, width=info.width, height=info.height, title=title)
        image, created = await self.storage.set_room_image(identity.tenant, room, wanted)
        if image.digest != digest:
            return _error(
                HTTPStatus.CONFLICT, "That room already shows another image; pick another room."
            )
        if created and self.on_room_image is not None:
            self.on_room_image(identity.tenant, room, image)
        status = HTTPStatus.CREATED if created else HTTPStatus.OK
        return _json(status, _room_json(room, image))

    async def _get_room(self, request: Request, room: str) -> Reply:
        identity = self._require(request, "viewer")
        if not identity.may_join(room):
            return _error(HTTPStatus.FORBIDDEN, "This token is not valid for that room.")
        image = await self.storage.room_image(identity.tenant, room)
        return _json(HTTPStatus.OK, _room_json(room, image))

    # --- invites ---------------------------------------------------------------------

    async def _post_invite(self, connection: ServerConnection, request: Request) -> Reply:
        identity = self._require(request, "viewer")
        body = _body_json(connection)
        room, role = body.get("room"), body.get("role", "member")
        expires_in = body.get("expires_in", DEFAULT_EXPIRES_SECONDS)
        max_uses = body.get("max_uses", DEFAULT_USES)
        if not isinstance(room, str) or not ROOM_PATTERN.match(room):
            return _error(HTTPStatus.BAD_REQUEST, "room: letters, digits and _ . : - / (1-128).")
        if not isinstance(role, str) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (expires_in, max_uses)
        ):
            return _error(HTTPStatus.BAD_REQUEST, "role is text; expires_in, max_uses integers.")
        if not identity.may_join(room):
            return _error(HTTPStatus.FORBIDDEN, "You may only invite to rooms you can join.")
        try:
            code, invite = new_invite(
                tenant=identity.tenant,
                room=room,
                role=role,
                inviter=identity.actor.user.id,
                inviter_role=identity.actor.role,
                now=time.time(),
                expires_in=expires_in,
                max_uses=max_uses,
            )
        except InviteRefused as exc:
            return _error(_INVITE_STATUS[exc.reason], exc.message, exc.reason)
        await self.storage.add_invite(invite)
        log.info(
            "invite %s to %s/%s (%s) by %s",
            invite.id,
            invite.tenant,
            room,
            role,
            identity.actor.user.id,
        )
        return _json(
            HTTPStatus.CREATED,
            {
                "code": code,
                "id": invite.id,
                "room": room,
                "role": invite.role,
                "expires_at": invite.expires_at,
                "max_uses": invite.max_uses,
                "path": f"/r/{quote(room, safe='')}?invite={code}",
            },
        )

    async def _redeem(self, connection: ServerConnection, request: Request) -> Reply:
        address = _peer(connection)
        bucket = self._redeem_buckets.get(address)
        if bucket is None:
            if len(self._redeem_buckets) > 10_000:
                self._redeem_buckets.clear()
            bucket = self._redeem_buckets[address] = TokenBucket(REDEEM_RATE, REDEEM_BURST)
        if not bucket.take():
            return _json(
                HTTPStatus.TOO_MANY_REQUESTS,
                {"error": "Too many invite attempts; wait a minute.", "reason": "rate-limited"},
                **{"Retry-After": str(int(bucket.retry_after()) + 1)},
            )
        body = _body_json(connection)
        code, name, token = body.get("code"), body.get("name"), body.get("token")
        if not isinstance(code, str) or not is_well_formed(code):
            return _error(HTTPStatus.NOT_FOUND, "No such invite: check the link.", "not-found")
        if (
            not isinstance(name, str)
            or not 1 <= len(name.strip()) <= _NAME_MAX
            or not (name.isprintable())
        ):
            return _error(HTTPStatus.BAD_REQUEST, f"name: 1-{_NAME_MAX} printable characters.")
        wanted = body.get("room")  # the room of the link: a wrong one spends no use
        if isinstance(wanted, str):
            found = await self.storage.get_invite(hash_code(code))
            if found is not None and found.room != wanted:
                return _error(
                    HTTPStatus.CONFLICT,
                    f"This invite is for room {found.room}, not the room the link names;"
                    " open the link it came with.",
                    "wrong-room",
                )
        try:
            invite = await self.storage.redeem_invite(hash_code(code), time.time())
        except InviteRefused as exc:
            log.info("invite refused (%s) for %s", exc.reason, address)
            return _error(_INVITE_STATUS[exc.reason], exc.message, exc.reason)
        user_id = self._returning_user(token, invite.tenant) or _new_user_id(name)
        personal = self.tenants.mint(
            tenant=invite.tenant,
            user_id=user_id,
            name=name.strip(),
            role=invite.role,
            room_scope=invite.room,
        )
        log.info("invite %s redeemed by %s (%s)", invite.id, user_id, address)
        return _json(
            HTTPStatus.OK,
            {
                "token": personal,
                "tenant": invite.tenant,
                "room": invite.room,
                "role": invite.role,
                "user": {"id": user_id, "name": name.strip()},
            },
        )

    def _returning_user(self, token: object, tenant: str) -> str | None:
        """Someone who already holds a token of this tenant keeps their user id."""
        if not isinstance(token, str):
            return None
        try:
            identity = self.tenants.verify(token)
        except AuthError:
            return None
        return identity.actor.user.id if identity.tenant == tenant else None

    # --- the page --------------------------------------------------------------------

    async def _page(self, request: Request, room: str, query: dict[str, list[str]]) -> Reply:
        invite = await self._active_invite(query)
        host = request.headers.get("Host", "localhost")
        if invite is None or invite.room != room:
            html = room_page.refused(room)
            return Reply(HTTPStatus.NOT_FOUND, html, "text/html; charset=utf-8")
        state = await self.storage.load_room(invite.tenant, room)
        image = await self.storage.room_image(invite.tenant, room)
        scheme = "https" if request.headers.get("X-Forwarded-Proto") == "https" else "http"
        link = f"{scheme}://{host}{request.path}"
        code = query["invite"][0]
        html = room_page.render(room=room, state=state, image=image, link=link, invite=code)
        return Reply(
            HTTPStatus.OK,
            html,
            "text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": "default-src 'none'; img-src 'self'; "
                "style-src 'unsafe-inline'",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )


def _room(raw: str) -> str:
    room = unquote(raw)
    if not ROOM_PATTERN.match(room):
        raise _Refused(_error(HTTPStatus.NOT_FOUND, "No such room."))
    return room


def _not_allowed(allow: str) -> Reply:
    return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"Use {allow}."}, Allow=allow)


def _body_json(connection: ServerConnection) -> dict[str, Any]:
    data: bytes | None = getattr(connection, "body", None)
    if getattr(connection, "body_too_large", False) or (data is not None and len(data) > _MAX_JSON):
        raise _Refused(_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The JSON body is too large."))
    try:
        body = json.loads(data or b"")
    except ValueError:
        raise _Refused(_error(HTTPStatus.BAD_REQUEST, "The body must be a JSON object.")) from None
    if not isinstance(body, dict):
        raise _Refused(_error(HTTPStatus.BAD_REQUEST, "The body must be a JSON object."))
    return body


def _peer(connection: ServerConnection) -> str:
    address = connection.remote_address
    return str(address[0]) if isinstance(address, tuple) and address else "local"


def _new_user_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24] or "guest"
    return f"{slug}-{secrets.token_hex(3)}"


def _image_json(info: Any) -> dict[str, object]:
    return {
        "digest": info.digest,
        "mime": info.mime,
        "width": info.width,
        "height": info.height,
        "bytes": info.size,
    }


def _room_json(room: str, image: RoomImage | None) -> dict[str, object]:
    return {
        "room": room,
        "image": None
        if image is None
        else {
            "digest": image.digest,
            "width": image.width,
            "height": image.height,
            "title": image.title,
        },
        "path": f"/r/{quote(room, safe='')}",
    }


def _response(reply: Reply, *, head_only: bool) -> Response:
    headers = Headers()
    headers["Content-Type"] = reply.content_type
    headers["Content-Length"] = str(len(reply.body))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Connection"] = "close"  # websockets closes after any answer but a 101
    for name, value in reply.headers.items():
        headers[name] = value
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return Response(
        reply.status.value, reply.status.phrase, headers, b"" if head_only else reply.body
    )
