"""Who may do what in a room, as the browser reads it: ``static/rules.json``, made from
``model.allowed`` when the server starts, so room.js states no rule of its own.

For each role and action the table holds 16 answers, one per case, each the model's
refusal in words or ``null`` (allowed). A case is four facts, bit by bit (room.js's
``caseOf`` reads them the same way):

- 8: the marker is someone else's (0: the user's own)
- 4: the marker is resolved (0: open)
- 2: the comment acted on is someone else's (0: the user's own)
- 1: that comment is a reply (0: the first comment, which opens the thread)

The comment bits matter only to ``edit`` and ``delete-comment``. What depends on counts
(a room's markers, a marker's comments) or on the text is not in the table: the limits
come in ``joined`` and the server checks the content again.
"""

from __future__ import annotations

import json
from functools import cache
from typing import get_args

from imagechat_tui.model import ROLE_RANK, Action, Actor, RoomState, allowed
from imagechat_tui.protocol import Chat, Comment, User

#: The actions a page offers (restore is the undo the page does not have).
ACTIONS: tuple[Action, ...] = tuple(a for a in get_args(Action) if a != "restore")
CASES = 16
_ME, _THEM = User(id="me", name="Me"), User(id="them", name="Them")


def case_state(case: int) -> tuple[RoomState, str, str]:
    """A room with one marker in the given case; its id and the comment's id."""
    owner = _THEM if case & 8 else _ME
    author = _THEM if case & 2 else _ME
    comments: tuple[Comment, ...]
    if case & 1:  # a reply: the marker's own first comment, then the author's reply
        comments = (
            Comment(id="first", author=owner, text="a", createdAt=0),
            Comment(id="target", author=author, text="b", createdAt=0),
        )
    else:
        comments = (Comment(id="target", author=author, text="a", createdAt=0),)
    chat = Chat(
        id="m", number=1, x=10, y=10, createdBy=owner, createdAt=0,
        comments=comments, resolved=bool(case & 4),
    )  # fmt: skip
    return RoomState(room="r", seq=1, next_number=2, chats={"m": chat}), "m", "target"


def _words(message: str) -> str:
    """The model names the marker (``Marker #1``); the table is about any marker."""
    return message.replace("Marker #1", "This marker").replace(" This marker", " this marker")


def decision(role: str, action: Action, case: int) -> str | None:
    """The model's answer: why ``role`` may not do ``action`` in ``case``, or None."""
    state, chat_id, comment_id = case_state(case)
    refused = allowed(state, Actor(user=_ME, role=role), action, chat_id, comment_id)
    return None if refused is None else _words(refused.message)


@cache
def table() -> dict[str, dict[str, list[str | None]]]:
    return {
        role: {action: [decision(role, action, c) for c in range(CASES)] for action in ACTIONS}
        for role in ROLE_RANK
    }


@cache
def rules_json() -> bytes:
    return json.dumps(table(), separators=(",", ":"), ensure_ascii=False).encode()
