"""Read W3C Web Annotations back as markers and threads: our own export, or what
Annotorious (and other tools) write for rectangles. Pure: no I/O.

Accepted: an ``AnnotationCollection`` (its ``first`` page's items), an
``AnnotationPage``, a JSON array of annotations, or one annotation. Each needs a
``FragmentSelector`` ``xywh=`` in pixels (``pixel:`` or no unit: the image's size is
then needed) or ``percent:``. Bodies: ``TextualBody`` values, the first ``commenting``
(or without purpose) the comment and the rest replies; a ``tagging`` body ``resolved``
resolves the marker. Our ``shape: point`` says a 1x1 box is a point (``positions.box``);
anything else is a region. The whole file is read before anything is sent: one bad
annotation is one clear error and nothing is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from imagechat_tui.positions import center_percent, edge_percent

#: A marker without any comment (a bare Annotorious shape) needs a first comment.
NO_COMMENT: Final = "(imported without a comment)"
_XYWH: Final = re.compile(
    r"^xywh=(?:(pixel|percent):)?"
    r"([0-9]+(?:\.[0-9]+)?),([0-9]+(?:\.[0-9]+)?),([0-9]+(?:\.[0-9]+)?),([0-9]+(?:\.[0-9]+)?)$"
)


class ReadError(ValueError):
    """The file is not annotations we can import; ``str`` is one line for a person."""


@dataclass(frozen=True, slots=True)
class Marker:
    """A marker to create: place in percent (w, h None for a point) and its thread."""

    x: float
    y: float
    w: float | None
    h: float | None
    comments: tuple[str, ...]  # the first is the marker's comment, then the replies
    resolved: bool


def image_size(document: Any) -> tuple[int, int] | None:
    """The image's size our export records on the collection, if it is there."""
    if isinstance(document, dict):
        w, h = document.get("imageWidth"), document.get("imageHeight")
        if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
            return w, h
    return None


def items_of(document: Any) -> list[Any]:
    """The annotations of a collection, a page, an array, or one annotation."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise ReadError("The file is not W3C Web Annotation JSON (an object or an array).")
    kind = _types(document)
    if "AnnotationCollection" in kind:
        first = document.get("first")
        if not isinstance(first, dict):
            raise ReadError("The collection has no embedded first page to read.")
        items = first.get("items", [])
    elif "AnnotationPage" in kind:
        items = document.get("items", [])
    elif "Annotation" in kind:
        items = [document]
    else:
        raise ReadError("The file holds no Annotation, AnnotationPage or AnnotationCollection.")
    if not isinstance(items, list):
        raise ReadError("The page's items are not a list.")
    return items


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type", node.get("@type", []))
    return {kind} if isinstance(kind, str) else {k for k in kind if isinstance(k, str)}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _fragment(annotation: dict[str, Any]) -> re.Match[str]:
    for target in _as_list(annotation.get("target")):
        if not isinstance(target, dict):
            continue
        for selector in _as_list(target.get("selector")):
            if isinstance(selector, dict) and "FragmentSelector" in _types(selector):
                value = str(selector.get("value", "")).replace(" ", "")
                if match := _XYWH.match(value):
                    return match
    raise ReadError("it has no FragmentSelector xywh= (only rectangles can be imported)")


def _thread(annotation: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    comments: list[tuple[int, str]] = []
    resolved = False
    if isinstance(annotation.get("bodyValue"), str):
        comments.append((0, annotation["bodyValue"]))
    for body in _as_list(annotation.get("body")):
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            continue
        purpose = set(_as_list(body.get("purpose")))
        if "tagging" in purpose:
            resolved = resolved or body["value"] == "resolved"
        elif body["value"].strip():
            # A reply after the comment, whatever order the tool listed them in.
            comments.append((1 if "replying" in purpose else 0, body["value"]))
    ordered = [text for _, text in sorted(comments, key=lambda c: c[0])]
    return tuple(ordered or [NO_COMMENT]), resolved


def marker(annotation: Any, size: tuple[int, int] | None) -> Marker:
    """One annotation as a marker (raises ReadError saying what is wrong with it)."""
    if not isinstance(annotation, dict):
        raise ReadError("it is not a JSON object")
    match = _fragment(annotation)
    unit = match.group(1) or "pixel"
    left, top, w, h = (float(v) for v in match.group(2, 3, 4, 5))
    if w <= 0 or h <= 0:
        raise ReadError("its xywh= has no width or height")
    comments, resolved = _thread(annotation)
    point = annotation.get("shape") == "point"
    if unit == "percent":
        x, y, pw, ph = left, top, w, h
        if point:
            return Marker(x + pw / 2, y + ph / 2, None, None, comments, resolved)
    else:
        if size is None:
            raise ReadError("it is in pixels, and the image's size is not known: pass --size WxH")
        width, height = size
        if point:
            return Marker(
                center_percent(round(left), round(w), width),
                center_percent(round(top), round(h), height),
                None,
                None,
                comments,
                resolved,
            )
        x, y = edge_percent(round(left), width), edge_percent(round(top), height)
        pw, ph = w * 100 / width, h * 100 / height
    if x + pw > 100 + 1e-9 or y + ph > 100 + 1e-9:
        raise ReadError("its box leaves the image")
    return Marker(x, y, min(pw, 100 - x), min(ph, 100 - y), comments, resolved)


def markers(document: Any, size: tuple[int, int] | None = None) -> list[Marker]:
    """Every annotation of ``document`` as a marker, in marker-number order when the
    file says it (our ``number``), else in the file's order."""
    items = items_of(document)
    size = size or image_size(document)

    def order(pair: tuple[int, Any]) -> tuple[int, int]:
        index, item = pair
        number = item.get("number") if isinstance(item, dict) else None
        return (number if isinstance(number, int) else index, index)

    numbered = sorted(enumerate(items), key=order)
    out: list[Marker] = []
    for index, item in numbered:
        try:
            out.append(marker(item, size))
        except ReadError as exc:
            raise ReadError(f"Annotation {index + 1}: {exc}.") from None
    return out
