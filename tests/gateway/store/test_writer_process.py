"""The SQLite store's writer process: its wire format, and what only a writer process does.

The write semantics are the same code as with the writer thread (``Transactions``) and run on
every setup in ``conformance/``; here: what crosses the pipe, a payload larger than a pipe holds,
the signals of a terminal, the process ending, and a file the process cannot open.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store import (
    DocumentKey,
    Ingestion,
    IngestOutcome,
    NameKey,
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
from tests.support.store import count_rows, db_path, make_item, open_store


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


async def test_a_large_ingestion_crosses_the_pipe(store: SqliteRecordStore) -> None:
    # Several megabytes: more than a pipe holds, in both directions (the feed carries blobs).
    items = tuple(make_item(f"WCO:{n}", "x" * 2000 + str(n)) for n in range(3000))
    outcome = await store.ingest(Ingestion("lines", hashlib.sha256(b"big").digest(), items))
    assert len(outcome.acks) == 3000
    assert count_rows(store.path, "versions") == 3000


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


async def test_a_file_that_is_not_a_database_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "not-a.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    store = SqliteRecordStore(path, writer="process")
    with pytest.raises(StoreError, match="cannot open"):
        await store.open()
    assert store.writer_process_id is None
