"""The store's settings: the centre file's ``[storage]`` table (parsed by :mod:`gateway.config`).

They live with the store so that the store needs nothing of the configuration module above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["DEFAULT_DB_PATH", "DEFAULT_SCHEMA", "DSN_ENVIRONMENT_VARIABLE", "StorageConfig"]

DEFAULT_DB_PATH = Path("var") / "liaison.db"
"""Where ``make run`` keeps its database, relative to the centre file."""

DEFAULT_SCHEMA = "liaison"
"""The PostgreSQL schema that holds a centre's tables."""

DSN_ENVIRONMENT_VARIABLE = "LIAISON_STORAGE_DSN"
"""Where the PostgreSQL DSN may come from instead of the centre file (it wins over ``dsn``)."""


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """The record store: the embedded SQLite file (the default) or a PostgreSQL database."""

    backend: Literal["sqlite", "postgresql"] = "sqlite"
    """``sqlite``: one file inside this gateway (``path``). ``postgresql``: a database server that
    any number of gateway replicas of this centre share (``dsn``; decision 0019)."""
    dsn: str = ""
    """PostgreSQL connection string (``postgresql://user@host:5432/db``), without a password:
    the password comes from ``password_file``, ``PGPASSFILE`` or ``LIAISON_STORAGE_DSN``, so that
    no secret sits in the centre file."""
    password_file: str = ""
    """A file holding the PostgreSQL password (its first line), relative to the centre file."""
    schema: str = DEFAULT_SCHEMA
    """The PostgreSQL schema of this centre's tables (created when missing)."""
    pool_size: int = 8
    """Most PostgreSQL connections this replica opens (reads, the writer and the feed's
    listener included); see the operator guide on sizing."""

    path: Path = DEFAULT_DB_PATH
    """SQLite database file; its folder is created when missing."""
    synchronous: Literal["full", "normal"] = "full"
    """SQLite ``synchronous`` in WAL mode: ``full`` survives power loss, ``normal`` survives
    process crashes only (and commits faster)."""
    max_batch_records: int = 2048
    """Group commit: the most records one transaction takes from the queue."""
    writer: Literal["process", "thread"] = "process"
    """Where the group commit runs: a writer process of its own (the default, decision 0013) or
    a thread of the gateway process."""
    preparation: Literal["writer", "inline"] = "writer"
    """Where a ``Submit``'s record is validated, stamped, hashed and indexed: in the writer, just
    before its transaction (the default: with the process writer that work leaves the event
    loop), or ``inline`` on the event loop. A gateway that forwards with trace propagation
    prepares inline: the submission's trace is keyed by the content hash before the commit."""
    unhealthy_after_seconds: float = 30.0
    """How long write failures must persist - transactions failing, none storing anything in
    between - before health turns NOT_SERVING (``store:writes``); the first write that succeeds
    turns it SERVING again. A single transient failure never flips health. A deleted or replaced
    database file turns it NOT_SERVING at once, until a restart."""
