"""Group commit, written once: which queued requests share the next transaction.

Both writers - the thread (:mod:`gateway.store.writer`) and the writer process
(:mod:`gateway.store.writer_process`) - keep the requests that have arrived in a
:class:`GroupCommit` and ask it for each next transaction, so that they commit by the same rules:

* the requests queued together share one transaction (one fsync), up to ``max_records`` records;
* one caller's items always share a transaction (a request is never split), so a request larger
  than the limit goes alone;
* an ingestion (one payload's records and its idempotency row) is a transaction of its own;
* after a transaction that took several requests, the writer waits a moment (``commit_delay``)
  for more before the next one: under concurrent load a commit's fixed cost is then shared by
  more requests, while a lone caller is committed at once. PostgreSQL's ``commit_delay`` /
  ``commit_siblings`` do the same.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

__all__ = ["COMMIT_DELAY_SECONDS", "CONCURRENT_REQUESTS", "GroupCommit"]

COMMIT_DELAY_SECONDS = 0.002
"""How long a writer waits for more requests after a busy transaction (decision 0013)."""

CONCURRENT_REQUESTS = 4
"""A transaction that took at least this many requests counts as busy."""

Request = TypeVar("Request")


class GroupCommit(Generic[Request]):
    """The requests waiting for a transaction, and the rule that groups them."""

    def __init__(
        self,
        *,
        max_records: int,
        size_of: Callable[[Request], int],
        alone: Callable[[Request], bool],
        commit_delay: float = COMMIT_DELAY_SECONDS,
        concurrent_requests: int = CONCURRENT_REQUESTS,
    ) -> None:
        """Args:
        max_records: Most records per transaction (a larger single request goes alone).
        size_of: How many records a request writes.
        alone: Whether a request needs a transaction of its own (an ingestion).
        commit_delay: How long to wait for more requests after a busy transaction.
        concurrent_requests: How many requests make a transaction busy.
        """
        self._max_records = max_records
        self._size_of = size_of
        self._alone = alone
        self._commit_delay = commit_delay
        self._concurrent = concurrent_requests
        self._pending: collections.deque[Request] = collections.deque()
        self._previous = 0

    def add(self, requests: Iterable[Request]) -> None:
        """Queue requests, in arrival order."""
        self._pending.extend(requests)

    @property
    def pending(self) -> bool:
        """Whether a request is waiting."""
        return bool(self._pending)

    def linger(self) -> float:
        """How long to keep taking arrivals before the next transaction (0: take it now)."""
        return self._commit_delay if self._previous >= self._concurrent else 0.0

    def take(self) -> list[Request]:
        """The requests of the next transaction, in arrival order (none when nothing waits)."""
        pending = self._pending
        if not pending:
            return []
        first = pending.popleft()
        if self._alone(first):
            self._previous = 1
            return [first]
        batch = [first]
        total = self._size_of(first)
        while (
            pending
            and not self._alone(pending[0])
            and total + self._size_of(pending[0]) <= self._max_records
        ):
            request = pending.popleft()
            batch.append(request)
            total += self._size_of(request)
        self._previous = len(batch)
        return batch
