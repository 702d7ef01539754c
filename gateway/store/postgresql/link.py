"""Whether a replica can use its database: the connection and the writes, as one health signal.

Two things make a PostgreSQL store unavailable: the feed's listening connection is lost (the
server is down, the backend was terminated, the network is cut) - said at once, since every
query would fail too - and write failures that persist (:class:`~gateway.store.health.WriteHealth`
decides). The store is available again when both are over: the listener reconnected and no
persistent write failure is pending. Nothing needs a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gateway.store.health import WriteHealth

__all__ = ["DatabaseLink"]

logger = logging.getLogger(__name__)


class DatabaseLink:
    """One availability signal, on the event loop, from the connection and the writes."""

    def __init__(self, writes: WriteHealth) -> None:
        self._disconnected: str | None = None
        self._writes_failing: str | None = None
        self._on_unavailable: list[Callable[[str], None]] = []
        self._on_recovered: list[Callable[[], None]] = []
        writes.on_unhealthy(self._writes_unhealthy)
        writes.on_recovered(self._writes_recovered)

    @property
    def available(self) -> bool:
        """Whether the database is reachable and writes are not failing persistently."""
        return self._disconnected is None and self._writes_failing is None

    def on_unavailable(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener`` with the reason when the store becomes unavailable."""
        return _register(self._on_unavailable, listener)

    def on_recovered(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when the store is available again."""
        return _register(self._on_recovered, listener)

    def disconnected(self, reason: str) -> None:
        """The connection to the database is lost (``reason`` names no record content)."""
        if self._disconnected is not None:
            return
        logger.error("store database unreachable: %s", reason)
        was_available = self.available
        self._disconnected = reason
        if was_available:
            _call(self._on_unavailable, f"the database is unreachable: {reason}")

    def connected(self) -> None:
        """The connection to the database works (again)."""
        if self._disconnected is None:
            return
        logger.warning("store database reachable again")
        self._disconnected = None
        if self.available:
            _call(self._on_recovered)

    def _writes_unhealthy(self, reason: str) -> None:
        was_available = self.available
        self._writes_failing = reason
        if was_available:
            _call(self._on_unavailable, reason)

    def _writes_recovered(self) -> None:
        self._writes_failing = None
        if self.available:
            _call(self._on_recovered)


def _call(listeners: list[Callable[..., None]], *args: object) -> None:
    for listener in tuple(listeners):
        try:
            listener(*args)
        except Exception:
            logger.exception("store availability listener %r failed", listener)


def _register(registry: list[Callable[..., None]], item: Callable[..., None]) -> Callable[[], None]:
    registry.append(item)

    def unregister() -> None:
        if item in registry:
            registry.remove(item)

    return unregister
