"""Rows of a transaction as column arrays: what ``unnest`` turns back into rows in one statement.

Both write paths (:mod:`~gateway.store.postgresql.transaction` and the one-round-trip path of
:mod:`~gateway.store.postgresql.fresh`) send the versions and search keys this way, in the
column order of their ``INSERT ... SELECT * FROM unnest(...)`` statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gateway.store.postgresql.plan import NewVersion
from gateway.store.schema import join_releasable

__all__ = ["columns", "document_columns", "name_columns", "version_columns"]


def columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column."""
    found: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, value in zip(found, row, strict=True):
            column.append(value)
    return found


def version_columns(versions: Iterable[NewVersion], committed_at_us: int) -> list[list[Any]]:
    """The ``versions`` table's columns of ``versions``, committed at ``committed_at_us``."""
    return columns(
        [
            (
                new.sequence,
                new.item.record_id,
                new.version,
                new.item.keys.kind,
                new.item.keys.originating_centre,
                committed_at_us,
                new.item.content_sha256,
                new.item.blob,
                new.item.keys.handling_code,
                join_releasable(new.item.keys.releasable_to),
                new.signature,
            )
            for new in versions
        ],
        11,
    )


def document_columns(heads: Iterable[NewVersion]) -> list[list[Any]]:
    """The ``document_keys`` columns (record id, number, issuing state) of ``heads``."""
    return columns(
        [
            (new.item.record_id, key.number, key.issuing_state)
            for new in heads
            for key in new.item.keys.documents
        ],
        3,
    )


def name_columns(heads: Iterable[NewVersion]) -> list[list[Any]]:
    """The ``name_keys`` columns (record id, family, birth year, month, day) of ``heads``."""
    return columns(
        [
            (new.item.record_id, key.family, key.birth_year, key.birth_month, key.birth_day)
            for new in heads
            for key in new.item.keys.names
        ],
        5,
    )
