"""The store writer process: its wire format, and the store's behaviour with it.

The write semantics themselves are the same code as with the writer thread (``Transactions``),
tested in ``test_sqlite_store.py``; here: what crosses the pipe, group commit across it, the
order of feed and acknowledgements, failures inside SQLite, the process ending, and shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store import (
    DocumentKey,
    Ingestion,
    IngestOutcome,
    NameKey,
    PreparationRefused,
    PreparedWrite,
    SqliteRecordStore,
    StoredRecord,
    StoredVersion,
    StoreError,
    VersionConflict,
    WriteOutcome,
)
from gateway.store.wire import (
    frame,
    ingest_outcome_from_wire,
    ingest_outcome_to_wire,
    items_from_wire,
    items_to_wire,
    outcomes_from_wire,
    outcomes_to_wire,
    records_from_wire,
    records_to_wire,
    take_messages,
)
from liaison.v1 import exchange_pb2, record_pb2
from tests.gateway.store.test_sqlite import count_rows, db_path, make_item, open_store
from tests.support.factories import person


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    """An opened store whose writer is a process."""
    async with open_store(db_path(tmp_path), writer="process") as opened:
        yield opened


# --- The wire format -------------------------------------------------------------------------


def test_items_cross_the_wire_unchanged() -> None:
    items = (
        make_item(
            "WCO:1",
            documents=[DocumentKey("X1234567", "D")],
            names=[NameKey("mueller", 1970, 0, 0), NameKey("muller", 1970, 0, 0)],
        ),
        make_item("WCO:2", "Ελλάδα", kind="travel_document", expected_version=3),
    )
    assert items_from_wire(items_to_wire(items)) == items


def test_outcomes_records_and_ingestions_cross_the_wire_unchanged() -> None:
    sha = hashlib.sha256(b"x").digest()
    outcomes: list[WriteOutcome] = [
        StoredVersion("A", 2, 7, 1_700_000_000_000_000, sha, True),
        VersionConflict("B", 1, 2),
    ]
    assert outcomes_from_wire(outcomes_to_wire(outcomes)) == outcomes
    records = [StoredRecord("A", 2, 7, 1, sha, "person", "LOCAL", b"\x00blob", 2)]
    assert records_from_wire(records_to_wire(records)) == records
    outcome = IngestOutcome((StoredVersion("A", 1, 1, 5, sha, False),), False, 5)
    assert ingest_outcome_from_wire(ingest_outcome_to_wire(outcome)) == outcome


def test_messages_are_taken_whole_however_the_bytes_arrive() -> None:
    data = frame(("write", 1, [("a", b"\x00" * 70_000)])) + frame(("write", 2, []))
    buffer = bytearray()
    taken = []
    for start in range(0, len(data), 3):  # the length prefix split too
        buffer += data[start : start + 3]
        taken += take_messages(buffer)
    assert taken == [("write", 1, [("a", b"\x00" * 70_000)]), ("write", 2, [])]
    assert buffer == b""


def test_an_incomplete_message_waits_for_the_rest() -> None:
    data = frame(("write", 1, []))
    buffer = bytearray(data[:-1])
    assert take_messages(buffer) == []
    assert len(buffer) == len(data) - 1
    buffer += data[-1:]
    assert take_messages(buffer) == [("write", 1, [])]


# --- The store with its writer process -------------------------------------------------------


async def test_the_writer_is_another_process(store: SqliteRecordStore) -> None:
    pid = store.writer_process_id
    assert pid is not None
    assert pid != os.getpid()
    [stored] = await store.write([make_item("WCO:1")])
    assert isinstance(stored, StoredVersion)
    assert (stored.version, stored.sequence, stored.duplicate) == (1, 1, False)


async def test_write_semantics_hold_across_the_pipe(store: SqliteRecordStore) -> None:
    [first] = await store.write([make_item("WCO:1", "one")])
    [again] = await store.write([make_item("WCO:1", "one")])
    [second] = await store.write([make_item("WCO:1", "two")])
    [stale] = await store.write([make_item("WCO:1", "three", expected_version=1)])
    assert again == StoredVersion("WCO:1", 1, 1, first.committed_at_us, first.content_sha256, True)  # type: ignore[union-attr]
    assert isinstance(second, StoredVersion)
    assert (second.version, second.sequence) == (2, 2)
    assert stale == VersionConflict("WCO:1", 1, 2)
    latest = await store.get("WCO:1")
    assert latest is not None
    assert (latest.version, latest.blob) == (2, b"two")


async def test_concurrent_writes_share_transactions(store: SqliteRecordStore) -> None:
    before = store.transactions_committed
    outcomes = await asyncio.gather(*(store.write([make_item(f"WCO:{n}")]) for n in range(300)))
    committed = store.transactions_committed - before
    assert sorted(outcome.sequence for [outcome] in outcomes) == list(range(1, 301))  # type: ignore[union-attr]
    assert 1 <= committed < 300


async def test_new_versions_reach_the_feed_before_the_writers_return(
    store: SqliteRecordStore,
) -> None:
    seen: list[tuple[int, bool]] = []
    writes: list[asyncio.Future[object]] = []

    def listener(records: object) -> None:
        for record in records:  # type: ignore[attr-defined]
            seen.append((record.sequence, all(write.done() for write in writes)))

    store.add_commit_listener(listener)
    writes.extend(asyncio.ensure_future(store.write([make_item(f"WCO:{n}")])) for n in range(20))
    await asyncio.gather(*writes)
    assert [sequence for sequence, _ in seen] == list(range(1, 21))
    assert not any(all_done for _, all_done in seen)


async def test_ingestions_commit_once(store: SqliteRecordStore) -> None:
    items = tuple(make_item(f"WCO:{n}", names=[NameKey("doe", 1980, 1, 0)]) for n in range(3))
    ingestion = Ingestion("lines", hashlib.sha256(b"payload").digest(), items)
    first = await store.ingest(ingestion)
    again = await store.ingest(ingestion)
    assert not first.duplicate
    assert [ack.sequence for ack in first.acks] == [1, 2, 3]
    assert again.duplicate
    assert [ack.sequence for ack in again.acks] == [1, 2, 3]


async def test_a_large_ingestion_crosses_the_pipe(store: SqliteRecordStore) -> None:
    # Several megabytes: more than a pipe holds, in both directions (the feed carries blobs).
    items = tuple(make_item(f"WCO:{n}", "x" * 2000 + str(n)) for n in range(3000))
    outcome = await store.ingest(Ingestion("lines", hashlib.sha256(b"big").digest(), items))
    assert len(outcome.acks) == 3000
    assert count_rows(store.path, "versions") == 3000


async def test_a_failed_transaction_fails_its_callers_and_the_writer_goes_on(
    store: SqliteRecordStore,
) -> None:
    with sqlite3.connect(store.path) as database:
        database.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON name_keys "
            "BEGIN SELECT RAISE(ABORT, 'injected'); END"
        )
    named = make_item("WCO:1", names=[NameKey("doe", 0, 0, 0)])
    with pytest.raises(StoreError, match=r"rolled back .*injected"):
        await store.write([named])
    assert count_rows(store.path, "versions") == 0
    with sqlite3.connect(store.path) as database:
        database.execute("DROP TRIGGER refuse")
    [stored] = await store.write([named])
    assert isinstance(stored, StoredVersion)
    assert stored.sequence == 1


async def test_the_writer_ignores_the_signals_a_terminal_sends_its_group(
    store: SqliteRecordStore,
) -> None:
    pid = store.writer_process_id
    assert pid is not None
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)
    await asyncio.sleep(0.2)
    [stored] = await store.write([make_item("WCO:1")])
    assert isinstance(stored, StoredVersion)


async def test_when_the_writer_process_dies_writes_fail_and_reads_go_on(
    store: SqliteRecordStore,
) -> None:
    await store.write([make_item("WCO:1")])
    pid = store.writer_process_id
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(StoreError, match="writer process ended"):
        await asyncio.wait_for(store.write([make_item("WCO:2")]), 30)
    with pytest.raises(StoreError, match="writer process ended"):
        await store.write([make_item("WCO:3")])
    found = await store.get("WCO:1")
    assert found is not None
    await asyncio.wait_for(store.close(), 30)


async def test_closing_commits_every_write_queued(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    async with open_store(path, writer="process") as store:
        writes = [asyncio.ensure_future(store.write([make_item(f"WCO:{n}")])) for n in range(50)]
        await asyncio.sleep(0)  # queued, not yet answered
    outcomes = [await write for write in writes]
    assert all(isinstance(outcome, StoredVersion) for [outcome] in outcomes)
    assert count_rows(path, "versions") == 50


async def test_a_file_that_is_not_a_database_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "not-a.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    store = SqliteRecordStore(path, writer="process")
    with pytest.raises(StoreError, match="cannot open"):
        await store.open()
    assert store.writer_process_id is None


# --- Records prepared in the writer process (Submit) -----------------------------------------


def submission(record: record_pb2.Record) -> bytes:
    """A serialized ``SubmitRequest`` carrying ``record``, as gRPC receives it."""
    return exchange_pb2.SubmitRequest(record=record).SerializeToString()


async def test_a_record_is_prepared_and_written_in_the_process(store: SqliteRecordStore) -> None:
    record = person("LOCAL-CENTRE:p1")
    result = await store.prepare_and_write(submission(record), "LOCAL-CENTRE")
    assert isinstance(result, PreparedWrite)
    started, ended = result.prepared_ns
    assert 0 < started <= ended
    assert isinstance(result.outcome, StoredVersion)
    assert (result.outcome.record_id, result.outcome.version) == ("LOCAL-CENTRE:p1", 1)
    stored = await store.get("LOCAL-CENTRE:p1")
    assert stored is not None
    kept = record_pb2.Record.FromString(stored.blob)
    assert kept.provenance.originating_centre == "LOCAL-CENTRE"  # stamped as on the loop
    assert kept.provenance.HasField("received_at")
    # The same record again, prepared again: recognised as a duplicate.
    again = await store.prepare_and_write(submission(record), "LOCAL-CENTRE")
    assert isinstance(again, PreparedWrite)
    assert isinstance(again.outcome, StoredVersion)
    assert again.outcome.duplicate


async def test_refused_records_are_answered_and_nothing_is_written(
    store: SqliteRecordStore,
) -> None:
    bad = person("LOCAL:bad", birth=(1975, 13, 1))
    results = await asyncio.gather(
        store.prepare_and_write(submission(bad), "LOCAL"),
        store.prepare_and_write(submission(person("LOCAL:good")), "LOCAL"),
        store.prepare_and_write(b"\xff\xff not a record", "LOCAL"),
        store.prepare_and_write(b"", "LOCAL"),
    )
    refused, accepted, garbled, empty = results
    assert isinstance(refused, PreparationRefused)
    assert refused.message == "record LOCAL:bad is invalid: 1 field violation(s)"
    assert [field for field, _ in refused.violations] == ["person.birth_date.month"]
    assert isinstance(accepted, PreparedWrite)
    assert isinstance(garbled, PreparationRefused)
    assert garbled.message == "the request is not a valid liaison.v1.SubmitRequest message"
    assert isinstance(empty, PreparationRefused)
    assert empty.message == "a record is required"
    assert empty.violations == (("", "is required"),)
    assert count_rows(store.path, "versions") == 1


@pytest.mark.parametrize("writer", ["process", "thread"])
async def test_commit_timers_hear_of_every_transaction(tmp_path: Path, writer: str) -> None:
    async with open_store(db_path(tmp_path), writer=writer) as timed:  # type: ignore[arg-type]
        durations: list[float] = []
        unregister = timed.add_commit_timer(durations.append)
        before = timed.transactions_committed
        await asyncio.gather(*(timed.write([make_item(f"WCO:{n}")]) for n in range(20)))
        items = (make_item("WCO:ingested"),)
        await timed.ingest(Ingestion("lines", hashlib.sha256(b"p").digest(), items))
        assert len(durations) == timed.transactions_committed - before
        assert all(0 < seconds < 60 for seconds in durations)
        unregister()
        unregister()  # twice is harmless
        await timed.write([make_item("WCO:after")])
        assert len(durations) == timed.transactions_committed - before - 1


async def test_unavailable_listeners_hear_of_a_dead_writer_not_of_a_close(tmp_path: Path) -> None:
    reasons: list[str] = []
    async with open_store(db_path(tmp_path / "closed"), writer="process") as closed:
        closed.add_unavailable_listener(reasons.append)
        await closed.write([make_item("WCO:1")])
    assert reasons == []
    async with open_store(db_path(tmp_path / "killed"), writer="process") as killed:
        killed.add_unavailable_listener(reasons.append)
        pid = killed.writer_process_id
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        for _ in range(300):
            if reasons:
                break
            await asyncio.sleep(0.01)
    assert reasons == ["the store writer process ended"]
