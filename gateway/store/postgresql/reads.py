"""The read queries of the PostgreSQL store: the embedded store's statements
(:mod:`gateway.store.read_queries`), with PostgreSQL's ``%s`` placeholders.

Each function runs one SELECT on a pooled connection in autocommit mode: one statement reads one
snapshot, so every result (a record with its ``latest_version``, a whole page) is consistent and
holds committed data only. Because writers commit in sequence order (the feed lock), the
versions a snapshot sees are a prefix of the feed: ``read_since`` never skips one that commits
later.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import psycopg

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

_Connection = psycopg.AsyncConnection[Any]


@cache
def _dialect(sql: str) -> str:
    # The statements hold "?" only as placeholders (fixed fragments, every value bound), and no
    # "%": psycopg's placeholder is "%s".
    return sql.replace("?", "%s")


async def _rows(connection: _Connection, query: Query) -> list[tuple[Any, ...]]:
    sql, parameters = query
    cursor = await connection.execute(_dialect(sql), parameters)
    return await cursor.fetchall()


async def get(connection: _Connection, record_id: str, version: int) -> StoredRecord | None:
    """The latest version (``version`` 0) or the given one, ``None`` when absent."""
    if version == 0:
        rows = await _rows(connection, (GET_LATEST, (record_id,)))
    elif 0 < version <= MAX_INT64:
        rows = await _rows(connection, (GET_VERSION, (record_id, version)))
    else:
        return None
    return stored_from_row(rows[0]) if rows else None


async def last_sequence(connection: _Connection) -> int:
    """The highest committed sequence number, 0 when the store is empty."""
    [(value,)] = await _rows(connection, (LAST_SEQUENCE, ()))
    return int(value)


async def search(
    connection: _Connection, query: SearchQuery, after_sequence: int, limit: int
) -> list[StoredRecord]:
    """Latest versions matching every criterion of ``query``, after a sequence, in order."""
    rows = await _rows(connection, search_query(query, after_sequence, limit))
    return [stored_from_row(row) for row in rows]


async def read_since(
    connection: _Connection,
    after_sequence: int,
    limit: int,
    kinds: frozenset[str],
    originating_centres: frozenset[str],
) -> list[StoredRecord]:
    """Every version after a sequence, in order, optionally only of some kinds or centres."""
    query = read_since_query(after_sequence, limit, kinds, originating_centres)
    return [stored_from_row(row) for row in await _rows(connection, query)]


async def read_before(
    connection: _Connection, before_sequence: int, limit: int
) -> list[StoredRecord]:
    """Every version below a sequence, newest first."""
    rows = await _rows(connection, read_before_query(before_sequence, limit))
    return [stored_from_row(row) for row in rows]


async def retention_due(
    connection: _Connection, review_before_us: int, expires_before_us: int, limit: int
) -> list[RetentionRow]:
    """Records not withdrawn, reviews due before one time or expiring before another."""
    query = retention_query(review_before_us, expires_before_us, limit)
    return [RetentionRow(*row) for row in await _rows(connection, query)]
