"""Durable record storage: the :class:`RecordStore` interface and its embedded SQLite store."""

from __future__ import annotations

from gateway.config import StorageConfig
from gateway.store.base import (
    CommitListener,
    DocumentKey,
    IndexKeys,
    Ingestion,
    IngestOutcome,
    NameKey,
    RecordStore,
    SearchQuery,
    StoreClosedError,
    StoredRecord,
    StoredVersion,
    StoreError,
    VersionConflict,
    WriteItem,
    WriteOutcome,
)
from gateway.store.sqlite import SqliteRecordStore

__all__ = [
    "CommitListener",
    "DocumentKey",
    "IndexKeys",
    "IngestOutcome",
    "Ingestion",
    "NameKey",
    "RecordStore",
    "SearchQuery",
    "SqliteRecordStore",
    "StoreClosedError",
    "StoreError",
    "StoredRecord",
    "StoredVersion",
    "VersionConflict",
    "WriteItem",
    "WriteOutcome",
    "create_store",
]


def create_store(storage: StorageConfig) -> RecordStore:
    """Build the store a centre's configuration asks for (not opened yet).

    Args:
        storage: The ``[storage]`` section of the centre configuration.

    Returns:
        An unopened :class:`SqliteRecordStore`; await :meth:`RecordStore.open` before use.
    """
    return SqliteRecordStore(
        storage.path,
        synchronous=storage.synchronous,
        max_batch_records=storage.max_batch_records,
    )
