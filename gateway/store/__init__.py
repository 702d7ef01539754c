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
    OriginConflict,
    PreparationRefused,
    PreparedWrite,
    RecordStore,
    RecordWithdrawn,
    RetentionRow,
    SearchQuery,
    StoreClosedError,
    StoredRecord,
    StoredVersion,
    StoreError,
    VersionConflict,
    VersionSigner,
    WriteItem,
    WriteOutcome,
)
from gateway.store.sqlite import SqliteRecordStore

if TYPE_CHECKING:
    from gateway.signing import SigningKeySource
    from gateway.store.settings import StorageConfig
    from liaison.rules.lifecycle import RetentionDefaults

__all__ = [
    "CommitListener",
    "DocumentKey",
    "IndexKeys",
    "IngestOutcome",
    "Ingestion",
    "NameKey",
    "OriginConflict",
    "PreparationRefused",
    "PreparedWrite",
    "RecordStore",
    "RecordWithdrawn",
    "RetentionRow",
    "SearchQuery",
    "SqliteRecordStore",
    "StoreClosedError",
    "StoreError",
    "StoredRecord",
    "StoredVersion",
    "VersionConflict",
    "VersionSigner",
    "WriteItem",
    "WriteOutcome",
    "create_store",
]


def create_store(
    storage: StorageConfig,
    signing_key: SigningKeySource | None = None,
    retention: RetentionDefaults | None = None,
) -> RecordStore:
    """Build the store a centre's configuration asks for (not opened yet).

    Args:
        storage: The ``[storage]`` section of the centre configuration.
        signing_key: The centre's current signing key (``[signing]``), if it signs.
        retention: The retention dates stamped on the centre's records without them.

    Returns:
        An unopened :class:`SqliteRecordStore`; await :meth:`RecordStore.open` before use.
    """
    return SqliteRecordStore(
        storage.path,
        synchronous=storage.synchronous,
        max_batch_records=storage.max_batch_records,
        writer=storage.writer,
        signing_key=signing_key,
        unhealthy_after_seconds=storage.unhealthy_after_seconds,
        retention=retention,
    )
