"""Write semantics every store has: versions, duplicates, expected versions, group commit, and
commit listeners."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from gateway.store import RecordStore, StoredRecord, StoredVersion, VersionConflict
from tests.gateway.store.conformance.conftest import Commits, StoreFactory
from tests.support.store import CENTRE, make_item

# --- Write semantics -------------------------------------------------------------------------


async def test_first_write_stores_version_one(store: RecordStore) -> None:
    item = make_item("rec-1")

    [outcome] = await store.write([item])

    assert isinstance(outcome, StoredVersion)
    assert outcome == StoredVersion(
        record_id="rec-1",
        version=1,
        sequence=1,
        committed_at_us=outcome.committed_at_us,
        content_sha256=item.content_sha256,
        duplicate=False,
    )
    assert outcome.committed_at_us > 1_600_000_000_000_000
    assert await store.get("rec-1") == StoredRecord(
        record_id="rec-1",
        version=1,
        sequence=1,
        committed_at_us=outcome.committed_at_us,
        content_sha256=item.content_sha256,
        kind="person",
        originating_centre=CENTRE,
        blob=item.blob,
        latest_version=1,
        latest_kind="person",
    )


async def test_same_content_is_a_duplicate_with_the_same_ack(store: RecordStore) -> None:
    [first] = await store.write([make_item("rec-1", "A")])

    [again] = await store.write([make_item("rec-1", "A")])

    assert isinstance(first, StoredVersion)
    assert again == StoredVersion(
        "rec-1", 1, first.sequence, first.committed_at_us, first.content_sha256, duplicate=True
    )
    assert await store.last_sequence() == 1
    assert len(await store.read_since(0, 10)) == 1


async def test_different_content_is_the_next_version(store: RecordStore) -> None:
    await store.write([make_item("rec-1", "A")])
    await store.write([make_item("other", "X")])

    [second] = await store.write([make_item("rec-1", "B")])

    assert isinstance(second, StoredVersion)
    assert (second.version, second.sequence, second.duplicate) == (2, 3, False)
    latest = await store.get("rec-1")
    assert latest is not None
    assert (latest.version, latest.blob, latest.latest_version) == (2, b"B", 2)


async def test_expected_version_must_be_the_latest(store: RecordStore) -> None:
    await store.write([make_item("rec-1", "A")])
    await store.write([make_item("rec-1", "B")])

    stale = await store.write([make_item("rec-1", "C", expected_version=1)])
    ahead = await store.write([make_item("rec-1", "C", expected_version=3)])
    missing = await store.write([make_item("nobody", "C", expected_version=1)])
    current = await store.write([make_item("rec-1", "C", expected_version=2)])

    assert stale == [VersionConflict("rec-1", expected_version=1, latest_version=2)]
    assert ahead == [VersionConflict("rec-1", expected_version=3, latest_version=2)]
    assert missing == [VersionConflict("nobody", expected_version=1, latest_version=0)]
    assert [(o.version, o.sequence) for o in current if isinstance(o, StoredVersion)] == [(3, 3)]
    assert await store.last_sequence() == 3
    assert await store.get("nobody") is None


async def test_duplicate_of_an_older_version_returns_that_version(store: RecordStore) -> None:
    [v1] = await store.write([make_item("rec-1", "A")])
    await store.write([make_item("rec-1", "B")])

    # A duplicate wins over a stale expected_version: the content is stored, nothing to refuse.
    [again] = await store.write([make_item("rec-1", "A", expected_version=1)])

    assert isinstance(v1, StoredVersion)
    assert again == StoredVersion(
        "rec-1", 1, v1.sequence, v1.committed_at_us, v1.content_sha256, duplicate=True
    )
    latest = await store.get("rec-1")
    assert latest is not None
    assert latest.version == 2


async def test_items_of_one_call_see_each_other_in_one_transaction(
    store: RecordStore, commits: Commits
) -> None:
    outcomes = await store.write(
        [
            make_item("rec-1", "A"),
            make_item("rec-1", "B"),
            make_item("rec-1", "A"),
            make_item("rec-1", "C", expected_version=2),
            make_item("rec-1", "D", expected_version=2),
            make_item("rec-2", "A"),
        ]
    )

    stored = [o for o in outcomes if isinstance(o, StoredVersion)]
    committed_at = stored[0].committed_at_us
    sha = {c: hashlib.sha256(c.encode()).digest() for c in "ABC"}
    assert outcomes == [
        StoredVersion("rec-1", 1, 1, committed_at, sha["A"], duplicate=False),
        StoredVersion("rec-1", 2, 2, committed_at, sha["B"], duplicate=False),
        StoredVersion("rec-1", 1, 1, committed_at, sha["A"], duplicate=True),
        StoredVersion("rec-1", 3, 3, committed_at, sha["C"], duplicate=False),
        VersionConflict("rec-1", expected_version=2, latest_version=3),
        StoredVersion("rec-2", 1, 4, committed_at, sha["A"], duplicate=False),
    ]
    assert commits.transactions == [["rec-1", "rec-1", "rec-1", "rec-2"]]
    assert [r.latest_version for r in await store.read_since(0, 10)] == [3, 3, 3, 1]


async def test_empty_write_commits_nothing(store: RecordStore, commits: Commits) -> None:
    assert await store.write([]) == []
    assert commits.transactions == []
    assert await store.last_sequence() == 0


async def test_a_cancelled_caller_is_still_committed(store: RecordStore) -> None:
    cancelled = asyncio.create_task(store.write([make_item("rec-1")]))
    await asyncio.sleep(0)  # queued: a write queues its request before its first suspension
    cancelled.cancel()

    [outcome] = await store.write([make_item("rec-2")])

    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert isinstance(outcome, StoredVersion)
    assert (outcome.record_id, outcome.sequence) == ("rec-2", 2)
    stored = await store.get("rec-1")
    assert stored is not None
    assert (stored.version, stored.sequence) == (1, 1)


# --- Group commit ----------------------------------------------------------------------------


async def test_concurrent_writers_share_transactions(store: RecordStore, commits: Commits) -> None:
    calls = 64

    outcomes = await asyncio.gather(*(store.write([make_item(f"rec-{n}")]) for n in range(calls)))

    assert 1 <= len(commits.transactions) < calls
    by_id = {o.record_id: o for [o] in outcomes if isinstance(o, StoredVersion)}
    assert sorted(by_id) == sorted(f"rec-{n}" for n in range(calls))
    assert sorted(o.sequence for o in by_id.values()) == list(range(1, calls + 1))
    assert {o.version for o in by_id.values()} == {1}
    for n, [outcome] in enumerate(outcomes):
        assert outcome.record_id == f"rec-{n}"
    # One commit time per transaction, shared by all of its callers.
    times = {o.sequence: o.committed_at_us for o in by_id.values()}
    first = 1
    for transaction in commits.transactions:
        span = range(first, first + len(transaction))
        assert len({times[sequence] for sequence in span}) == 1
        first += len(transaction)


async def test_a_call_larger_than_the_batch_limit_is_committed_whole(
    store_factory: StoreFactory,
) -> None:
    commits = Commits()
    async with store_factory.opened(max_batch_records=2) as store:
        store.add_commit_listener(commits)

        outcomes = await store.write([make_item(f"rec-{n}") for n in range(5)])

    assert [o.sequence for o in outcomes if isinstance(o, StoredVersion)] == [1, 2, 3, 4, 5]
    assert commits.transactions == [[f"rec-{n}" for n in range(5)]]


async def test_calls_are_never_split_across_transactions(store_factory: StoreFactory) -> None:
    commits = Commits()
    async with store_factory.opened(max_batch_records=4) as store:
        store.add_commit_listener(commits)
        sizes = [3, 3, 1, 2, 2, 4, 1]

        results = await asyncio.gather(
            *(
                store.write([make_item(f"c{call}-{n}") for n in range(size)])
                for call, size in enumerate(sizes)
            )
        )

    assert sum(len(t) for t in commits.transactions) == sum(sizes)
    for call, result in enumerate(results):
        # Every item of a call is in the same transaction: one commit time, one listener call.
        assert len({o.committed_at_us for o in result if isinstance(o, StoredVersion)}) == 1
        ids = [f"c{call}-{n}" for n in range(sizes[call])]
        [holding] = [t for t in commits.transactions if ids[0] in t]
        assert set(ids) <= set(holding)
    # Whole calls up to the limit: no transaction beyond it unless one call alone was larger.
    assert all(len(t) <= 4 for t in commits.transactions)


# --- Commit listeners ------------------------------------------------------------------------


async def test_listeners_get_new_versions_in_order_before_the_callers(
    store: RecordStore,
) -> None:
    seen: list[list[tuple[str, int, int, int]]] = []
    task: asyncio.Task[Any] | None = None
    caller_done_at_listener: list[bool] = []

    def listener(records: Sequence[StoredRecord]) -> None:
        seen.append([(r.record_id, r.version, r.sequence, r.latest_version) for r in records])
        caller_done_at_listener.append(task is not None and task.done())

    store.add_commit_listener(listener)
    await store.write([make_item("rec-1", "A")])
    task = asyncio.create_task(
        store.write(
            [
                make_item("rec-1", "B"),
                make_item("rec-1", "A"),  # duplicate: not a new version
                make_item("rec-2", expected_version=4),  # conflict: not stored
                make_item("rec-1", "C"),
            ]
        )
    )
    await task
    await store.write([make_item("rec-1", "C")])  # only a duplicate: no call at all

    assert seen == [
        [("rec-1", 1, 1, 1)],
        [("rec-1", 2, 2, 3), ("rec-1", 3, 3, 3)],
    ]
    assert caller_done_at_listener == [False, False]


async def test_new_versions_of_concurrent_writes_reach_listeners_in_sequence_order(
    store: RecordStore,
) -> None:
    seen: list[tuple[int, bool]] = []
    writes: list[asyncio.Future[object]] = []

    def listener(records: Sequence[StoredRecord]) -> None:
        for record in records:
            seen.append((record.sequence, all(write.done() for write in writes)))

    store.add_commit_listener(listener)
    writes.extend(asyncio.ensure_future(store.write([make_item(f"rec-{n}")])) for n in range(20))
    await asyncio.gather(*writes)

    assert [sequence for sequence, _ in seen] == list(range(1, 21))
    assert not any(all_done for _, all_done in seen)


async def test_unregistered_listener_is_not_called(store: RecordStore) -> None:
    first: list[str] = []
    second: list[str] = []
    unregister = store.add_commit_listener(lambda rs: first.extend(r.record_id for r in rs))
    store.add_commit_listener(lambda rs: second.extend(r.record_id for r in rs))
    await store.write([make_item("rec-1")])

    unregister()
    unregister()  # a second call is harmless
    await store.write([make_item("rec-2")])

    assert first == ["rec-1"]
    assert second == ["rec-1", "rec-2"]


async def test_failing_listener_breaks_neither_writer_nor_other_listeners(
    store: RecordStore, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(records: Sequence[StoredRecord]) -> None:
        raise ValueError("listener bug")

    delivered: list[str] = []
    store.add_commit_listener(broken)
    store.add_commit_listener(lambda rs: delivered.extend(r.record_id for r in rs))

    with caplog.at_level(logging.ERROR, logger="gateway.store"):
        [first] = await store.write([make_item("rec-1", "SECRET CONTENT")])
        [second] = await store.write([make_item("rec-2")])

    assert isinstance(first, StoredVersion)
    assert isinstance(second, StoredVersion)
    assert delivered == ["rec-1", "rec-2"]
    failures = [r for r in caplog.records if r.name.startswith("gateway.store")]
    assert len(failures) == 2
    assert all(r.exc_info is not None and r.levelno == logging.ERROR for r in failures)
    assert all("SECRET" not in r.getMessage() for r in failures)
