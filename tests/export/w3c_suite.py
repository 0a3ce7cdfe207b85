"""The W3C Web Annotation test suite's required assertions (its ``*Musts.test`` files),
run on a document with the ``jsonschema`` library as the suite's own harness runs them:
each assertion is a draft-04 JSON Schema, its ``$ref`` s resolve into the suite's
``definitions/`` (by their ``id``), ``format`` (uri, date-time) is checked, and a schema
passes when the result is its ``expectedResult``. The files are vendored, unmodified, in
``tests/export/w3c/annotation-model/`` (see the README there)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).parent / "w3c" / "annotation-model"
#: The required tests, by what they are run on.
ANNOTATION_TESTS = (
    "annotations/annotationMusts.test",
    "bodiesTargets/bodyMusts.test",
    "bodiesTargets/targetMusts.test",
)
COLLECTION_TEST = "collections/collectionMusts.test"
PAGE_TEST = "collections/pages/pageMusts.test"
#: Assertions the required tests list whose files are not in the stored copy of the suite
#: this project could read (see the README): they cannot be run, and the tests check that
#: no other assertion goes missing.
NOT_VENDORED = frozenset(
    {
        "collections/5.1-collectionContextValidated.json",
        "collections/5.1-collectionLabelValidated.json",
        "collections/5.1-collectionTotalValidated.json",
        "collections/5.1-collectionFirstValidated.json",
        "collections/5.1-collectionLastValidated.json",
        "collections/3.3.1-collectionCreatedValidated.json",
        "collections/3.3.1-collectionModifiedValidated.json",
        "collections/3.3.6-collectionRightsValidated.json",
        "collections/pages/5.2-pageContextValidated.json",
    }
)


@dataclass(frozen=True)
class Outcome:
    assertion: str  # its path in the suite, e.g. "bodiesTargets/3.3.5-bodyEWRNoPurpose.json"
    passed: bool
    message: str  # the suite's errorMessage when it failed


def _load(relative: str) -> Any:
    return json.loads((ROOT / relative).read_text(encoding="utf-8"))


@cache
def registry() -> Registry[Any]:
    """The suite's definitions, found by the ``id`` each declares (``id.json``, ...)."""
    resources = []
    for path in sorted((ROOT / "definitions").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["id"], Resource.from_contents(schema, DRAFT4)))
    return Registry().with_resources(resources)


def assertions(test: str) -> list[str]:
    """The assertion files a ``.test`` lists, in its order."""
    listed: list[str] = _load(test)["assertions"]
    return listed


def missing(test: str) -> set[str]:
    return {a for a in assertions(test) if not (ROOT / a).is_file()}


@cache
def _validator(relative: str) -> Draft4Validator:
    return Draft4Validator(
        _load(relative), registry=registry(), format_checker=Draft4Validator.FORMAT_CHECKER
    )


def run(test: str, instance: Any) -> list[Outcome]:
    """Every vendored assertion of ``test`` on ``instance``."""
    outcomes = []
    for relative in assertions(test):
        if not (ROOT / relative).is_file():
            continue
        validator = _validator(relative)
        schema = validator.schema
        valid = validator.is_valid(instance)
        expected = schema.get("expectedResult", "valid") == "valid"
        passed = valid == expected
        outcomes.append(Outcome(relative, passed, "" if passed else schema["errorMessage"]))
    return outcomes


def failures(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Every failed required assertion of a W3C export (an ``AnnotationCollection`` with
    its first page embedded), by what failed: each annotation as it stands alone (with
    the document's ``@context``), the page, the collection."""
    found: dict[str, list[str]] = {}

    def record(subject: str, test: str, instance: Any) -> None:
        for outcome in run(test, instance):
            if not outcome.passed:
                found.setdefault(subject, []).append(outcome.assertion)

    for index, item in enumerate(doc["first"]["items"]):
        annotation = {"@context": doc["@context"], **item}
        for test in ANNOTATION_TESTS:
            record(f"annotation {index + 1}", test, annotation)
    record("page", PAGE_TEST, {"@context": doc["@context"], **doc["first"]})
    record("collection with its page", PAGE_TEST, doc)
    record("collection", COLLECTION_TEST, doc)
    return found
