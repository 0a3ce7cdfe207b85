"""docs/PROTOCOL.md against the types it describes, so the two cannot drift apart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import msgspec

from imagechat_tui.protocol import CloseCode, ErrorCode, ServerLimits

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")


def table_after(heading: str) -> list[str]:
    """The first column of the first table after ``heading``."""
    section = DOC.split(heading, 1)[1]
    rows = re.findall(r"^\| ?`?([^|`]+?)`? ?\|", section.split("\n## ", 1)[0], re.M)
    return [r for r in rows if r not in ("code", "kind") and not r.startswith("-")]


def test_the_schema_appendix_is_generated_from_the_types() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "protocol_schema.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr


def test_every_error_code_is_documented_and_every_documented_one_exists() -> None:
    codes = {v for k, v in vars(ErrorCode).items() if k.isupper()}
    assert set(table_after("### error")) == codes


def test_every_close_code_the_server_sends_is_documented() -> None:
    documented = {int(c) for c in table_after("## Close codes")}
    unused = {CloseCode.POLICY}  # websockets' own; the server never sends it itself
    assert {int(c) for c in CloseCode} - unused <= documented
    assert documented - {int(c) for c in CloseCode} == {1007}  # websockets, bad UTF-8


def test_every_limit_in_joined_is_explained() -> None:
    for name in msgspec.structs.fields(ServerLimits):
        assert f"`{name.name}`" in DOC or f"`limits.{name.name}`" in DOC, name.name


def test_the_binary_layouts_match_the_wire_types() -> None:
    """Each row of the "Binary events" table lists its type's fields in order."""
    from imagechat_tui import wire

    rows = {
        "`new-image-chat`": wire.NewImageChat,
        "`image-chat-updated`": wire.ImageChatUpdated,
        "`deleted-image-chat`": wire.DeletedImageChat,
        "`batch`": wire.Batch,
        "chat": wire.Chat,
        "comment": wire.Comment,
        "user": wire.User,
        "undo": wire.Undoable,
        "change `comment`": wire.CommentAdded,
        "change `edit-comment`": wire.CommentEdited,
        "change `delete-comment`": wire.CommentDeleted,
        "change `resolve`": wire.Resolved,
        "change `reopen`": wire.Reopened,
        "change `move`": wire.Moved,
    }
    section = DOC.split("## Binary events", 1)[1].split("\n## ", 1)[0]
    for label, cls in rows.items():
        info = msgspec.inspect.type_info(cls)
        assert isinstance(info, msgspec.inspect.StructType)
        names = [f.name for f in info.fields]
        if cls is wire.Batch:
            names = ["[event, ...]"]
        tag = [str(info.tag)] if info.tag is not None else []
        assert f"| {label} | `[{', '.join(tag + names)}]` |" in section, label
