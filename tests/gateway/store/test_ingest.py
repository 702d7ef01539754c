"""The store's atomic, idempotent ingestion of one payload's records (``RecordStore.ingest``)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from gateway.store import (
    Ingestion,
    IngestOutcome,
    SqliteRecordStore,
    StoreClosedError,
    StoredRecord,
    StoreError,
    WriteItem,
)
from gateway.store import transaction as transaction_module
from gateway.store.schema import load_migrations, migrate
from gateway.store.transaction import Transactions
from tests.gateway.store.test_sqlite import (
    WriterGate,
    count_rows,
    db_path,
    enqueue,
    make_item,
    open_store,
)

ADAPTER = "lines"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    """An opened store in ``tmp_path``."""
    async with open_store(db_path(tmp_path)) as opened:
        yield opened


def ingestion(*items: WriteItem, payload: bytes = b"payload", adapter: str = ADAPTER) -> Ingestion:
    return Ingestion(adapter, hashlib.sha256(payload).digest(), tuple(items))


def acks_of(outcome: IngestOutcome) -> list[tuple[str, int, int, bool]]:
    return [(a.record_id, a.version, a.sequence, a.duplicate) for a in outcome.acks]


async def test_ingest_stores_every_item_in_one_transaction(store: SqliteRecordStore) -> None:
    outcome = await store.ingest(ingestion(make_item("a"), make_item("b"), make_item("c")))

    assert not outcome.duplicate
    assert acks_of(outcome) == [("a", 1, 1, False), ("b", 1, 2, False), ("c", 1, 3, False)]
    assert {ack.committed_at_us for ack in outcome.acks} == {outcome.ingested_at_us}
    assert store.transactions_committed == 1
    stored = await store.get("b")
    assert stored is not None
    assert stored.blob == make_item("b").blob
    assert count_rows(store.path, "ingestions") == 1
    assert count_rows(store.path, "ingestion_acks") == 3


async def test_a_repeated_payload_returns_the_first_acks_and_writes_nothing(
    store: SqliteRecordStore,
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
    assert count_rows(store.path, "ingestions") == 1


async def test_the_key_is_adapter_and_payload_hash_not_content(store: SqliteRecordStore) -> None:
    await store.ingest(ingestion(make_item("a"), payload=b"one"))

    other_payload = await store.ingest(ingestion(make_item("a"), payload=b"two"))
    other_adapter = await store.ingest(ingestion(make_item("a"), payload=b"one", adapter="x"))

    # New ingestions, whose only record was already stored: acknowledged as a duplicate of it.
    for outcome in (other_payload, other_adapter):
        assert not outcome.duplicate
        assert acks_of(outcome) == [("a", 1, 1, True)]
    assert count_rows(store.path, "ingestions") == 3
    assert await store.last_sequence() == 1


async def test_items_of_one_payload_see_each_other(store: SqliteRecordStore) -> None:
    outcome = await store.ingest(
        ingestion(make_item("a", "A"), make_item("a", "B"), make_item("a", "A"))
    )

    assert acks_of(outcome) == [("a", 1, 1, False), ("a", 2, 2, False), ("a", 1, 1, True)]
    again = await store.ingest(ingestion(make_item("a", "A")))
    assert acks_of(again) == [("a", 1, 1, True), ("a", 2, 2, True), ("a", 1, 1, True)]


async def test_a_payload_without_records_is_remembered_too(store: SqliteRecordStore) -> None:
    first = await store.ingest(ingestion())
    again = await store.ingest(ingestion())

    assert (first.duplicate, first.acks) == (False, ())
    assert (again.duplicate, again.acks, again.ingested_at_us) == (
        True,
        (),
        first.ingested_at_us,
    )


async def test_items_with_an_expected_version_are_refused(store: SqliteRecordStore) -> None:
    with pytest.raises(ValueError, match="expected version"):
        await store.ingest(ingestion(make_item("a"), make_item("b", expected_version=1)))

    assert await store.last_sequence() == 0


@pytest.mark.parametrize("failing_step", ["index", "ingestion row"])
async def test_a_failed_ingestion_keeps_nothing(
    store: SqliteRecordStore, monkeypatch: pytest.MonkeyPatch, failing_step: str
) -> None:
    await store.write([make_item("kept")])
    if failing_step == "index":

        def fail(transactions: Transactions, *args: Any) -> None:
            raise RuntimeError("DOE JANE 1975-03-12")

        monkeypatch.setattr(Transactions, "_write_index", fail)
    else:
        # After every version row was written: the ack rows cannot be inserted.
        monkeypatch.setattr(
            transaction_module,
            "_INSERT_INGESTION_ACK",
            "INSERT INTO no_such_table (a, b, c) VALUES (?, ?, ?)",
        )

    with pytest.raises(StoreError, match="rolled back") as raised:
        await store.ingest(ingestion(make_item("a"), make_item("b")))

    assert "DOE" not in str(raised.value)
    assert await store.last_sequence() == 1
    assert await store.get("a") is None
    assert count_rows(store.path, "ingestions") == 0
    assert count_rows(store.path, "ingestion_acks") == 0

    # Nothing was remembered: once the failure is gone the payload is ingested for real.
    monkeypatch.undo()
    outcome = await store.ingest(ingestion(make_item("a"), make_item("b")))
    assert not outcome.duplicate
    assert acks_of(outcome) == [("a", 1, 2, False), ("b", 1, 3, False)]


async def test_an_ingestion_never_shares_its_transaction(
    store: SqliteRecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = WriterGate(monkeypatch)
    held = asyncio.create_task(store.write([make_item("held")]))
    await gate.entered()
    before, after = await enqueue([make_item("w1")], [make_item("w2")], store=store)
    ingested = asyncio.create_task(store.ingest(ingestion(make_item("i1"), make_item("i2"))))
    await asyncio.sleep(0)
    [late] = await enqueue([make_item("w3")], store=store)
    gate.release()

    await asyncio.gather(held, before, after, late)
    outcome = await ingested

    # held | w1 + w2 (grouped) | the ingestion alone | w3
    assert store.transactions_committed == 4
    assert acks_of(outcome) == [("i1", 1, 4, False), ("i2", 1, 5, False)]
    stored = await store.get("w3")
    assert stored is not None
    assert stored.sequence == 6


async def test_listeners_see_ingested_records_before_the_caller(
    store: SqliteRecordStore,
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


async def test_queued_ingestions_are_committed_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = WriterGate(monkeypatch)
    path = db_path(tmp_path)
    async with open_store(path) as opened:
        held = asyncio.create_task(opened.write([make_item("held")]))
        await gate.entered()
        queued = asyncio.create_task(opened.ingest(ingestion(make_item("a"))))
        await asyncio.sleep(0)
        closing_task = asyncio.create_task(opened.close())
        await asyncio.sleep(0)
        with pytest.raises(StoreClosedError):
            await opened.ingest(ingestion(make_item("b"), payload=b"other"))
        gate.release()
        await closing_task
        await held
        outcome = await queued

    assert acks_of(outcome) == [("a", 1, 2, False)]
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT count(*) FROM ingestions").fetchone() == (1,)


async def test_the_ingestion_tables_are_added_to_a_version_one_store(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    path.parent.mkdir(parents=True)
    old = make_item("old")
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        # What a store written by the first release looks like: schema 1, no ingestion tables.
        migrate(connection, load_migrations()[:1])
        connection.execute(
            "INSERT INTO versions (sequence, record_id, version, kind, originating_centre, "
            "committed_at_us, content_sha256, blob) VALUES (1, ?, 1, 'person', ?, 1, ?, ?)",
            (old.record_id, old.keys.originating_centre, old.content_sha256, old.blob),
        )
        connection.execute(
            "INSERT INTO heads (record_id, version, sequence, kind, originating_centre, "
            "committed_at_us) VALUES (?, 1, 1, 'person', ?, 1)",
            (old.record_id, old.keys.originating_centre),
        )

    async with open_store(path) as reopened:
        outcome = await reopened.ingest(ingestion(make_item("old"), make_item("new")))
        kept = await reopened.get("old")

    assert acks_of(outcome) == [("old", 1, 1, True), ("new", 1, 2, False)]
    assert kept is not None
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (len(load_migrations()),)
