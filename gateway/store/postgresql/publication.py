"""Telling the commit listeners of one replica about every commit, of every replica, in order.

A replica's own commits reach its listeners straight from its writer, before the callers are
answered (as on SQLite). Other replicas' commits are read from the ``versions`` table when a
``NOTIFY`` wakes the feed follower - the notification is only a wake-up call. Both paths go
through one :class:`FeedPublisher`, which keeps the highest sequence its listeners have heard:
what comes before a commit that is not the next one is read from the table first, and what was
already heard is dropped. Since sequences are dense and visible in order (the feed lock), the
listeners hear each version exactly once, in sequence order.

A replica's own ``NOTIFY`` reaches its follower at the same moment as the writer learns of its
``COMMIT``, often first. So while this replica's writer has transactions in flight, notifications
read nothing: the writer publishes its commits itself, with whatever precedes them. Otherwise the
follower would read the writer's own versions back from the table - several transactions in one
hand-over - and the writer would wait for that read before answering its callers. What was
committed by others after the writer's last commit is read when the writer has nothing in
flight any more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from gateway.store.base import StoredRecord

__all__ = ["CATCH_UP_PAGE", "FeedPublisher"]

CATCH_UP_PAGE = 1000
"""Versions read per query when catching up with other replicas' commits."""


class FeedPublisher:
    """The ordered hand-over of committed versions to one replica's listeners (event loop)."""

    def __init__(
        self,
        read_since: Callable[[int, int], Awaitable[list[StoredRecord]]],
        emit: Callable[[Sequence[StoredRecord]], None],
        published: int,
    ) -> None:
        """Args:
        read_since: Reads up to a number of versions after a sequence, in order.
        emit: Hands versions to the listeners.
        published: The sequence the listeners start after (the feed's end at open).
        """
        self._read_since = read_since
        self._emit = emit
        self._lock = asyncio.Lock()
        self.published = published
        """The highest sequence the listeners have heard."""
        self._own_in_flight = 0
        self._notified_meanwhile: int | None = 0
        """The highest sequence notified while the writer had transactions in flight (``None``:
        unknown, read anyway)."""

    def own_commit_started(self) -> None:
        """This replica's writer has a transaction in flight: it will publish it (and what
        precedes it) itself; notifications wait until it has none."""
        self._own_in_flight += 1

    def own_commit_ended(self) -> bool:
        """A transaction of this replica's writer was published, or failed. Returns whether it
        was the last in flight and notifications came meanwhile: the caller then reads the
        table (:meth:`woken`)."""
        self._own_in_flight -= 1
        if self._own_in_flight:
            return False
        notified, self._notified_meanwhile = self._notified_meanwhile, 0
        # Mostly the writer's own notifications, published by now: nothing to read.
        return notified is None or notified > self.published

    async def committed(self, records: Sequence[StoredRecord]) -> None:
        """This replica committed ``records`` (consecutive sequences): publish what precedes
        them and was not heard yet, then them."""
        if not records:
            return
        async with self._lock:
            if records[0].sequence > self.published + 1:
                await self._catch_up(until=records[0].sequence - 1)
            self._hand_over([r for r in records if r.sequence > self.published])

    async def woken(self, last_sequence: int | None = None) -> None:
        """Another replica committed up to ``last_sequence`` (``None``: unknown): publish
        whatever the table holds after what was heard."""
        if last_sequence is not None and last_sequence <= self.published:
            return
        if self._own_in_flight:
            if last_sequence is None or self._notified_meanwhile is None:
                self._notified_meanwhile = None
            else:
                self._notified_meanwhile = max(self._notified_meanwhile, last_sequence)
            return
        async with self._lock:
            await self._catch_up(until=None)

    async def _catch_up(self, *, until: int | None) -> None:
        while True:
            page = await self._read_since(self.published, CATCH_UP_PAGE)
            full = len(page) == CATCH_UP_PAGE
            if until is not None:
                page = [record for record in page if record.sequence <= until]
            if not page:
                return
            self._hand_over(page)
            if not full or (until is not None and self.published >= until):
                return

    def _hand_over(self, records: Sequence[StoredRecord]) -> None:
        # One hand-over per commit, as the writer's own: a page read from the table can hold
        # several transactions (this replica's, committed while an earlier one was decided
        # again, or other replicas'); a transaction's versions share one commit time.
        start = 0
        for end in range(1, len(records) + 1):
            last = end == len(records)
            if last or records[end].committed_at_us != records[start].committed_at_us:
                self.published = records[end - 1].sequence
                self._emit(records[start:end])
                start = end
