"""The page a room link shows in a browser: the image, its markers and threads as they
are, and the one command that joins from a terminal. No script: plain HTML and CSS
(markers are absolutely placed at their percentages, so they stay put at any width).
Everything from users goes through ``html.escape``; the page's CSP allows no script.
"""

from __future__ import annotations

import datetime
import html
import shlex
from urllib.parse import quote

from imagechat_tui.model import RoomState
from imagechat_tui.protocol import Chat, RoomImage

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#16181d;color:#e6e6e6}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:20px;margin:0 0 4px}
.meta{color:#9aa0a6;margin:0 0 16px}
.join{background:#0f1115;border:1px solid #2d323c;border-radius:8px;padding:12px 16px;margin:0 0 20px}
.join code{display:block;white-space:pre-wrap;word-break:break-all;color:#9fe870;font-size:14px}
.stage{position:relative;display:inline-block;max-width:100%;line-height:0}
.stage img{max-width:100%;height:auto;display:block;border-radius:4px}
.pin{position:absolute;transform:translate(-50%,-50%);min-width:22px;height:22px;border-radius:11px;
 background:#f5a623;color:#111;font:bold 13px/22px system-ui,sans-serif;text-align:center;
 box-shadow:0 0 0 2px #111;text-decoration:none}
.pin.resolved{background:#5f6368;color:#eee}
.region{position:absolute;border:2px solid #f5a623;border-radius:2px}
.region.resolved{border-color:#5f6368}
.region .pin{left:0;top:0}
ol{padding:0;list-style:none}
li.chat{border-top:1px solid #2d323c;padding:10px 0}
.num{display:inline-block;min-width:22px;height:22px;border-radius:11px;background:#f5a623;
 color:#111;text-align:center;font-weight:bold;margin-right:8px}
.resolved .num{background:#5f6368;color:#eee}
.who{color:#9aa0a6;font-size:13px}
.text{white-space:pre-wrap;margin:2px 0 6px 30px}
"""


def _when(ms: int) -> str:
    stamp = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def _marker(chat: Chat) -> str:
    state = " resolved" if chat.resolved else ""
    label = f"{chat.number}"
    pin = f'<a class="pin{state}" href="#m{chat.number}" title="#{label}">{label}</a>'
    if chat.w is not None and chat.h is not None:
        return (
            f'<div class="region{state}" style="left:{chat.x:.3f}%;top:{chat.y:.3f}%;'
            f'width:{chat.w:.3f}%;height:{chat.h:.3f}%">{pin}</div>'
        )
    return pin.replace('class="pin', f'style="left:{chat.x:.3f}%;top:{chat.y:.3f}%" class="pin', 1)


def _thread(chat: Chat) -> str:
    state = " resolved" if chat.resolved else ""
    comments = "".join(
        f'<div class="who">{html.escape(c.author.name)} · {_when(c.createdAt)}'
        f"{' (edited)' if c.editedAt else ''}</div>"
        f'<div class="text">{html.escape(c.text)}</div>'
        for c in chat.comments
    )
    status = " · resolved" if chat.resolved else ""
    return (
        f'<li class="chat{state}" id="m{chat.number}"><span class="num">{chat.number}</span>'
        f'<span class="who">at {chat.x:.0f}%, {chat.y:.0f}%{status}</span>{comments}</li>'
    )


def render(
    *,
    room: str,
    state: RoomState,
    image: RoomImage | None,
    link: str,
    invite: str | None,
    image_src: str | None = None,
) -> bytes:
    """``image_src``: where the image is when there is no invite (the cookie's
    ``/r/ROOM/image``); by default the invite's ``/images/{digest}?invite=``."""
    title = image.title if image is not None and image.title else room
    chats = list(state.chats.values())
    command = f"imagechat-tui {shlex.quote(link)}"
    if image is not None:
        src = (
            f"../images/{image.digest}?invite={quote(invite)}"
            if invite
            else f"{quote(room, safe='')}/{image_src or 'image'}"
        )
        stage = (
            f'<div class="stage"><img src="{html.escape(src)}" width="{image.width}" '
            f'height="{image.height}" alt="{html.escape(title)}">'
            + "".join(_marker(c) for c in chats)
            + "</div>"
        )
    else:
        stage = "<p>This room was not shared with an image; open it from a terminal.</p>"
    open_count = sum(1 for c in chats if not c.resolved)
    threads = "".join(_thread(c) for c in chats) or "<li>No markers yet.</li>"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)} · imagechat</title><style>{_STYLE}</style></head>
<body><main>
<h1>{html.escape(title)}</h1>
<p class="meta">Room {html.escape(room)} · {len(chats)} markers, {open_count} open ·
a read-only view as of this page's loading</p>
<div class="join">Join the review from a terminal (to add markers and comments, live):
<code>{html.escape(command)}</code></div>
{stage}
<h2>Threads</h2>
<ol>{threads}</ol>
</main></body></html>
"""
    return page.encode("utf-8")


_REASONS = {
    "not-found": "The invite in it is unknown (or the link is incomplete).",
    "expired": "The invite in it has expired.",
    "revoked": "The invite in it was revoked.",
    "used-up": "The invite in it has been used as many times as it allows.",
    "access-revoked": "This browser's access to it came from an invite that was revoked.",
    "access-expired": "This browser's access to it has expired.",
    "rate-limited": "Too many links with unknown invites were tried from here: wait a"
    " minute and reload it.",
}


def refused(room: str, reason: str = "not-found", script: str = "") -> bytes:
    """The page for a link that does not open its room, saying why. ``script``: the
    live client's tag, which checks whether this browser still has access (a cookie)."""
    why = _REASONS.get(reason, _REASONS["not-found"])
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>imagechat</title>{script}</head>"
        f'<body data-state="refused" data-reason="{html.escape(reason)}"><main>'
        f"<h1>This link does not open room {html.escape(room)}</h1>"
        f"<p>{why}{'' if reason == 'rate-limited' else ' Ask for a new link.'}</p>"
        "</main></body></html>\n"
    ).encode()
