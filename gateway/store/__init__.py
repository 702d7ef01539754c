"""Durable record storage: the :class:`RecordStore` interface and its embedded SQLite store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.store.base import (
    CommitListener,
    DocumentKey,
    IndexKeys,
    Ingestion,
    IngestOutcome,
    NameKey,
    PreparationRefused,
    PreparedWrite,
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

if TYPE_CHECKING:
    # Only for the annotation: the store writer process imports this package and must not pay
    # for the whole configuration module (and what it imports) at every start.
    from gateway.config import StorageConfig

__all__ = [
    "CommitListener",
    "DocumentKey",
    "IndexKeys",
    "IngestOutcome",
    "Ingestion",
    "NameKey",
    "PreparationRefused",
    "PreparedWrite",
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
        writer=storage.writer,
    )
