"""How far automatic screening got: a durable cursor beside the store (``<store>.screening.db``).

The desk screens committed subjects after their commit, on its own task. A gateway killed in
between has acknowledged subjects it never screened; at the next start the desk screens the
subjects committed after this cursor again (hit records have deterministic ids, so a subject
screened twice stores nothing new). The cursor only ever lags what was really screened: it is
saved after the hits of a batch are stored, at most once a second, and at close.

All calls must come from one thread (the desk's cursor thread).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

__all__ = ["ScreeningCursor"]

_log = logging.getLogger(__name__)

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
        self._failing = False

    def open(self, start: int) -> int:
        """Open (creating it at ``start`` - a store this desk has not screened before is taken
        as screened up to there) and return the sequence screened through. A file that cannot
        be opened is reported and taken as ``start``: screening goes on without a cursor."""
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(_SCHEMA)
                db.execute(
                    "INSERT OR IGNORE INTO cursor (id, screened_through) VALUES (1, ?)", (start,)
                )
                (through,) = db.execute("SELECT screened_through FROM cursor").fetchone()
            except sqlite3.Error:
                db.close()
                raise
        except sqlite3.Error as error:
            _log.warning(
                "the screening cursor %s cannot be opened (%s): a subject committed just before "
                "a crash may go unscreened",
                self.path,
                error,
            )
            return start
        self._db = db
        return int(through)

    def save(self, through: int) -> bool:
        """Advance the cursor to ``through`` (never back); whether it was written.

        A cursor that cannot be written (a full disk) only lags: the subjects after it are
        screened again at the next start, storing nothing new. So a failure is reported, never
        raised - it must not stop screening."""
        if self._db is None:
            return False
        try:
            self._db.execute(
                "UPDATE cursor SET screened_through = max(screened_through, ?)", (through,)
            )
        except sqlite3.Error as error:
            if not self._failing:
                _log.warning(
                    "the screening cursor %s cannot be saved (%s): after a crash, the subjects "
                    "committed since it was last saved are screened again",
                    self.path,
                    error,
                )
            self._failing = True
            return False
        if self._failing:
            _log.warning("the screening cursor %s is saved again", self.path)
        self._failing = False
        return True

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
