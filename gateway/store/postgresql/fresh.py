"""New records in one round trip: decided before the feed lock, checked by the database under it.

Most Submit transactions store the first version of records nobody has stored. Their decisions
need nothing from the database - version 1, sequences after the feed's tail, the default
retention dates - except the tail itself, which the statement reads under the lock. So the
writer decides them before it has the lock (:func:`plan_fresh`) and sends the lock and one
statement together, one implicit transaction committed at the pipeline's sync: the lock is held
for the database's own work, with no round trip to the gateway in between (decision 0027).

The database checks the assumption, and a transaction that was wrong stores nothing:

* a record that was stored (by anyone, whenever) makes the insert break a unique constraint
  (``(record_id, version)`` or the heads' key): the transaction fails and the writer decides it
  again under the lock (duplicate, conflict, next version);
* a feed whose last commit time is later than the one chosen here (another replica's clock ahead
  of ours) makes the statement insert nothing: commit times must follow sequence order, so the
  writer decides it again under the lock.

Sequences are numbered by the statement - the tail it reads under the lock, plus the position of
each version - so the feed stays dense and in commit order exactly as in decision 0019.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import psycopg

from gateway.store.base import StoredVersion, VersionSigner, WriteItem, WriteOutcome
from gateway.store.postgresql.columns import (
    columns,
    document_columns,
    name_columns,
    version_columns,
)
from gateway.store.postgresql.plan import Plan, Snapshot, plan_transaction
from liaison.rules.lifecycle import RetentionDefaults

__all__ = [
    "FRESH_FAILURES",
    "FRESH_INSERT",
    "fresh_parameters",
    "is_fresh_candidate",
    "numbered",
    "plan_fresh",
]

# The tail, read under the lock; "ok" is empty when the feed's last commit time is after ours.
# Every insert depends on "ok", so nothing is written then; no ON CONFLICT on versions, heads or
# dates: a record that exists fails the statement.
FRESH_INSERT = """
WITH last AS (
    SELECT sequence, committed_at_us FROM versions ORDER BY sequence DESC LIMIT 1
), ok AS (
    SELECT coalesce((SELECT sequence FROM last), 0) AS sequence
    WHERE coalesce((SELECT committed_at_us FROM last), 0) <= %s
), new_versions AS (
    INSERT INTO versions (
        sequence, record_id, version, kind, originating_centre, committed_at_us, content_sha256,
        blob, handling_code, releasable_to, signature
    )
    SELECT ok.sequence + n.position, n.record_id, n.version, n.kind, n.originating_centre,
        n.committed_at_us, n.content_sha256, n.blob, n.handling_code, n.releasable_to, n.signature
    FROM ok, unnest(
        %b::bigint[], %b::text[], %b::bigint[], %b::text[], %b::text[], %b::bigint[],
        %b::bytea[], %b::bytea[], %b::integer[], %b::text[], %b::bytea[]
    ) AS n(
        position, record_id, version, kind, originating_centre, committed_at_us, content_sha256,
        blob, handling_code, releasable_to, signature
    )
    RETURNING record_id, version, sequence, kind, originating_centre, committed_at_us
), new_heads AS (
    INSERT INTO heads (record_id, version, sequence, kind, originating_centre, committed_at_us)
    SELECT record_id, version, sequence, kind, originating_centre, committed_at_us
    FROM new_versions
), new_document_keys AS (
    -- ON CONFLICT DO NOTHING: a record may list the same key twice (two identical aliases).
    INSERT INTO document_keys (record_id, number, issuing_state)
    SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) WHERE EXISTS (SELECT FROM ok)
    ON CONFLICT DO NOTHING
), new_name_keys AS (
    INSERT INTO name_keys (record_id, family, birth_year, birth_month, birth_day)
    SELECT * FROM unnest(%b::text[], %b::text[], %b::integer[], %b::integer[], %b::integer[])
    WHERE EXISTS (SELECT FROM ok)
    ON CONFLICT DO NOTHING
), new_dates AS (
    INSERT INTO lifecycle (record_id, review_due_us, expires_at_us)
    SELECT * FROM unnest(%b::text[], %b::bigint[], %b::bigint[]) WHERE EXISTS (SELECT FROM ok)
)
SELECT ok.sequence, pg_notify(%s, (ok.sequence + %s)::text) FROM ok
"""


def is_fresh_candidate(groups: Sequence[Sequence[WriteItem]]) -> bool:
    """Whether every item could be a new record's first version: no expected or replicated
    version, and no record twice (the database then tells whether the records are new)."""
    seen: set[str] = set()
    for group in groups:
        for item in group:
            if item.expected_version or item.replica_version or item.record_id in seen:
                return False
            seen.add(item.record_id)
    return True


def plan_fresh(
    groups: Sequence[Sequence[WriteItem]],
    not_before_us: int,
    signer: VersionSigner | None,
    retention: RetentionDefaults,
) -> Plan:
    """The plan if every record is new, with sequences ``1..n`` relative to the feed's tail.

    ``not_before_us``: the latest commit time this writer chose; the commit time chosen is after
    it, so that this writer's transactions granted the lock out of order fail the statement's
    check (and are decided again under the lock) and its commits have distinct times.
    """
    committed_at_us = max(time.time_ns() // 1000, not_before_us + 1)
    return plan_transaction(groups, Snapshot(0), committed_at_us, signer, retention)


def fresh_parameters(plan: Plan, channel: str) -> tuple[Any, ...]:
    """The parameters of :data:`FRESH_INSERT` for ``plan``."""
    versions = version_columns(plan.new_versions, plan.committed_at_us)
    # Every new version is its record's head here (new records only).
    documents = document_columns(plan.new_versions)
    names = name_columns(plan.new_versions)
    return (
        plan.committed_at_us,
        *versions,
        *documents,
        *names,
        *columns(plan.changed_dates, 3),
        channel,
        len(plan.new_versions),
    )


def numbered(plan: Plan, tail: int) -> tuple[list[list[WriteOutcome]], Plan]:
    """The outcomes and plan with their relative sequences moved after ``tail``."""
    outcomes = [
        [
            dataclasses.replace(outcome, sequence=outcome.sequence + tail)
            if isinstance(outcome, StoredVersion)
            else outcome
            for outcome in group
        ]
        for group in plan.outcomes
    ]
    records = [dataclasses.replace(r, sequence=r.sequence + tail) for r in plan.records]
    return outcomes, dataclasses.replace(plan, outcomes=outcomes, records=records)


FRESH_FAILURES = (psycopg.errors.UniqueViolation,)
"""What a fresh transaction that met a stored record fails with (it stored nothing)."""
