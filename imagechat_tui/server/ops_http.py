"""The operator's HTTP routes: ``/ready``, ``/metrics``, and the ``/admin`` dashboard.

Who may see what:

- ``GET /ready``: anyone (a load balancer); 200, or 503 with the parts that are down
  (the probes' own errors only on ``--metrics-port`` and in the log).
- ``GET /metrics`` on the main port: a tenant's admin token (unscoped), and only that
  tenant's series plus the node's own; the whole registry is on ``--metrics-port``
  (loopback by default), for Prometheus (``metrics_port_router``).
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

import logging
import time
from http import HTTPStatus
from importlib import resources
from typing import TYPE_CHECKING

from imagechat_tui.auth import AuthError, Identity, TenantStore
from imagechat_tui.server.http_api import (
    HttpError,
    HttpRequest,
    HttpResponse,
    Router,
    bearer_token,
    json_response,
)
from imagechat_tui.server.metrics import CONTENT_TYPE_LATEST, NodeMetrics
from imagechat_tui.server.readiness import Readiness
from imagechat_tui.server.storage import Storage, StorageUnavailable, bucket_of
from imagechat_tui.server.usage import RANGES, history_report, series
from imagechat_tui.web.cookie import clear_cookie, read_cookie, set_cookie

if TYPE_CHECKING:
    from imagechat_tui.server.room import RoomHub

log = logging.getLogger(__name__)

BUSIEST_ROOMS = 10

_ASSETS = {
    "": ("index.html", "text/html; charset=utf-8"),
    "admin.js": ("admin.js", "text/javascript; charset=utf-8"),
    "admin.css": ("admin.css", "text/css; charset=utf-8"),
    "icon.svg": ("icon.svg", "image/svg+xml"),
}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="imagechat"'}


def require_admin(tenants: TenantStore, token: str | None, what: str = "read this") -> Identity:
    """The tenant admin behind ``token``: HttpError 401 without a valid token, 403 for a
    token that is not an unscoped admin's (the rule for /stats, /metrics and /admin)."""
    if token is None:
        raise HttpError(
            HTTPStatus.UNAUTHORIZED, "Send Authorization: Bearer <admin token>.", headers=_CHALLENGE
        )
    try:
        identity = tenants.verify(token)
    except AuthError as exc:
        raise HttpError(HTTPStatus.UNAUTHORIZED, exc.message, headers=_CHALLENGE) from None
    if identity.actor.role != "admin" or identity.room_scope is not None:
        raise HttpError(
            HTTPStatus.FORBIDDEN, f"Only a tenant admin's token (without a room scope) may {what}."
        )
    return identity


def ready_response(readiness: Readiness, *, detail: bool) -> HttpResponse:
    report = readiness.report(detail=detail)
    status = HTTPStatus.OK if report["ready"] else HTTPStatus.SERVICE_UNAVAILABLE
    return json_response(status, report)


def metrics_response(metrics: NodeMetrics | None, tenant: str | None) -> HttpResponse:
    """The text format: everything (``tenant`` None: the metrics port) or one tenant's."""
    if metrics is None:
        raise HttpError(HTTPStatus.NOT_FOUND, "This node runs with --no-metrics.")
    return HttpResponse(HTTPStatus.OK, metrics.exposition(tenant), CONTENT_TYPE_LATEST)


def metrics_port_router(metrics: NodeMetrics | None, readiness: Readiness) -> Router:
    """``--metrics-port``: the whole registry at /metrics, and /ready; nothing else."""

    async def everything(_request: HttpRequest) -> HttpResponse:
        return metrics_response(metrics, None)

    async def ready(_request: HttpRequest) -> HttpResponse:
        return ready_response(readiness, detail=True)  # the operator's own port

    router = Router()
    router.add("GET", "/metrics", everything)
    router.add("GET", "/ready", ready)
    return router


async def usage_report_for(
    storage: Storage, hub: RoomHub, tenant: str, now: float | None = None
) -> dict[str, object]:
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
    rooms: list[tuple[int, str, int]] = []
    for (room_tenant, name), room in list(hub.rooms.items()):
        if room_tenant == tenant and (room.subscribers or room.remote_viewers):
            rooms.append((len(room.viewers()), name, room.state.seq))
    rooms.sort(key=lambda r: (-r[0], r[1]))
    busiest = [{"room": n, "viewers": v, "seq": s} for v, n, s in rooms[:BUSIEST_ROOMS]]
    return {"tenant": tenant, "now": int(now), "ranges": ranges, "busiest": busiest}


class OpsRoutes:
    """/ready, /metrics and /admin on the node's port."""

    def __init__(
        self,
        *,
        tenants: TenantStore,
        storage: Storage,
        hub: RoomHub,
        readiness: Readiness,
        metrics: NodeMetrics | None,
        tls: bool,
    ) -> None:
        self.tenants = tenants
        self.storage = storage
        self.hub = hub
        self.readiness = readiness
        self.metrics = metrics
        self.tls = tls

    def register(self, router: Router) -> None:
        router.add("GET", "/ready", self._ready)
        router.add("GET", "/metrics", self._metrics)
        router.add("GET", "/admin/api/usage", self._usage)
        router.add("POST", "/admin/session", self._sign_in)
        router.add("DELETE", "/admin/session", self._sign_out)
        router.add("GET", "/admin", self._asset)
        router.add("GET", "/admin/", self._asset)
        router.add("GET", "/admin/{name}", self._asset)

    async def _ready(self, _request: HttpRequest) -> HttpResponse:
        return ready_response(self.readiness, detail=False)

    async def _metrics(self, request: HttpRequest) -> HttpResponse:
        admin = require_admin(self.tenants, bearer_token(request))
        return metrics_response(self.metrics, admin.tenant)

    async def _usage(self, request: HttpRequest) -> HttpResponse:
        token = bearer_token(request) or read_cookie(request.headers.get("Cookie"))
        admin = require_admin(self.tenants, token)
        try:
            report = await usage_report_for(self.storage, self.hub, admin.tenant)
        except StorageUnavailable:
            log.warning("could not read usage for the dashboard", exc_info=True)
            raise HttpError(HTTPStatus.SERVICE_UNAVAILABLE, "Usage is unavailable.") from None
        return json_response(HTTPStatus.OK, report)

    def _secure(self, request: HttpRequest) -> bool:
        return self.tls or request.headers.get("X-Forwarded-Proto") == "https"

    async def _sign_in(self, request: HttpRequest) -> HttpResponse:
        token = bearer_token(request)
        admin = require_admin(self.tenants, token, "open the dashboard")
        assert token is not None
        lifetime = int(admin.expires_at - time.time())
        cookie = set_cookie(token, lifetime, secure=self._secure(request))
        return HttpResponse(HTTPStatus.NO_CONTENT, headers={"Set-Cookie": cookie})

    async def _sign_out(self, request: HttpRequest) -> HttpResponse:
        cookie = clear_cookie(secure=self._secure(request))
        return HttpResponse(HTTPStatus.NO_CONTENT, headers={"Set-Cookie": cookie})

    async def _asset(self, request: HttpRequest) -> HttpResponse:
        asset = _ASSETS.get(request.params.get("name", ""))
        if asset is None:
            raise HttpError(HTTPStatus.NOT_FOUND, "Not found.")
        name, content_type = asset
        data = resources.files("imagechat_tui.server").joinpath("admin", name).read_bytes()
        headers = {"Content-Security-Policy": _CSP, "Referrer-Policy": "no-referrer"}
        return HttpResponse(HTTPStatus.OK, data, content_type, headers)
