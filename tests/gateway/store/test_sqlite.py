"""The SQLite store itself, on both of its writers: its file (WAL, a lost tail, a failing
trigger, old schemas), its settings and ``create_store``, and commit timers.

What every store must do, whatever its backend, is in ``conformance/``; the mechanics of each
writer in ``test_writer_thread.py`` and ``test_writer_process.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from gateway.config import StorageConfig
from gateway.store import (
    Ingestion,
    NameKey,
    SqliteRecordStore,
    StoredVersion,
    StoreError,
    create_store,
)
from gateway.store.schema import load_migrations, migrate
from tests.support.store import Writer, count_rows, db_path, make_item, open_store


@pytest.fixture(params=["thread", "process"])
def writer(request: pytest.FixtureRequest) -> Writer:
    """The store's writer: a thread of this process, or a process of its own."""
    chosen: Writer = request.param
    return chosen


@pytest.fixture
async def store(tmp_path: Path, writer: Writer) -> AsyncIterator[SqliteRecordStore]:
    """An opened store in ``tmp_path`` with ``writer``."""
    async with open_store(db_path(tmp_path), writer=writer) as opened:
        yield opened


async def test_the_database_is_in_wal_mode(store: SqliteRecordStore) -> None:
    with closing(sqlite3.connect(store.path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_a_lost_tail_never_makes_a_sequence_be_reused(tmp_path: Path, writer: Writer) -> None:
    path = db_path(tmp_path)
    async with open_store(path, synchronous="full", writer=writer) as store:
        await store.write([make_item("rec-1", "A"), make_item("rec-2"), make_item("rec-3")])
        before = await store.read_since(0, 10)
    # A lost tail (restored backup, manual repair) must not make old cursors point at new data.
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DELETE FROM versions WHERE sequence = 3")
        connection.execute("DELETE FROM heads WHERE record_id = 'rec-3'")

    async with open_store(path, synchronous="full", writer=writer) as store:
        assert await store.read_since(0, 10) == before[:2]
        [again] = await store.write([make_item("rec-1", "A")])
        [new] = await store.write([make_item("rec-1", "B")])

    assert isinstance(again, StoredVersion)
    assert (again.version, again.sequence, again.duplicate) == (1, 1, True)
    assert isinstance(new, StoredVersion)
    assert (new.version, new.sequence) == (2, 4)


async def test_create_store_follows_the_storage_configuration(
    tmp_path: Path, writer: Writer
) -> None:
    config = StorageConfig(
        path=db_path(tmp_path), synchronous="normal", max_batch_records=7, writer=writer
    )

    store = create_store(config)
    await store.open()
    try:
        [outcome] = await store.write([make_item("rec-1")])
        assert isinstance(store, SqliteRecordStore)
        assert (store.writer_process_id is not None) == (writer == "process")
    finally:
        await store.close()

    assert store.path == config.path
    assert isinstance(outcome, StoredVersion)


@pytest.mark.parametrize(
    "arguments",
    [{"max_batch_records": 0}, {"synchronous": "off"}],
    ids=["batch", "synchronous"],
)
def test_constructor_refuses_bad_settings(tmp_path: Path, arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        SqliteRecordStore(db_path(tmp_path), **arguments)


async def test_a_failed_transaction_fails_its_callers_and_the_writer_goes_on(
    store: SqliteRecordStore,
) -> None:
    with closing(sqlite3.connect(store.path)) as database, database:
        database.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON name_keys "
            "BEGIN SELECT RAISE(ABORT, 'injected'); END"
        )
    named = make_item("WCO:1", names=[NameKey("doe", 0, 0, 0)])
    with pytest.raises(StoreError, match=r"rolled back .*injected"):
        await store.write([named])
    assert count_rows(store.path, "versions") == 0
    with closing(sqlite3.connect(store.path)) as database, database:
        database.execute("DROP TRIGGER refuse")
    [stored] = await store.write([named])
    assert isinstance(stored, StoredVersion)
    assert stored.sequence == 1


async def test_a_failed_ingestion_keeps_nothing_and_is_not_remembered(
    store: SqliteRecordStore,
) -> None:
    await store.write([make_item("kept")])
    with closing(sqlite3.connect(store.path)) as database, database:
        # Fails after every version row of the ingestion was written.
        database.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON ingestion_acks "
            "BEGIN SELECT RAISE(ABORT, 'injected'); END"
        )
    payload = Ingestion("lines", hashlib.sha256(b"payload").digest(), (make_item("a"),))
    with pytest.raises(StoreError, match="rolled back"):
        await store.ingest(payload)
    assert await store.last_sequence() == 1
    assert await store.get("a") is None
    assert count_rows(store.path, "ingestions") == 0
    with closing(sqlite3.connect(store.path)) as database, database:
        database.execute("DROP TRIGGER refuse")

    outcome = await store.ingest(payload)

    assert not outcome.duplicate
    assert [(a.record_id, a.sequence) for a in outcome.acks] == [("a", 2)]


async def test_commit_timers_hear_of_every_transaction(store: SqliteRecordStore) -> None:
    durations: list[float] = []
    unregister = store.add_commit_timer(durations.append)
    before = store.transactions_committed
    await asyncio.gather(*(store.write([make_item(f"WCO:{n}")]) for n in range(20)))
    items = (make_item("WCO:ingested"),)
    await store.ingest(Ingestion("lines", hashlib.sha256(b"p").digest(), items))
    assert len(durations) == store.transactions_committed - before
    assert all(0 < seconds < 60 for seconds in durations)
    unregister()
    unregister()  # twice is harmless
    await store.write([make_item("WCO:after")])
    assert len(durations) == store.transactions_committed - before - 1


async def test_the_ingestion_tables_are_added_to_a_version_one_store(
    tmp_path: Path, writer: Writer
) -> None:
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
    payload = (make_item("old"), make_item("new"))

    async with open_store(path, writer=writer) as reopened:
        outcome = await reopened.ingest(
            Ingestion("lines", hashlib.sha256(b"payload").digest(), payload)
        )
        kept = await reopened.get("old")

    assert [(a.record_id, a.version, a.sequence, a.duplicate) for a in outcome.acks] == [
        ("old", 1, 1, True),
        ("new", 1, 2, False),
    ]
    assert kept is not None
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (len(load_migrations()),)
