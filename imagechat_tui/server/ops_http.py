"""The operator's HTTP answers: ``/ready``, ``/metrics``, and the ``/admin`` dashboard.

Each is a plain function of the request's parts returning a ``Page``; the node routes to
them. Who may see what:

- ``GET /ready``: anyone (a load balancer); 200 or 503 with the reasons, no secrets.
- ``GET /metrics`` on the main port: a tenant's admin token (unscoped), and only that
  tenant's series plus the node's own; the whole registry is on ``--metrics-port``
  (loopback by default), for Prometheus.
- ``GET /admin``: the dashboard's page and its static files (no data in them; CSP
  ``script-src 'self'``, no inline script). ``GET /admin/api/usage``: its data, for a
  tenant's admin: an admin token as ``Authorization: Bearer``, or the browser session.
- ``POST /admin/session`` with an admin token as ``Authorization``: the browser session,
  an ``HttpOnly``, ``SameSite=Strict`` cookie holding the token, scoped to ``/admin``
  and lasting as long as the token (``DELETE`` ends it). The page takes the token from
  the link's ``#token=`` (never sent to the server in a URL, so in no access log) or
  from its form, trades it for the cookie, and forgets it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources
from typing import TYPE_CHECKING

from imagechat_tui.auth import AuthError, Identity, TenantStore
from imagechat_tui.server.metrics import CONTENT_TYPE_LATEST, NodeMetrics
from imagechat_tui.server.readiness import Readiness
from imagechat_tui.server.storage import Storage, bucket_of
from imagechat_tui.server.usage import RANGES, history_report, series
from imagechat_tui.web.cookie import clear_cookie, read_cookie, set_cookie

if TYPE_CHECKING:
    from imagechat_tui.server.room import RoomHub

BUSIEST_ROOMS = 10

_ASSETS = {
    "/admin": ("index.html", "text/html; charset=utf-8"),
    "/admin/": ("index.html", "text/html; charset=utf-8"),
    "/admin/admin.js": ("admin.js", "text/javascript; charset=utf-8"),
    "/admin/admin.css": ("admin.css", "text/css; charset=utf-8"),
    "/admin/icon.svg": ("icon.svg", "image/svg+xml"),
}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass
class Page:
    status: HTTPStatus
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: HTTPStatus, body: object, **headers: str) -> Page:
    return Page(status, json.dumps(body).encode() + b"\n", headers=headers)


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="imagechat"'}


def admin_of(
    tenants: TenantStore, authorization: str, cookie: str | None = None
) -> Identity | Page:
    """The tenant admin behind ``Authorization: Bearer <token>`` (or else the session
    cookie's token), or the refusal: 401 without a valid token, 403 for a token that is
    not an unscoped admin's."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        token, scheme = read_cookie(cookie) or "", "bearer"
    if not token.strip():
        return _json(
            HTTPStatus.UNAUTHORIZED,
            {"error": "Send Authorization: Bearer <admin token>."},
            **_CHALLENGE,
        )
    try:
        identity = tenants.verify(token.strip())
    except AuthError as exc:
        return _json(HTTPStatus.UNAUTHORIZED, {"error": exc.message}, **_CHALLENGE)
    if identity.actor.role != "admin" or identity.room_scope is not None:
        return _json(
            HTTPStatus.FORBIDDEN,
            {"error": "Only a tenant admin's token (without a room scope) may read this."},
        )
    return identity


def admin_session(
    tenants: TenantStore, authorization: str, *, secure: bool, now: float | None = None
) -> Page:
    """``POST /admin/session``: the admin token in a cookie for ``/admin`` (204)."""
    admin = admin_of(tenants, authorization)
    if isinstance(admin, Page):
        return admin
    _, _, token = authorization.partition(" ")
    lifetime = int(admin.expires_at - (time.time() if now is None else now))
    return Page(
        HTTPStatus.NO_CONTENT,
        b"",
        headers={"Set-Cookie": set_cookie(token.strip(), lifetime, secure=secure)},
    )


def end_admin_session(*, secure: bool) -> Page:
    """``DELETE /admin/session``: the cookie removed (204)."""
    return Page(HTTPStatus.NO_CONTENT, b"", headers={"Set-Cookie": clear_cookie(secure=secure)})


def ready_page(readiness: Readiness) -> Page:
    report = readiness.report()
    status = HTTPStatus.OK if report["ready"] else HTTPStatus.SERVICE_UNAVAILABLE
    return _json(status, report)


def metrics_page(metrics: NodeMetrics | None, tenant: str | None) -> Page:
    """The text format: everything (``tenant`` None: the metrics port) or one tenant's."""
    if metrics is None:
        return _json(HTTPStatus.NOT_FOUND, {"error": "This node runs with --no-metrics."})
    return Page(HTTPStatus.OK, metrics.exposition(tenant), CONTENT_TYPE_LATEST)


def admin_asset(path: str) -> Page | None:
    """The dashboard's static files (None: not one of them)."""
    asset = _ASSETS.get(path)
    if asset is None:
        return None
    name, content_type = asset
    data = resources.files("imagechat_tui.server").joinpath("admin", name).read_bytes()
    return Page(
        HTTPStatus.OK,
        data,
        content_type,
        {"Content-Security-Policy": _CSP, "Referrer-Policy": "no-referrer"},
    )


async def admin_usage(
    storage: Storage, hub: RoomHub, tenant: str, now: float | None = None
) -> Page:
    """The dashboard's figures for ``tenant``: per range, the totals (what ``stats
    --since`` prints) and the points of its charts; the busiest rooms on this node now."""
    now = time.time() if now is None else now
    longest = max(back for back, _ in RANGES.values())
    buckets = await storage.usage_history(now - longest, tenant=tenant)
    ranges: dict[str, object] = {}
    for name, (back, step) in RANGES.items():
        since = now - back
        # The same minute boundary as usage_history(since): the totals equal `stats`'.
        inside = [b for b in buckets if b.start >= bucket_of(since)]
        (totals,) = history_report(inside, tenant) or [
            {"tenant": tenant, "pubSubMessageCount": 0, "pubSubBandwidth": 0, "peakConnections": 0}
        ]
        ranges[name] = {
            "since": int(since),
            "step": step,
            "totals": totals,
            "points": series(inside, tenant, since, now, step),
        }
    rooms = []
    for (room_tenant, name), room in list(hub.rooms.items()):
        if room_tenant == tenant and (room.subscribers or room.remote_viewers):
            rooms.append({"room": name, "viewers": len(room.viewers()), "seq": room.state.seq})
    rooms.sort(key=lambda r: (-int(str(r["viewers"])), str(r["room"])))
    return _json(
        HTTPStatus.OK,
        {"tenant": tenant, "now": int(now), "ranges": ranges, "busiest": rooms[:BUSIEST_ROOMS]},
    )
