"""Red team: a subscription catching up delivers no version restricted after it was read.

A subscriber that stops reading holds the feed at a ``yield`` in the middle of a batch read from
the store (or from the window of recent commits): gRPC's flow control suspends the stream until
the client reads again, for as long as it likes. What the feed yields after that must obey the
handling of the moment it is yielded, as the live path already ensures for its buffer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store import SqliteRecordStore, StoredRecord
from gateway.store.feed import CaughtUpMarker, CommitFeed
from liaison.rules.intake import prepare_record
from tests.support.factories import person, travel_document


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    opened = SqliteRecordStore(tmp_path / "feed.db", synchronous="normal")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def _first_version_only(record: StoredRecord) -> bool:
    # Stands in for a handling change: a version is hidden once its record has a newer one.
    return record.latest_version == 1


@pytest.mark.parametrize("from_window", [False, True], ids=["store", "window"])
async def test_a_version_restricted_while_the_subscriber_stalls_is_not_delivered(
    store: SqliteRecordStore, tmp_path: Path, *, from_window: bool
) -> None:
    """WRONG: catching up, the feed read P-1..P-3 in one batch, filtered them, and yielded them
    one message at a time; P-2 restricted while the subscriber held the stream after P-1 was
    still delivered (its version 1, which the reader may no longer see).

    RIGHT: each version is checked against its record's current handling when it is yielded."""
    feed = CommitFeed(store)
    if from_window:
        await feed.start()
    await store.write([prepare_record(person(f"P-{i}"), "LOCAL") for i in (1, 2, 3)])
    if not from_window:
        await feed.start()
    stream = feed.stream_batches(0, visible=_first_version_only, batch_size=1)
    try:
        first = await anext(stream)
        assert not isinstance(first, CaughtUpMarker)
        assert [r.record_id for r in first] == ["P-1"]
        # The subscriber stalls here; meanwhile P-2 gets a version 2 that hides version 1.
        await store.write([prepare_record(person("P-2", family="CHANGED"), "LOCAL")])
        rest: list[str] = []
        async for item in stream:
            if isinstance(item, CaughtUpMarker):
                break
            rest += [f"{r.record_id}@{r.version}" for r in item]
        assert "P-2@1" not in rest
        assert rest[0] == "P-3@1"
    finally:
        await stream.aclose()
        feed.close()


async def test_a_buffered_version_is_checked_even_once_the_window_has_moved_on(
    store: SqliteRecordStore,
) -> None:
    """WRONG: a live subscriber's buffered version was checked against the window's newest
    version of its record - which is forgotten once the window moves past it. A subscriber of
    persons only, stalled while P-1 was restricted and then a window's worth of documents was
    committed, received P-1's hidden version 1.

    RIGHT: when the window no longer covers what was committed since, the store is asked."""
    feed = CommitFeed(store, window=4)
    await feed.start()
    stream = feed.stream_batches(
        0, frozenset({"person"}), visible=_first_version_only, batch_size=1
    )
    try:
        assert isinstance(await anext(stream), CaughtUpMarker)
        await store.write([prepare_record(person("P-1"), "LOCAL")])  # buffered, not yet read
        await store.write([prepare_record(person("P-1", family="CHANGED"), "LOCAL")])
        for i in range(8):
            await store.write([prepare_record(travel_document(f"D-{i}"), "LOCAL")])
        await store.write([prepare_record(person("P-2"), "LOCAL")])
        delivered = await anext(stream)
        assert not isinstance(delivered, CaughtUpMarker)
        assert [f"{r.record_id}@{r.version}" for r in delivered] == ["P-2@1"]
    finally:
        await stream.aclose()
        feed.close()
