"""The W3C Web Annotation Data Model (JSON-LD), https://www.w3.org/TR/annotation-model/.

An ``AnnotationCollection`` with one page holding one ``Annotation`` per marker:
- ``target``: the image, with a ``FragmentSelector`` conforming to Media Fragments,
  ``xywh=percent:x,y,w,h`` (a point marker is a zero-sized fragment at its spot);
- ``body``: one ``TextualBody`` per comment, the first with purpose ``commenting`` and
  the replies with ``replying``, each with its creator, ``created`` and ``modified``;
  a resolved marker also has a ``tagging`` body ``resolved``;
- ``creator``, ``created``, ``modified`` of the marker, and the extension terms
  ``resolved`` and ``number`` defined in an inline context.

Text is carried as data (JSON strings, ``format: text/plain``), so it cannot become
markup in any consumer that honours ``format``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from imagechat_tui.export import Review
from imagechat_tui.export.timefmt import iso
from imagechat_tui.protocol import Chat, Comment, User

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/"
_NS = "https://github.com/imagechat-tui/imagechat-tui/ns#"
EXTENSION_CONTEXT = {
    "ic": _NS,
    "resolved": {"@id": "ic:resolved", "@type": "http://www.w3.org/2001/XMLSchema#boolean"},
    "number": {"@id": "ic:number", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
}


def _iri(kind: str, ident: str) -> str:
    """An IRI for a client-made id: ``urn:uuid:`` when it is a UUID (as clients make)."""
    try:
        return uuid.UUID(ident).urn
    except ValueError:
        # Protocol ids are 1-64 of [A-Za-z0-9_.:-]: all safe in a URN's specific string.
        return f"urn:imagechat:{kind}:{ident}"


def _person(user: User) -> dict[str, str]:
    return {"id": f"urn:imagechat:user:{_pct(user.id)}", "type": "Person", "name": user.name}


def _pct(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def fragment(chat: Chat) -> str:
    """``xywh=percent:x,y,w,h`` for a marker (w = h = 0 for a point)."""
    w, h = (chat.w, chat.h) if chat.w is not None and chat.h is not None else (0.0, 0.0)
    return "xywh=percent:" + ",".join(f"{v:g}" for v in (chat.x, chat.y, w, h))


def _body(comment: Comment, purpose: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": _iri("comment", comment.id),
        "type": "TextualBody",
        "purpose": purpose,
        "value": comment.text,
        "format": "text/plain",
        "creator": _person(comment.author),
        "created": iso(comment.createdAt),
    }
    if comment.editedAt:
        body["modified"] = iso(comment.editedAt)
    return body


def _target_source(review: Review) -> str:
    if review.is_remote:
        return review.source
    return Path(review.source).expanduser().resolve().as_uri()


def annotation(chat: Chat, review: Review) -> dict[str, Any]:
    bodies = [
        _body(comment, "commenting" if i == 0 else "replying")
        for i, comment in enumerate(chat.comments)
    ]
    if chat.resolved:
        bodies.append({"type": "TextualBody", "purpose": "tagging", "value": "resolved"})
    times = [c.editedAt or c.createdAt for c in chat.comments] + [chat.createdAt]
    return {
        "id": _iri("marker", chat.id),
        "type": "Annotation",
        "motivation": "commenting",
        "number": chat.number,
        "resolved": chat.resolved,
        "creator": _person(chat.createdBy),
        "created": iso(chat.createdAt),
        "modified": iso(max(times)),
        "body": bodies,
        "target": {
            "source": _target_source(review),
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": MEDIA_FRAGMENTS,
                "value": fragment(chat),
            },
        },
    }


def document(review: Review) -> dict[str, Any]:
    items = [annotation(chat, review) for chat in review.chats]
    return {
        "@context": [ANNO_CONTEXT, EXTENSION_CONTEXT],
        "id": f"urn:imagechat:room:{_pct(review.room)}",
        "type": "AnnotationCollection",
        "label": f"Review of {review.title}",
        "generated": iso(review.exported_at),
        "total": len(items),
        "first": {"type": "AnnotationPage", "startIndex": 0, "items": items},
    }


def render(review: Review) -> str:
    return json.dumps(document(review), indent=2, ensure_ascii=False) + "\n"
