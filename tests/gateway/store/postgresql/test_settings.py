"""``[storage] backend = "postgresql"``: where the DSN and its password come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from gateway.config import ConfigError, load_config
from gateway.store import PostgresRecordStore, SqliteRecordStore, StoreError, create_store
from gateway.store.postgresql import resolve_dsn
from gateway.store.settings import StorageConfig


def _centre(tmp_path: Path, storage: str) -> Path:
    path = tmp_path / "centre.toml"
    path.write_text(f"[storage]\n{storage}\n", encoding="utf-8")
    return path


def test_sqlite_stays_the_default() -> None:
    assert StorageConfig().backend == "sqlite"
    assert isinstance(create_store(StorageConfig()), SqliteRecordStore)


def test_the_password_file_is_relative_to_the_centre_file(tmp_path: Path) -> None:
    (tmp_path / "pg-password").write_text("s3cret\n", encoding="utf-8")
    config = load_config(
        _centre(
            tmp_path,
            'backend = "postgresql"\ndsn = "postgresql://liaison@db:5432/i2c"\n'
            'password_file = "pg-password"\nschema = "i2c"\npool_size = 4',
        )
    )
    storage = config.storage
    assert storage.password_file == str(tmp_path / "pg-password")
    parts = conninfo_to_dict(resolve_dsn(storage, environ={}))
    assert (parts["user"], parts["host"], parts["dbname"], parts["password"]) == (
        "liaison",
        "db",
        "i2c",
        "s3cret",
    )
    assert isinstance(create_store(storage), PostgresRecordStore)


def test_the_environment_dsn_wins_over_the_file() -> None:
    storage = StorageConfig(backend="postgresql", dsn="postgresql://a@one/x")
    dsn = resolve_dsn(storage, environ={"LIAISON_STORAGE_DSN": "postgresql://b:pw@two/y"})
    assert conninfo_to_dict(dsn)["host"] == "two"


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ('backend = "mysql"', 'backend must be "sqlite" or "postgresql"'),
        (
            'backend = "postgresql"\ndsn = "postgresql://u:hunter2@db/x"',
            "dsn must not hold a password",
        ),
        ('backend = "postgresql"\ndsn = "not a dsn ="', "not a valid PostgreSQL connection"),
        ('backend = "postgresql"\nschema = "Robert; DROP"', "schema must be a lower-case"),
        ('backend = "postgresql"\npool_size = 1', "pool_size must be at least 2"),
    ],
)
def test_bad_settings_are_refused_without_showing_a_secret(
    tmp_path: Path, storage: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(_centre(tmp_path, storage))
    assert "hunter2" not in str(caught.value)


def test_no_dsn_anywhere_is_refused_when_the_store_is_made() -> None:
    with pytest.raises(StoreError, match="needs \\[storage\\] dsn or LIAISON_STORAGE_DSN"):
        resolve_dsn(StorageConfig(backend="postgresql"), environ={})


def test_an_unreadable_password_file_is_refused(tmp_path: Path) -> None:
    storage = StorageConfig(
        backend="postgresql", dsn="postgresql://u@db/x", password_file=str(tmp_path / "absent")
    )
    with pytest.raises(StoreError, match="cannot read the password file"):
        resolve_dsn(storage, environ={})
