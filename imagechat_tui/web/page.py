"""The live page's HTML: a shell the ES modules fill in, and its security headers.

No inline script (the CSP forbids it): what the script needs to start is in ``data-``
attributes. Without script, a ``<noscript>`` refresh sends the browser to the read-only
page (``?view=text``), which the server renders (``server/room_page.py``).
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

#: The live page's policy: scripts, styles and connections from this origin only, no
#: inline code, no eval, not framable.
LIVE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: The read-only page and the refusal: no script but the refusal's cookie check.
TEXT_CSP = (
    "default-src 'none'; script-src 'self'; img-src 'self'; style-src 'unsafe-inline'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",  # the invite must not leak in a Referer
    "X-Frame-Options": "DENY",  # frame-ancestors for older browsers
    "Cache-Control": "no-store",
}


def static_base(path: str) -> str:
    """The relative URL of ``/static/`` from a page at ``path`` (``/r/ROOM`` or
    ``/r/ROOM/``), so a deployment under a path prefix needs no setting."""
    return "../" * (path.count("/") - 1) + "static/"


def shell(*, room: str, title: str, path: str, invite: str | None, state: str) -> bytes:
    """The live page. ``state``: ``invite`` (a valid invite in the link) or ``member``."""
    static = static_base(path)
    query = {"view": "text", **({"invite": invite} if invite else {})}
    text_view = f"?{urlencode(query)}"
    e = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>{e(title)} · imagechat</title>
<noscript><meta http-equiv="refresh" content="0;url={e(text_view)}"></noscript>
<link rel="stylesheet" href="{static}app.css">
<script type="module" src="{static}app.js"></script>
</head><body data-room="{e(room)}" data-title="{e(title)}" data-state="{e(state)}">
<noscript><p>This page needs JavaScript; <a href="{e(text_view)}">read the review
as it is now</a>.</p></noscript>
</body></html>
""".encode()


def refusal_script(path: str) -> str:
    """The one script a refusal page carries: it checks for an existing access (a
    returning visitor whose cookie a cross-site link did not send) and goes live."""
    return f'<script type="module" src="{static_base(path)}app.js"></script>'
