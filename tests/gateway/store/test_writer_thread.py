"""The SQLite store's writer thread: what only a writer in this process lets a test see.

Here a test holds the writer at the door of its next transaction (:class:`WriterGate`) while
callers queue up, so that grouping is deterministic; breaks a transaction half way; or sets the
clock of the transaction code. None of that reaches a writer process, so these tests run with the
writer thread only. The write semantics themselves run on every setup in ``conformance/``.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import gateway.store.transaction as transaction
from gateway.store import (
    DocumentKey,
    Ingestion,
    IngestOutcome,
    NameKey,
    SearchQuery,
    SqliteRecordStore,
    StoreClosedError,
    StoredVersion,
    StoreError,
    VersionConflict,
    WriteItem,
)
from gateway.store.transaction import Transactions
from tests.support.store import count_rows, db_path, make_item, open_store, writer_threads


class WriterGate:
    """Holds the writer thread before its next transaction until :meth:`release`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._entered = threading.Event()
        self._released = threading.Event()
        original = Transactions.run

        def run(transactions: Transactions, groups: Sequence[Sequence[WriteItem]]) -> Any:
            if not self._entered.is_set():
                self._entered.set()
                self._released.wait(timeout=30)
            return original(transactions, groups)

        monkeypatch.setattr(Transactions, "run", run)

    async def entered(self) -> None:
        """Wait until the writer holds a batch at the gate."""
        assert await asyncio.to_thread(self._entered.wait, 30)

    def release(self) -> None:
        """Let the held transaction (and every later one) through."""
        self._released.set()


async def enqueue(
    *writes: Sequence[WriteItem], store: SqliteRecordStore
) -> list[asyncio.Task[Any]]:
    """Start one write per item list and return once every one of them is queued."""
    tasks = [asyncio.create_task(store.write(items)) for items in writes]
    # A write queues its request before its first suspension, so one pass of the loop is enough.
    await asyncio.sleep(0)
    return tasks


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    """An opened store in ``tmp_path``."""
    async with open_store(db_path(tmp_path)) as opened:
        yield opened


# --- Group commit ----------------------------------------------------------------------------


async def test_group_commit_takes_whole_calls_up_to_the_batch_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = WriterGate(monkeypatch)
    transactions: list[list[str]] = []
    async with open_store(db_path(tmp_path), max_batch_records=4) as store:
        store.add_commit_listener(
            lambda records: transactions.append([r.record_id for r in records])
        )
        held = asyncio.create_task(store.write([make_item("held")]))
        await gate.entered()
        # Calls of 3, 3, 1, 2, 2 items: the second does not fit beside the first (3 + 3 > 4)
        # and opens the next transaction instead of being split.
        sizes = [3, 3, 1, 2, 2]
        tasks = await enqueue(
            *([make_item(f"c{call}-{n}") for n in range(size)] for call, size in enumerate(sizes)),
            store=store,
        )
        gate.release()
        results = await asyncio.gather(held, *tasks)

        assert transactions == [
            ["held"],
            ["c0-0", "c0-1", "c0-2"],
            ["c1-0", "c1-1", "c1-2", "c2-0"],
            ["c3-0", "c3-1", "c4-0", "c4-1"],
        ]
        assert store.transactions_committed == 4
    sequences = [[o.sequence for o in result if isinstance(o, StoredVersion)] for result in results]
    assert sequences == [[1], [2, 3, 4], [5, 6, 7], [8], [9, 10], [11, 12]]
    # One commit time per transaction, shared by all of its callers.
    times = [
        {o.committed_at_us for o in result if isinstance(o, StoredVersion)} for result in results
    ]
    assert len(times[3] | times[2]) == 1
    assert len(times[4] | times[5]) == 1


async def test_items_of_concurrent_callers_see_each_other(
    store: SqliteRecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = WriterGate(monkeypatch)
    held = asyncio.create_task(store.write([make_item("held")]))
    await gate.entered()
    first, second, third = await enqueue(
        [make_item("rec-1", "A")],
        [make_item("rec-1", "A"), make_item("rec-1", "B", expected_version=1)],
        [make_item("rec-1", "C", expected_version=1)],
        store=store,
    )
    gate.release()
    await held

    [a] = await first
    assert isinstance(a, StoredVersion)
    assert await second == [
        StoredVersion("rec-1", 1, a.sequence, a.committed_at_us, a.content_sha256, duplicate=True),
        StoredVersion(
            "rec-1", 2, a.sequence + 1, a.committed_at_us, make_item("x", "B").content_sha256, False
        ),
    ]
    assert await third == [VersionConflict("rec-1", expected_version=1, latest_version=2)]
    assert store.transactions_committed == 2


async def test_cancelled_caller_is_still_committed(
    store: SqliteRecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = WriterGate(monkeypatch)
    held = asyncio.create_task(store.write([make_item("held")]))
    await gate.entered()
    cancelled, other = await enqueue([make_item("rec-1")], [make_item("rec-2")], store=store)

    cancelled.cancel()
    gate.release()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    [outcome] = await asyncio.wait_for(other, timeout=10)
    await held

    assert isinstance(outcome, StoredVersion)
    assert (outcome.record_id, outcome.sequence) == ("rec-2", 3)
    stored = await store.get("rec-1")
    assert stored is not None
    assert (stored.version, stored.sequence) == (1, 2)


# --- Failed transactions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [sqlite3.OperationalError("disk I/O error"), RuntimeError("DOE JANE 1975-03-12")],
    ids=["sqlite", "other"],
)
async def test_failed_transaction_keeps_nothing_and_fails_all_its_callers(
    store: SqliteRecordStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    await store.write([make_item("kept", "K", documents=[DocumentKey("K1", "FRA")])])
    calls = 0
    write_index = Transactions._write_index

    def fail_after_inserts(transactions: Transactions, *args: Any) -> None:
        # Runs after the version and head rows were inserted, so the batch is half written.
        # Only the second transaction from here fails: the held one before it, and the one
        # after it, commit.
        nonlocal calls
        calls += 1
        if calls == 2:
            raise error
        write_index(transactions, *args)

    monkeypatch.setattr(Transactions, "_write_index", fail_after_inserts)
    gate = WriterGate(monkeypatch)
    held = asyncio.create_task(store.write([make_item("held")]))
    await gate.entered()
    tasks = await enqueue(
        [make_item("new", "DOE JANE 1975-03-12", names=[NameKey("DOE", 1975, 3, 12)])],
        [make_item("kept", "K2", documents=[DocumentKey("K2", "FRA")]), make_item("also-new")],
        store=store,
    )
    gate.release()
    await held
    results = await asyncio.gather(*tasks, return_exceptions=True)

    for result in results:
        assert isinstance(result, StoreError)
        assert "rolled back" in str(result)
        assert "DOE" not in str(result)
    logged = [r.getMessage() for r in caplog.records if r.name == "gateway.store.health"]
    assert len(logged) == 1
    assert logged[0].startswith("store transaction(s) failed and were rolled back: 1 since")
    assert "(2 request(s) in the latest)" in logged[0]
    assert all("DOE" not in record.getMessage() for record in caplog.records)
    assert store.transactions_committed == 2
    assert await store.last_sequence() == 2
    assert await store.get("new") is None
    assert await store.get("also-new") is None
    kept = await store.get("kept")
    assert kept is not None
    assert (kept.version, kept.blob) == (1, b"K")
    assert [(r.record_id, r.sequence) for r in await store.read_since(0, 10)] == [
        ("kept", 1),
        ("held", 2),
    ]
    assert count_rows(store.path, "document_keys") == 1
    assert count_rows(store.path, "name_keys") == 0

    # The writer keeps serving, and the rolled-back sequences are handed out again.
    [after] = await store.write([make_item("new", "DOE JANE 1975-03-12")])
    assert isinstance(after, StoredVersion)
    assert (after.version, after.sequence, after.duplicate) == (1, 3, False)


async def test_reads_see_only_committed_data(
    store: SqliteRecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.write([make_item("rec-1", "A")])
    inside = threading.Event()
    proceed = threading.Event()
    write_index = Transactions._write_index

    def pause_before_commit(transactions: Transactions, *args: Any) -> None:
        write_index(transactions, *args)
        inside.set()
        proceed.wait(timeout=30)

    monkeypatch.setattr(Transactions, "_write_index", pause_before_commit)
    task = asyncio.create_task(store.write([make_item("rec-1", "B"), make_item("rec-2")]))
    assert await asyncio.to_thread(inside.wait, 30)
    try:
        latest = await store.get("rec-1")
        assert latest is not None
        assert latest.version == 1
        assert await store.get("rec-2") is None
        assert await store.last_sequence() == 1
        assert len(await store.read_since(0, 10)) == 1
    finally:
        proceed.set()
    await task
    assert await store.last_sequence() == 3


# --- Lifecycle -------------------------------------------------------------------------------


async def test_close_commits_queued_writes_and_refuses_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = WriterGate(monkeypatch)
    store = SqliteRecordStore(db_path(tmp_path), writer="thread")
    await store.open()
    held = asyncio.create_task(store.write([make_item("held")]))
    await gate.entered()
    queued = await enqueue([make_item("queued-1")], [make_item("queued-2")], store=store)

    closing_task = asyncio.create_task(store.close())
    await asyncio.sleep(0)
    with pytest.raises(StoreClosedError):
        await store.write([make_item("late")])
    with pytest.raises(StoreClosedError):
        await store.get("held")
    gate.release()
    await closing_task

    results = await asyncio.gather(held, *queued)
    assert [[o.sequence for o in r if isinstance(o, StoredVersion)] for r in results] == [
        [1],
        [2],
        [3],
    ]
    assert writer_threads() == []
    assert not [t for t in threading.enumerate() if t.name.startswith("liaison-store-reader")]
    await store.close()  # idempotent
    with pytest.raises(StoreClosedError):
        await store.write([make_item("late")])
    async with open_store(db_path(tmp_path)) as reopened:
        assert [r.record_id for r in await reopened.read_since(0, 10)] == [
            "held",
            "queued-1",
            "queued-2",
        ]


async def test_concurrent_closes_all_wait_for_the_end(tmp_path: Path) -> None:
    store = SqliteRecordStore(db_path(tmp_path), writer="thread")
    await store.open()
    await store.get("warm-up")  # a reader connection to close as well

    await asyncio.gather(store.close(), store.close(), store.close())

    assert writer_threads() == []


async def test_open_runs_one_non_daemon_writer_in_wal_mode(store: SqliteRecordStore) -> None:
    [writer] = writer_threads()
    assert not writer.daemon
    with closing(sqlite3.connect(store.path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# --- Commit times ----------------------------------------------------------------------------


async def test_commit_times_never_go_back(
    store: SqliteRecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.store.transaction as transaction

    clock = iter([2_000_000_000_000, 1_000_000_000_000, 3_000_000_000_000])

    class Clock:
        @staticmethod
        def time_ns() -> int:
            return next(clock)

    monkeypatch.setattr(transaction, "time", Clock)
    times = []
    for n in range(3):
        [outcome] = await store.write([make_item(f"rec-{n}")])
        assert isinstance(outcome, StoredVersion)
        times.append(outcome.committed_at_us)

    assert times == [2_000_000_000, 2_000_000_000, 3_000_000_000]


class FakeClock:
    """Stands in for the ``time`` module of the transaction code: commit times on demand."""

    def __init__(self) -> None:
        self.now_us = 1_000

    def time_ns(self) -> int:
        return self.now_us * 1000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Commit times the test sets (microseconds) instead of the wall clock."""
    fake = FakeClock()
    monkeypatch.setattr(transaction, "time", fake)
    return fake


async def test_search_by_commit_time_of_the_latest_version(
    store: SqliteRecordStore, clock: FakeClock
) -> None:
    for now_us, record_id in [(1_000, "rec-1"), (2_000, "rec-2"), (3_000, "rec-3")]:
        clock.now_us = now_us
        await store.write([make_item(record_id)])

    async def found(after: int = 0, before: int = 0) -> list[str]:
        query = SearchQuery(committed_after_us=after, committed_before_us=before)
        return [record.record_id for record in await store.search(query, 0, 10)]

    assert await found(after=2_000) == ["rec-2", "rec-3"]  # inclusive
    assert await found(before=2_000) == ["rec-1"]  # exclusive
    assert await found(after=2_000, before=3_000) == ["rec-2"]
    assert await found(after=3_001) == []

    clock.now_us = 4_000
    await store.write([make_item("rec-1", "second version")])
    assert await found(before=2_000) == []
    assert await found(after=4_000) == ["rec-1"]


# --- Ingestions ------------------------------------------------------------------------------


def ingestion(*items: WriteItem, payload: bytes = b"payload", adapter: str = "lines") -> Ingestion:
    return Ingestion(adapter, hashlib.sha256(payload).digest(), tuple(items))


def acks_of(outcome: IngestOutcome) -> list[tuple[str, int, int, bool]]:
    return [(a.record_id, a.version, a.sequence, a.duplicate) for a in outcome.acks]


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
            transaction,
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
