"""``liaison migrate``: bring the centre's store schema to the version this Liaison knows.

A gateway migrates its store when it opens it too; this command lets an operator do it first,
alone (before rolling out new replicas), and see the versions. A schema newer than this Liaison
is refused, as a gateway refuses to start on it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
from pathlib import Path

from gateway.cli.commands import Commands
from gateway.cli.exits import EXIT_OK, UsageError
from gateway.config import load_config
from gateway.store.base import StoreError
from gateway.store.settings import StorageConfig

__all__ = ["add_commands", "migrate_store"]


def add_commands(command: Commands) -> None:
    """Add ``migrate``."""
    migrate = command(
        "migrate", "apply the store's schema migrations (SQLite or PostgreSQL)", client=False
    )
    migrate.add_argument(
        "--config", type=Path, metavar="PATH", help="centre TOML file (default: $LIAISON_CONFIG)"
    )
    migrate.set_defaults(run=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    environment_path = os.environ.get("LIAISON_CONFIG")
    config = load_config(args.config or (Path(environment_path) if environment_path else None))
    try:
        before, after, where = migrate_store(config.storage)
    except StoreError as error:
        raise UsageError(str(error)) from None
    if before == after:
        print(f"{where}: schema version {after}, nothing to do")
    else:
        print(f"{where}: schema version {before} -> {after}")
    return EXIT_OK


def migrate_store(storage: StorageConfig) -> tuple[int, int, str]:
    """Migrate the store ``storage`` configures.

    Returns:
        The schema version before and after, and where the store is (no secret).

    Raises:
        StoreError: the store cannot be reached, its schema is newer than this Liaison, or a
            migration failed (rolled back).
    """
    if storage.backend == "postgresql":
        return asyncio.run(_migrate_postgresql(storage))
    from gateway.store import schema

    before = 0
    if storage.path.exists():
        try:
            probe = sqlite3.connect(storage.path, isolation_level=None)
            try:
                before = int(probe.execute("PRAGMA user_version").fetchone()[0])
            finally:
                probe.close()
        except sqlite3.Error as error:
            raise StoreError(f"store {storage.path}: cannot open: {error}") from None
    # open_writer migrates, with the SQL functions the migrations use registered.
    connection = schema.open_writer(storage.path, storage.synchronous)
    try:
        after = int(connection.execute("PRAGMA user_version").fetchone()[0])
    finally:
        connection.close()
    return before, after, f"SQLite {storage.path}"


async def _migrate_postgresql(storage: StorageConfig) -> tuple[int, int, str]:
    import psycopg

    from gateway.store.postgresql import migrate, resolve_dsn

    try:
        async with await psycopg.AsyncConnection.connect(
            resolve_dsn(storage), autocommit=True, connect_timeout=10
        ) as connection:
            before, after = await migrate(connection, storage.schema)
            info = connection.info
            where = f"PostgreSQL {info.host}/{info.dbname} schema {storage.schema}"
    except psycopg.Error as error:
        raise StoreError(f"cannot reach the PostgreSQL database: {type(error).__name__}") from None
    return before, after, where
