"""One rule in one place: the page's table of who may do what is the model's, served
from it, and room.js reads every case of it as the model decides it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, get_args

import httpx
import msgspec

from imagechat_tui.model import ROLE_RANK, Action, Actor, allowed, check_text, region_problem
from imagechat_tui.protocol import User
from imagechat_tui.server.node import RunningServer
from imagechat_tui.web import rules
from tests.web.helpers import chromium, join, share_room
from tests.wsclient import WsClient, create_op, update_op


async def served(server: RunningServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await http.get("/static/rules.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.headers["etag"]
    return dict(answer.json())


async def test_the_served_table_is_the_models_decision_for_every_role_action_and_case(
    server: RunningServer,
) -> None:
    table = await served(server)
    actions = [a for a in get_args(Action) if a != "restore"]
    assert sorted(table) == sorted(ROLE_RANK)
    for role in ROLE_RANK:
        assert sorted(table[role]) == sorted(actions)
        for action in actions:
            for case in range(rules.CASES):
                state, chat_id, comment_id = rules.case_state(case)
                me = Actor(user=User(id="me", name="Me"), role=role)
                refused = allowed(state, me, action, chat_id, comment_id)
                assert (table[role][action][case] is None) == (refused is None), (
                    role,
                    action,
                    case,
                )
    # A member may not move another's marker; a moderator may; a viewer may do nothing.
    assert table["member"]["move"][8] and table["moderator"]["move"][8] is None
    assert all(table["viewer"][a][c] for a in actions for c in range(16))


async def test_room_js_answers_each_case_as_the_model(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    cases = []
    for case in range(rules.CASES):
        state, chat_id, comment_id = rules.case_state(case)
        chat = state.chats[chat_id]
        comment = next(c for c in chat.comments if c.id == comment_id)
        cases.append([msgspec.to_builtins(chat), msgspec.to_builtins(comment)])
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        await join(page, link, "Dana")
        answers = await page.evaluate(
            """async ([cases, roles, actions]) => {
              const { Room } = await import(new URL('../static/room.js', location.href).href);
              const room = new Room();
              room.rules = window.imagechat.room.rules; // what the page fetched
              room.user = { id: 'me', name: 'Me' };
              const out = {};
              for (const role of roles) {
                room.role = role;
                for (const action of actions) {
                  out[`${role} ${action}`] = cases.map(([chat, comment]) =>
                    room.why(action, chat, comment));
                }
              }
              return out;
            }""",
            [cases, list(ROLE_RANK), list(rules.ACTIONS)],
        )
    expected = {
        f"{role} {action}": [rules.decision(role, action, c) for c in range(rules.CASES)]
        for role in ROLE_RANK
        for action in rules.ACTIONS
    }
    assert answers == expected
    assert json.loads(rules.rules_json()) == rules.table()


async def test_a_moderator_is_offered_what_the_table_allows_on_anothers_marker(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice", name="Alice")
    link = await share_room(server, mint_token("owner", role="admin"), role="moderator")
    alice, _, _ = await WsClient.joined(server.url, token, room="design")
    marker = create_op(x=30, y=30, text="alice's")
    await alice.send(marker)
    await alice.send(
        update_op(marker["chat"]["id"], {"kind": "comment", "comment": {"id": "r", "text": "re"}})
    )
    await alice.recv_events(2)
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        await join(page, link, "Mo")
        await page.locator(".entry", has_text="alice's").click()
        await page.locator(".comment", has_text="re").wait_for()
        for name in ("Resolve", "Move", "Delete"):
            assert await page.locator(".actions").get_by_role("button", name=name).count() == 1
        # Another's comments: editable; the first one not deletable (delete the marker).
        first, reply = page.locator(".comment").nth(0), page.locator(".comment").nth(1)
        assert await first.get_by_role("button", name="Edit").count() == 1
        assert await first.get_by_role("button", name="Delete").count() == 0
        assert await reply.get_by_role("button", name="Delete").count() == 1
        await page.locator(".actions").get_by_role("button", name="Move").click()
        box = await page.locator(".stage").bounding_box()
        await page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6)
        moved = [e for e in await alice.recv_events(1) if e["type"] == "image-chat-updated"]
        assert moved[0]["change"]["kind"] == "move"
    await alice.close()


TEXTS = [
    "",
    " \n\t",
    "\u00a0\u3000",  # no-break and ideographic spaces: blank for both
    "\x1c\x1d\x85",  # blank to Python's str.strip
    "\ufeff",  # a byte order mark: not blank to Python
    "\u200b",  # zero-width space: not blank
    "a",
    "x" * 2000,
    "x" * 2001,
    "\U0001f600" * 2000,  # 2000 code points, 4000 UTF-16 units
    "\U0001f600" * 2001,
    "e\u0301" * 1000,  # combining marks count as code points
]
REGIONS = [
    (10, 10, None, None),
    (10, 10, 5, None),
    (10, 10, 0, 5),
    (10, 10, -1, 5),
    (70, 10, 30, 5),
    (70, 10, 30.000001, 5),
    (33.3, 0, 66.7, 100),
    (0, 0, 100, 100),
]


async def test_room_js_content_checks_agree_with_the_models(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    link = await share_room(server, mint_token("alice"))
    async with chromium() as browser:
        page = await (await browser.new_context()).new_page()
        await join(page, link, "Dana")
        texts, regions = await page.evaluate(
            """async ([texts, regions, limits]) => {
              const m = await import(new URL('../static/room.js', location.href).href);
              return [texts.map((t) => m.textProblem(t, limits)),
                      regions.map(([x, y, w, h]) => m.regionProblem(x, y, w, h))];
            }""",
            [TEXTS, REGIONS, await page.evaluate("imagechat.room.limits")],
        )
    assert [t is None for t in texts] == [check_text(t) is None for t in TEXTS]
    assert [r is None for r in regions] == [region_problem(*r) is None for r in REGIONS]
