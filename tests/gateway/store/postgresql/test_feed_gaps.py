"""The change feed has no gaps and no duplicates with many writers on two replicas.

Two stores (two replicas of one centre) share one schema. Ten writers commit records through
both, and on purpose some transactions are long: they hold their transaction open for a random
few milliseconds after numbering their versions, while short ones queue behind them. Five
followers read the feed: three are commit listeners (two on one replica, one on the other), two
page through ``read_since`` with their cursor, switching replica after every page. Every one
must see every acknowledged version exactly once, in sequence order, with sequences 1..N.

Both ways of committing take part: transactions decided under the lock, and new records
stored in one round trip (decision 0027).

``LIAISON_GAP_TEST_RECORDS`` scales the run (default 2,000 to keep ``make test`` fast; the
issue's 100,000 is ``LIAISON_GAP_TEST_RECORDS=100000``).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from gateway.store import PostgresRecordStore, StoredRecord, StoredVersion
from gateway.store.postgresql.plan import Plan
from gateway.store.postgresql.transaction import Attempt, PostgresTransactions
from gateway.store.transaction import TransactionResult
from tests.support.polling import until
from tests.support.postgresql import unique_schema
from tests.support.store import make_item

RECORDS = int(os.environ.get("LIAISON_GAP_TEST_RECORDS", "2000"))
WRITERS = 10
BATCH = 5
"""Records per write call; calls of concurrent writers share transactions (group commit)."""


class SlowTransactions(PostgresTransactions):
    """Holds some transactions open - the feed lock taken, versions numbered - for a while.

    Half of the transactions are decided under the lock (where the sleeps are); the others store
    their new records the one-round-trip way (module ``fresh``), so both kinds interleave.
    """

    def __init__(self, schema: str, rng: random.Random) -> None:
        super().__init__(schema)
        self._rng = rng

    async def run(self, connection: Any, groups: Any, attempt: Attempt) -> TransactionResult:
        if self._rng.random() < 0.5:
            self._locked_before_fresh = 1
        return await super().run(connection, groups, attempt)

    async def _write(self, cursor: Any, plan: Plan, ingestion: Any) -> None:
        if self._rng.random() < 0.3:
            await asyncio.sleep(self._rng.uniform(0.002, 0.02))
        await super()._write(cursor, plan, ingestion)


@pytest.fixture
async def replicas(postgresql_database: str) -> AsyncIterator[list[PostgresRecordStore]]:
    schema = unique_schema("gaps")
    stores = [PostgresRecordStore(postgresql_database, schema=schema) for _ in range(2)]
    for index, store in enumerate(stores):
        await store.open()
        writer = store._writer
        assert writer is not None
        writer._transactions = SlowTransactions(schema, random.Random(index))
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


class Listener:
    def __init__(self) -> None:
        self.sequences: list[int] = []
        self.keys: list[tuple[str, int]] = []

    def __call__(self, records: Sequence[StoredRecord]) -> None:
        self.sequences.extend(record.sequence for record in records)
        self.keys.extend((record.record_id, record.version) for record in records)


async def _page_through(
    stores: list[PostgresRecordStore], total: int, done: asyncio.Event
) -> list[StoredRecord]:
    """Follow the feed by cursor, one page from each replica in turn, until ``total`` seen."""
    seen: list[StoredRecord] = []
    cursor = 0
    turn = 0
    while len(seen) < total:
        page = await stores[turn % 2].read_since(cursor, 97)
        turn += 1
        seen.extend(page)
        if page:
            cursor = page[-1].sequence
        elif done.is_set() and len(seen) < total:
            await asyncio.sleep(0.01)
        else:
            await asyncio.sleep(0.002)
    return seen


async def _write(store: PostgresRecordStore, writer: int, count: int) -> list[StoredVersion]:
    acks: list[StoredVersion] = []
    for start in range(0, count, BATCH):
        items = [make_item(f"w{writer}-r{n}") for n in range(start, min(start + BATCH, count))]
        outcomes = await store.write(items)
        acks.extend(o for o in outcomes if isinstance(o, StoredVersion))
    return acks


@pytest.mark.slow
@pytest.mark.timeout(max(120, RECORDS // 40))  # 40 records/s: a busy 2-core machine
async def test_every_follower_sees_every_record_once_in_order(
    replicas: list[PostgresRecordStore],
) -> None:
    one, two = replicas
    listeners = [Listener(), Listener(), Listener()]
    one.add_commit_listener(listeners[0])
    one.add_commit_listener(listeners[1])
    two.add_commit_listener(listeners[2])
    done = asyncio.Event()
    pagers = [asyncio.ensure_future(_page_through(replicas, RECORDS, done)) for _ in range(2)]
    per_writer = RECORDS // WRITERS
    writes = [_write(replicas[w % 2], w, per_writer) for w in range(WRITERS)]
    acked = [ack for acks in await asyncio.gather(*writes) for ack in acks]
    done.set()
    paged = await asyncio.gather(*pagers)

    assert len(acked) == RECORDS
    expected = list(range(1, RECORDS + 1))
    assert sorted(ack.sequence for ack in acked) == expected
    acked_keys = {(ack.record_id, ack.version) for ack in acked}
    await until(lambda: all(len(listener.sequences) >= RECORDS for listener in listeners))
    for listener in listeners:
        assert listener.sequences == expected  # in order: no gap, no duplicate
        assert set(listener.keys) == acked_keys
    for records in paged:
        assert [record.sequence for record in records] == expected
        assert {(r.record_id, r.version) for r in records} == acked_keys
    # Both replicas wrote, and their commits were grouped.
    assert one.transactions_committed > 0
    assert two.transactions_committed > 0
    assert one.transactions_committed + two.transactions_committed < RECORDS // BATCH
