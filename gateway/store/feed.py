"""The commit feed: every committed version, in commit order, to any number of subscribers.

A subscriber asks for everything after a sequence number. It is served from a bounded in-memory
window of recent commits when it can be, and from the store when it has fallen behind the window
(a slow consumer or a reconnect after a long absence) - so memory stays bounded, nothing is
skipped, and because the position only ever moves forward, nothing is delivered twice.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Span

from gateway.store.base import RecordStore, StoredRecord
from gateway.telemetry import Telemetry
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import SUBSCRIPTION_DELIVER_SPAN

__all__ = ["CaughtUpMarker", "CommitFeed"]

_STORE_BATCH = 512


@dataclass(frozen=True, slots=True)
class CaughtUpMarker:
    """Yielded once per stream, when it has delivered its backlog: ``sequence`` is that of the
    last version delivered (the starting point when none was), so that it never counts versions
    the subscriber may not see."""

    sequence: int


class CommitFeed:
    """Fans committed versions out to subscribers; attach with :meth:`start`."""

    def __init__(
        self, store: RecordStore, *, window: int = 8192, telemetry: Telemetry | None = None
    ) -> None:
        self._store = store
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        self._window: collections.deque[StoredRecord] = collections.deque()
        self._window_size = window
        self._newest: dict[str, StoredRecord] = {}
        """The newest version in the window of each record it holds: what an older window
        entry's latest version (and the handling it obeys) is now."""
        self._last_sequence = 0
        self._changed = asyncio.Event()
        self._closed = False
        self.subscribers = 0
        """Number of streams currently subscribed (for health and metrics)."""

    async def start(self) -> None:
        """Start following the store's commits."""
        self._store.add_commit_listener(self._on_commit)
        self._last_sequence = max(self._last_sequence, await self._store.last_sequence())

    def close(self) -> None:
        """Wake every subscriber so that its stream ends."""
        self._closed = True
        self._changed.set()

    @property
    def last_sequence(self) -> int:
        """The highest sequence committed so far."""
        return self._last_sequence

    def _on_commit(self, records: Sequence[StoredRecord]) -> None:
        if not records:
            return
        window, newest = self._window, self._newest
        for record in records:
            window.append(record)
            newest[record.record_id] = record
        while len(window) > self._window_size:
            evicted = window.popleft()
            if newest.get(evicted.record_id) is evicted:
                del newest[evicted.record_id]
        self._last_sequence = max(self._last_sequence, records[-1].sequence)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def stream(
        self,
        after_sequence: int,
        kinds: frozenset[str] = frozenset(),
        originating_centres: frozenset[str] = frozenset(),
        *,
        visible: Callable[[StoredRecord], bool],
    ) -> AsyncIterator[StoredRecord | CaughtUpMarker]:
        """Versions committed after ``after_sequence`` that the subscriber may see
        (``visible``, from the visibility gate) and that match the filters, in order; a
        :class:`CaughtUpMarker` once the backlog is delivered. Ends when the feed closes."""
        position = after_sequence
        delivered_up_to = after_sequence
        caught_up = False
        self.subscribers += 1
        try:
            while not self._closed:
                changed = self._changed
                target = self._last_sequence
                lag = target - position
                span: Span | None = None
                if lag > 0:
                    self._telemetry.metrics.subscription_lag(lag)
                    # One span per delivery pass (never per record), under the Subscribe span;
                    # not made current, since the stream yields to its consumer in between.
                    if trace.get_current_span().is_recording():
                        span = self._telemetry.tracer.start_span(
                            SUBSCRIPTION_DELIVER_SPAN, attributes={attr.SUBSCRIPTION_LAG: lag}
                        )
                delivered = 0
                try:
                    while position < target and not self._closed:
                        batch, position = await self._next_batch(
                            position, target, kinds, originating_centres
                        )
                        for record in batch:
                            if not visible(record):
                                continue
                            delivered += 1
                            delivered_up_to = record.sequence
                            yield record
                finally:
                    if span is not None:
                        span.set_attribute(attr.RECORDS_COUNT, delivered)
                        span.end()
                if not caught_up:
                    caught_up = True
                    yield CaughtUpMarker(delivered_up_to)
                if self._last_sequence <= position:
                    await changed.wait()
        finally:
            self.subscribers -= 1

    async def _next_batch(
        self,
        position: int,
        target: int,
        kinds: frozenset[str],
        centres: frozenset[str],
    ) -> tuple[list[StoredRecord], int]:
        """Matching versions after ``position`` and the new position (at most ``target``)."""
        window = self._window
        if window and window[0].sequence <= position + 1:
            # Sequences in the window increase, so the start is found by bisection.
            start = bisect.bisect_right(window, position, key=lambda record: record.sequence)
            records = [window[i] for i in range(start, min(len(window), start + _STORE_BATCH))]
            records = [r for r in records if r.sequence <= target]
            new_position = records[-1].sequence if records else target
            return [self._current(r) for r in records if _matches(r, kinds, centres)], new_position
        read = await self._store.read_since(position, _STORE_BATCH, kinds, centres)
        records = [r for r in read if r.sequence <= target]
        if len(read) < _STORE_BATCH or len(records) < len(read):
            # Every match up to the target has been read (fewer than asked, or past the target).
            return records, target
        return records, records[-1].sequence

    def _current(self, record: StoredRecord) -> StoredRecord:
        """``record`` as read now: with its record's current latest version and handling (a
        version committed after it may have restricted it)."""
        newest = self._newest.get(record.record_id)
        if newest is None or newest is record or newest.latest_version == record.latest_version:
            return record
        return dataclasses.replace(
            record,
            latest_version=newest.latest_version,
            latest_handling_code=newest.latest_handling_code,
            latest_releasable_to=newest.latest_releasable_to,
        )


def _matches(record: StoredRecord, kinds: frozenset[str], centres: frozenset[str]) -> bool:
    return (not kinds or record.kind in kinds) and (
        not centres or record.originating_centre in centres
    )
