"""The read queries of the embedded store (the statements themselves: :mod:`read_queries`).

Each function runs on a reader thread with that thread's read-only connection. A single SELECT
reads one WAL snapshot, so every result (a record with its ``latest_version``, a whole page) is
consistent and holds committed data only.
"""

from __future__ import annotations

import sqlite3

from gateway.store.base import RetentionRow, SearchQuery, StoredRecord
from gateway.store.read_queries import (
    GET_LATEST,
    GET_VERSION,
    LAST_SEQUENCE,
    MAX_INT64,
    Query,
    read_before_query,
    read_since_query,
    retention_query,
    search_query,
    stored_from_row,
)

__all__ = ["get", "last_sequence", "read_before", "read_since", "retention_due", "search"]


def get(connection: sqlite3.Connection, record_id: str, version: int) -> StoredRecord | None:
    """The latest version (``version`` 0) or the given one, ``None`` when absent."""
    if version == 0:
        row = connection.execute(GET_LATEST, (record_id,)).fetchone()
    elif 0 < version <= MAX_INT64:
        row = connection.execute(GET_VERSION, (record_id, version)).fetchone()
    else:
        return None
    return None if row is None else stored_from_row(row)


def last_sequence(connection: sqlite3.Connection) -> int:
    """The highest committed sequence number, 0 when the store is empty."""
    value: int = connection.execute(LAST_SEQUENCE).fetchone()[0]
    return value


def _records(connection: sqlite3.Connection, query: Query) -> list[StoredRecord]:
    return [stored_from_row(row) for row in connection.execute(*query)]


def search(
    connection: sqlite3.Connection, query: SearchQuery, after_sequence: int, limit: int
) -> list[StoredRecord]:
    """Latest versions matching every criterion of ``query``, after a sequence, in order."""
    return _records(connection, search_query(query, after_sequence, limit))


def read_since(
    connection: sqlite3.Connection,
    after_sequence: int,
    limit: int,
    kinds: frozenset[str],
    originating_centres: frozenset[str],
) -> list[StoredRecord]:
    """Every version after a sequence, in order, optionally only of some kinds or centres."""
    return _records(connection, read_since_query(after_sequence, limit, kinds, originating_centres))


def read_before(
    connection: sqlite3.Connection, before_sequence: int, limit: int
) -> list[StoredRecord]:
    """Every version below a sequence, newest first."""
    return _records(connection, read_before_query(before_sequence, limit))


def retention_due(
    connection: sqlite3.Connection, review_before_us: int, expires_before_us: int, limit: int
) -> list[RetentionRow]:
    """Records not withdrawn, reviews due before one time or expiring before another."""
    query = retention_query(review_before_us, expires_before_us, limit)
    return [RetentionRow(*row) for row in connection.execute(*query)]
