"""The PostgreSQL record store: replicas of one centre sharing one database (decision 0019)."""

from __future__ import annotations

from gateway.store.postgresql.dsn import check_storage_settings, resolve_dsn
from gateway.store.postgresql.schema import load_migrations, migrate, schema_version
from gateway.store.postgresql.store import PostgresRecordStore

__all__ = [
    "PostgresRecordStore",
    "check_storage_settings",
    "load_migrations",
    "migrate",
    "resolve_dsn",
    "schema_version",
]
