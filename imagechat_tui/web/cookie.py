"""The browser's credential: the personal token an invite redeemed, in a cookie.

``HttpOnly`` (no script reads it, ours included), ``SameSite=Strict`` (never sent with
a request another site starts), ``Secure`` over https, and no ``Path``: the browser
scopes it to the room's own path (``/PREFIX/r/ROOM``, the default path of the
``POST /r/ROOM/session`` that set it), so it goes only to that room's page, token
exchange and image, whatever prefix a proxy adds. The page never holds it: it trades it
for a short-lived token (``POST /r/ROOM/token``) to join with.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

NAME = "imagechat"


def set_cookie(token: str, max_age: int, *, secure: bool) -> str:
    attrs = [f"{NAME}={token}", f"Max-Age={max(0, max_age)}", "HttpOnly", "SameSite=Strict"]
    if secure:
        attrs.append("Secure")
    return "; ".join(attrs)


def clear_cookie(*, secure: bool) -> str:
    return set_cookie("", 0, secure=secure)


def read_cookie(header: str | None) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(NAME)
    return morsel.value or None if morsel is not None else None
