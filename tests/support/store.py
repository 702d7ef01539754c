"""Helpers of the store tests: write items with chosen content and keys, the database file, and
a store opened on it.

Backend-agnostic tests (``tests/gateway/store/conformance/``) get their stores from the
``store_factory`` fixture instead; :func:`open_store` is for tests of the SQLite store itself.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Literal

from gateway.store import DocumentKey, IndexKeys, NameKey, SqliteRecordStore, WriteItem

CENTRE = "WCO-I2C"

Writer = Literal["process", "thread"]


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
    writer: Writer = "thread",
) -> AsyncIterator[SqliteRecordStore]:
    """An opened SQLite store on ``path``, closed on exit.

    The writer is a thread by default: the tests that stop or break the writer's transactions in
    this process need it there; the write semantics run on every writer in the conformance suite.
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
