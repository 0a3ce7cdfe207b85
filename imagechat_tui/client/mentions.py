"""Mentions and the activity that concerns you. Pure: no I/O, no clock, no UI.

A mention is ``@`` followed by a person's user id (``@alice``), the way GitLab and
GitHub write them: ids have no spaces, so a mention is never ambiguous. Where one
starts is GitHub's rule, shared with the Markdown export (``mention_syntax``):
``é@bob`` mentions bob, ``bob@example.com`` nobody. ``people``
lists who can be mentioned in a room (everyone who commented and everyone viewing);
``notices`` says which remote events deserve a notification for a given user: a
mention of them, or a reply in a thread they took part in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from imagechat_tui.mention_syntax import MENTION, TYPING
from imagechat_tui.model import RoomState
from imagechat_tui.protocol import (
    Chat,
    CommentAdded,
    CommentEdited,
    Event,
    ImageChatUpdated,
    NewImageChat,
    User,
)


def mentioned(text: str) -> set[str]:
    """The ids mentioned in ``text``, lower-cased."""
    return {match.group(1).lower() for match in MENTION.finditer(text)}


def mentions_of(text: str, user_id: str) -> bool:
    return user_id.lower() in mentioned(text)


def typing_mention(before_cursor: str) -> str | None:
    """The partial id after an ``@`` just before the cursor, or None if not in one."""
    match = TYPING.search(before_cursor)
    return match.group(1) if match else None


def people(chats: Iterable[Chat], viewers: Iterable[User]) -> list[User]:
    """Everyone in the room: viewers first (in arrival order), then commenters by name."""
    seen: dict[str, User] = {}
    for user in viewers:
        seen.setdefault(user.id, user)
    commenters = {c.author.id: c.author for chat in chats for c in chat.comments}
    for user in sorted(commenters.values(), key=lambda u: u.name.lower()):
        seen.setdefault(user.id, user)
    return list(seen.values())


def matching(query: str, candidates: Iterable[User], *, exclude: str | None = None) -> list[User]:
    """People whose id or name starts with ``query`` (case-insensitive), then those
    containing it; ``exclude`` (yourself) left out."""
    q = query.lower()
    starts: list[User] = []
    contains: list[User] = []
    for user in candidates:
        if user.id == exclude:
            continue
        id_, name = user.id.lower(), user.name.lower()
        if id_.startswith(q) or any(part.startswith(q) for part in name.split()):
            starts.append(user)
        elif q in id_ or q in name:
            contains.append(user)
    return starts + contains


NoticeKind = Literal["mention", "reply"]


@dataclass(frozen=True, slots=True)
class Notice:
    """A remote event that concerns the user: someone mentioned them, or replied in a
    thread they took part in."""

    kind: NoticeKind
    chat_id: str
    number: int
    author: User
    text: str

    @property
    def summary(self) -> str:
        verb = "mentioned you on" if self.kind == "mention" else "replied on"
        first = self.text.strip().split("\n", 1)[0]
        if len(first) > 80:
            first = first[:79] + "…"
        return f"{self.author.name} {verb} #{self.number}: {first}"


def _took_part(chat: Chat, user_id: str, but_not: str) -> bool:
    return chat.createdBy.id == user_id or any(
        c.author.id == user_id for c in chat.comments if c.id != but_not
    )


def notices(events: Iterable[Event], state: RoomState, user_id: str) -> list[Notice]:
    """What in ``events`` (remote, already folded into ``state``) concerns ``user_id``.

    Events by the user themself (another terminal of theirs) concern nobody.
    """
    found: list[Notice] = []
    for event in events:
        if isinstance(event, NewImageChat):
            chat, comment = event.chat, event.chat.comments[0]
            if comment.author.id != user_id and mentions_of(comment.text, user_id):
                found.append(Notice("mention", chat.id, chat.number, comment.author, comment.text))
            continue
        if not isinstance(event, ImageChatUpdated):
            continue
        chat_now = state.chats.get(event.chatId)
        if chat_now is None:
            continue
        change = event.change
        if isinstance(change, CommentAdded):
            comment = change.comment
            if comment.author.id == user_id:
                continue
            if mentions_of(comment.text, user_id):
                kind: NoticeKind = "mention"
            elif _took_part(chat_now, user_id, comment.id):
                kind = "reply"
            else:
                continue
            found.append(Notice(kind, chat_now.id, chat_now.number, comment.author, comment.text))
        elif isinstance(change, CommentEdited):
            edited = next((c for c in chat_now.comments if c.id == change.commentId), None)
            # An edit that mentions you tells you (once per edit: edits are rare).
            if (
                edited is not None
                and edited.author.id != user_id
                and mentions_of(change.text, user_id)
            ):
                found.append(
                    Notice("mention", chat_now.id, chat_now.number, edited.author, change.text)
                )
    return found


def touched(events: Iterable[Event], user_id: str) -> set[str]:
    """Markers that others changed in ``events`` (what 'unseen activity' means)."""
    out: set[str] = set()
    for event in events:
        if isinstance(event, NewImageChat):
            if event.chat.createdBy.id != user_id:
                out.add(event.chat.id)
        elif isinstance(event, ImageChatUpdated):
            change = event.change
            author = change.comment.author.id if isinstance(change, CommentAdded) else None
            if author != user_id:
                out.add(event.chatId)
    return out
