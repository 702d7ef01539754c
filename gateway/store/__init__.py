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
from gateway.store.postgresql import PostgresRecordStore, resolve_dsn
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
    "PostgresRecordStore",
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
        An unopened :class:`SqliteRecordStore` (``backend = "sqlite"``) or
        :class:`PostgresRecordStore` (``"postgresql"``); await :meth:`RecordStore.open` first.

    Raises:
        StoreError: the PostgreSQL backend has no DSN, or its password file cannot be read.
    """
    if storage.backend == "postgresql":
        return PostgresRecordStore(
            resolve_dsn(storage),
            schema=storage.schema,
            pool_size=storage.pool_size,
            max_batch_records=storage.max_batch_records,
            signing_key=signing_key,
            unhealthy_after_seconds=storage.unhealthy_after_seconds,
            retention=retention,
        )
    return SqliteRecordStore(
        storage.path,
        synchronous=storage.synchronous,
        max_batch_records=storage.max_batch_records,
        writer=storage.writer,
        signing_key=signing_key,
        unhealthy_after_seconds=storage.unhealthy_after_seconds,
        retention=retention,
    )
