"""The W3C export through a JSON-LD processor (pyld): expanded, compacted and flattened,
nothing is merged, even with the same comment id on two markers and the same person on
many; and nothing in it names a path of the exporting machine."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pyld import jsonld

from tests.export.hostile_room import DUPLICATE_ID, FORMULAS, MARKDOWN, PLACES, Seeded, export
from tests.export.w3c_files import document_loader

OA = "http://www.w3.org/ns/oa#"
RDF_VALUE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value"
OPTIONS = {"documentLoader": document_loader}


def _values(node: dict[str, Any], key: str) -> list[Any]:
    return [v.get("@value", v.get("@id")) for v in node.get(key, [])]


async def test_flattening_merges_no_annotation_and_no_comment(hostile: Seeded) -> None:
    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    doc = json.loads(out)
    items = doc["first"]["items"]
    assert len(items) == len(PLACES)
    flat = jsonld.flatten(doc, None, OPTIONS)
    graph = flat if isinstance(flat, list) else flat["@graph"]
    annotations = [n for n in graph if OA + "Annotation" in n.get("@type", [])]
    bodies = [n for n in graph if OA + "TextualBody" in n.get("@type", [])]
    assert len(annotations) == len(items)
    assert len({a["@id"] for a in annotations}) == len(items)  # ids unique in the export
    # One node per comment (and per "resolved" tag): none merged, one value each.
    assert len(bodies) == sum(len(a["body"]) for a in items)
    assert all(len(b[RDF_VALUE]) == 1 for b in bodies)
    texts = Counter(_values(b, RDF_VALUE)[0] for b in bodies)
    # The two comments that share the id DUPLICATE_ID, on markers 1 and 2, stay two.
    assert texts[MARKDOWN] == 1 and texts[FORMULAS[0]] == 1, DUPLICATE_ID
    # Every annotation keeps exactly its own bodies and one target.
    for node in annotations:
        assert len(node[OA + "hasTarget"]) == 1
    by_id = {a["@id"]: a for a in annotations}
    for item in items:
        assert len(by_id[item["id"]][OA + "hasBody"]) == len(item["body"])


async def test_expansion_and_compaction_keep_the_document(hostile: Seeded) -> None:
    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    doc = json.loads(out)
    expanded = jsonld.expand(doc, OPTIONS)
    compacted = jsonld.compact(expanded, {"@context": doc["@context"]}, OPTIONS)
    assert jsonld.expand(compacted, OPTIONS) == expanded
    # The marker terms are real IRIs, typed, not dropped as unknown keys.
    (collection,) = expanded
    page = collection["http://www.w3.org/ns/activitystreams#first"][0]
    first = page["http://www.w3.org/ns/activitystreams#items"][0]["@list"][0]
    ns = "https://github.com/imagechat-tui/imagechat-tui/ns#"
    assert first[ns + "number"] == [
        {"@value": 1, "@type": "http://www.w3.org/2001/XMLSchema#integer"}
    ]
    assert first[ns + "shape"] == [{"@value": "point"}]


async def test_the_target_is_the_image_by_its_digest_never_a_path(hostile: Seeded) -> None:
    import hashlib

    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    digest = hashlib.sha256(hostile.image.read_bytes()).hexdigest()
    text = out.decode()
    assert str(hostile.image.parent) not in text and "file:" not in text
    doc = json.loads(text)
    for item in doc["first"]["items"]:
        assert item["target"]["source"] == f"urn:sha256:{digest}"
        value = item["target"]["selector"]["value"]
        left, top, w, h = (int(v) for v in value.removeprefix("xywh=pixel:").split(","))
        assert w > 0 and h > 0 and left >= 0 and left + w <= 400 and top >= 0 and top + h <= 300
    values = [i["target"]["selector"]["value"] for i in doc["first"]["items"]]
    assert values == [
        "xywh=pixel:100,150,1,1",
        "xywh=pixel:200,30,160,90",
        "xywh=pixel:0,0,1,1",
        "xywh=pixel:399,299,1,1",  # the corner at 100 %: the last pixel
        "xywh=pixel:399,0,1,1",
        "xywh=pixel:0,299,1,1",
        "xywh=pixel:399,150,1,1",
        "xywh=pixel:360,270,40,30",
    ]
