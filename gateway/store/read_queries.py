"""The read queries every store backend runs, written once.

The statements are built from fixed fragments with ``?`` placeholders, and every value is bound;
a backend whose driver spells placeholders otherwise rewrites them (PostgreSQL's ``%s``:
:func:`gateway.store.postgresql.reads`). A query is a ``(sql, parameters)`` pair; a row of any
of them becomes a :class:`StoredRecord` through :func:`stored_from_row`. What differs between
backends is only how a statement is run (a reader thread's SQLite connection, a pooled
PostgreSQL connection), so that is all the backends' ``reads`` modules hold.
"""

# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.store.base import SearchQuery, StoredRecord
from gateway.store.schema import split_releasable

__all__ = [
    "GET_LATEST",
    "GET_VERSION",
    "LAST_SEQUENCE",
    "MAX_INT64",
    "Query",
    "read_before_query",
    "read_since_query",
    "retention_query",
    "search_query",
    "stored_from_row",
]

Query = tuple[str, tuple[object, ...]]

MAX_INT64 = 2**63 - 1
"""Cursors and versions arrive as uint64 from the wire; both databases' integers are signed
64-bit."""

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
_HEADS = f"SELECT {_COLUMNS} FROM heads AS h JOIN versions AS v ON v.sequence = h.sequence "
_VERSIONS = f"SELECT {_COLUMNS} FROM versions AS v JOIN heads AS h ON h.record_id = v.record_id "

GET_LATEST = f"{_HEADS}{_LATEST} WHERE h.record_id = ?"
"""The latest version of one record (parameter: the record id)."""
GET_VERSION = f"{_VERSIONS}{_LATEST} WHERE v.record_id = ? AND v.version = ?"
"""One version of one record (parameters: the record id, the version)."""
LAST_SEQUENCE = "SELECT coalesce(max(sequence), 0) FROM versions"
"""The highest committed sequence number, 0 when the store is empty."""


def search_query(query: SearchQuery, after_sequence: int, limit: int) -> Query:
    """Latest versions matching every criterion of ``query``, after a sequence, in order."""
    conditions = ["h.sequence > ?"]
    parameters: list[object] = [min(after_sequence, MAX_INT64)]
    if query.kinds:
        conditions.append(f"h.kind IN ({_placeholders(query.kinds)})")
        parameters.extend(sorted(query.kinds))
    if query.originating_centre:
        conditions.append("h.originating_centre = ?")
        parameters.append(query.originating_centre)
    if query.committed_after_us:
        conditions.append("h.committed_at_us >= ?")
        parameters.append(min(query.committed_after_us, MAX_INT64))
    if query.committed_before_us:
        conditions.append("h.committed_at_us < ?")
        parameters.append(min(query.committed_before_us, MAX_INT64))
    # Key criteria are IN (subquery) rather than joins: a record whose keys match several
    # times is still returned once, and the planner can start from the (selective) key index.
    if query.document_number:
        document = "number = ?"
        parameters.append(query.document_number)
        if query.issuing_state:
            document += " AND issuing_state = ?"
            parameters.append(query.issuing_state)
        conditions.append(f"h.record_id IN (SELECT record_id FROM document_keys WHERE {document})")
    if query.family_name:
        name, name_parameters = _name_condition(query)
        parameters.extend(name_parameters)
        conditions.append(f"h.record_id IN (SELECT record_id FROM name_keys WHERE {name})")
    parameters.append(limit)
    sql = f"{_HEADS}{_LATEST} WHERE {' AND '.join(conditions)} ORDER BY h.sequence LIMIT ?"
    return sql, tuple(parameters)


def read_since_query(
    after_sequence: int,
    limit: int,
    kinds: frozenset[str],
    originating_centres: frozenset[str],
) -> Query:
    """Every version after a sequence, in order, optionally only of some kinds or centres."""
    conditions = ["v.sequence > ?"]
    parameters: list[object] = [min(after_sequence, MAX_INT64)]
    if kinds:
        conditions.append(f"v.kind IN ({_placeholders(kinds)})")
        parameters.extend(sorted(kinds))
    if originating_centres:
        conditions.append(f"v.originating_centre IN ({_placeholders(originating_centres)})")
        parameters.extend(sorted(originating_centres))
    parameters.append(limit)
    sql = f"{_VERSIONS}{_LATEST} WHERE {' AND '.join(conditions)} ORDER BY v.sequence LIMIT ?"
    return sql, tuple(parameters)


def read_before_query(before_sequence: int, limit: int) -> Query:
    """Every version below a sequence, newest first."""
    sql = f"{_VERSIONS}{_LATEST} WHERE v.sequence < ? ORDER BY v.sequence DESC LIMIT ?"
    return sql, (min(before_sequence, MAX_INT64), limit)


_RETENTION = (
    "SELECT l.record_id, h.kind, h.originating_centre, l.review_due_us, l.expires_at_us "
    "FROM lifecycle AS l JOIN heads AS h ON h.record_id = l.record_id "
)


def retention_query(review_before_us: int, expires_before_us: int, limit: int) -> Query:
    """Records not withdrawn, reviews due before one time or expiring before another; a row
    is a :class:`~gateway.store.base.RetentionRow`."""
    if expires_before_us:
        sql = (
            f"{_RETENTION} WHERE l.expires_at_us > 0 AND l.expires_at_us < ? "
            "AND h.kind != 'withdrawal' ORDER BY l.expires_at_us LIMIT ?"
        )
        return sql, (min(expires_before_us, MAX_INT64), limit)
    sql = (
        f"{_RETENTION} WHERE l.review_due_us > 0 AND l.review_due_us < ? "
        "AND h.kind != 'withdrawal' ORDER BY l.review_due_us LIMIT ?"
    )
    return sql, (min(review_before_us, MAX_INT64), limit)


def stored_from_row(row: tuple[Any, ...]) -> StoredRecord:
    """The record of a row of :data:`GET_LATEST`, :data:`GET_VERSION` or a built query."""
    (record_id, version, sequence, committed_at_us, sha, kind, centre, blob, latest) = row[:9]
    handling_code, releasable_to, signature, latest_code, latest_releasable = row[9:14]
    latest_kind, review_due_us, expires_at_us = row[14:]
    # bytes(): PostgreSQL's driver may hand out memoryviews; for bytes it is the same object.
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


def _name_condition(query: SearchQuery) -> tuple[str, list[object]]:
    """The name-key filter, with partial birth dates matching at their precision.

    A date component is compared only when both the query and the key know it (non-zero):
    a key that only knows 1975 matches 1975-03-12, and a query for 1975 matches any day of it.
    Without a year the query matches any date.
    """
    condition = "family = ?"
    parameters: list[object] = [query.family_name]
    if query.birth_year:
        for column, value in (
            ("birth_year", query.birth_year),
            ("birth_month", query.birth_month),
            ("birth_day", query.birth_day),
        ):
            if value:
                condition += f" AND {column} IN (0, ?)"
                parameters.append(value)
    return condition, parameters


def _placeholders(values: Iterable[object]) -> str:
    return ",".join("?" for _ in values)
