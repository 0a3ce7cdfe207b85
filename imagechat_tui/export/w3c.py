"""The W3C Web Annotation Data Model (JSON-LD), https://www.w3.org/TR/annotation-model/.

An ``AnnotationCollection`` with one ``AnnotationPage`` holding one ``Annotation`` per
marker, as the W3C test suite's schemas, JSON-LD processors and Annotorious read it:

- ``target``: the image, ``source`` being its URL on the server (a room link without
  its invite code) or ``urn:sha256:`` of its bytes for a local file, never a path; the
  place is a Media Fragments ``FragmentSelector`` in integer pixels,
  ``xywh=pixel:left,top,width,height`` (``positions.box``: a point is the 1x1 pixel it
  is in, as Media Fragments allows no zero width or height);
- ``body``: one ``TextualBody`` per comment, the first with purpose ``commenting``, each
  reply with ``replying`` (the thread stays one annotation: what Annotorious and
  Recogito do with replies), each with its creator, ``created`` and ``modified``; a
  resolved marker also has a ``tagging`` body ``resolved``. Bodies have no ``id``: the
  model forbids a ``purpose`` on an external resource, which a body with an id is
  read as (3.3.5), and blank nodes are never merged by a JSON-LD processor;
- ids: ``urn:uuid:`` (version 5) of the room and the marker's id, unique in the whole
  export and stable across exports of the same room;
- extension terms (inline context): ``number``, ``resolved`` and ``shape`` (point or
  region) of a marker, and ``imageWidth``/``imageHeight`` on the collection, so that
  ``imagechat-tui import`` can read the pixels back as percent.

Text is carried as data (JSON strings, ``format: text/plain``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Final
from urllib.parse import quote

from imagechat_tui.export import Review
from imagechat_tui.export.timefmt import iso
from imagechat_tui.positions import box
from imagechat_tui.protocol import Chat, Comment, User

ANNO_CONTEXT: Final = "http://www.w3.org/ns/anno.jsonld"
MEDIA_FRAGMENTS: Final = "http://www.w3.org/TR/media-frags/"
_NS: Final = "https://github.com/imagechat-tui/imagechat-tui/ns#"
_XSD: Final = "http://www.w3.org/2001/XMLSchema#"
EXTENSION_CONTEXT: Final = {
    "ic": _NS,
    "resolved": {"@id": "ic:resolved", "@type": _XSD + "boolean"},
    "number": {"@id": "ic:number", "@type": _XSD + "integer"},
    "shape": {"@id": "ic:shape"},
    "imageWidth": {"@id": "ic:imageWidth", "@type": _XSD + "integer"},
    "imageHeight": {"@id": "ic:imageHeight", "@type": _XSD + "integer"},
}
#: The namespace of every id this export makes (uuid5 of a fixed URL).
_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, _NS)


def export_id(*parts: str) -> str:
    """A ``urn:uuid:`` that only these parts give (room, then marker, ...)."""
    return uuid.uuid5(_ID_NAMESPACE, "\x1f".join(parts)).urn


def _person(user: User) -> dict[str, str]:
    return {
        "id": f"urn:imagechat:user:{quote(user.id, safe='')}",
        "type": "Person",
        "name": user.name,
    }


def fragment(chat: Chat, size: tuple[int, int]) -> str:
    """``xywh=pixel:left,top,width,height`` of a marker on an image of ``size``."""
    return "xywh=pixel:" + ",".join(str(v) for v in box(chat.x, chat.y, chat.w, chat.h, size))


def _body(comment: Comment, purpose: str) -> dict[str, Any]:
    body: dict[str, Any] = {
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


def annotation(chat: Chat, review: Review) -> dict[str, Any]:
    bodies = [
        _body(comment, "commenting" if i == 0 else "replying")
        for i, comment in enumerate(chat.comments)
    ]
    if chat.resolved:
        bodies.append({"type": "TextualBody", "purpose": "tagging", "value": "resolved"})
    times = [c.editedAt or c.createdAt for c in chat.comments] + [chat.createdAt]
    return {
        "id": export_id(review.room, chat.id),
        "type": "Annotation",
        "motivation": "commenting",
        "number": chat.number,
        "resolved": chat.resolved,
        "shape": "point" if chat.w is None or chat.h is None else "region",
        "creator": _person(chat.createdBy),
        "created": iso(chat.createdAt),
        "modified": iso(max(times)),
        "body": bodies,
        "target": {
            "source": review.public_source,
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": MEDIA_FRAGMENTS,
                "value": fragment(chat, review.image.size),
            },
        },
    }


def document(review: Review) -> dict[str, Any]:
    items = [annotation(chat, review) for chat in review.chats]
    collection = export_id(review.room)
    page = export_id(review.room, "page 1")
    width, height = review.image.size
    return {
        "@context": [ANNO_CONTEXT, EXTENSION_CONTEXT],
        "id": collection,
        "type": "AnnotationCollection",
        "label": f"Review of {review.title}",
        "generated": iso(review.exported_at),
        "imageWidth": width,
        "imageHeight": height,
        "total": len(items),
        "first": {
            "id": page,
            "type": "AnnotationPage",
            "partOf": collection,
            "startIndex": 0,
            "items": items,
        },
        "last": page,
    }


def render(review: Review) -> str:
    return json.dumps(document(review), indent=2, ensure_ascii=False) + "\n"
