"""Whether the store's writes work: failures that persist, a database file that went away.

Both writers (the thread and the process) tell a :class:`WriteHealth`, on the event loop, what
became of each transaction. It decides what the gateway's health says about writes, and how loud
the log is about them:

* a transaction that failed is logged at once when it is the first of a run of failures, then at
  most once per ``log_interval`` seconds, with the count since the last line: a full disk under
  load is a few lines a minute, not one per transaction;
* failures that persist - a run of failures, with no write succeeding in between, that has lasted
  ``unhealthy_after`` seconds - make the writes *unhealthy* (the gateway turns NOT_SERVING). A
  single transient failure does not;
* the first transaction that writes something again ends the run: the writes are healthy again
  (a transaction that wrote nothing, only duplicates, proves nothing and changes nothing);
* a *lost* store (its database file was deleted or replaced, its writer process ended) refuses
  every write until the gateway restarts: unhealthy at once, for good, with one ERROR line.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

__all__ = ["FAILURE_LOG_INTERVAL_SECONDS", "WriteHealth"]

logger = logging.getLogger(__name__)

FAILURE_LOG_INTERVAL_SECONDS = 10.0
"""At most one log line per this many seconds about failed transactions (with their count)."""


class WriteHealth:
    """Tracks the outcome of every transaction, on the event loop; see the module documentation."""

    def __init__(
        self,
        unhealthy_after: float,
        *,
        log_interval: float = FAILURE_LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        unhealthy_after: Seconds a run of failures must last before the writes are unhealthy.
        log_interval: Seconds between two log lines about failed transactions.
        clock: Monotonic seconds (tests inject one).

        Raises:
            ValueError: ``unhealthy_after`` or ``log_interval`` is not a positive finite number.
        """
        for name, value in (("unhealthy_after", unhealthy_after), ("log_interval", log_interval)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        self._unhealthy_after = unhealthy_after
        self._log_interval = log_interval
        self._clock = clock
        self._failing_since: float | None = None
        self._failures = 0
        """Failed transactions in the current run."""
        self._unlogged = 0
        """Failed transactions not yet counted in a log line."""
        self._logged_at = -math.inf
        self._unhealthy = False
        self._lost: str | None = None
        self._on_unhealthy: list[Callable[[str], None]] = []
        self._on_recovered: list[Callable[[], None]] = []

    @property
    def healthy(self) -> bool:
        """Whether writes are considered to work (no persistent failure, not lost)."""
        return not self._unhealthy

    @property
    def lost(self) -> str | None:
        """Why the store refuses every write until a restart; ``None`` while it does not."""
        return self._lost

    @property
    def failures(self) -> int:
        """Failed transactions since the last one that wrote something."""
        return self._failures

    def on_unhealthy(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener`` with the reason when the writes become unhealthy (or are lost)."""
        return _register(self._on_unhealthy, listener)

    def on_recovered(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when unhealthy writes work again (never after a loss)."""
        return _register(self._on_recovered, listener)

    def committed(self, *, wrote: bool) -> None:
        """A transaction committed; ``wrote``: it stored something (not only duplicates)."""
        if not wrote or self._failing_since is None or self._lost is not None:
            return
        lasted = self._clock() - self._failing_since
        logger.warning(
            "store writes work again after %d failed transaction(s) in %.1f s",
            self._failures,
            lasted,
        )
        self._failing_since = None
        self._failures = self._unlogged = 0
        self._logged_at = -math.inf
        if self._unhealthy:
            self._unhealthy = False
            _call(self._on_recovered)

    def failed(self, reason: str, requests: int) -> None:
        """A transaction of ``requests`` callers' requests failed and was rolled back.

        ``reason`` names the failure (SQLite's error name and message, or an exception class),
        never record content.
        """
        if self._lost is not None:
            return  # said once, loudly; every write is refused from now on
        now = self._clock()
        if self._failing_since is None:
            self._failing_since = now
        self._failures += 1
        self._unlogged += 1
        if now - self._logged_at >= self._log_interval:
            logger.error(
                "store transaction(s) failed and were rolled back: %d since the last report "
                "(%d request(s) in the latest), %d in a row over %.1f s; latest: %s",
                self._unlogged,
                requests,
                self._failures,
                now - self._failing_since,
                reason,
            )
            self._unlogged = 0
            self._logged_at = now
        lasted = now - self._failing_since
        if not self._unhealthy and lasted >= self._unhealthy_after:
            self._unhealthy = True
            _call(
                self._on_unhealthy,
                f"writes have failed for {lasted:.1f} s ({self._failures} transaction(s) in a "
                f"row, none succeeded): {reason}",
            )

    def lose(self, reason: str) -> None:
        """The store refuses every write from now on (until a restart), because of ``reason``."""
        if self._lost is not None:
            return
        self._lost = reason
        logger.error("store writes refused until the gateway restarts: %s", reason)
        self._unhealthy = True
        _call(self._on_unhealthy, reason)


def _call(listeners: list[Callable[..., None]], *args: object) -> None:
    for listener in tuple(listeners):
        try:
            listener(*args)
        except Exception:
            logger.exception("store write health listener %r failed", listener)


def _register(registry: list[Callable[..., None]], item: Callable[..., None]) -> Callable[[], None]:
    registry.append(item)

    def unregister() -> None:
        if item in registry:
            registry.remove(item)

    return unregister
