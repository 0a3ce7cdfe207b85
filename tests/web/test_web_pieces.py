"""The pure pieces of the browser side: the Origin rule, the cookie, the static files."""

from __future__ import annotations

import gzip
import time

import pytest

from imagechat_tui.auth import AuthError, TenantStore
from imagechat_tui.web import assets
from imagechat_tui.web.cookie import read_cookie, set_cookie
from imagechat_tui.web.origin import OriginError, allowed_origins, normalize, origin_allowed
from imagechat_tui.web.page import static_base

NONE: frozenset[str] = frozenset()


def test_a_socket_from_the_servers_own_origin_or_no_browser_is_allowed() -> None:
    assert origin_allowed(None, "127.0.0.1:8765", NONE)  # the terminal app sends no Origin
    assert origin_allowed("http://127.0.0.1:8765", "127.0.0.1:8765", NONE)
    assert origin_allowed("https://Review.Example.com", "review.example.com:443", NONE)
    assert origin_allowed("http://[::1]:9000", "[::1]:9000", NONE)


def test_a_socket_from_another_origin_is_refused() -> None:
    assert not origin_allowed("http://evil.example", "127.0.0.1:8765", NONE)
    assert not origin_allowed("http://127.0.0.1:8766", "127.0.0.1:8765", NONE)  # another port
    assert not origin_allowed("null", "127.0.0.1:8765", NONE)  # sandboxed frame, file:
    assert not origin_allowed("http://127.0.0.1:8765", None, NONE)


def test_allowed_origin_lets_a_proxied_origin_in_and_bad_values_fail_at_start() -> None:
    extra = allowed_origins(["https://review.example.com/", "http://localhost:3000"])
    assert origin_allowed("https://review.example.com", "10.0.0.5:8765", extra)
    assert origin_allowed("http://localhost:3000", "127.0.0.1:8765", extra)
    assert not origin_allowed("https://other.example.com", "10.0.0.5:8765", extra)
    for bad in ("review.example.com", "https://x.example/path", "ftp://x.example", "*"):
        with pytest.raises(OriginError, match="not an origin"):
            allowed_origins([bad])
    assert normalize("HTTPS://A.example:443") == "https://a.example"


def test_the_cookie_is_httponly_strict_and_reads_back() -> None:
    header = set_cookie("eyJ.a.b", 3600, secure=True)
    assert header == "imagechat=eyJ.a.b; Max-Age=3600; HttpOnly; SameSite=Strict; Secure"
    assert "Path" not in header  # scoped by the browser to the room's own path
    assert "Secure" not in set_cookie("t", 1, secure=False)
    assert read_cookie("other=1; imagechat=eyJ.a.b") == "eyJ.a.b"
    assert read_cookie(None) is None and read_cookie("imagechat=") is None
    assert read_cookie('bad"cookie') is None


def test_the_static_client_is_in_the_package_with_etags_and_gzip() -> None:
    found = assets.assets()
    assert {"app.js", "room.js", "live.js", "stage.js", "dom.js", "compose.js", "app.css"} <= set(
        found
    )
    app = found["app.js"]
    assert gzip.decompress(app.gzipped) == app.data
    assert app.content_type.startswith("text/javascript")
    assert assets.matches(app.etag, app.etag) and assets.matches(f"W/{app.etag}, x", app.etag)
    assert not assets.matches('"other"', app.etag)
    assert assets.accepts_gzip("gzip, deflate, br") and not assets.accepts_gzip("gzip;q=0")
    for asset in found.values():  # no inline handlers or eval for the CSP to trip on
        assert b"eval(" not in asset.data and b"innerHTML" not in asset.data


def test_the_static_folder_is_found_from_any_page_path() -> None:
    assert static_base("/r/design") == "../static/"
    assert static_base("/r/design/") == "../../static/"


def test_reissue_keeps_the_claims_and_never_outlives_the_original(
    tenants: TenantStore,
) -> None:
    tenants.add("acme")
    long = tenants.mint(tenant="acme", user_id="dana-1", name="Dana", room_scope="design")
    short, identity = tenants.reissue(long, 900)
    again = tenants.verify(short)
    assert (again.actor, again.room_scope, again.tenant) == (identity.actor, "design", "acme")
    assert again.expires_at <= time.time() + 900 < identity.expires_at
    brief = tenants.mint(tenant="acme", user_id="dana-1", ttl_seconds=60)
    assert (
        tenants.verify(tenants.reissue(brief, 900)[0]).expires_at
        == tenants.verify(brief).expires_at
    )
    with pytest.raises(AuthError):
        tenants.reissue(long + "x", 900)
