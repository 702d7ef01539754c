"""The read queries of the PostgreSQL store: the embedded store's, in PostgreSQL's dialect.

Each function runs one SELECT on a pooled connection in autocommit mode: one statement reads one
snapshot, so every result (a record with its ``latest_version``, a whole page) is consistent and
holds committed data only. Because writers commit in sequence order (the feed lock), the
versions a snapshot sees are a prefix of the feed: ``read_since`` never skips one that commits
later.
"""

# The SQL here is assembled from fixed fragments and "%s" placeholders only; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

import psycopg

from gateway.store.base import RetentionRow, SearchQuery, StoredRecord
from gateway.store.schema import split_releasable

__all__ = ["get", "last_sequence", "read_before", "read_since", "retention_due", "search"]

_MAX_INT64 = 2**63 - 1
"""Cursors and versions arrive as uint64 from the wire; PostgreSQL's bigint is signed 64-bit."""

_Connection = psycopg.AsyncConnection[Any]

# Column order is StoredRecord's field order, so a row unpacks straight into it.
# hv is the latest version's row, whose handling every older version obeys too.
_COLUMNS = (
    "v.record_id, v.version, v.sequence, v.committed_at_us, v.content_sha256, v.kind, "
    "v.originating_centre, v.blob, h.version, v.handling_code, v.releasable_to, v.signature, "
    "hv.handling_code, hv.releasable_to, hv.kind, "
    "coalesce(l.review_due_us, 0), coalesce(l.expires_at_us, 0)"
)
_LATEST = (
    "JOIN versions AS hv ON hv.sequence = h.sequence "
    "LEFT JOIN lifecycle AS l ON l.record_id = h.record_id"
)
_GET_LATEST = (
    f"SELECT {_COLUMNS} FROM heads AS h JOIN versions AS v ON v.sequence = h.sequence "
    f"{_LATEST} WHERE h.record_id = %s"
)
_GET_VERSION = (
    f"SELECT {_COLUMNS} FROM versions AS v JOIN heads AS h ON h.record_id = v.record_id "
    f"{_LATEST} WHERE v.record_id = %s AND v.version = %s"
)
_LAST_SEQUENCE = "SELECT coalesce(max(sequence), 0) FROM versions"


async def get(connection: _Connection, record_id: str, version: int) -> StoredRecord | None:
    """The latest version (``version`` 0) or the given one, ``None`` when absent."""
    if version == 0:
        cursor = await connection.execute(_GET_LATEST, (record_id,))
    elif 0 < version <= _MAX_INT64:
        cursor = await connection.execute(_GET_VERSION, (record_id, version))
    else:
        return None
    row = await cursor.fetchone()
    return None if row is None else _stored(row)


async def last_sequence(connection: _Connection) -> int:
    """The highest committed sequence number, 0 when the store is empty."""
    cursor = await connection.execute(_LAST_SEQUENCE)
    row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def search(
    connection: _Connection, query: SearchQuery, after_sequence: int, limit: int
) -> list[StoredRecord]:
    """Latest versions matching every criterion of ``query``, after a sequence, in order."""
    conditions = ["h.sequence > %s"]
    parameters: list[object] = [min(after_sequence, _MAX_INT64)]
    if query.kinds:
        conditions.append("h.kind = ANY(%s)")
        parameters.append(sorted(query.kinds))
    if query.originating_centre:
        conditions.append("h.originating_centre = %s")
        parameters.append(query.originating_centre)
    if query.committed_after_us:
        conditions.append("h.committed_at_us >= %s")
        parameters.append(min(query.committed_after_us, _MAX_INT64))
    if query.committed_before_us:
        conditions.append("h.committed_at_us < %s")
        parameters.append(min(query.committed_before_us, _MAX_INT64))
    # Key criteria are IN (subquery) rather than joins: a record whose keys match several
    # times is still returned once, and SQLite can start from the (selective) key index.
    if query.document_number:
        document = "number = %s"
        parameters.append(query.document_number)
        if query.issuing_state:
            document += " AND issuing_state = %s"
            parameters.append(query.issuing_state)
        conditions.append(f"h.record_id IN (SELECT record_id FROM document_keys WHERE {document})")
    if query.family_name:
        name, name_parameters = _name_condition(query)
        parameters.extend(name_parameters)
        conditions.append(f"h.record_id IN (SELECT record_id FROM name_keys WHERE {name})")
    parameters.append(limit)
    sql = (
        f"SELECT {_COLUMNS} FROM heads AS h JOIN versions AS v ON v.sequence = h.sequence "
        f"{_LATEST} WHERE {' AND '.join(conditions)} ORDER BY h.sequence LIMIT %s"
    )
    cursor = await connection.execute(sql, parameters)
    return [_stored(row) for row in await cursor.fetchall()]


async def read_since(
    connection: _Connection,
    after_sequence: int,
    limit: int,
    kinds: frozenset[str],
    originating_centres: frozenset[str],
) -> list[StoredRecord]:
    """Every version after a sequence, in order, optionally only of some kinds or centres."""
    conditions = ["v.sequence > %s"]
    parameters: list[object] = [min(after_sequence, _MAX_INT64)]
    if kinds:
        conditions.append("v.kind = ANY(%s)")
        parameters.append(sorted(kinds))
    if originating_centres:
        conditions.append("v.originating_centre = ANY(%s)")
        parameters.append(sorted(originating_centres))
    parameters.append(limit)
    sql = (
        f"SELECT {_COLUMNS} FROM versions AS v JOIN heads AS h ON h.record_id = v.record_id "
        f"{_LATEST} WHERE {' AND '.join(conditions)} ORDER BY v.sequence LIMIT %s"
    )
    cursor = await connection.execute(sql, parameters)
    return [_stored(row) for row in await cursor.fetchall()]


async def read_before(
    connection: _Connection, before_sequence: int, limit: int
) -> list[StoredRecord]:
    """Every version below a sequence, newest first."""
    sql = (
        f"SELECT {_COLUMNS} FROM versions AS v JOIN heads AS h ON h.record_id = v.record_id "
        f"{_LATEST} WHERE v.sequence < %s ORDER BY v.sequence DESC LIMIT %s"
    )
    cursor = await connection.execute(sql, (min(before_sequence, _MAX_INT64), limit))
    return [_stored(row) for row in await cursor.fetchall()]


def _stored(row: tuple[Any, ...]) -> StoredRecord:
    (record_id, version, sequence, committed_at_us, sha, kind, centre, blob, latest) = row[:9]
    handling_code, releasable_to, signature, latest_code, latest_releasable = row[9:14]
    latest_kind, review_due_us, expires_at_us = row[14:]
    return StoredRecord(
        record_id,
        version,
        sequence,
        committed_at_us,
        bytes(sha),
        kind,
        centre,
        bytes(blob),
        latest,
        handling_code,
        split_releasable(releasable_to),
        bytes(signature),
        latest_code,
        split_releasable(latest_releasable),
        latest_kind,
        review_due_us,
        expires_at_us,
    )


_RETENTION = (
    "SELECT l.record_id, h.kind, h.originating_centre, l.review_due_us, l.expires_at_us "
    "FROM lifecycle AS l JOIN heads AS h ON h.record_id = l.record_id "
)


async def retention_due(
    connection: _Connection, review_before_us: int, expires_before_us: int, limit: int
) -> list[RetentionRow]:
    """Records not withdrawn, reviews due before one time or expiring before another."""
    if expires_before_us:
        sql = (
            f"{_RETENTION} WHERE l.expires_at_us > 0 AND l.expires_at_us < %s "
            "AND h.kind != 'withdrawal' ORDER BY l.expires_at_us LIMIT %s"
        )
        parameters = (min(expires_before_us, _MAX_INT64), limit)
    else:
        sql = (
            f"{_RETENTION} WHERE l.review_due_us > 0 AND l.review_due_us < %s "
            "AND h.kind != 'withdrawal' ORDER BY l.review_due_us LIMIT %s"
        )
        parameters = (min(review_before_us, _MAX_INT64), limit)
    cursor = await connection.execute(sql, parameters)
    return [RetentionRow(*row) for row in await cursor.fetchall()]


def _name_condition(query: SearchQuery) -> tuple[str, list[object]]:
    """The name-key filter, with partial birth dates matching at their precision.

    A date component is compared only when both the query and the key know it (non-zero):
    a key that only knows 1975 matches 1975-03-12, and a query for 1975 matches any day of it.
    Without a year the query matches any date.
    """
    condition = "family = %s"
    parameters: list[object] = [query.family_name]
    if query.birth_year:
        for column, value in (
            ("birth_year", query.birth_year),
            ("birth_month", query.birth_month),
            ("birth_day", query.birth_day),
        ):
            if value:
                condition += f" AND {column} IN (0, %s)"
                parameters.append(value)
    return condition, parameters
