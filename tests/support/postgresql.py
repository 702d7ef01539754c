"""A real PostgreSQL database for the tests that need one: created for the run, dropped after.

The server is the one the development and CI machines run on 127.0.0.1:5432 (user ``postgres``,
trust authentication, database ``test``); ``LIAISON_TEST_POSTGRESQL_DSN`` points elsewhere.
Each test run (each xdist worker) creates ``liaison_test_<uuid>`` and drops it at the end; each
store a test opens gets a schema of its own in it, so tests share nothing.

Where no server answers, the tests that need one are skipped with the reason - unless
``LIAISON_REQUIRE_POSTGRESQL=1`` (set by ``.ci/run``), which makes them fail instead: CI must run
them.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from gateway.store.settings import StorageConfig

__all__ = [
    "REQUIRE_VARIABLE",
    "SERVER_DSN_VARIABLE",
    "cut_database",
    "postgresql_database",
    "postgresql_storage",
    "scratch_database",
    "server_dsn",
    "unique_schema",
]

SERVER_DSN_VARIABLE = "LIAISON_TEST_POSTGRESQL_DSN"
REQUIRE_VARIABLE = "LIAISON_REQUIRE_POSTGRESQL"
DEFAULT_SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def server_dsn() -> str:
    """The administrative DSN of the test server."""
    return os.environ.get(SERVER_DSN_VARIABLE, DEFAULT_SERVER_DSN)


def unique_schema(name: str) -> str:
    """A schema name no other store of the run uses, readable after ``name``."""
    readable = re.sub(r"[^a-z0-9_]", "_", name.lower())[:30]
    return f"t{uuid.uuid4().hex[:12]}_{readable}"


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"PostgreSQL is required ({REQUIRE_VARIABLE}=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason} (set {REQUIRE_VARIABLE}=1 to fail instead)")


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    """The DSN of a database created for this run (dropped after it)."""
    admin = server_dsn()
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable(f"no PostgreSQL server answers at {admin} ({str(error).strip()})")
        raise AssertionError("unreachable") from None
    name = f"liaison_test_{uuid.uuid4().hex[:16]}"
    with connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(admin, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


TEST_POOL_SIZE = 4
"""Connections of one test gateway: the server's ``max_connections`` is shared by every worker."""


def postgresql_storage(dsn: str, base: StorageConfig, *, schema: str = "") -> StorageConfig:
    """``base`` on PostgreSQL: the database at ``dsn``, in ``schema`` (by default one of its own,
    so that a gateway shares nothing with any other test's)."""
    return replace(
        base,
        backend="postgresql",
        dsn=dsn,
        schema=schema or unique_schema("gateway"),
        pool_size=TEST_POOL_SIZE,
    )


@contextlib.contextmanager
def scratch_database(run_dsn: str) -> Iterator[tuple[str, str]]:
    """A database of its own (``(name, DSN)``) for a test that cuts it off; dropped after.

    ``run_dsn`` is the run's database (:func:`postgresql_database`): the scratch one is on the
    same server, reached the same way.
    """
    name = f"liaison_cut_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name, make_conninfo(run_dsn, dbname=name)
    finally:
        with psycopg.connect(server_dsn(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def cut_database(name: str, *, allow: bool) -> None:
    """Cut database ``name`` off (``allow=False``: new connections refused, and every backend
    serving it terminated with ``pg_terminate_backend``), or let it back (``allow=True``)."""
    with psycopg.connect(server_dsn(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL("true" if allow else "false")
            )
        )
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
