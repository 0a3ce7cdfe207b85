"""The W3C export against the W3C Web Annotation test suite's own JSON Schemas (vendored
in tests/export/w3c/annotation-model/): every required assertion of the annotation,
body, target, page and collection tests, on every annotation, the page and the
collection of the hostile room's export."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.export import w3c_suite
from tests.export.hostile_room import PLACES, Seeded, export

REQUIRED = (*w3c_suite.ANNOTATION_TESTS, w3c_suite.PAGE_TEST, w3c_suite.COLLECTION_TEST)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_every_vendored_assertion_and_definition_resolves() -> None:
    registry = w3c_suite.registry()
    files = sorted(w3c_suite.ROOT.rglob("*.json"))
    assert len(files) == 66  # 59 assertions and 7 definitions
    for path in files:
        schema = json.loads(path.read_text(encoding="utf-8"))
        resolver = registry.resolver(base_uri=schema["id"])
        for ref in _refs(schema):
            resolver.lookup(ref)  # raises if the suite's files do not hold it
    # What the required tests list and is not here is exactly what the README names.
    assert set().union(*(w3c_suite.missing(t) for t in REQUIRED)) == w3c_suite.NOT_VENDORED


async def test_the_export_passes_every_required_assertion(hostile: Seeded) -> None:
    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["first"]["items"]) == len(PLACES)
    assert w3c_suite.failures(doc) == {}
    ran = {t: len(w3c_suite.run(t, doc)) for t in REQUIRED}
    # 14 + 16 + 15 on each annotation, 14 on the page, 2 on the collection.
    assert ran == dict(zip(REQUIRED, (14, 16, 15, 14, 2), strict=True))


async def test_the_suite_refuses_what_the_export_used_to_write(hostile: Seeded) -> None:
    """The checks have teeth: a page without an id fails 5.2-pageIdValidated, and a body
    that the suite reads as an External Web Resource (an id, no value) with a purpose
    fails 3.3.5-bodyEWRNoPurpose."""
    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    doc = json.loads(out)
    no_page_id = copy.deepcopy(doc)
    del no_page_id["first"]["id"]
    assert w3c_suite.failures(no_page_id) == {
        "page": ["collections/pages/5.2-pageIdValidated.json"],
        "collection with its page": ["collections/pages/5.2-pageIdValidated.json"],
    }
    external = copy.deepcopy(doc)
    body = external["first"]["items"][0]["body"][0]
    external["first"]["items"][0]["body"][0] = {"id": "urn:uuid:" + "0" * 32, **body}
    del external["first"]["items"][0]["body"][0]["value"]
    assert w3c_suite.failures(external) == {
        "annotation 1": ["bodiesTargets/3.3.5-bodyEWRNoPurpose.json"]
    }
    # A TextualBody keeps its value, so with an id it is still read as a TextualBody
    # (externalWebResourceDetected excludes anything with a value): these schemas pass
    # it. The export leaves body ids out anyway (blank nodes, never merged; README).
    with_ids = copy.deepcopy(doc)
    for index, item in enumerate(with_ids["first"]["items"]):
        for n, b in enumerate(item["body"]):
            b["id"] = f"urn:uuid:00000000-0000-4000-8000-{index:06d}{n:06d}"
    assert w3c_suite.failures(with_ids) == {}
