"""Red team: reads go on from the file the store opened, once that file is deleted.

The operator guide says of a database file deleted while the gateway runs: writes are refused,
reads go on from the file the store opened. A store's reader threads each open their connection
on their first read; a thread started after the deletion opened whatever was at the path then -
nothing, which SQLite creates as a new, empty database - so reads failed ("no such table:
heads") and an empty ``gateway.db`` appeared where the operator must restore the backup. The
suite's own deleted-file test failed about once in four runs of ``tests/faults`` for this."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.store import SqliteRecordStore
from gateway.store.sqlite import READER_THREADS
from liaison.rules.intake import prepare_record
from tests.support.factories import person


@pytest.mark.parametrize("writer", ["thread", "process"])
async def test_reader_threads_started_after_the_file_is_deleted_read_the_opened_file(
    tmp_path: Path, writer: str
) -> None:
    db = tmp_path / "gateway.db"
    store = SqliteRecordStore(db, synchronous="normal", writer=writer)  # type: ignore[arg-type]
    await store.open()
    try:
        await store.write([prepare_record(person("P-1"), "LOCAL")])
        assert await store.get("P-1") is not None  # one reader thread so far
        db.unlink()
        # Enough reads at once that every reader thread of the pool is started.
        found = await asyncio.gather(*(store.get("P-1") for _ in range(8 * READER_THREADS)))
        assert all(stored is not None for stored in found)
        assert not db.exists(), "a reader created a new, empty database at the path"
    finally:
        await store.close()
