"""New records in one round trip (gateway/store/postgresql/fresh.py, decision 0027): taken only
when every record is new, and decided again under the feed lock whenever the database says the
guess was wrong - a stored record, or a feed whose last commit time is ahead of ours."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
import pytest
from psycopg import sql

from gateway.store import PostgresRecordStore, StoredVersion
from gateway.store.base import WriteItem
from gateway.store.postgresql.fresh import is_fresh_candidate, numbered, plan_fresh
from gateway.store.postgresql.plan import Plan
from gateway.store.postgresql.transaction import PostgresTransactions
from liaison.rules.lifecycle import RetentionDefaults
from tests.support.postgresql import unique_schema
from tests.support.store import make_item


class CountingTransactions(PostgresTransactions):
    """Counts the transactions decided under the lock (the fresh path decides nothing there)."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.decided_under_lock = 0

    async def _decide(self, cursor: Any, groups: Any, **kwargs: Any) -> Plan:
        self.decided_under_lock += 1
        return await super()._decide(cursor, groups, **kwargs)


@pytest.fixture
async def store(postgresql_database: str) -> AsyncIterator[tuple[PostgresRecordStore, str]]:
    schema = unique_schema("fresh")
    opened = PostgresRecordStore(postgresql_database, schema=schema)
    await opened.open()
    writer = opened._writer
    assert writer is not None
    writer._transactions = CountingTransactions(schema)
    try:
        yield opened, schema
    finally:
        await opened.close()


def _counting(store: PostgresRecordStore) -> CountingTransactions:
    writer = store._writer
    assert writer is not None
    transactions = writer._transactions
    assert isinstance(transactions, CountingTransactions)
    return transactions


def _acks(outcomes: Sequence[object]) -> list[StoredVersion]:
    acks = [outcome for outcome in outcomes if isinstance(outcome, StoredVersion)]
    assert len(acks) == len(outcomes)
    return acks


async def test_new_records_are_stored_without_deciding_under_the_lock(
    store: tuple[PostgresRecordStore, str],
) -> None:
    replica, _ = store
    first = _acks(await replica.write([make_item("a"), make_item("b")]))
    second = _acks(await replica.write([make_item("c")]))
    assert [(a.record_id, a.version, a.sequence) for a in first + second] == [
        ("a", 1, 1),
        ("b", 1, 2),
        ("c", 1, 3),
    ]
    assert not any(a.duplicate for a in first + second)
    assert _counting(replica).decided_under_lock == 0
    stored = await replica.get("b")
    assert stored is not None
    assert (stored.sequence, stored.committed_at_us) == (2, first[1].committed_at_us)
    assert [r.sequence for r in await replica.read_since(0, 10)] == [1, 2, 3]


async def test_a_stored_record_sends_the_batch_under_the_lock(
    store: tuple[PostgresRecordStore, str],
) -> None:
    replica, _ = store
    [stored] = _acks(await replica.write([make_item("a")]))
    outcomes = _acks(await replica.write([make_item("new-1"), make_item("a")]))
    assert _counting(replica).decided_under_lock == 1
    assert [(o.record_id, o.version, o.sequence, o.duplicate) for o in outcomes] == [
        ("new-1", 1, 2, False),
        ("a", 1, 1, True),
    ]
    assert outcomes[1].committed_at_us == stored.committed_at_us
    # The guess failed on a stored record: the next transactions are decided under the lock.
    [new] = _acks(await replica.write([make_item("new-2")]))
    assert _counting(replica).decided_under_lock == 2
    assert (new.version, new.sequence) == (1, 3)
    assert [r.sequence for r in await replica.read_since(0, 10)] == [1, 2, 3]


async def test_a_feed_whose_last_commit_is_later_sends_the_batch_under_the_lock(
    store: tuple[PostgresRecordStore, str], postgresql_database: str
) -> None:
    replica, schema = store
    await replica.write([make_item("a")])
    ahead = time.time_ns() // 1000 + 3_600_000_000  # another replica's clock, an hour ahead
    async with await psycopg.AsyncConnection.connect(postgresql_database) as connection:
        await connection.execute(
            sql.SQL("UPDATE {}.versions SET committed_at_us = %s").format(sql.Identifier(schema)),
            (ahead,),
        )
        await connection.commit()
    [ack] = _acks(await replica.write([make_item("b")]))
    assert _counting(replica).decided_under_lock == 1
    assert (ack.sequence, ack.committed_at_us) == (2, ahead)  # never before the feed's last


def _item(record_id: str, **fields: Any) -> WriteItem:
    item = make_item(record_id)
    return WriteItem(**{**{f: getattr(item, f) for f in item.__dataclass_fields__}, **fields})


def test_only_batches_of_distinct_first_versions_are_candidates() -> None:
    assert is_fresh_candidate([[make_item("a"), make_item("b")], [make_item("c")]])
    assert not is_fresh_candidate([[make_item("a")], [make_item("a", "other")]])
    assert not is_fresh_candidate([[_item("a", expected_version=1)]])
    assert not is_fresh_candidate([[_item("a", replica_version=3)]])


def test_sequences_are_moved_after_the_tail() -> None:
    plan = plan_fresh([[make_item("a")], [make_item("b")]], 0, None, RetentionDefaults())
    outcomes, moved = numbered(plan, 41)
    assert [o.sequence for group in outcomes for o in group if isinstance(o, StoredVersion)] == [
        42,
        43,
    ]
    assert [r.sequence for r in moved.records] == [42, 43]
    assert moved.new_versions == plan.new_versions  # relative: what the statement adds to
