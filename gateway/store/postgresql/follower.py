"""The feed follower: wakes this replica's feed when another replica commits, and watches the
database connection.

It holds one connection of its own that ``LISTEN``\\s on the schema's feed channel. A
notification (sent by a committing writer, delivered at its commit) carries the last sequence of
that commit, and only makes the follower read the table after what its listeners heard
(:class:`~gateway.store.postgresql.publication.FeedPublisher`): a notification lost while
disconnected costs nothing, the reconnect reads the table. Every ``POLL_SECONDS`` without a
notification it reads anyway (a dropped notification queue cannot stall the feed) - which also
checks the connection.

A broken connection makes the store unavailable at once (:class:`DatabaseLink`); the follower
reconnects with a growing pause, and the store is available again on the first success.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg

from gateway.store.base import StoreError
from gateway.store.postgresql.link import DatabaseLink
from gateway.store.postgresql.publication import FeedPublisher
from gateway.store.postgresql.writer import describe_database_failure

__all__ = ["FeedFollower"]

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
"""Longest wait between two reads of the feed when no notification comes."""

RECONNECT_PAUSES = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
"""Pauses between reconnection attempts; the last repeats."""

CONNECT_TIMEOUT_SECONDS = 5


class FeedFollower:
    """Owns the listening connection and the task that follows the feed."""

    def __init__(
        self, dsn: str, channel: str, publisher: FeedPublisher, link: DatabaseLink
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._publisher = publisher
        self._link = link
        self._task: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self.backend_pid: int | None = None
        """The listening connection's backend process id (tests terminate it)."""

    async def start(self) -> None:
        """Connect and listen, then follow in the background.

        Raises:
            psycopg.Error: the first connection failed.
        """
        await self._listen()
        self._task = asyncio.ensure_future(self._follow())

    async def stop(self) -> None:
        """Stop following and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(
            self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
        try:
            # The channel is built from a checked schema name; LISTEN takes no parameter.
            await connection.execute(f'LISTEN "{self._channel}"')
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.backend_pid = connection.info.backend_pid

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error):
                await connection.close()

    async def _follow(self) -> None:
        while True:
            try:
                await self._receive()
            except (psycopg.Error, OSError, StoreError) as error:
                self._link.disconnected(describe_database_failure(error))
            await self._close()
            await self._reconnect()

    async def _receive(self) -> None:
        connection = self._connection
        assert connection is not None
        # Whatever was committed before the LISTEN took effect is read now.
        await self._publisher.woken()
        while True:
            async for notification in connection.notifies(timeout=POLL_SECONDS):
                try:
                    last = int(notification.payload)
                except ValueError:
                    last = None
                # Cheap when this replica published that commit itself (its own NOTIFY).
                await self._publisher.woken(last)
            # Every POLL_SECONDS: check the connection, and read in case a notification was lost.
            await connection.execute("SELECT 1")
            await self._publisher.woken()

    async def _reconnect(self) -> None:
        attempt = 0
        while True:
            await asyncio.sleep(RECONNECT_PAUSES[min(attempt, len(RECONNECT_PAUSES) - 1)])
            attempt += 1
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                self._link.disconnected(describe_database_failure(error))
                continue
            self._link.connected()
            return
