"""A replica that loses its database says so at once, and recovers by itself when it returns.

The database is really cut: connections to it are refused (``ALLOW_CONNECTIONS false``) and
every backend serving it is terminated with ``pg_terminate_backend``; then it is let back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from gateway.store import PostgresRecordStore, StoredVersion, StoreError
from tests.support.polling import until
from tests.support.postgresql import cut_database, scratch_database, server_dsn
from tests.support.store import make_item


@pytest.fixture
def own_database(postgresql_database: str) -> Iterator[tuple[str, str]]:
    """A database of this test's own (it is cut off), as (name, DSN); dropped after."""
    with scratch_database(postgresql_database) as database:
        yield database


@pytest.fixture
async def store(own_database: tuple[str, str]) -> AsyncIterator[PostgresRecordStore]:
    opened = PostgresRecordStore(own_database[1], schema="liaison")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def _available(store: PostgresRecordStore) -> bool:
    return store.link.available


async def test_unavailable_while_the_database_is_gone_and_back_without_restart(
    store: PostgresRecordStore, own_database: tuple[str, str]
) -> None:
    name, _ = own_database
    events: list[str] = []
    store.add_unavailable_listener(lambda reason: events.append("unavailable"))
    store.add_recovered_listener(lambda: events.append("recovered"))
    [before] = await store.write([make_item("rec-1")])
    assert isinstance(before, StoredVersion)

    cut_database(name, allow=False)
    try:
        await until(lambda: events == ["unavailable"])
        assert not _available(store)
        with pytest.raises(StoreError):
            await store.write([make_item("rec-2")])
    finally:
        cut_database(name, allow=True)

    await until(lambda: events == ["unavailable", "recovered"])
    assert _available(store)
    [after] = await store.write([make_item("rec-2")])
    assert isinstance(after, StoredVersion)
    # Nothing acknowledged was lost; the failed write stored nothing.
    assert (await store.get("rec-1")) is not None
    assert [r.record_id for r in await store.read_since(0, 10)] == ["rec-1", "rec-2"]


async def test_terminated_connections_cost_no_caller_a_failure(
    store: PostgresRecordStore, own_database: tuple[str, str]
) -> None:
    name, _ = own_database
    await store.write([make_item("rec-1")])
    with psycopg.connect(server_dsn(), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    # The pooled connections are dead; the next read and write go to fresh ones.
    assert (await store.get("rec-1")) is not None
    [outcome] = await store.write([make_item("rec-2")])
    assert isinstance(outcome, StoredVersion)
    await until(lambda: store.link.available)
