"""Tenants, their secrets, and the signed tokens (JWT, HS256) that say who a viewer is.

Secrets live in ``tenants.json`` in the data directory (mode 0600), so the server and
``imagechat-tui token`` on the same machine agree without any set-up. The file is
re-read when it changes, so ``tenant rotate`` takes effect on a running server.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import msgspec

from imagechat_tui.model import Actor
from imagechat_tui.policy import DEFAULT_TTL_SECONDS as DEFAULT_TTL_SECONDS
from imagechat_tui.policy import LOCAL_TENANT as LOCAL_TENANT
from imagechat_tui.policy import ROLE_RANK
from imagechat_tui.protocol import CloseCode, ErrorCode, User

if TYPE_CHECKING:
    # PyJWT with cryptography costs ~150 ms to import: the app mints its local token
    # with _sign and only a token the fast check refuses goes to PyJWT (imported there).
    import jwt

_ALGORITHM = "HS256"
_TENANT_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: Tokens already verified, kept so a reconnect (or the periodic re-check of a live
#: session) costs a dict lookup; an entry counts only while its tenant's secret is the
#: one it was verified with and it has not expired.
VERIFIED_CACHE_SIZE = 16384


def unverified_claims(token: str) -> dict[str, object]:
    """The claims, read without checking the signature: the ``tenant`` claim says which
    secret to verify with, and the fast check reuses them (one decode per token)."""
    try:
        payload = token.split(".", 2)[1]
        claims = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, msgspec.DecodeError):
        raise AuthError("The token is not a valid JWT.") from None
    return claims if isinstance(claims, dict) else {}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_HS256_HEADER = _b64url(b'{"alg":"HS256","typ":"JWT"}')


def _mac(secret: str, signed: str) -> str:
    """The HS256 signature segment of ``signed`` (header.payload) under ``secret``."""
    return _b64url(hmac.digest(secret.encode(), signed.encode(), hashlib.sha256))


def _sign(claims: dict[str, object], secret: str) -> str:
    """An HS256 token of ``claims``, byte for byte as PyJWT writes it (compact JSON, its
    header) and so in the canonical form _fast_accept takes, without importing PyJWT."""
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signed = f"{_HS256_HEADER}.{payload}"
    return f"{signed}.{_mac(secret, signed)}"


#: The header segments of a plain HS256 token (as PyJWT and most libraries write it).
_PLAIN_HS256_HEADERS = frozenset(
    _b64url(json.dumps(header, separators=(",", ":")).encode())
    for header in ({"alg": "HS256", "typ": "JWT"}, {"typ": "JWT", "alg": "HS256"}, {"alg": "HS256"})
)
#: Claims the fast check knows all the rules for; a token with any other goes to PyJWT.
_PLAIN_CLAIMS = frozenset({"sub", "name", "tenant", "role", "iat", "exp", "room", "inv"})


def _fast_accept(token: str, claims: dict[str, object], secret: str, now: float) -> bool:
    """True when ``token`` is certainly valid: a plain HS256 header, the signature of
    ``secret`` in its canonical encoding, only the claims this server mints, an integer
    ``exp`` still ahead and ``iat`` not ahead. PyJWT costs ~90 µs a token (almost all
    Python); this is one HMAC. Whatever it does not accept goes to PyJWT, which decides
    and says why, so it can only accept less than PyJWT does, never more."""
    header, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    if header not in _PLAIN_HS256_HEADERS or not claims.keys() <= _PLAIN_CLAIMS:
        return False
    exp, iat = claims.get("exp"), claims.get("iat", 0)
    if type(exp) is not int or type(iat) is not int or not iat <= now < exp:
        return False
    return hmac.compare_digest(_mac(secret, f"{header}.{payload}"), signature)


class AuthError(Exception):
    """A token that may not join: carries the error code and the close code to use."""

    def __init__(self, message: str, *, close_code: int = CloseCode.UNAUTHORIZED) -> None:
        super().__init__(message)
        self.message = message
        self.close_code = close_code
        self.code = ErrorCode.UNAUTHORIZED


@dataclass(frozen=True, slots=True)
class Identity:
    tenant: str
    actor: Actor
    expires_at: int
    room_scope: str | None = None  # exact room, or a prefix ending in "*"
    #: The invite (its code's hash) this token was redeemed from: revoking it ends the
    #: token (``server/revocations.py``). None for a token from ``imagechat-tui token``.
    invite: str | None = None

    def may_join(self, room: str) -> bool:
        if self.room_scope is None:
            return True
        if self.room_scope.endswith("*"):
            return room.startswith(self.room_scope[:-1])
        return room == self.room_scope


def validate_tenant_name(name: str) -> str:
    if not (1 <= len(name) <= 40) or not set(name) <= _TENANT_NAME_CHARS:
        raise ValueError("A tenant name is 1-40 characters of a-z, 0-9, '-' and '_'.")
    return name


class TenantStore:
    """The tenants file: ``{"tenants": {name: {"secret": ..., "created": ...}}}``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tenants: dict[str, dict[str, object]] = {}
        self._mtime: float | None = None
        self._verified: OrderedDict[str, tuple[str, Identity]] = OrderedDict()

    @classmethod
    def in_home(cls, home: Path) -> TenantStore:
        store = cls(home / "tenants.json")
        store.ensure(LOCAL_TENANT)
        return store

    # --- file handling ---------------------------------------------------------------

    def _reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._tenants, self._mtime = {}, None
            return
        if mtime != self._mtime:
            data = json.loads(self.path.read_text("utf-8"))
            self._tenants = dict(data.get("tenants", {}))
            self._mtime = mtime

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"tenants": self._tenants}, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)
        self._mtime = None
        self._reload()

    # --- tenants ---------------------------------------------------------------------

    def names(self) -> list[str]:
        self._reload()
        return sorted(self._tenants)

    def exists(self, tenant: str) -> bool:
        self._reload()
        return tenant in self._tenants

    def ensure(self, tenant: str) -> None:
        self._reload()
        if tenant not in self._tenants:
            self.add(tenant)

    def add(self, tenant: str) -> None:
        validate_tenant_name(tenant)
        self._reload()
        if tenant in self._tenants:
            raise ValueError(f"Tenant {tenant!r} already exists.")
        self._tenants[tenant] = {"secret": secrets.token_urlsafe(32), "created": int(time.time())}
        self._save()

    def rotate(self, tenant: str) -> None:
        """A new secret: every token signed with the old one stops working."""
        self._reload()
        if tenant not in self._tenants:
            raise ValueError(f"No tenant {tenant!r}.")
        self._tenants[tenant] = {**self._tenants[tenant], "secret": secrets.token_urlsafe(32)}
        self._save()

    def _secret(self, tenant: str) -> str | None:
        self._reload()
        record = self._tenants.get(tenant)
        return None if record is None else str(record["secret"])

    # --- tokens ----------------------------------------------------------------------

    def mint(
        self,
        *,
        tenant: str,
        user_id: str,
        name: str | None = None,
        role: str = "member",
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        room_scope: str | None = None,
        invite: str | None = None,
    ) -> str:
        if role not in ROLE_RANK:
            raise ValueError(f"Unknown role {role!r}; one of {', '.join(ROLE_RANK)}.")
        secret = self._secret(tenant)
        if secret is None:
            raise ValueError(f"No tenant {tenant!r}; add it with `imagechat-tui tenant add`.")
        now = int(time.time())
        claims: dict[str, object] = {
            "sub": user_id,
            "name": name or user_id,
            "tenant": tenant,
            "role": role,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        if room_scope:
            claims["room"] = room_scope
        if invite:
            claims["inv"] = invite
        return _sign(claims, secret)

    def reissue(self, token: str, ttl_seconds: int) -> tuple[str, Identity]:
        """A short-lived copy of a valid token: the same claims (whatever they are), a
        new ``exp`` of at most ``ttl_seconds`` from now and never past the original's.
        The browser page joins with these; its long-lived token stays in a cookie."""
        identity = self.verify(token)  # raises AuthError
        claims = unverified_claims(token)
        now = int(time.time())
        claims["iat"] = now
        claims["exp"] = min(int(cast("int | float | str", claims["exp"])), now + ttl_seconds)
        secret = self._secret(identity.tenant)
        assert secret is not None  # verify() found it
        return _sign(claims, secret), identity

    def verify(self, token: str) -> Identity:
        cached = self._verified.get(token)
        if cached is not None:
            signed_with, known = cached
            if time.time() < known.expires_at and self._secret(known.tenant) == signed_with:
                return known
            del self._verified[token]  # expired or its secret rotated: verify it again
        claims = unverified_claims(token)
        tenant = claims.get("tenant")
        if not isinstance(tenant, str) or (secret := self._secret(tenant)) is None:
            # The same words as a bad signature: a stranger learns no tenant's name.
            import jwt

            raise AuthError(f"The token was refused: {_why_refused(jwt.InvalidSignatureError())}.")
        if not _fast_accept(token, claims, secret, time.time()):
            claims = self._verify_signed(token, secret)
        identity = _identity(tenant, claims)
        self._verified[token] = (secret, identity)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return identity

    def _verify_signed(self, token: str, secret: str) -> dict[str, object]:
        import jwt

        try:
            return jwt.decode(
                token,
                secret,
                algorithms=[_ALGORITHM],
                options={"require": ["exp", "sub", "tenant", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(
                "The token has expired; get a new one.", close_code=CloseCode.TOKEN_EXPIRED
            ) from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"The token was refused: {_why_refused(exc)}.") from None


def _identity(tenant: str, claims: dict[str, object]) -> Identity:
    """Who a verified token's claims say the viewer is."""
    role, sub, name = (
        claims.get("role"),
        claims.get("sub"),
        claims.get("name", claims.get("sub")),
    )
    if not isinstance(role, str) or role not in ROLE_RANK:
        raise AuthError("The token's role, subject or name is malformed.")
    if not isinstance(sub, str) or not isinstance(name, str):
        raise AuthError("The token's role, subject or name is malformed.")
    if not (1 <= len(sub) <= 128) or len(name) > 128:
        raise AuthError("The token's subject or name is too long.")
    room_scope = claims.get("room")
    if room_scope is not None and not isinstance(room_scope, str):
        raise AuthError("The token's room scope is malformed.")
    invite = claims.get("inv")
    if invite is not None and not isinstance(invite, str):
        raise AuthError("The token's invite is malformed.")
    exp = claims["exp"]
    assert isinstance(exp, int | float | str)  # PyJWT or the fast check made it a number
    return Identity(
        tenant=tenant,
        actor=Actor(user=User(id=sub, name=name), role=role),
        expires_at=int(exp),
        room_scope=room_scope,
        invite=invite,
    )


def local_user_id() -> str:
    """The OS user, for the token the app mints for itself on the local server."""
    with contextlib.suppress(Exception):
        import getpass

        return getpass.getuser()
    return "me"


def _why_refused(exc: jwt.PyJWTError) -> str:
    """Why PyJWT refused a token, in our words (its own beside them when unknown)."""
    import jwt

    if isinstance(exc, jwt.InvalidSignatureError):
        return "it was not signed by this server (a token from another server, or an old key)"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it lacks its {exc.claim!r} field (not an imagechat-tui token)"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "it is not valid yet (check the clocks)"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "it is signed in a way this server does not accept"
    if isinstance(exc, jwt.DecodeError):
        return "it is not a token (damaged or cut short in copying?)"
    detail = str(exc).rstrip(".") or exc.__class__.__name__
    return f"it is not valid (the token library said: {detail})"
