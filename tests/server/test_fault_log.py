"""Failures during an outage are logged once per cause, with the reason, not once per
occurrence: failed commits (PostgreSQL down) and failed publishes (Redis down)."""

from __future__ import annotations

import logging

import pytest

from imagechat_tui.server.faultlog import FaultLog
from tests.services import Postgres, Redis
from tests.wsclient import WsClient, create_op


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def messages(caplog: pytest.LogCaptureFixture, name: str, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name and text in r.getMessage()]


def test_a_cause_is_logged_once_then_summed_up_then_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="test.faults")
    clock = Clock()
    faults = FaultLog(logging.getLogger("test.faults"), "commit", interval=30, clock=clock)
    faults.succeeded()  # nothing was failing: nothing to say
    for n in range(100):
        faults.failed("disk is full", where=f"room t/r{n}")
        clock.now += 0.1  # 10 s in all
    assert [r.getMessage() for r in caplog.records] == ["commit failed (room t/r0): disk is full"]
    assert faults.failing
    clock.now = 31
    faults.failed("disk is full")
    faults.failed("database is locked")  # another cause has its own line
    clock.now = 40
    faults.failed("disk is full")
    faults.succeeded()
    faults.succeeded()
    assert [r.getMessage() for r in caplog.records][1:] == [
        "commit failed 100 more times in 31s: disk is full",
        "commit failed: database is locked",
        "commit works again after 103 failures (disk is full; database is locked)",
    ]
    assert [r.levelname for r in caplog.records] == ["WARNING"] * 3 + ["INFO"]
    assert not faults.failing


async def test_failed_commits_are_logged_once_per_cause_with_the_reason(
    start, mint_token, postgres: Postgres, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="imagechat_tui.server.room")
    server = await start(database=pg_url)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    postgres.stop()
    try:
        for n in range(30):  # one at a time: 30 failed commits
            await alice.send(create_op(text=f"during the outage {n}"))
            assert (await alice.recv_type("error", timeout=30))["code"] == "unavailable"
    finally:
        postgres.start()
    failed = messages(caplog, "imagechat_tui.server.room", "commit failed")
    assert 1 <= len(failed) <= 3, failed  # once per cause (a dropped connection, refused)
    assert all("PostgreSQL" in line and "room local/room-1" in line for line in failed)
    await alice.send(create_op(text="back"))
    await alice.recv_events(1)
    (back,) = messages(caplog, "imagechat_tui.server.room", "works again")
    assert back.startswith("commit works again after 30 failures")
    await alice.close()


async def test_redis_publish_failures_are_logged_once_per_cause(
    start, mint_token, redis_server: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="imagechat_tui.server.broker")
    server = await start(broker=redis_server.url)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    redis_server.kill()
    for n in range(50):  # committed (SQLite) and answered; publishing them fails
        await alice.send(create_op(text=f"unpublished {n}"))
        await alice.recv_events(1)
    while server.broker is None or server.broker.publish_failures < 50:
        await alice.send({"op": "ping"})
        await alice.recv_type("pong")
    failed = messages(caplog, "imagechat_tui.server.broker", "publishing to Redis failed")
    assert 1 <= len(failed) <= 2, failed
    redis_server.start()
    await alice.send(create_op(text="published"))
    await alice.recv_events(1)
    while not messages(caplog, "imagechat_tui.server.broker", "works again"):
        await alice.send({"op": "ping"})
        await alice.recv_type("pong")
    await alice.close()
