"""The Redis hop in /metrics: what one node publishes the other receives; a publish that
fails while Redis is down is counted, and so is the repair from the database that
brings the other node's viewers the events they missed."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from imagechat_tui.server.node import RunningServer
from tests.services import Redis
from tests.wsclient import WsClient, create_op


def value(node: RunningServer, name: str, **labels: str) -> float:
    assert node.metrics is not None
    for family in text_string_to_metric_families(node.metrics.exposition().decode()):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return 0.0


async def test_publishes_receives_failures_and_repairs_are_counted(
    start, mint_token, pg_url: str, redis_server: Redis
) -> None:
    a = await start(database=pg_url, broker=redis_server.url, seq_check_interval=0.2)
    b = await start(database=pg_url, broker=redis_server.url, seq_check_interval=0.2)
    alice, *_ = await WsClient.joined(a.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(b.url, mint_token("bob"))
    for i in range(3):
        await alice.send(create_op(text=f"through Redis {i}"))
    await alice.recv_events(3)
    await bob.recv_events(3)
    # Every message a published, b received (a counts its publish once Redis has
    # answered, which may come just after b has the message).
    async with asyncio.timeout(30):
        while value(a, "imagechat_redis_published_messages_total") != value(
            b, "imagechat_redis_received_messages_total"
        ):
            await asyncio.sleep(0.01)
    assert value(a, "imagechat_redis_published_messages_total") >= 1
    assert value(b, "imagechat_seq_check_repairs_total") == 0
    # Events that came through Redis are delivered (and counted) on b.
    assert value(b, "imagechat_events_delivered_total", tenant="local") == 3
    redis_server.kill()
    try:
        await alice.send(create_op(text="while Redis is down"))
        await alice.recv_events(1)
        (missed,) = await bob.recv_events(1)  # from the database, by the seq check
        assert missed["seq"] == 4
        assert value(a, "imagechat_redis_publish_failures_total") >= 1
        assert value(b, "imagechat_seq_check_repairs_total") >= 1
    finally:
        redis_server.start()
    await alice.close()
    await bob.close()
