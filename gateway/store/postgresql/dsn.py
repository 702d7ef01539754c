"""Where a PostgreSQL store's connection string comes from, without a secret in the centre file.

The DSN is ``LIAISON_STORAGE_DSN`` when set (a deployment's secret store fills it), else
``[storage] dsn``. A password is never accepted from the centre file: it comes from the
environment's DSN, from ``[storage] password_file`` (its first line), or from libpq's own
``PGPASSFILE`` / ``~/.pgpass``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gateway.store.base import StoreError
from gateway.store.settings import DSN_ENVIRONMENT_VARIABLE, StorageConfig

__all__ = ["SCHEMA_PATTERN", "check_storage_settings", "resolve_dsn"]

SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
"""A schema name is an unquoted identifier: it is spliced into ``search_path``."""


def check_storage_settings(storage: StorageConfig) -> None:
    """Refuse ``[storage]`` settings of the PostgreSQL backend that cannot work or would put a
    secret in the centre file.

    Raises:
        StoreError: the message names the setting (never its secret).
    """
    if not SCHEMA_PATTERN.fullmatch(storage.schema):
        raise StoreError(
            "schema must be a lower-case identifier (letters, digits, underscores; at most 63), "
            f"got {storage.schema!r}"
        )
    if storage.pool_size < 2:
        raise StoreError(f"pool_size must be at least 2, got {storage.pool_size}")
    if storage.dsn:
        try:
            parts = conninfo_to_dict(storage.dsn)
        except Exception:  # psycopg raises ProgrammingError; the DSN may hold a secret: not shown
            raise StoreError("dsn is not a valid PostgreSQL connection string") from None
        if parts.get("password"):
            raise StoreError(
                "dsn must not hold a password: use password_file, PGPASSFILE or "
                f"{DSN_ENVIRONMENT_VARIABLE}"
            )


def resolve_dsn(storage: StorageConfig, environ: Mapping[str, str] | None = None) -> str:
    """The connection string to open, with the password from ``password_file`` when given.

    Raises:
        StoreError: no DSN anywhere, or the password file cannot be read.
    """
    environment = os.environ if environ is None else environ
    dsn = environment.get(DSN_ENVIRONMENT_VARIABLE, "") or storage.dsn
    if not dsn:
        raise StoreError(f'backend "postgresql" needs [storage] dsn or {DSN_ENVIRONMENT_VARIABLE}')
    if not storage.password_file:
        return dsn
    try:
        lines = Path(storage.password_file).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise StoreError(
            f"cannot read the password file {storage.password_file}: {error.strerror}"
        ) from None
    password = lines[0] if lines else ""
    if not password:
        raise StoreError(f"the password file {storage.password_file} is empty")
    return make_conninfo(dsn, password=password)
