"""Every store's atomic, idempotent ingestion of one payload's records (``RecordStore.ingest``)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

import pytest

from gateway.store import Ingestion, IngestOutcome, RecordStore, StoredRecord, WriteItem
from tests.gateway.store.conformance.conftest import Commits
from tests.support.store import make_item

ADAPTER = "lines"


def ingestion(*items: WriteItem, payload: bytes = b"payload", adapter: str = ADAPTER) -> Ingestion:
    return Ingestion(adapter, hashlib.sha256(payload).digest(), tuple(items))


def acks_of(outcome: IngestOutcome) -> list[tuple[str, int, int, bool]]:
    return [(a.record_id, a.version, a.sequence, a.duplicate) for a in outcome.acks]


async def test_ingest_stores_every_item_in_one_transaction(
    store: RecordStore, commits: Commits
) -> None:
    outcome = await store.ingest(ingestion(make_item("a"), make_item("b"), make_item("c")))

    assert not outcome.duplicate
    assert acks_of(outcome) == [("a", 1, 1, False), ("b", 1, 2, False), ("c", 1, 3, False)]
    assert {ack.committed_at_us for ack in outcome.acks} == {outcome.ingested_at_us}
    assert commits.transactions == [["a", "b", "c"]]
    stored = await store.get("b")
    assert stored is not None
    assert stored.blob == make_item("b").blob


async def test_a_repeated_payload_returns_the_first_acks_and_writes_nothing(
    store: RecordStore,
) -> None:
    first = await store.ingest(ingestion(make_item("a"), make_item("b")))
    await store.write([make_item("a", "a newer version")])

    again = await store.ingest(ingestion(make_item("a"), make_item("b")))

    assert again.duplicate
    assert again.ingested_at_us == first.ingested_at_us
    assert acks_of(again) == [("a", 1, 1, True), ("b", 1, 2, True)]
    assert [(a.committed_at_us, a.content_sha256) for a in again.acks] == [
        (a.committed_at_us, a.content_sha256) for a in first.acks
    ]
    assert await store.last_sequence() == 3


async def test_the_key_is_adapter_and_payload_hash_not_content(store: RecordStore) -> None:
    await store.ingest(ingestion(make_item("a"), payload=b"one"))

    other_payload = await store.ingest(ingestion(make_item("a"), payload=b"two"))
    other_adapter = await store.ingest(ingestion(make_item("a"), payload=b"one", adapter="x"))

    # New ingestions, whose only record was already stored: acknowledged as a duplicate of it.
    for outcome in (other_payload, other_adapter):
        assert not outcome.duplicate
        assert acks_of(outcome) == [("a", 1, 1, True)]
    assert await store.last_sequence() == 1
    # Each of the three is remembered on its own.
    for payload, adapter in ((b"one", ADAPTER), (b"two", ADAPTER), (b"one", "x")):
        again = await store.ingest(ingestion(make_item("a"), payload=payload, adapter=adapter))
        assert again.duplicate


async def test_items_of_one_payload_see_each_other(store: RecordStore) -> None:
    outcome = await store.ingest(
        ingestion(make_item("a", "A"), make_item("a", "B"), make_item("a", "A"))
    )

    assert acks_of(outcome) == [("a", 1, 1, False), ("a", 2, 2, False), ("a", 1, 1, True)]
    again = await store.ingest(ingestion(make_item("a", "A")))
    assert acks_of(again) == [("a", 1, 1, True), ("a", 2, 2, True), ("a", 1, 1, True)]


async def test_a_payload_without_records_is_remembered_too(store: RecordStore) -> None:
    first = await store.ingest(ingestion())
    again = await store.ingest(ingestion())

    assert (first.duplicate, first.acks) == (False, ())
    assert (again.duplicate, again.acks, again.ingested_at_us) == (
        True,
        (),
        first.ingested_at_us,
    )


async def test_items_with_an_expected_version_are_refused(store: RecordStore) -> None:
    with pytest.raises(ValueError, match="expected version"):
        await store.ingest(ingestion(make_item("a"), make_item("b", expected_version=1)))

    assert await store.last_sequence() == 0


async def test_listeners_see_ingested_records_before_the_caller(
    store: RecordStore,
) -> None:
    seen: list[list[str]] = []
    task: asyncio.Task[IngestOutcome] | None = None
    caller_done: list[bool] = []

    def listener(records: Sequence[StoredRecord]) -> None:
        seen.append([record.record_id for record in records])
        caller_done.append(task is not None and task.done())

    await store.write([make_item("old")])
    store.add_commit_listener(listener)
    task = asyncio.create_task(store.ingest(ingestion(make_item("old"), make_item("new"))))
    await task
    await store.ingest(ingestion(make_item("old"), make_item("new")))  # a repeat: no new version

    assert seen == [["new"]]
    assert caller_done == [False]
