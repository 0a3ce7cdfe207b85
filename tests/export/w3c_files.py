"""The W3C documents the W3C export is checked against, vendored in tests/export/w3c/
(see its README): the Web Annotation JSON-LD context and the test suite's schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "w3c"
ANNO_CONTEXT_URL = "http://www.w3.org/ns/anno.jsonld"


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's loader: the Web Annotation context from disk, nothing from the network."""
    if url.rstrip("/") not in (ANNO_CONTEXT_URL, ANNO_CONTEXT_URL.replace("http:", "https:")):
        raise ValueError(f"the tests load no document but the anno context, not {url}")
    document = json.loads((HERE / "anno.jsonld").read_text(encoding="utf-8"))
    return {"contextUrl": None, "documentUrl": url, "document": document}
