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

import os
import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

__all__ = [
    "REQUIRE_VARIABLE",
    "SERVER_DSN_VARIABLE",
    "postgresql_database",
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
