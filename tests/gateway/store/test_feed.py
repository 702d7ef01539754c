"""The commit feed serves from its window or from the store, never skipping or repeating."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store import SqliteRecordStore, StoredRecord
from gateway.store.feed import CaughtUpMarker, CommitFeed
from liaison.rules.intake import prepare_record
from tests.support.factories import person


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    opened = SqliteRecordStore(tmp_path / "feed.db", synchronous="normal")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def everything(_: StoredRecord) -> bool:
    return True


async def write_people(store: SqliteRecordStore, start: int, count: int) -> None:
    items = [prepare_record(person(f"P-{i}"), "LOCAL") for i in range(start, start + count)]
    await store.write(items)


async def collect(
    stream: AsyncIterator[StoredRecord | CaughtUpMarker], records: int
) -> tuple[list[int], list[int]]:
    sequences: list[int] = []
    markers: list[int] = []
    async for item in stream:
        if isinstance(item, CaughtUpMarker):
            markers.append(item.sequence)
        else:
            sequences.append(item.sequence)
        if len(sequences) == records:
            break
    return sequences, markers


async def test_a_subscriber_behind_the_window_catches_up_from_the_store(
    store: SqliteRecordStore,
) -> None:
    await write_people(store, 0, 10)  # committed before the feed started: only in the store
    feed = CommitFeed(store, window=4)
    await feed.start()
    await write_people(store, 10, 10)  # the window keeps only the last 4 of these
    await asyncio.sleep(0)  # let the commit callbacks run
    sequences, markers = await collect(feed.stream(0, visible=everything), 20)
    assert sequences == list(range(1, 21))
    assert markers == []  # 20 records arrived before the stream caught up


async def test_marker_then_live_records_from_the_window(store: SqliteRecordStore) -> None:
    feed = CommitFeed(store, window=100)
    await feed.start()
    await write_people(store, 0, 3)
    stream = feed.stream(0, visible=everything)
    sequences, markers = await collect(stream, 3)
    assert sequences == [1, 2, 3]

    async def later() -> None:
        await asyncio.sleep(0.05)
        await write_people(store, 3, 2)

    writer = asyncio.create_task(later())
    more, markers = await collect(stream, 2)
    await writer
    assert more == [4, 5]
    assert markers == [3]
    assert feed.subscribers == 1
    await stream.aclose()  # type: ignore[attr-defined]
    assert feed.subscribers == 0


async def test_filters_do_not_stall_the_position(store: SqliteRecordStore) -> None:
    await write_people(store, 0, 600)  # more than one store batch, none matching the filter
    feed = CommitFeed(store, window=8)
    await feed.start()
    stream = feed.stream(0, kinds=frozenset({"vehicle"}), visible=everything)
    first = await anext(stream)
    # Caught up without stalling; at the last version delivered (none), counting nothing else.
    assert first == CaughtUpMarker(0)
    await stream.aclose()  # type: ignore[attr-defined]


async def test_hidden_versions_are_skipped_and_not_counted(store: SqliteRecordStore) -> None:
    await write_people(store, 0, 6)
    feed = CommitFeed(store, window=4)  # the first versions come from the store, the rest not
    await feed.start()
    await write_people(store, 6, 4)
    await asyncio.sleep(0)

    def odd_only(record: StoredRecord) -> bool:
        return record.sequence % 2 == 1

    stream = feed.stream(0, visible=odd_only)
    sequences, markers = await collect(stream, 5)
    assert sequences == [1, 3, 5, 7, 9]
    assert markers == []
    assert await anext(stream) == CaughtUpMarker(9)  # not 10: the last one is hidden
    await stream.aclose()  # type: ignore[attr-defined]


async def test_closing_the_feed_ends_every_stream(store: SqliteRecordStore) -> None:
    feed = CommitFeed(store)
    await feed.start()

    async def drain() -> list[object]:
        return [item async for item in feed.stream(0, visible=everything)]

    task = asyncio.create_task(drain())
    await asyncio.sleep(0.05)
    feed.close()
    assert await asyncio.wait_for(task, 5) == [CaughtUpMarker(0)]
