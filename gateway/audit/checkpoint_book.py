"""Where a centre keeps audit checkpoints: its own, and those its peers deposit with it.

The checkpoints live in the audit log's own SQLite file, in a table of their own: they are kept
and archived with the log, but never enter its hash chain. A peer's checkpoint is evidence about
*that peer's* log; chaining it into this centre's log would tie the two logs' verification
together for no gain. Writes are rare (one per checkpoint and peer) and run off the event loop.

Each distinct checkpoint is kept once (a retried deposit is not a second checkpoint); lists are
newest first in the order the checkpoints were kept.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gateway.errors import AuditError
from liaison.v1 import federation_pb2

__all__ = ["CheckpointBook", "CheckpointBookError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    id INTEGER PRIMARY KEY,
    centre TEXT NOT NULL,
    entries INTEGER NOT NULL,
    checkpoint BLOB NOT NULL UNIQUE,
    kept_at REAL NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS audit_checkpoints_by_centre ON audit_checkpoints (centre, id);
"""
_T = TypeVar("_T")


class CheckpointBookError(AuditError):
    """The checkpoint table cannot be opened, read or written."""


class CheckpointBook:
    """The checkpoints kept in one audit log file. Open with :meth:`open`, close with
    :meth:`close`."""

    def __init__(self, path: Path) -> None:
        """A book in the audit log file at ``path`` (opened by :meth:`open`)."""
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        """Open the file and create the table when missing.

        Raises:
            CheckpointBookError: the file cannot be opened or the table created.
        """
        await self._run(self._open)

    def _open(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
            connection.execute("PRAGMA synchronous = FULL")
            connection.executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise CheckpointBookError(
                f"cannot open the checkpoints of the audit log {self.path}: {error}"
            ) from None
        self._connection = connection

    async def close(self) -> None:
        """Close the file."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.to_thread(self._locked, connection.close)

    async def keep(self, checkpoint: federation_pb2.AuditCheckpoint, *, kept_at: float) -> int:
        """Keep ``checkpoint`` (once: keeping it again changes nothing).

        Returns:
            How many checkpoints of its centre are kept now.
        """
        blob = checkpoint.SerializeToString(deterministic=True)

        def keep(connection: sqlite3.Connection) -> int:
            with connection:
                connection.execute(
                    "INSERT OR IGNORE INTO audit_checkpoints (centre, entries, checkpoint, kept_at)"
                    " VALUES (?, ?, ?, ?)",
                    (checkpoint.centre, checkpoint.entries, blob, kept_at),
                )
            (count,) = connection.execute(
                "SELECT count(*) FROM audit_checkpoints WHERE centre = ?", (checkpoint.centre,)
            ).fetchone()
            return int(count)

        return await self._query(keep)

    async def latest(self, centre: str) -> federation_pb2.AuditCheckpoint | None:
        """The checkpoint of ``centre`` kept last, if any."""
        found = await self.newest(centre, limit=1)
        return found[0] if found else None

    async def most_entries(self, centre: str) -> federation_pb2.AuditCheckpoint | None:
        """The checkpoint of ``centre`` with the most entries (the furthest its log reached)."""
        rows = await self._query(
            lambda connection: connection.execute(
                "SELECT checkpoint FROM audit_checkpoints WHERE centre = ? "
                "ORDER BY entries DESC, id DESC LIMIT 1",
                (centre,),
            ).fetchall()
        )
        return _parsed(rows[0][0]) if rows else None

    async def newest(
        self, centre: str = "", limit: int = 100
    ) -> list[federation_pb2.AuditCheckpoint]:
        """Checkpoints newest first: at most ``limit`` per centre, of ``centre`` only when given."""
        if centre:
            query = (
                "SELECT checkpoint FROM audit_checkpoints WHERE centre = ? ORDER BY id DESC LIMIT ?"
            )
            parameters: tuple[str | int, ...] = (centre, limit)
        else:
            query = (
                "SELECT checkpoint FROM (SELECT checkpoint, centre, id, row_number() OVER "
                "(PARTITION BY centre ORDER BY id DESC) AS rank FROM audit_checkpoints) "
                "WHERE rank <= ? ORDER BY centre, id DESC"
            )
            parameters = (limit,)
        rows = await self._query(
            lambda connection: connection.execute(query, parameters).fetchall()
        )
        return [_parsed(blob) for (blob,) in rows]

    async def _query(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        connection = self._connection
        if connection is None:
            raise CheckpointBookError("the checkpoint book is not open")

        def run() -> _T:
            try:
                return self._locked(lambda: work(connection))
            except sqlite3.Error as error:
                raise CheckpointBookError(
                    f"the checkpoints of the audit log {self.path} cannot be used: {error}"
                ) from None

        return await asyncio.to_thread(run)

    async def _run(self, work: Callable[[], None]) -> None:
        await asyncio.to_thread(self._locked, work)

    def _locked(self, work: Callable[[], _T]) -> _T:
        with self._lock:
            return work()


def _parsed(blob: bytes) -> federation_pb2.AuditCheckpoint:
    checkpoint = federation_pb2.AuditCheckpoint()
    checkpoint.ParseFromString(blob)
    return checkpoint
