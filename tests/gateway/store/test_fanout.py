"""The live fan-out: groups filter and serialize once, audit per member, pace, and lose nothing.

Flushes are driven by hand where a test is about what one flush hands out: the feed's pace is
set to an hour, so that its own timer never fires during the test.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from pathlib import Path

import pytest

from gateway.store import SqliteRecordStore, StoredRecord
from gateway.store.feed import CaughtUpMarker, CommitFeed, FeedReader, SerializedEvent
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2
from tests.support.factories import person, travel_document

HOUR = 3600.0

_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("test_caller", default="nobody")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    opened = SqliteRecordStore(tmp_path / "feed.db", synchronous="normal")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def write_people(store: SqliteRecordStore, start: int, count: int) -> None:
    await store.write(
        [prepare_record(person(f"P-{i}"), "LOCAL") for i in range(start, start + count)]
    )


class Reader:
    """A reader that sees what ``allows`` says, counting its filtering and recording each
    denial under the caller (a context variable) of the stream it was audited for."""

    def __init__(self, key: str, allows: object = None) -> None:
        self.checks = 0
        self.denied: list[tuple[str, str]] = []
        self._allows = allows

        def allowed(record: StoredRecord) -> bool:
            self.checks += 1
            return self._allows is None or bool(self._allows(record))  # type: ignore[operator]

        def hidden(record_ids: Sequence[str]) -> None:
            self.denied += [(_CALLER.get(), record_id) for record_id in record_ids]

        self.reader = FeedReader(key, lambda _: True, allowed, hidden)


async def subscribe(
    feed: CommitFeed,
    reader: FeedReader,
    caller: str = "nobody",
    kinds: frozenset[str] = frozenset(),
    batch_size: int = 100,
    backlog: list[str] | None = None,
) -> AsyncGenerator[SerializedEvent | CaughtUpMarker, None]:
    """A caught-up subscription from the start whose stream runs as ``caller``; the ids it read
    before it was caught up go to ``backlog`` (none are expected without one)."""
    token = _CALLER.set(caller)
    try:
        # The generator's context is the one current at its first step, as for a gRPC call.
        stream = feed.events(0, kinds, reader=reader, batch_size=batch_size)
        async for item in stream:
            if isinstance(item, CaughtUpMarker):
                break
            assert backlog is not None, "a backlog was not expected"
            backlog += ids(item)
    finally:
        _CALLER.reset(token)
    return stream


def ids(event: SerializedEvent | CaughtUpMarker) -> list[str]:
    assert isinstance(event, SerializedEvent)
    response = exchange_pb2.SubscribeResponse.FromString(event.data)
    return [e.record.record_id for e in response.record_events.events]


async def test_a_group_filters_and_serializes_once_for_all_its_members(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store, max_pace=HOUR, pace_per_subscriber=HOUR)
    await feed.start()
    lyon = Reader("lyon")
    streams = [await subscribe(feed, lyon.reader) for _ in range(5)]
    try:
        assert feed.fan_out.members == 5
        await write_people(store, 0, 3)
        feed.fan_out.flush()
        received = [await anext(stream) for stream in streams]
        # One filtering pass for the five, and the very same bytes for each of them.
        assert lyon.checks == 3
        assert all(event is received[0] for event in received)
        assert ids(received[0]) == ["P-0", "P-1", "P-2"]
    finally:
        for stream in streams:
            await stream.aclose()
        feed.close()
    assert feed.fan_out.members == 0


async def test_readers_with_different_grants_never_see_each_others_records(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store)
    await feed.start()

    def readable_by(suffix: str):  # type: ignore[no-untyped-def]
        return lambda record: record.record_id.endswith(("-open", suffix))

    lyon = Reader("lyon", readable_by("-lyon"))
    singapore = Reader("singapore", readable_by("-sg"))
    lyon_stream = await subscribe(feed, lyon.reader, "lyon-client")
    singapore_stream = await subscribe(feed, singapore.reader, "sg-client")
    try:
        await store.write(
            [
                prepare_record(person(record_id), "LOCAL")
                for record_id in ("P-lyon", "P-sg", "P-open", "Q-lyon", "Q-sg")
            ]
        )
        assert ids(await anext(lyon_stream)) == ["P-lyon", "P-open", "Q-lyon"]
        assert ids(await anext(singapore_stream)) == ["P-sg", "P-open", "Q-sg"]
        assert lyon.denied == [("lyon-client", "P-sg"), ("lyon-client", "Q-sg")]
        assert singapore.denied == [("sg-client", "P-lyon"), ("sg-client", "Q-lyon")]
    finally:
        await lyon_stream.aclose()
        await singapore_stream.aclose()
        feed.close()


async def test_what_a_group_hides_is_audited_for_each_members_caller(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store)
    await feed.start()
    lyon = Reader("lyon", lambda record: record.record_id != "P-1")
    first = await subscribe(feed, lyon.reader, "lyon-client-a")
    second = await subscribe(feed, lyon.reader, "lyon-client-b")
    try:
        await write_people(store, 0, 3)
        assert ids(await anext(first)) == ["P-0", "P-2"]
        assert ids(await anext(second)) == ["P-0", "P-2"]
        # Filtered once, audited for each stream's own caller.
        assert lyon.checks == 3
        assert sorted(lyon.denied) == [("lyon-client-a", "P-1"), ("lyon-client-b", "P-1")]
    finally:
        await first.aclose()
        await second.aclose()
        feed.close()


async def test_a_flush_hands_out_every_commit_since_the_last_one_in_one_message(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store, max_pace=HOUR, pace_per_subscriber=HOUR)
    await feed.start()
    stream = await subscribe(feed, Reader("lyon").reader)
    try:
        await write_people(store, 0, 1)
        # The first commit after a quiet spell is handed out at once; the next wait for the pace.
        assert ids(await anext(stream)) == ["P-0"]
        for start in range(1, 10, 3):  # three commits, handed out by one flush
            await write_people(store, start, 3)
        flushes = feed.fan_out.flushes
        feed.fan_out.flush()
        assert feed.fan_out.flushes == flushes + 1
        assert ids(await anext(stream)) == [f"P-{i}" for i in range(1, 10)]
    finally:
        await stream.aclose()
        feed.close()


async def test_a_group_member_that_stalls_falls_back_and_resumes_without_loss(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store, window=16, buffer=8)
    await feed.start()
    lyon = Reader("lyon")
    stalled = await subscribe(feed, lyon.reader, batch_size=1)
    reading = await subscribe(feed, lyon.reader, batch_size=1)
    try:
        received: list[str] = []
        for start in range(0, 60, 5):
            await write_people(store, start, 5)
            received += [i for _ in range(5) for i in ids_of_single(await anext(reading))]
        assert received == [f"P-{i}" for i in range(60)]
        assert feed.fallbacks == 1  # the stalled one left its group once, holding nothing since
        resumed = [i for _ in range(60) for i in ids_of_single(await anext(stalled))]
        # From the window and the store, in order, each once.
        assert resumed == [f"P-{i}" for i in range(60)]
        await write_people(store, 60, 1)  # and it is a member again
        assert ids_of_single(await anext(stalled)) == ["P-60"]
        assert ids_of_single(await anext(reading)) == ["P-60"]
    finally:
        await stalled.aclose()
        await reading.aclose()
        feed.close()


def ids_of_single(event: SerializedEvent | CaughtUpMarker) -> list[str]:
    assert isinstance(event, SerializedEvent)
    return [exchange_pb2.SubscribeResponse.FromString(event.data).record_event.record.record_id]


async def test_a_member_joining_between_flushes_gets_nothing_twice(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store, max_pace=HOUR, pace_per_subscriber=HOUR)
    await feed.start()
    lyon = Reader("lyon")
    early = await subscribe(feed, lyon.reader)
    try:
        await write_people(store, 0, 1)
        assert ids(await anext(early)) == ["P-0"]  # the first flush after a quiet spell: at once
        await write_people(store, 1, 1)  # waits for the next flush (an hour away)
        backlog: list[str] = []
        late = await subscribe(feed, lyon.reader, backlog=backlog)
        try:
            assert backlog == ["P-0", "P-1"]  # read itself, then joined the group
            await write_people(store, 2, 1)
            feed.fan_out.flush()
            assert ids(await anext(early)) == ["P-1", "P-2"]
            assert ids(await anext(late)) == ["P-2"]
        finally:
            await late.aclose()
    finally:
        await early.aclose()
        feed.close()


async def test_a_queued_version_restricted_before_it_is_sent_is_not_delivered(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store)
    await feed.start()
    # Stands in for a handling change: a version is hidden once its record has a newer one.
    first_versions = Reader("lyon", lambda record: record.latest_version == 1)
    stream = await subscribe(feed, first_versions.reader, batch_size=1)
    other = await subscribe(feed, first_versions.reader, batch_size=1)
    try:
        await write_people(store, 1, 1)  # P-1 version 1: queued for both, not yet read
        assert ids_of_single(await anext(other)) == ["P-1"]  # one reads it at once
        await store.write([prepare_record(person("P-1", family="CHANGED"), "LOCAL")])
        await store.write([prepare_record(travel_document("D-1"), "LOCAL")])
        # The other, reading only now, is not sent the version restricted meanwhile.
        assert ids_of_single(await anext(stream)) == ["D-1"]
    finally:
        await stream.aclose()
        await other.aclose()
        feed.close()


async def test_members_whose_filters_match_nothing_are_not_visited_one_by_one(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store, max_pace=HOUR, pace_per_subscriber=HOUR)
    await feed.start()
    lyon = Reader("lyon")
    documents = [
        await subscribe(feed, lyon.reader, kinds=frozenset({"travel_document"})) for _ in range(3)
    ]
    try:
        await write_people(store, 0, 4)
        feed.fan_out.flush()
        assert feed.fan_out.flushes == 1
        assert feed.fan_out.visits == 0  # the group saw nothing: no member was looked at
        await store.write([prepare_record(travel_document("D-1"), "LOCAL")])
        feed.fan_out.flush()
        assert feed.fan_out.visits == 3
        # What the group saw nothing of is behind every member; what matched comes once.
        for stream in documents:
            assert ids(await anext(stream)) == ["D-1"]
        await write_people(store, 4, 2)
        await store.write([prepare_record(travel_document("D-2"), "LOCAL")])
        feed.fan_out.flush()
        for stream in documents:
            assert ids(await anext(stream)) == ["D-2"]
    finally:
        for stream in documents:
            await stream.aclose()
        feed.close()


async def test_a_slow_subscriber_receives_every_record_exactly_once_in_order(
    store: SqliteRecordStore,
) -> None:
    # Small window and buffer: the slow stream's queue holds several flushes, overflows, and
    # it catches up from the store, while a reading member and one matching nothing go on.
    feed = CommitFeed(store, window=16, buffer=24, pace_per_subscriber=0.0, max_pace=0.0)
    await feed.start()
    lyon = Reader("lyon")
    slow = await subscribe(feed, lyon.reader, batch_size=10)
    reading = await subscribe(feed, lyon.reader, batch_size=10)
    nothing = await subscribe(feed, lyon.reader, kinds=frozenset({"travel_document"}))
    try:
        read: list[str] = []
        slow_read: list[str] = []
        for start in range(0, 90, 3):
            await write_people(store, start, 3)
            feed.fan_out.flush()
            read += ids(await anext(reading))
            if start == 6:
                slow_read += ids(await anext(slow))  # it reads a little, then stalls
        assert read == [f"P-{i}" for i in range(90)]
        assert feed.fallbacks >= 1
        while len(slow_read) < 90:
            slow_read += ids(await anext(slow))
        assert slow_read == [f"P-{i}" for i in range(90)]
        await store.write([prepare_record(travel_document("D-1"), "LOCAL")])
        await write_people(store, 90, 1)
        feed.fan_out.flush()
        assert ids(await anext(nothing)) == ["D-1"]
        for stream in (slow, reading):  # in one message or two, as the flushes fell
            after: list[str] = []
            while len(after) < 2:
                after += ids(await anext(stream))
            assert after == ["D-1", "P-90"]
    finally:
        for stream in (slow, reading, nothing):
            await stream.aclose()
        feed.close()
