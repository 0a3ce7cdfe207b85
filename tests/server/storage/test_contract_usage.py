"""Usage over time (the dashboard, ``stats --since``): the same tests against a real SQLite
file and a real PostgreSQL database, with several storages open as several nodes."""

from __future__ import annotations

from imagechat_tui.server.storage import Usage, UsageBucket
from tests.server.storage.test_contract import OpenStorage, database, open_db

__all__ = ["database", "open_db"]  # the fixtures, shared with the main contract suite

T0 = 1_700_000_040  # a minute's start


async def test_usage_lands_in_minute_buckets_summed_across_nodes(open_db: OpenStorage) -> None:
    one, two = await open_db(), await open_db()  # two nodes on one database
    await one.add_usage({"t": Usage(2, 100), "u": Usage(1, 10)}, at=T0 + 5)
    await two.add_usage({"t": Usage(3, 50)}, at=T0 + 59)
    await one.add_usage({"t": Usage(1, 7)}, at=T0 + 60)  # the next minute
    assert await one.usage_history(T0) == [
        UsageBucket("t", T0, 5, 150),
        UsageBucket("t", T0 + 60, 1, 7),
        UsageBucket("u", T0, 1, 10),
    ]
    assert await two.usage_history(T0 + 30, tenant="t") == [
        UsageBucket("t", T0, 5, 150),  # `since` counts from its minute's start
        UsageBucket("t", T0 + 60, 1, 7),
    ]
    assert await one.usage_history(T0 + 120) == []
    # The all-time totals are the same figures.
    assert await two.usage() == {"t": Usage(6, 157), "u": Usage(1, 10)}


async def test_connections_are_each_nodes_peak_in_the_minute_summed(
    open_db: OpenStorage,
) -> None:
    one, two = await open_db(), await open_db()
    await one.record_connections("node-a", T0 + 1, {"t": 5})
    await one.record_connections("node-a", T0 + 20, {"t": 3})  # the peak stays 5
    await two.record_connections("node-b", T0 + 30, {"t": 4, "u": 1})
    await two.record_connections("node-b", T0 + 61, {"t": 2})
    await one.add_usage({"t": Usage(1, 9)}, at=T0)
    assert await one.usage_history(T0) == [
        UsageBucket("t", T0, 1, 9, connections=9),
        UsageBucket("t", T0 + 60, 0, 0, connections=2),
        UsageBucket("u", T0, 0, 0, connections=1),
    ]


async def test_the_buckets_survive_reopening(open_db: OpenStorage) -> None:
    first = await open_db()
    await first.add_usage({"t": Usage(4, 40)}, at=T0)
    await first.close()
    again = await open_db()
    assert await again.usage_history(0) == [UsageBucket("t", T0, 4, 40)]


async def test_a_writable_database_passes_the_readiness_probe(open_db: OpenStorage) -> None:
    db = await open_db()
    await db.check_writable()  # raises StorageUnavailable when not
