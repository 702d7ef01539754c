"""The embedded SQLite store: write semantics, group commit, failures, listeners and lifecycle.

Every test runs against a real database file under ``tmp_path``. Where a test needs several
callers in one transaction it holds the writer thread at the door of its next transaction
(:class:`WriterGate`) while the callers queue up, so the grouping is deterministic.

Search, ``read_since`` and ``get`` are in ``test_store_reads.py``; the schema migrations in
``test_store_migrations.py``. Both use the helpers defined here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any, Literal

import pytest

from gateway.config import StorageConfig
from gateway.store import (
    DocumentKey,
    IndexKeys,
    NameKey,
    SqliteRecordStore,
    StoreClosedError,
    StoredRecord,
    StoredVersion,
    StoreError,
    VersionConflict,
    WriteItem,
    create_store,
)
from gateway.store.transaction import Transactions

CENTRE = "WCO-I2C"


def make_item(
    record_id: str,
    content: str = "",
    *,
    kind: str = "person",
    centre: str = CENTRE,
    documents: Sequence[DocumentKey] = (),
    names: Sequence[NameKey] = (),
    expected_version: int = 0,
) -> WriteItem:
    """A write item whose blob is ``content`` (default: the record id) and hash its SHA-256."""
    blob = (content or f"content of {record_id}").encode()
    return WriteItem(
        record_id=record_id,
        content_sha256=hashlib.sha256(blob).digest(),
        blob=blob,
        keys=IndexKeys(kind, centre, tuple(documents), tuple(names)),
        expected_version=expected_version,
    )


@asynccontextmanager
async def open_store(
    path: Path,
    *,
    synchronous: Literal["full", "normal"] = "normal",
    max_batch_records: int = 2048,
    writer: Literal["process", "thread"] = "thread",
) -> AsyncIterator[SqliteRecordStore]:
    """An opened store on ``path``, closed on exit.

    The writer is a thread by default: several tests here stop or break the writer's
    transactions in this process (:class:`WriterGate`); the write semantics are the same code
    in the writer process, whose tests run the semantic ones again (``writer="process"``).
    """
    store = SqliteRecordStore(
        path, synchronous=synchronous, max_batch_records=max_batch_records, writer=writer
    )
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def db_path(tmp_path: Path) -> Path:
    """The database file tests use (in a folder the store must create)."""
    return tmp_path / "var" / "liaison.db"


def count_rows(path: Path, table: str) -> int:
    """Rows of ``table``, read through a connection of the test's own."""
    with closing(sqlite3.connect(path)) as connection:
        count: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return count


def writer_threads() -> list[threading.Thread]:
    """The store writer threads alive in this process."""
    return [thread for thread in threading.enumerate() if thread.name == "liaison-store-writer"]


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


# --- Write semantics -------------------------------------------------------------------------


async def test_first_write_stores_version_one(store: SqliteRecordStore) -> None:
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


async def test_same_content_is_a_duplicate_with_the_same_ack(store: SqliteRecordStore) -> None:
    [first] = await store.write([make_item("rec-1", "A")])

    [again] = await store.write([make_item("rec-1", "A")])

    assert isinstance(first, StoredVersion)
    assert again == StoredVersion(
        "rec-1", 1, first.sequence, first.committed_at_us, first.content_sha256, duplicate=True
    )
    assert await store.last_sequence() == 1
    assert count_rows(store.path, "versions") == 1


async def test_different_content_is_the_next_version(store: SqliteRecordStore) -> None:
    await store.write([make_item("rec-1", "A")])
    await store.write([make_item("other", "X")])

    [second] = await store.write([make_item("rec-1", "B")])

    assert isinstance(second, StoredVersion)
    assert (second.version, second.sequence, second.duplicate) == (2, 3, False)
    latest = await store.get("rec-1")
    assert latest is not None
    assert (latest.version, latest.blob, latest.latest_version) == (2, b"B", 2)


async def test_expected_version_must_be_the_latest(store: SqliteRecordStore) -> None:
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


async def test_duplicate_of_an_older_version_returns_that_version(
    store: SqliteRecordStore,
) -> None:
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


async def test_items_of_one_call_see_each_other(store: SqliteRecordStore) -> None:
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
    assert store.transactions_committed == 1
    assert [r.latest_version for r in await store.read_since(0, 10)] == [3, 3, 3, 1]


async def test_empty_write_commits_nothing(store: SqliteRecordStore) -> None:
    assert await store.write([]) == []
    assert store.transactions_committed == 0


# --- Group commit ----------------------------------------------------------------------------


async def test_concurrent_writers_share_transactions(store: SqliteRecordStore) -> None:
    calls = 64

    outcomes = await asyncio.gather(*(store.write([make_item(f"rec-{n}")]) for n in range(calls)))

    assert 1 <= store.transactions_committed < calls
    by_id = {o.record_id: o for [o] in outcomes if isinstance(o, StoredVersion)}
    assert sorted(by_id) == sorted(f"rec-{n}" for n in range(calls))
    assert sorted(o.sequence for o in by_id.values()) == list(range(1, calls + 1))
    assert {o.version for o in by_id.values()} == {1}
    for n, [outcome] in enumerate(outcomes):
        assert outcome.record_id == f"rec-{n}"


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


async def test_a_call_larger_than_the_batch_limit_is_committed_whole(
    tmp_path: Path,
) -> None:
    transactions: list[int] = []
    async with open_store(db_path(tmp_path), max_batch_records=2) as store:
        store.add_commit_listener(lambda records: transactions.append(len(records)))

        outcomes = await store.write([make_item(f"rec-{n}") for n in range(5)])

        assert [o.sequence for o in outcomes if isinstance(o, StoredVersion)] == [1, 2, 3, 4, 5]
        assert transactions == [5]


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


# --- Commit listeners ------------------------------------------------------------------------


async def test_listeners_get_new_versions_in_order_before_the_callers(
    store: SqliteRecordStore,
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


async def test_unregistered_listener_is_not_called(store: SqliteRecordStore) -> None:
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
    store: SqliteRecordStore, caplog: pytest.LogCaptureFixture
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
    failures = [r for r in caplog.records if r.name == "gateway.store.sqlite"]
    assert len(failures) == 2
    assert all(r.exc_info is not None and r.levelno == logging.ERROR for r in failures)
    assert all("SECRET" not in r.getMessage() for r in failures)


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


async def test_unopened_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteRecordStore(db_path(tmp_path), writer="thread")

    with pytest.raises(StoreClosedError):
        await store.write([make_item("rec-1")])
    with pytest.raises(StoreClosedError):
        await store.last_sequence()
    await store.close()
    with pytest.raises(StoreClosedError):
        await store.open()
    assert not db_path(tmp_path).exists()


async def test_store_opens_once(store: SqliteRecordStore) -> None:
    with pytest.raises(StoreClosedError):
        await store.open()


async def test_open_runs_one_non_daemon_writer_in_wal_mode(store: SqliteRecordStore) -> None:
    [writer] = writer_threads()
    assert not writer.daemon
    with closing(sqlite3.connect(store.path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_reopen_keeps_everything_and_never_reuses_a_sequence(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    async with open_store(path, synchronous="full") as store:
        await store.write([make_item("rec-1", "A"), make_item("rec-2"), make_item("rec-3")])
        before = await store.read_since(0, 10)
    # A lost tail (restored backup, manual repair) must not make old cursors point at new data.
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DELETE FROM versions WHERE sequence = 3")
        connection.execute("DELETE FROM heads WHERE record_id = 'rec-3'")

    async with open_store(path, synchronous="full") as store:
        assert await store.read_since(0, 10) == before[:2]
        [again] = await store.write([make_item("rec-1", "A")])
        [new] = await store.write([make_item("rec-1", "B")])

    assert isinstance(again, StoredVersion)
    assert (again.version, again.sequence, again.duplicate) == (1, 1, True)
    assert isinstance(new, StoredVersion)
    assert (new.version, new.sequence) == (2, 4)


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


async def test_create_store_follows_the_storage_configuration(tmp_path: Path) -> None:
    config = StorageConfig(path=db_path(tmp_path), synchronous="normal", max_batch_records=7)

    store = create_store(config)
    await store.open()
    try:
        [outcome] = await store.write([make_item("rec-1")])
    finally:
        await store.close()

    assert isinstance(store, SqliteRecordStore)
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
