"""The browser client's static files, read once from the package: bytes, gzip, ETag.

Served with ``Cache-Control: no-cache`` and a strong ETag (the content's SHA-256), so a
browser revalidates each load with a 304 of a few bytes and never runs a stale module
after an upgrade; gzip is made once here, not per request.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from imagechat_tui.web import rules

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    data: bytes
    gzipped: bytes
    content_type: str
    etag: str  # quoted, strong


@cache
def assets() -> dict[str, Asset]:
    folder = resources.files("imagechat_tui.web") / "static"
    files = {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and "." + entry.name.rpartition(".")[2] in _TYPES
    }
    # Not a file: made from the model's rules, so the page cannot drift from them.
    files["rules.json"] = rules.rules_json()
    return {name: _asset(name, data) for name, data in files.items()}


def _asset(name: str, data: bytes) -> Asset:
    return Asset(
        name=name,
        data=data,
        gzipped=gzip.compress(data, compresslevel=9, mtime=0),
        content_type=_TYPES["." + name.rpartition(".")[2]],
        etag=f'"{hashlib.sha256(data).hexdigest()[:32]}"',
    )


def find(name: str) -> Asset | None:
    return assets().get(name)


def accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def matches(if_none_match: str, etag: str) -> bool:
    """``If-None-Match`` names this ETag (or ``*``); weak forms compare equal (RFC 9110)."""
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags
