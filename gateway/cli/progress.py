"""A progress line on stderr, redrawn in place - only when stderr is a terminal, so that
scripts and logs see just the command's own lines."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Final, TextIO

__all__ = ["Progress"]

_ERASE: Final = "\r\x1b[K"
"""Back to the start of the line, and clear it."""


class Progress:
    """One line of progress, redrawn at most every ``interval`` seconds.

    Safe to update from several threads (the blocking client reads a stream's records on a gRPC
    thread).

    Args:
        stream: Where the line goes; the process's stderr when ``None``.
        interval: Least seconds between two redraws.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = self._stream.isatty()
        """Whether anything is drawn (stderr is a terminal)."""
        self._interval = interval
        self._clock = clock
        self._drawn_at: float | None = None
        self._shown = False
        self._lock = threading.Lock()

    def show(self, describe: Callable[[], str], *, now: bool = False) -> None:
        """Redraw the line with ``describe()``, unless it was drawn less than ``interval`` ago
        (``now``: redraw anyway). ``describe`` is only called when the line is drawn."""
        if not self.enabled:
            return
        with self._lock:
            moment = self._clock()
            if not now and self._drawn_at is not None and moment - self._drawn_at < self._interval:
                return
            self._drawn_at = moment
            self._stream.write(_ERASE + describe())
            self._stream.flush()
            self._shown = True

    def print(self, line: str) -> None:
        """Print ``line`` on the stream, on a line of its own; the progress line comes back with
        the next :meth:`show`."""
        with self._lock:
            self._erase()
            print(line, file=self._stream)

    def clear(self) -> None:
        """Erase the line (when done, before the summary)."""
        with self._lock:
            self._erase()

    def _erase(self) -> None:
        if self._shown:
            self._stream.write(_ERASE)
            self._stream.flush()
            self._shown = False
