"""How far automatic screening got: a durable cursor beside the store (``<store>.screening.db``).

The desk screens committed subjects after their commit, on its own task. A gateway killed in
between has acknowledged subjects it never screened; at the next start the desk screens the
subjects committed after this cursor again (hit records have deterministic ids, so a subject
screened twice stores nothing new). The cursor only ever lags what was really screened: it is
saved after the hits of a batch are stored, at most once a second, and at close.

All calls must come from one thread (the desk's worker).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["ScreeningCursor"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    screened_through INTEGER NOT NULL
);
"""


class ScreeningCursor:
    """The highest committed sequence whose subjects automatic screening has handled."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def open(self, start: int) -> int:
        """Open (creating it at ``start`` - a store this desk has not screened before is taken
        as screened up to there) and return the sequence screened through."""
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        db.execute("INSERT OR IGNORE INTO cursor (id, screened_through) VALUES (1, ?)", (start,))
        self._db = db
        (through,) = db.execute("SELECT screened_through FROM cursor").fetchone()
        return int(through)

    def save(self, through: int) -> None:
        """Advance the cursor to ``through`` (never back)."""
        if self._db is not None:
            self._db.execute(
                "UPDATE cursor SET screened_through = max(screened_through, ?)", (through,)
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
