"""Versioned migrations of the PostgreSQL store, and the check that refuses a newer schema.

Migration ``NNNN_name.sql`` (in :mod:`gateway.store.postgresql.migrations`) brings a schema from
version ``NNNN - 1`` to ``NNNN``; the version is the one row of ``schema_version``. Replicas that
start together migrate one at a time: each holds a transaction-level advisory lock keyed by the
schema's name while it reads the version and applies what is missing, in the same transaction
(PostgreSQL's DDL is transactional, so a failed step leaves the schema at its previous version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from gateway.store.base import StoreError

__all__ = [
    "PostgresMigration",
    "load_migrations",
    "migrate",
    "schema_version",
]

MIGRATIONS_PACKAGE = "gateway.store.postgresql.migrations"

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class PostgresMigration:
    """One schema step: a script run in the migrating transaction."""

    version: int
    name: str
    script: str


def load_migrations() -> tuple[PostgresMigration, ...]:
    """The migrations shipped with the package, in version order.

    Raises:
        StoreError: the numbering has a gap or a duplicate (a packaging error).
    """
    found = [
        PostgresMigration(int(match[1]), entry.name, entry.read_text(encoding="utf-8"))
        for entry in resources.files(MIGRATIONS_PACKAGE).iterdir()
        if (match := _MIGRATION_NAME.match(entry.name)) is not None
    ]
    found.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StoreError(
                f"PostgreSQL migrations are not numbered 1, 2, 3, ...: found {migration.name} "
                f"where version {expected} was expected"
            )
    return tuple(found)


async def schema_version(connection: psycopg.AsyncConnection[Any], schema: str) -> int:
    """The schema's version (0 when it has no tables yet)."""
    cursor = await connection.execute(
        "SELECT to_regclass(format('%%I.schema_version', %s::text)) IS NOT NULL", (schema,)
    )
    row = await cursor.fetchone()
    if row is None or not row[0]:
        return 0
    cursor = await connection.execute(
        sql.SQL("SELECT version FROM {}.schema_version").format(sql.Identifier(schema))
    )
    found = await cursor.fetchone()
    return 0 if found is None else int(found[0])


async def migrate(
    connection: psycopg.AsyncConnection[Any],
    schema: str,
    migrations: tuple[PostgresMigration, ...] | None = None,
) -> tuple[int, int]:
    """Bring ``schema`` (created when missing) to the newest version this code knows.

    ``schema`` must be a checked identifier (:data:`~gateway.store.postgresql.dsn.SCHEMA_PATTERN`).

    Returns:
        The version before and after.

    Raises:
        StoreError: the schema is newer than this code (it was migrated by a newer Liaison), or
            a migration failed (rolled back: the schema keeps its version).
    """
    steps = load_migrations() if migrations is None else migrations
    latest = len(steps)
    step = "the version check"
    try:
        async with connection.transaction():
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"liaison-migrate:{schema}",),
            )
            name = sql.Identifier(schema)
            await connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
            await connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(name))
            await connection.execute(_VERSION_TABLE)
            cursor = await connection.execute("SELECT version FROM schema_version")
            row = await cursor.fetchone()
            current = 0 if row is None else int(row[0])
            if current > latest:
                raise StoreError(
                    f"the store's schema version {current} (PostgreSQL schema {schema}) is newer "
                    f"than this Liaison knows (up to {latest}); upgrade Liaison to open it"
                )
            for migration in steps[current:]:
                step = migration.name
                # No parameters: psycopg sends the script as one simple query, statements and all.
                await connection.execute(migration.script.encode())
            if latest > current:
                await connection.execute(
                    "INSERT INTO schema_version (one, version) VALUES (true, %s) "
                    "ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                    (latest,),
                )
    except psycopg.Error as error:
        raise StoreError(
            f"store migration {step} failed and was rolled back: {type(error).__name__}: "
            f"{error.diag.message_primary or error}"
        ) from None
    return current, latest
