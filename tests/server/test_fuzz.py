"""Property-based fuzzing of a real server with hostile frames (hypothesis).

One server per module runs on its own event loop in a thread; each example opens a
real WebSocket (sync client), joins as the hostile user, sends its frames and reads the
answers. For every example: every frame is answered with an ``error`` frame or the
connection is closed (with a protocol close code), and an observer in the same room
sees nothing. After each test: storage and memory hold exactly the seeded room, the
server logged no error, and it still serves.

Run: ``.venv/bin/pytest -q tests/server/test_fuzz.py`` (about 600 examples).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from imagechat_tui.auth import TenantStore
from imagechat_tui.model import Actor, Rejection, RoomState, decide
from imagechat_tui.protocol import CreateOp, DeleteOp, FrameError, UpdateOp, User
from imagechat_tui.protocol import decode_client_frame as decode
from imagechat_tui.server.node import RunningServer, ServerConfig, start_server

ROOM = "fuzz-room"
EXAMPLES = 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
#: Close codes a hostile frame may legitimately earn: protocol error, invalid UTF-8,
#: policy, too big.
FRAME_CLOSE_CODES = {1002, 1007, 1008, 1009}


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Env:
    server: RunningServer
    loop: asyncio.AbstractEventLoop
    tenants: TenantStore
    observer: ClientConnection
    seeded: RoomState
    errors: _Errors
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def stored(self) -> RoomState:
        return self.call(self.server.storage.load_room("local", ROOM))

    def assert_untouched(self) -> None:
        assert self.stored() == self.seeded
        assert self.server.hub.rooms[("local", ROOM)].state == self.seeded
        assert [r.getMessage() for r in self.errors.records] == []
        assert httpx.get(f"{self.server.http_url}/health").status_code == 200
        with join(self.server.url, self.tokens["viewer"]) as (_, joined, snapshot):
            assert joined["seq"] == self.seeded.seq
            assert len(snapshot["chats"]) == len(self.seeded.chats)


@contextmanager
def join(url: str, token: str) -> Iterator[tuple[ClientConnection, dict[str, Any], dict[str, Any]]]:
    with connect(url, compression=None, max_size=2**24, open_timeout=10) as ws:
        ws.send(json.dumps({"op": "join", "room": ROOM, "token": token}))
        joined = next_frame(ws)
        assert joined["type"] == "joined", joined
        snapshot = next_frame(ws)
        assert snapshot["type"] == "snapshot", snapshot
        yield ws, joined, snapshot


def next_frame(ws: ClientConnection) -> dict[str, Any]:
    """The next frame that is not presence."""
    while True:
        frame = json.loads(ws.recv(timeout=10))
        if frame["type"] != "presence":
            return frame


def settle(observer: ClientConnection) -> list[dict[str, Any]]:
    """What the observer was sent so far (presence aside): a ping's pong follows it all."""
    observer.send('{"op":"ping"}')
    seen = []
    while (frame := next_frame(observer))["type"] != "pong":
        seen.append(frame)
    return seen


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    home: Path = tmp_path_factory.mktemp("fuzz-home")
    tenants = TenantStore.in_home(home)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    config = ServerConfig(
        port=0,
        home=home,
        ops_per_second=1e9,  # the fuzz is about content, not pace
        ops_burst=10**9,
        max_connections_per_user=0,
    )
    server = asyncio.run_coroutine_threadsafe(start_server(config), loop).result(30)
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    tokens = {
        role: tenants.mint(tenant="local", user_id=f"mallory-{role}", role=role)
        for role in ("viewer", "member")
    }
    # Alice's markers, with a second comment each, for hostile ops to aim at.
    with contextlib.ExitStack() as stack:
        alice, *_ = stack.enter_context(
            join(server.url, tenants.mint(tenant="local", user_id="alice"))
        )
        for i in range(2):
            alice.send(json.dumps(_create(f"chat-{i}", "alice's marker")))
            alice.send(json.dumps(_comment(f"chat-{i}", f"alice-comment-{i}", "second")))
        events = 0
        while events < 4:
            frame = next_frame(alice)
            events += len(frame["events"]) if frame["type"] == "batch" else 1
        observer, *_ = stack.enter_context(
            join(server.url, tenants.mint(tenant="local", user_id="olga"))
        )
        settle(observer)
        seeded = asyncio.run_coroutine_threadsafe(
            server.storage.load_room("local", ROOM), loop
        ).result(30)
        assert seeded.seq == 4 and len(seeded.chats) == 2
        yield Env(server, loop, tenants, observer, seeded, errors, tokens)
        logging.getLogger().removeHandler(errors)
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


# --- valid ops to mutate ----------------------------------------------------------------


def _create(chat_id: str, text: str) -> dict[str, Any]:
    return {
        "op": "create",
        "broadcastId": f"b-{chat_id}",
        "chat": {"id": chat_id, "x": 10.0, "y": 20.0, "text": text},
    }


def _comment(chat_id: str, comment_id: str, text: str) -> dict[str, Any]:
    return {
        "op": "update",
        "broadcastId": f"b-{comment_id}",
        "chatId": chat_id,
        "change": {"kind": "comment", "comment": {"id": comment_id, "text": text}},
    }


def _update(change: dict[str, Any], chat_id: str = "chat-0") -> dict[str, Any]:
    return {"op": "update", "broadcastId": "b-x", "chatId": chat_id, "change": change}


def base_ops() -> list[dict[str, Any]]:
    """One of every op, aimed at Alice's markers and comments."""
    first = "e8c7c0d3"  # not the real first-comment id: also exercises unknown-comment
    return [
        _create("new-chat", "hello"),
        _comment("chat-0", "new-comment", "hi"),
        _update({"kind": "edit-comment", "commentId": "alice-comment-0", "text": "pwned"}),
        _update({"kind": "edit-comment", "commentId": first, "text": "pwned"}),
        _update({"kind": "delete-comment", "commentId": "alice-comment-1"}, "chat-1"),
        _update({"kind": "resolve"}),
        _update({"kind": "reopen"}),
        _update({"kind": "move", "x": 50.0, "y": 50.0}),
        {"op": "delete", "broadcastId": "b-d", "chatId": "chat-1"},
        {"op": "ping"},
        {"op": "join", "room": ROOM, "token": "x"},
    ]


RAW = "\u0000RAW\u0000"  # stands for a raw JSON fragment spliced into the encoded frame


def deep(n: int, kind: str) -> str:
    return "[" * n + "]" * n if kind == "list" else '{"a":' * n + "1" + "}" * n


raw_fragments = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "1e999",
            "-1e999",
            "1e-400",
            "-0",
            "9" * 400,
            "-" + "9" * 400,
            '"\\ud800"',  # a lone surrogate
            '"\\u0000\\u001b[31m\\u202e"',
            "[]",
            "{}",
            "null",
            "",
            "01",
            "1.",
            "tru",
        ]
    ),
    st.builds(deep, st.integers(1, 20_000), st.sampled_from(["list", "dict"])),
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

hostile_values = st.one_of(
    json_values,
    raw_fragments.map(lambda _: RAW),  # placeholder; the fragment is drawn separately
    st.sampled_from(["", " ", "\t\n", "x" * 65, "x" * 10_001, "a b", "é", "\x1b[2J", "../.."]),
    st.integers(-(2**64), -1),
    st.integers(2**53, 2**64),
    st.floats(min_value=100.0001, max_value=1e308),
    st.floats(max_value=-1e-9, min_value=-1e308),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, (*prefix, key))
    return paths


def _set(op: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    op = json.loads(json.dumps(op))
    *parents, last = path
    target = op
    for key in parents:
        target = target[key]
    if how == "replace":
        target[last] = value
    elif how == "drop":
        del target[last]
    else:
        target[f"{last}_extra"] = value
    return op


@st.composite
def mutated_frames(draw: st.DrawFn) -> str:
    """A valid op with one field replaced, dropped, or joined by an unknown field."""
    op = draw(st.sampled_from(base_ops()))
    paths = _paths(op)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "replace", "drop", "extra"]))
        with contextlib.suppress(KeyError, TypeError):  # the path went with an earlier one
            op = _set(op, path, how, draw(hostile_values))
    text = json.dumps(op, allow_nan=True)
    while json.dumps(RAW) in text:
        text = text.replace(json.dumps(RAW), draw(raw_fragments), 1)
    return text


garbage_frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: ("binary", b)),
    st.binary(min_size=1, max_size=64)
    .filter(lambda b: not _is_utf8(b))
    .map(lambda b: ("bad-utf8", b)),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    raw_fragments,
    st.integers(60_000, 70_000).map(lambda n: '{"op":"ping","pad":"' + "x" * n + '"}'),
)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- the property -----------------------------------------------------------------------


def _send(ws: ClientConnection, frame: str | tuple[str, bytes]) -> None:
    if isinstance(frame, tuple):
        kind, data = frame
        ws.send(data, text=kind == "bad-utf8")  # text=True: sent as-is, not validated
    else:
        ws.send(frame)


def answers_are_refusals(ws: ClientConnection, frames: list[Any]) -> None:
    """Every frame is answered by an error, or the connection is closed with a protocol
    close code; nothing else comes back (presence aside)."""
    try:
        for frame in frames:
            _send(ws, frame)
        for _ in frames:
            answer = next_frame(ws)
            assert answer["type"] == "error", (answer, frames)
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        assert code in FRAME_CLOSE_CODES, (code, frames)


def test_a_viewer_fuzzing_every_op_changes_nothing(env: Env) -> None:
    ran = []

    @FUZZ
    @given(
        st.lists(
            st.one_of(mutated_frames(), st.sampled_from(base_ops()).map(json.dumps)),
            min_size=1,
            max_size=4,
        )
    )
    def run(frames: list[str]) -> None:
        assume(not any(_decodes_to(f, "Ping") for f in frames))
        with join(env.server.url, env.tokens["viewer"]) as (ws, *_):
            answers_are_refusals(ws, frames)
        assert settle(env.observer) == []
        ran.append(len(frames))

    run()
    assert len(ran) >= EXAMPLES // 2  # not vacuous: most examples reached the server
    env.assert_untouched()


def _decodes_to(frame: Any, name: str) -> bool:
    if not isinstance(frame, str):
        return False
    try:
        return decode(frame).__class__.__name__ == name
    except FrameError:
        return False


def _refused_by_model(text: str, state: RoomState, actor: Actor) -> bool:
    """Whether the server must refuse this frame from ``actor`` (the test's oracle)."""
    try:
        frame = decode(text)
    except FrameError:
        return True
    if not isinstance(frame, CreateOp | UpdateOp | DeleteOp):
        return frame.__class__.__name__ == "Join"  # join when joined: already-joined
    return isinstance(decide(state, frame, actor, 0), Rejection)


def test_a_member_fuzzing_others_content_and_malformed_ops_changes_nothing(env: Env) -> None:
    ran = []
    actor = Actor(User(id="mallory-member", name="mallory-member"), "member")

    @FUZZ
    @given(st.lists(mutated_frames(), min_size=1, max_size=4))
    def run(frames: list[str]) -> None:
        # Only frames the model says must be refused: whatever a member may do
        # (comment, resolve, ...) is the sync tests' business, not a hostile one.
        assume(all(_refused_by_model(f, env.seeded, actor) for f in frames))
        with join(env.server.url, env.tokens["member"]) as (ws, *_):
            answers_are_refusals(ws, frames)
        assert settle(env.observer) == []
        ran.append(len(frames))

    run()
    assert len(ran) >= EXAMPLES // 2  # not vacuous: most examples reached the server
    env.assert_untouched()


def test_garbage_frames_before_and_after_join_change_nothing(env: Env) -> None:
    ran = []

    @FUZZ
    @given(st.lists(garbage_frames, min_size=1, max_size=4), st.booleans())
    def run(frames: list[Any], joined: bool) -> None:
        assume(not any(_decodes_to(f, "Ping") or _decodes_to(f, "Join") for f in frames))
        if joined:
            with join(env.server.url, env.tokens["member"]) as (ws, *_):
                answers_are_refusals(ws, frames)
        else:
            with connect(env.server.url, compression=None, max_size=2**24) as ws:
                answers_are_refusals(ws, frames)
        assert settle(env.observer) == []
        ran.append(len(frames))

    run()
    assert len(ran) >= EXAMPLES // 2  # not vacuous: most examples reached the server
    env.assert_untouched()


@pytest.mark.parametrize(
    "frame",
    [
        '{"op": []}',  # unhashable: once a TypeError in the server
        '{"op": {"a": 1}}',
        '{"op": ' + deep(5000, "dict") + "}",  # once a RecursionError from repr()
        '{"op": "create", "x": ' + deep(50_000, "list") + "}",  # once a RecursionError
    ],
)
def test_frames_fuzzing_found_are_refused_not_raised(frame: str) -> None:
    with pytest.raises(FrameError) as refused:
        decode(frame)
    assert refused.value.code in ("unknown-op", "bad-frame")
    assert len(refused.value.message) < 200
