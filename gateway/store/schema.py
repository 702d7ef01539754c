"""Opening SQLite connections and migrating the schema of the embedded store.

The schema is versioned with ``PRAGMA user_version``: migration ``NNNN_name.sql`` (shipped in
:mod:`gateway.store.migrations`) brings a database from version ``NNNN - 1`` to ``NNNN``. Each
migration runs in its own transaction together with its version bump, so a database is always at
exactly one known version.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from google.protobuf.message import DecodeError

from gateway.store.base import StoreError
from liaison.v1 import record_pb2

__all__ = [
    "BUSY_TIMEOUT_MS",
    "Migration",
    "join_releasable",
    "load_migrations",
    "migrate",
    "open_reader",
    "open_writer",
    "split_releasable",
    "split_statements",
    "unwritable_cause",
]

BUSY_TIMEOUT_MS = 5000
"""How long a connection waits for a lock (another process migrating, a WAL checkpoint)."""

MIGRATIONS_PACKAGE = "gateway.store.migrations"

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step."""

    version: int
    """The ``user_version`` the database has after this migration."""
    name: str
    """File name, for error messages."""
    statements: tuple[str, ...]
    """The SQL statements, in order."""


def split_statements(script: str, name: str) -> tuple[str, ...]:
    """Split a SQL script into single statements.

    ``executescript`` cannot be used because it commits any open transaction first, and a
    migration must share one transaction with its version bump. SQLite's own tokenizer
    (:func:`sqlite3.complete_statement`) decides where a statement ends, so semicolons inside
    strings, comments or triggers do not split.

    Raises:
        StoreError: the script ends with an unterminated statement.
    """
    statements: list[str] = []
    buffer = ""
    *terminated, rest = script.split(";")
    for piece in terminated:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = [
        line
        for line in (buffer + rest).splitlines()
        if line.strip() and not line.lstrip().startswith("--")
    ]
    if leftover:
        raise StoreError(f"migration {name}: the last statement is not terminated with ';'")
    return tuple(statements)


def load_migrations() -> tuple[Migration, ...]:
    """Read the migrations shipped with the package, in version order.

    Raises:
        StoreError: the numbering has a gap or a duplicate (a packaging error).
    """
    found: list[Migration] = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        script = entry.read_text(encoding="utf-8")
        found.append(Migration(int(match[1]), entry.name, split_statements(script, entry.name)))
    found.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StoreError(
                f"store migrations are not numbered 1, 2, 3, ...: found {migration.name} "
                f"where version {expected} was expected"
            )
    return tuple(found)


def migrate(connection: sqlite3.Connection, migrations: tuple[Migration, ...]) -> int:
    """Bring the database to the newest schema version; returns that version.

    The connection must be in autocommit mode (``isolation_level=None``). The version is read
    inside each step's write transaction, so two processes opening the same new file at once do
    not both apply the same step.

    Raises:
        StoreError: the database is newer than this code, or a migration failed (rolled back).
    """
    latest = len(migrations)
    while True:
        connection.execute("BEGIN IMMEDIATE")
        step = "the version check"
        try:
            current = _user_version(connection)
            if current > latest:
                raise StoreError(
                    f"the store's schema version {current} is newer than this Liaison knows "
                    f"(up to {latest}); upgrade Liaison to open it"
                )
            if current == latest:
                connection.execute("COMMIT")
                return current
            migration = migrations[current]
            step = migration.name
            for statement in migration.statements:
                connection.execute(statement)
            # PRAGMA values cannot be bound parameters; the version is an int from our own list.
            connection.execute(f"PRAGMA user_version = {migration.version:d}")
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            _rollback(connection)
            raise StoreError(
                f"store migration {step} failed and was rolled back: {error}"
            ) from error
        except BaseException:
            _rollback(connection)
            raise


def open_writer(path: Path, synchronous: Literal["full", "normal"]) -> sqlite3.Connection:
    """Open the one read-write connection, in WAL mode, and migrate the schema.

    Must be called on the thread that will use the connection.

    The file is written once before it is handed out (a write that changes nothing), so that a
    database SQLite can only read - a read-only file, folder or file system - is refused here,
    with the cause, rather than failing every write later.

    Raises:
        StoreError: the file cannot be opened, is not a usable database, cannot be migrated or
            cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(path, check_same_thread=True)
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"store {path}: cannot open: {unwritable_cause(path, error)}") from error
    try:
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"store {path}: cannot switch to WAL mode (got {mode})")
        # Not a bound parameter either; `synchronous` is one of two literals.
        connection.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")
        _register_record_functions(connection)
        migrate(connection, load_migrations())
        _write_once(connection, path)
    except sqlite3.Error as error:
        connection.close()
        raise StoreError(f"store {path}: cannot open: {unwritable_cause(path, error)}") from error
    except BaseException:
        connection.close()
        raise
    return connection


def _write_once(connection: sqlite3.Connection, path: Path) -> None:
    """Write the database header once, changing nothing (the schema version, set to itself).

    Raises:
        StoreError: the write failed; the message says why, as far as the file system tells.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        # PRAGMA values cannot be bound parameters; the version is an int SQLite returned.
        connection.execute(f"PRAGMA user_version = {_user_version(connection):d}")
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        if connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        raise StoreError(
            f"store {path}: cannot write to the database: {unwritable_cause(path, error)}"
        ) from error


def unwritable_cause(path: Path, error: BaseException) -> str:
    """Why the database at ``path`` could not be opened or written, from what the file system
    says about it and its folder, followed by the error itself."""
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", None) or type(error).__name__
        raw = f"{name}: {error}"
    else:
        raw = f"{type(error).__name__}: {error}"
    folder = path.parent
    if _read_only_file_system(folder):
        cause = f"its folder {folder} is on a read-only file system"
    elif _read_only_file_system(path):
        cause = "the file is read-only (on a read-only mount)"
    elif path.exists() and not os.access(path, os.W_OK):
        cause = f"the file is read-only (mode {path.stat().st_mode & 0o777:04o})"
    elif folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        cause = (
            f"its folder {folder} is not writable (SQLite keeps its -wal and -shm files "
            "beside the database)"
        )
    elif isinstance(error, sqlite3.Error) and "full" in str(error):
        cause = "the disk (or the file's quota) is full"
    else:
        return raw
    return f"{cause} ({raw})"


def _read_only_file_system(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def open_reader(path: Path) -> sqlite3.Connection:
    """Open a read-only connection for one reader thread.

    ``check_same_thread`` is off only so that :meth:`SqliteRecordStore.close` can close it from
    another thread once the reader pool has stopped; it is never used by two threads at once.
    """
    connection = _connect(path, check_same_thread=False)
    connection.execute("PRAGMA query_only = 1")
    return connection


def _connect(path: Path, *, check_same_thread: bool) -> sqlite3.Connection:
    # isolation_level=None: the sqlite3 module must not open transactions behind our back; the
    # writer issues BEGIN IMMEDIATE / COMMIT itself and readers run each SELECT on its own snapshot.
    connection = sqlite3.connect(
        path,
        isolation_level=None,
        check_same_thread=check_same_thread,
        cached_statements=256,
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
    return connection


def join_releasable(centres: tuple[str, ...] | list[str]) -> str:
    """``Handling.releasable_to`` as stored: centre ids (which never hold spaces), space-joined."""
    return " ".join(centres)


def split_releasable(stored: str) -> tuple[str, ...]:
    """The centre ids :func:`join_releasable` stored."""
    return tuple(stored.split())


def _register_record_functions(connection: sqlite3.Connection) -> None:
    """SQL functions over a stored record blob, for migrations that derive columns from it.

    A blob that cannot be read as a record (it never should) is given H3, the handling that
    keeps it at this centre: a migration must not make anything more visible than it was meant
    to be.
    """

    def handling(blob: bytes) -> record_pb2.Handling:
        try:
            return record_pb2.Record.FromString(blob).handling
        except DecodeError:
            return record_pb2.Handling(code=record_pb2.HANDLING_CODE_H3)

    def handling_code(blob: bytes) -> int:
        return handling(blob).code

    def releasable_to(blob: bytes) -> str:
        return join_releasable(list(handling(blob).releasable_to))

    connection.create_function("liaison_handling_code", 1, handling_code, deterministic=True)
    connection.create_function("liaison_releasable_to", 1, releasable_to, deterministic=True)


def _user_version(connection: sqlite3.Connection) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def _rollback(connection: sqlite3.Connection) -> None:
    # SQLite rolls back by itself after some errors (e.g. a full disk); ROLLBACK would then fail.
    if connection.in_transaction:
        connection.execute("ROLLBACK")
