"""Write (or check) the JSON Schema appendix of docs/PROTOCOL.md from the msgspec types.

python scripts/protocol_schema.py --write   # regenerate the appendix
python scripts/protocol_schema.py --check   # exit 1 if the document differs
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from imagechat_tui.protocol import json_schema

DOC = Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md"
BEGIN, END = "<!-- schema:begin -->\n", "<!-- schema:end -->\n"


def canonical(node: Any) -> Any:
    """The same schema whichever msgspec release made it (they differ in form only):
    descriptions dedented, and ``null`` last among the ``anyOf`` choices."""
    if isinstance(node, list):
        return [canonical(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: canonical(value) for key, value in node.items()}
    if isinstance(out.get("description"), str):
        out["description"] = inspect.cleandoc(out["description"])
    if isinstance(out.get("anyOf"), list):
        out["anyOf"].sort(key=lambda choice: choice == {"type": "null"})  # stable: null last
    return out


def rendered(doc: str) -> str:
    """The document with its appendix between the markers generated afresh."""
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    schema = canonical(json_schema())
    block = "```json\n" + json.dumps(schema, indent=2, ensure_ascii=False) + "\n```\n"
    return head + BEGIN + block + END + tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args()
    doc = DOC.read_text(encoding="utf-8")
    fresh = rendered(doc)
    if args.write:
        DOC.write_text(fresh, encoding="utf-8")
    elif fresh != doc:
        sys.exit(f"{DOC.name}: the schema appendix differs from protocol.py; run --write")


if __name__ == "__main__":
    main()
