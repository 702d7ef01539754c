"""Schema migrations of the embedded SQLite store."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway.store import SqliteRecordStore, StoreError
from gateway.store.schema import Migration, load_migrations, migrate, split_statements
from tests.support.store import db_path, make_item, open_store, writer_threads

LATEST = len(load_migrations())


def user_version(path: Path) -> int:
    """The schema version recorded in the file."""
    with closing(sqlite3.connect(path)) as connection:
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def schema_names(connection: sqlite3.Connection, kind: str) -> set[str]:
    """Names of the tables or indexes of a database."""
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {name for (name,) in rows}


def test_shipped_migrations_are_numbered_from_one() -> None:
    migrations = load_migrations()

    assert [(m.version, m.name) for m in migrations] == [
        (1, "0001_initial.sql"),
        (2, "0002_ingestions.sql"),
        (3, "0003_handling_and_signatures.sql"),
        (4, "0004_lifecycle.sql"),
    ]


async def test_empty_file_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    async with open_store(db_path(tmp_path)):
        pass

    assert user_version(db_path(tmp_path)) == LATEST
    with closing(sqlite3.connect(db_path(tmp_path))) as connection:
        assert schema_names(connection, "table") == {
            "versions",
            "heads",
            "document_keys",
            "name_keys",
            "sqlite_sequence",
            "ingestions",
            "ingestion_acks",
            "lifecycle",
        }
        assert schema_names(connection, "index") >= {
            "lifecycle_by_review",
            "lifecycle_by_expiry",
            "versions_by_content",
            "heads_by_kind",
            "heads_by_centre",
            "heads_by_committed_at",
            "document_keys_by_number",
            "name_keys_by_family",
        }


async def test_reopening_a_current_database_changes_nothing(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    async with open_store(path) as store:
        await store.write([make_item("rec-1")])
    with closing(sqlite3.connect(path)) as connection:
        schema_before = connection.execute("SELECT * FROM sqlite_master ORDER BY name").fetchall()

    async with open_store(path) as store:
        stored = await store.get("rec-1")

    assert stored is not None
    assert stored.sequence == 1
    assert user_version(path) == LATEST
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT * FROM sqlite_master ORDER BY name").fetchall() == (
            schema_before
        )


async def test_database_from_a_newer_liaison_is_refused(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    async with open_store(path):
        pass
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(f"PRAGMA user_version = {LATEST + 1}")

    store = SqliteRecordStore(path)
    with pytest.raises(
        StoreError, match=f"schema version {LATEST + 1} is newer than this Liaison knows"
    ):
        await store.open()

    assert writer_threads() == []
    assert user_version(path) == LATEST + 1
    await store.close()


async def test_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"not a database, just some bytes" * 100)

    store = SqliteRecordStore(path)
    with pytest.raises(StoreError, match="cannot open"):
        await store.open()

    assert writer_threads() == []
    await store.close()


def test_migrations_apply_in_order_from_the_current_version(tmp_path: Path) -> None:
    first = Migration(1, "0001_a.sql", ("CREATE TABLE a (x)",))
    second = Migration(2, "0002_b.sql", ("CREATE TABLE b (y)", "INSERT INTO a VALUES (2)"))
    with closing(sqlite3.connect(tmp_path / "db", isolation_level=None)) as connection:
        assert migrate(connection, (first,)) == 1
        connection.execute("INSERT INTO a VALUES (1)")

        assert migrate(connection, (first, second)) == 2
        assert migrate(connection, (first, second)) == 2

        assert connection.execute("SELECT x FROM a ORDER BY x").fetchall() == [(1,), (2,)]
        assert schema_names(connection, "table") == {"a", "b"}


def test_failed_migration_is_rolled_back_with_its_version(tmp_path: Path) -> None:
    good = Migration(1, "0001_good.sql", ("CREATE TABLE a (x)",))
    bad = Migration(2, "0002_bad.sql", ("CREATE TABLE b (y)", "CREATE TABLE a (x)"))
    with closing(sqlite3.connect(tmp_path / "db", isolation_level=None)) as connection:
        with pytest.raises(StoreError, match=r"0002_bad\.sql failed and was rolled back"):
            migrate(connection, (good, bad))

        assert connection.execute("PRAGMA user_version").fetchone() == (1,)
        assert schema_names(connection, "table") == {"a"}
        assert not connection.in_transaction


def test_split_statements_ignores_semicolons_in_strings_and_comments() -> None:
    script = (
        "-- header; still a comment\n"
        "CREATE TABLE t (a TEXT DEFAULT ';');\n"
        "INSERT INTO t VALUES ('x;y'); -- trailing; comment\n"
        "-- the end\n"
    )

    assert split_statements(script, "0009_x.sql") == (
        "-- header; still a comment\nCREATE TABLE t (a TEXT DEFAULT ';');",
        "INSERT INTO t VALUES ('x;y');",
    )


def test_split_statements_refuses_an_unterminated_statement() -> None:
    with pytest.raises(StoreError, match=r"0009_x\.sql: the last statement is not terminated"):
        split_statements("CREATE TABLE t (a);\nCREATE TABLE u (b)\n", "0009_x.sql")
