"""The HTTP side of a node: images, shared rooms and invites.

Registered on the node's ``Router`` (``server/http_api.py``, parsed by
``server/http_door.py``): each handler decides from the request's head (path, method,
token) and reads the body only once it has accepted the request. Who may do what:

- ``PUT /images/{sha256}``: a member (or higher) of a tenant stores an image for it,
  within the image budgets (``server/image_quota.py``: checked from the head, before
  the body is read); the body streams to a temporary file (hashed on the way) and is
  decoded from there, one at a time, within the decode bound (``server/uploads.py``).
- ``GET|HEAD /images/{sha256}``: whoever may join a room showing it (a token, or the
  room's invite code in ``?invite=``); an unscoped token sees its tenant's images.
  Everyone else gets 404, whether or not the image exists.
- ``POST /api/rooms``: a member records which image a room shows (once).
- ``GET /api/rooms/{room}``: the room's image, for whoever may join the room.
- ``POST /api/invites``: a member (moderator for moderator invites) of a room invites.
- ``POST /api/invites/redeem``: an invite code and a display name for a personal token.

Every code a stranger sends (here and in ``server/browser_routes.py``) goes through the
one ``GuessLimiter`` (``server/guesses.py``): a budget of failed guesses per client
address and for the node, 429 beyond.

The room link's page (``/r/{room}``) and the browser client: ``server/browser_routes.py``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from dataclasses import replace
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote

from imagechat_tui.auth import AuthError, Identity, TenantStore
from imagechat_tui.invites import (
    REFUSALS,
    Invite,
    InviteRefused,
    default_terms,
    hash_code,
    is_well_formed,
    new_invite,
    token_ttl,
)
from imagechat_tui.links import ROOM_PATTERN
from imagechat_tui.model import ROLE_RANK
from imagechat_tui.protocol import RoomImage
from imagechat_tui.server.config import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from imagechat_tui.server.guesses import GuessLimiter
from imagechat_tui.server.http_api import (
    Handler,
    HttpError,
    HttpRequest,
    HttpResponse,
    Router,
    bearer_token,
    json_response,
)
from imagechat_tui.server.image_quota import ImageBudgets, QuotaExceeded, QuotaRefusal, refusal
from imagechat_tui.server.metrics import NodeMetrics
from imagechat_tui.server.revocations import Revocations
from imagechat_tui.server.storage import Storage, StorageUnavailable
from imagechat_tui.server.uploads import (
    DIGEST_PATTERN,
    UploadRejected,
    check_file,
)

log = logging.getLogger(__name__)

_NAME_MAX = 64


_json = json_response


def _error(status: HTTPStatus, message: str, reason: str | None = None) -> HttpResponse:
    return HttpError(status, message, reason=reason).response()


#: A body refused with these was never read (the budget of bodies in flight was spent).
_NOTHING_READ = (HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.TOO_MANY_REQUESTS)

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
        guesses: GuessLimiter | None = None,
        revocations: Revocations | None = None,
        image_budgets: ImageBudgets | None = None,
    ) -> None:
        self.image_budgets = image_budgets or ImageBudgets()
        self.metrics = metrics
        self.guesses = guesses or GuessLimiter()
        self.revocations = revocations or Revocations(storage)
        self.storage = storage
        self.tenants = tenants
        self.on_room_image = on_room_image  # called (tenant, room, image) when one is set
        self.max_image_bytes = max_image_bytes
        self.max_image_pixels = max_image_pixels
        # One decode at a time: the memory an upload can take is bounded by one image.
        self._decoding = asyncio.Semaphore(1)

    # --- entry point -----------------------------------------------------------------

    def register(self, router: Router) -> None:
        for method, path, handler in (
            ("PUT", "/images/{digest}", self._put_image),
            ("GET", "/images/{digest}", self._get_image),
            ("POST", "/api/rooms", self._post_room),
            ("GET", "/api/rooms/{room}", self._get_room),
            ("POST", "/api/invites", self._post_invite),
            ("POST", "/api/invites/redeem", self._redeem),
        ):
            router.add(method, path, unavailable_is_503(handler))

    # --- who is asking ---------------------------------------------------------------

    async def _identity(self, request: HttpRequest) -> Identity | None:
        token = bearer_token(request)
        if token is None:
            return None
        try:
            identity = self.tenants.verify(token)
            await self.revocations.check(identity)
        except AuthError as exc:
            raise HttpError(HTTPStatus.UNAUTHORIZED, exc.message, headers=_CHALLENGE) from None
        return identity

    async def _require(self, request: HttpRequest, role: str = "member") -> Identity:
        identity = await self._identity(request)
        if identity is None:
            raise HttpError(
                HTTPStatus.UNAUTHORIZED, "Send Authorization: Bearer <token>.", headers=_CHALLENGE
            )
        if ROLE_RANK.get(identity.actor.role, -1) < ROLE_RANK[role]:
            raise HttpError(HTTPStatus.FORBIDDEN, f"This needs a {role} or higher.")
        return identity

    async def _active_invite(self, request: HttpRequest) -> Invite | None:
        """The invite named in ``?invite=``, if it still lets people look (not expired,
        not revoked; a used-up invite still shows what its people joined). A guess, so
        limited (429)."""
        invite = await self.guessed_invite(request, request.query.get("invite", []))
        if invite is None or invite.status(time.time()) in ("expired", "revoked"):
            return None
        return invite

    async def guessed_invite(self, request: HttpRequest, codes: list[str]) -> Invite | None:
        """The invite a stranger's code names (None: no code, or no such invite), within
        the guessing budget: ``HttpError`` 429 when it is spent."""
        if not codes:
            return None
        address = self.guesses.address_of(request)
        wait = self.guesses.refused(address)
        if wait is not None:
            raise guessing_refused(wait)
        code = codes[0] if len(codes) == 1 else ""
        invite = await self.storage.get_invite(hash_code(code)) if is_well_formed(code) else None
        if invite is None:
            self.guesses.failed(address)
            return None
        return await self._upstream(invite)

    async def _upstream(self, invite: Invite) -> Invite:
        """The invite, as revoked when one it was made within (a guest's) is revoked."""
        if invite.parent is None or invite.revoked:
            return invite
        if await self.revocations.standing(invite.parent, invite.tenant):
            return invite
        return replace(invite, revoked=True)

    # --- images ----------------------------------------------------------------------

    async def _put_image(self, request: HttpRequest) -> HttpResponse:
        identity = await self._require(request, "member")  # from the head, before the body
        stored: list[int] = []  # the bytes stored, once they are
        try:
            response = await self._store_image(request, identity, stored)
        except HttpError as exc:  # e.g. 413 from the body's declared length, 503 busy
            response = exc.response()
        if self.metrics is not None:
            if response.status == HTTPStatus.CREATED:
                self.metrics.upload(identity.tenant, sum(stored))
            elif response.status >= 400:
                self.metrics.upload_refused(identity.tenant, response.status)
        return response

    async def _store_image(
        self, request: HttpRequest, identity: Identity, stored: list[int]
    ) -> HttpResponse:
        digest = request.params["digest"]
        if not DIGEST_PATTERN.match(digest):
            return _error(HTTPStatus.BAD_REQUEST, "The path must be /images/<sha256 hex>.")
        if request.body.length == 0:
            return _error(HTTPStatus.BAD_REQUEST, "Send the image's bytes as the request body.")
        if request.body.length is not None and request.body.length > self.max_image_bytes:
            return _error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"Images are at most {self.max_image_bytes} bytes on this server.",
            )
        tenant, user = identity.tenant, identity.actor.user.id
        # The budgets, from the head: a refused upload's body is never read.
        declared = request.body.length or self.max_image_bytes  # chunked: the largest
        use = await self.storage.image_use(tenant, user, time.time())
        new = await self.storage.image_info(tenant, digest) is None
        refused = refusal(self.image_budgets, use, declared, time.time(), new=new)
        if refused is not None:
            return _quota_error(refused)
        # A file, hashed on the way; the user's share of the bodies in flight.
        try:
            upload = await request.body.spool(self.max_image_bytes, f"user {tenant}/{user}")
        except HttpError as exc:
            if exc.status not in _NOTHING_READ:  # a stalled, cut or oversized body counts
                await self.storage.add_upload_bytes(tenant, user, declared, time.time())
            raise
        await self.storage.add_upload_bytes(tenant, user, upload.size, time.time())
        if upload.sha256 == digest:
            known = await self.storage.image_info(tenant, digest)
            if known is not None:  # stored already: checked then, nothing to do now
                return _json(HTTPStatus.OK, _image_json(known), ETag=f'"{digest}"')
        try:
            # One upload in memory at a time: its decode (from the file, within the
            # decode budget, uploads.decode_bound), then its bytes for the write.
            async with self._decoding:
                info = await asyncio.to_thread(
                    check_file,
                    upload.path,
                    upload.size,
                    upload.sha256,
                    digest,
                    max_bytes=self.max_image_bytes,
                    max_pixels=self.max_image_pixels,
                )
                data = await asyncio.to_thread(upload.read_bytes)
                created = await self.storage.put_image(
                    tenant, info, data, uploader=user, budgets=self.image_budgets
                )
                stored.append(len(data))
                del data
        except UploadRejected as exc:
            return _error(exc.status, exc.message)
        except QuotaExceeded as exc:  # another upload took the room meanwhile
            return _quota_error(exc.refusal)
        status = HTTPStatus.CREATED if created else HTTPStatus.OK
        return _json(status, _image_json(info), ETag=f'"{digest}"')

    async def _get_image(self, request: HttpRequest) -> HttpResponse:
        digest, query = request.params["digest"], request.query
        identity = await self._identity(request)
        invite = None if identity is not None else await self._active_invite(request)
        if identity is None and invite is None:
            if "invite" in query:
                return _error(HTTPStatus.NOT_FOUND, "Not found.")
            raise HttpError(
                HTTPStatus.UNAUTHORIZED, "Send a token or an invite.", headers=_CHALLENGE
            )
        if not DIGEST_PATTERN.match(digest):
            return _error(HTTPStatus.NOT_FOUND, "Not found.")
        tenant = identity.tenant if identity is not None else invite.tenant  # type: ignore[union-attr]
        if not await self._may_see(tenant, digest, identity, invite):
            return _error(HTTPStatus.NOT_FOUND, "Not found.")
        etag = f'"{digest}"'
        cache = {"Cache-Control": "private, max-age=31536000, immutable", "ETag": etag}
        if etag in request.headers.get("If-None-Match", ""):
            return HttpResponse(HTTPStatus.NOT_MODIFIED, headers=cache)
        stored = await self.storage.image_data(tenant, digest)
        if stored is None:
            return _error(HTTPStatus.NOT_FOUND, "Not found.")
        info, data = stored
        return HttpResponse(HTTPStatus.OK, data, content_type=info.mime, headers=cache)

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

    async def _post_room(self, request: HttpRequest) -> HttpResponse:
        identity = await self._require(request, "member")
        body = await request.body.json()
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

    async def _get_room(self, request: HttpRequest) -> HttpResponse:
        room = _room(request.params["room"])
        identity = await self._require(request, "viewer")
        if not identity.may_join(room):
            return _error(HTTPStatus.FORBIDDEN, "This token is not valid for that room.")
        image = await self.storage.room_image(identity.tenant, room)
        return _json(HTTPStatus.OK, _room_json(room, image))

    # --- invites ---------------------------------------------------------------------

    async def _post_invite(self, request: HttpRequest) -> HttpResponse:
        identity = await self._require(request, "viewer")
        body = await request.body.json()
        # A guest's invite stays within their own (the one their token came from), and
        # by default is as long and as many uses as that one still allows.
        own = await self.storage.get_invite(identity.invite) if identity.invite else None
        now = time.time()
        default_expiry, default_uses = default_terms(own, now)
        room, role = body.get("room"), body.get("role", "member")
        expires_in = body.get("expires_in", default_expiry)
        max_uses = body.get("max_uses", default_uses)
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
                now=now,
                expires_in=expires_in,
                max_uses=max_uses,
                within=own,
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

    async def _redeem(self, request: HttpRequest) -> HttpResponse:
        address = self.guesses.address_of(request)
        status, body = await self.redeem(address, await request.body.json())
        headers = {"Retry-After": str(body.pop("retry_after"))} if "retry_after" in body else {}
        return _json(status, body, **headers)

    async def redeem(self, address: str, body: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        """An invite code and a display name for a personal token (also the browser's
        ``POST /r/ROOM/session``): (status, the JSON answer)."""
        wait = self.guesses.refused(address)
        if wait is not None:
            refusal = guessing_refused(wait)
            return refusal.status, {
                "error": refusal.message,
                "reason": refusal.reason,
                "retry_after": wait,
            }
        code, name, token = body.get("code"), body.get("name"), body.get("token")
        if not isinstance(code, str) or not is_well_formed(code):
            self.guesses.failed(address)
            return HTTPStatus.NOT_FOUND, {
                "error": "No such invite: check the link.",
                "reason": "not-found",
            }
        if (
            not isinstance(name, str)
            or not 1 <= len(name.strip()) <= _NAME_MAX
            or not (name.isprintable())
        ):
            return HTTPStatus.BAD_REQUEST, {"error": f"name: 1-{_NAME_MAX} printable characters."}
        wanted = body.get("room")  # the room of the link: a wrong one spends no use
        found = await self.storage.get_invite(hash_code(code))
        if found is not None and isinstance(wanted, str) and found.room != wanted:
            return HTTPStatus.CONFLICT, {
                "error": f"This invite is for room {found.room}, not the room the link"
                " names; open the link it came with.",
                "reason": "wrong-room",
            }
        if found is not None and (await self._upstream(found)).revoked:  # no use spent
            return _INVITE_STATUS["revoked"], {
                "error": REFUSALS["revoked"],
                "reason": "revoked",
            }
        try:
            invite = await self.storage.redeem_invite(hash_code(code), time.time())
        except InviteRefused as exc:
            if exc.reason == "not-found":
                self.guesses.failed(address)
            log.info("invite refused (%s) for %s", exc.reason, address)
            return _INVITE_STATUS[exc.reason], {"error": exc.message, "reason": exc.reason}
        user_id = self._returning_user(token, invite.tenant) or _new_user_id(name)
        personal = self.tenants.mint(
            tenant=invite.tenant,
            user_id=user_id,
            name=name.strip(),
            role=invite.role,
            room_scope=invite.room,
            # Until the invite ends, and no further; revoking it ends it sooner.
            ttl_seconds=token_ttl(invite, time.time()),
            invite=invite.code_hash,
        )
        log.info("invite %s redeemed by %s (%s)", invite.id, user_id, address)
        return HTTPStatus.OK, {
            "token": personal,
            "tenant": invite.tenant,
            "room": invite.room,
            "role": invite.role,
            "user": {"id": user_id, "name": name.strip()},
        }

    def _returning_user(self, token: object, tenant: str) -> str | None:
        """Someone who already holds a token of this tenant keeps their user id."""
        if not isinstance(token, str):
            return None
        try:
            identity = self.tenants.verify(token)
        except AuthError:
            return None
        return identity.actor.user.id if identity.tenant == tenant else None


def guessing_refused(wait: int) -> HttpError:
    """429 for a client (or a node) out of invite guesses (``server/guesses.py``)."""
    return HttpError(
        HTTPStatus.TOO_MANY_REQUESTS,
        f"Too many invite codes that name no invite were tried; wait {wait} s and check the link.",
        reason="rate-limited",
        headers={"Retry-After": str(wait)},
    )


def unavailable_is_503(handler: Handler) -> Handler:
    async def guarded(request: HttpRequest) -> HttpResponse:
        try:
            return await handler(request)
        except StorageUnavailable:
            log.warning("storage unavailable for %s %s", request.method, request.path)
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "The database is unavailable; retry.")

    return guarded


def _quota_error(refused: QuotaRefusal) -> HttpResponse:
    headers = {} if refused.retry_after is None else {"Retry-After": str(refused.retry_after)}
    return HttpError(
        refused.status, refused.message, reason=refused.reason, headers=headers
    ).response()


def _room(raw: str) -> str:
    room = unquote(raw)
    if not ROOM_PATTERN.match(room):
        raise HttpError(HTTPStatus.NOT_FOUND, "No such room.")
    return room


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
