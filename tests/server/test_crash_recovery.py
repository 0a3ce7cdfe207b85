"""The embedded server (SQLite) as a real process: ``kill -9`` in the middle of a stream
of writes loses nothing acknowledged, and a database left unwritable after a crash stops
the start with one clear line instead of a server that refuses every op."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.scale.nodes import Node
from tests.services import free_port
from tests.wsclient import WsClient, create_op

EVENT_TYPES = ("new-image-chat", "image-chat-updated", "deleted-image-chat")


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'chat.sqlite3'}"


async def read_until_closed(client: WsClient, into: list[dict[str, Any]]) -> None:
    """Collect events (batches unpacked) until the connection drops."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            frame = await client.recv(30)
            if frame["type"] == "batch":
                into.extend(frame["events"])
            elif frame["type"] in EVENT_TYPES:
                into.append(frame)


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


async def test_kill_9_during_writes_from_several_clients_loses_nothing_acknowledged(
    home: Path, mint_token
) -> None:
    database = sqlite_url(home / "data")
    node = Node(home, database, None)
    writers = [(await WsClient.joined(node.url, mint_token(f"w{i}")))[0] for i in range(3)]
    readers = [(await WsClient.joined(node.url, mint_token(f"r{i}")))[0] for i in range(2)]
    ops = [[create_op(text=f"w{i} #{n}") for n in range(40)] for i in range(3)]
    seen_by_writer: list[list[dict[str, Any]]] = [[] for _ in writers]
    seen_by_reader: list[list[dict[str, Any]]] = [[] for _ in readers]
    reading = [
        asyncio.ensure_future(read_until_closed(c, into))
        for c, into in zip(writers + readers, seen_by_writer + seen_by_reader, strict=True)
    ]
    for writer, batch in zip(writers, ops, strict=True):  # all sent, none awaited
        for op in batch:
            await writer.send(op)
    # Kill once some are acknowledged (their event came back), with others in flight.
    while sum(len(s) for s in seen_by_writer) < 3 * 20:
        await asyncio.sleep(0.01)
    node.kill9()
    await asyncio.gather(*reading)

    def own(i: int, events: list[dict[str, Any]]) -> set[str]:
        mine = {op["broadcastId"] for op in ops[i]}
        return {e["broadcastId"] for e in events if e["broadcastId"] in mine}

    acknowledged = set().union(*(own(i, s) for i, s in enumerate(seen_by_writer)))
    assert len(acknowledged) >= 20
    for log in seen_by_reader:  # what each reader saw so far is gap-free from 1
        assert seqs(log) == list(range(1, len(log) + 1))

    # The same data directory, a new process.
    node = Node(home, database, None)
    try:
        readers, writers_again = [], []
        for i, log in enumerate(seen_by_reader):
            since = log[-1]["seq"] if log else 0
            client, joined, replay = await WsClient.joined(
                node.url, mint_token(f"r{i}"), since=since
            )
            assert joined["recovered"] is True
            log.extend(replay)
            readers.append(client)
        for i, log in enumerate(seen_by_writer):
            since = log[-1]["seq"] if log else 0
            client, joined, replay = await WsClient.joined(
                node.url, mint_token(f"w{i}"), since=since
            )
            assert joined["recovered"] is True
            log.extend(replay)
            writers_again.append(client)
        # Each writer re-sends what it has not seen stored, with the same broadcastIds.
        resent = 0
        for i, client in enumerate(writers_again):
            stored = own(i, seen_by_writer[i])
            for op in ops[i]:
                if op["broadcastId"] not in stored:
                    await client.send(op)
                    resent += 1
        final = len(seen_by_reader[0]) + resent  # every reader caught up to the same seq
        for client, log in zip(readers, seen_by_reader, strict=True):
            log.extend(await client.recv_events(final - len(log)))
            # Every reader: gap-free, each op exactly once, every acknowledged one there.
            assert seqs(log) == list(range(1, final + 1))
            ids = [e["broadcastId"] for e in log]
            assert len(ids) == len(set(ids)) == 120
            assert acknowledged <= set(ids)
        # A newcomer replaying from 0 sees the very same log.
        late, joined, replay = await WsClient.joined(node.url, mint_token("late"), since=0)
        assert joined["seq"] == final and replay == seen_by_reader[0]
        for client in [*readers, *writers_again, late]:
            await client.close()
    finally:
        node.stop()


def _unprivileged(command: list[str]) -> list[str]:
    """``command`` run without the right to ignore file permissions (root has it)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", *command]


def _failed_start(home: Path, database: str) -> str:
    """Start ``serve`` without the right to ignore permissions; it must fail with one
    line saying why. That line."""
    command = [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(free_port())]
    done = subprocess.run(
        _unprivileged([*command, "--database", database]),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "IMAGECHAT_HOME": str(home)},
    )
    assert done.returncode != 0, done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "cannot open the database" in lines[0] and "cannot be written" in lines[0]
    assert database.removeprefix("sqlite:///") in lines[0]
    return lines[0]


def _set_writable(directory: Path, writable: bool) -> None:
    bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [directory, *directory.iterdir()]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~bits)


async def test_a_database_left_unwritable_after_a_crash_fails_the_start_in_one_line(
    home: Path, mint_token
) -> None:
    data = home / "data"
    database = sqlite_url(data)
    node = Node(home, database, None)
    client, *_ = await WsClient.joined(node.url, mint_token("alice"))
    op = create_op(text="before the crash")
    await client.send(op)
    (event,) = await client.recv_events(1)
    node.kill9()  # no checkpoint: the -wal and -shm files stay behind
    assert {p.name for p in data.iterdir()} >= {"chat.sqlite3-wal", "chat.sqlite3-shm"}
    _set_writable(data, False)
    try:
        line = _failed_start(home, database)
    finally:
        _set_writable(data, True)
    assert "attempt to write a readonly database" in line
    # Writable again: the server starts, and what was stored before the crash is there.
    node = Node(home, database, None)
    try:
        again, _, replay = await WsClient.joined(node.url, mint_token("alice"), since=0)
        assert replay == [event]
        await again.close()
    finally:
        node.stop()


def test_a_data_directory_that_cannot_be_written_fails_the_start_in_one_line(
    home: Path,
) -> None:
    data = home / "data"
    data.mkdir()
    _set_writable(data, False)
    try:
        line = _failed_start(home, sqlite_url(data))  # the database cannot even be created
    finally:
        _set_writable(data, True)
    assert "unable to open database file" in line
