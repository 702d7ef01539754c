"""Versioned migrations of the PostgreSQL store, and a gateway that refuses a newer schema."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from gateway.store import PostgresRecordStore, StoreError
from gateway.store.postgresql import load_migrations, migrate, schema_version
from gateway.store.postgresql.schema import PostgresMigration
from tests.support.postgresql import unique_schema
from tests.support.store import make_item


async def _connect(dsn: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(dsn, autocommit=True)


def test_migrations_are_numbered_from_one() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


async def test_migrate_creates_the_schema_once(postgresql_database: str) -> None:
    schema = unique_schema("migrate")
    async with await _connect(postgresql_database) as connection:
        assert await schema_version(connection, schema) == 0
        latest = len(load_migrations())
        assert await migrate(connection, schema) == (0, latest)
        assert await migrate(connection, schema) == (latest, latest)
        assert await schema_version(connection, schema) == latest


async def test_a_failing_migration_is_rolled_back(postgresql_database: str) -> None:
    schema = unique_schema("broken")
    steps = (
        *load_migrations(),
        PostgresMigration(99, "0002_broken.sql", "CREATE TABLE extra (x int); SELECT 1/0;"),
    )
    async with await _connect(postgresql_database) as connection:
        with pytest.raises(StoreError, match=r"0002_broken\.sql failed and was rolled back"):
            await migrate(connection, schema, steps)
        # Nothing of the failed run stays: not even the first step, which ran in the same
        # transaction.
        assert await schema_version(connection, schema) == 0


async def test_a_gateway_refuses_a_schema_newer_than_it_knows(postgresql_database: str) -> None:
    schema = unique_schema("newer")
    store = PostgresRecordStore(postgresql_database, schema=schema)
    await store.open()
    await store.write([make_item("rec-1")])
    await store.close()
    async with await _connect(postgresql_database) as connection:
        await connection.execute(f"UPDATE {schema}.schema_version SET version = version + 1")

    newer = PostgresRecordStore(postgresql_database, schema=schema)
    with pytest.raises(StoreError, match="is newer than this Liaison knows"):
        await newer.open()
    await newer.close()
