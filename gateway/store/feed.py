"""The commit feed: every committed version, in commit order, to any number of subscribers.

A subscriber asks for everything after a sequence number. Until it has caught up it reads on its
own: from a bounded in-memory window of recent commits when it can, from the store when it has
fallen behind the window (a reconnect after a long absence). Once caught up it is *live*: each
commit is fanned out to every live subscriber by the commit listener itself, once per commit
batch, on the versions the commit already decoded. Filtering (kinds, originating centres, the
visibility gate) is done there once per subscriber, and only a subscriber that something matched
is woken: one that matches nothing costs a predicate per version and no task switch.

What matched waits in the subscriber's own bounded buffer. A subscriber whose consumer is slower
than the commits fills it; it then leaves the live set (its buffer is dropped) and reads from the
window or the store again from its position, so a slow subscriber never blocks the writer or the
others, memory stays bounded, and because the position only ever moves forward, nothing is skipped
and nothing delivered twice.

The feed also serializes each version once for all subscribers (:meth:`CommitFeed.event`): a
version's ``SubscribeResponse`` is the same bytes whoever receives it.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextvars
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Span

from gateway.store.base import RecordStore, StoredRecord
from gateway.telemetry import Telemetry
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import SUBSCRIPTION_DELIVER_SPAN
from liaison.v1 import exchange_pb2

__all__ = [
    "SUBSCRIBER_BUFFER",
    "CaughtUpMarker",
    "CommitFeed",
    "SerializedEvent",
    "batch_event",
    "record_metadata",
]

_STORE_BATCH = 512

SUBSCRIBER_BUFFER = 1024
"""Matching versions a live subscriber may have waiting before it falls back to reading the
window or the store from its position (its buffer is then dropped)."""


@dataclass(frozen=True, slots=True)
class CaughtUpMarker:
    """Yielded once per stream, when it has delivered its backlog: ``sequence`` is that of the
    last version delivered (the starting point when none was), so that it never counts versions
    the subscriber may not see."""

    sequence: int


@dataclass(frozen=True, slots=True)
class SerializedEvent:
    """A ``SubscribeResponse`` carrying one version, serialized once for every subscriber.

    The services' response serializers send ``data`` as it is; the record guard reads the audited
    ids from ``record_ids``.
    """

    data: bytes
    record_ids: tuple[str, ...]


def batch_event(events: Sequence[SerializedEvent]) -> SerializedEvent:
    """One ``SubscribeResponse`` carrying ``events`` in ``record_events``, spliced from their
    serialized single-version responses without parsing them again.

    A single-version response is ``record_event`` (field 1) holding the ``RecordEvent``: byte
    for byte one element of ``RecordEvents.events`` (also field 1). The batch is therefore their
    concatenation, wrapped as ``record_events`` (field 3, length-delimited).
    """
    inner = b"".join(event.data for event in events)
    data = _RECORD_EVENTS_TAG + _varint(len(inner)) + inner
    return SerializedEvent(data, tuple(i for event in events for i in event.record_ids))


_RECORD_EVENTS_TAG = bytes([(3 << 3) | 2])
"""``SubscribeResponse.record_events``: field 3, wire type 2 (length-delimited)."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


class _Subscription:
    """One stream's state as the fan-out sees it."""

    __slots__ = ("buffer", "centres", "context", "kinds", "live", "seen", "visible", "wake")

    def __init__(
        self,
        kinds: frozenset[str],
        centres: frozenset[str],
        visible: Callable[[StoredRecord], bool],
    ) -> None:
        self.kinds = kinds
        self.centres = centres
        self.visible = visible
        # The gate's predicate audits what it hides in the context of the stream's call (who is
        # calling, where its denials are gathered): the fan-out runs it there.
        self.context = contextvars.copy_context()
        self.buffer: collections.deque[StoredRecord] = collections.deque()
        self.live = False
        self.seen = 0
        """The last sequence the fan-out has considered for this subscriber."""
        self.wake = asyncio.Event()

    def select(self, records: Sequence[StoredRecord]) -> list[StoredRecord]:
        kinds, centres, visible = self.kinds, self.centres, self.visible
        return [
            record
            for record in records
            if (not kinds or record.kind in kinds)
            and (not centres or record.originating_centre in centres)
            and visible(record)
        ]


class CommitFeed:
    """Fans committed versions out to subscribers; attach with :meth:`start`."""

    def __init__(
        self,
        store: RecordStore,
        *,
        window: int = 8192,
        buffer: int = SUBSCRIBER_BUFFER,
        telemetry: Telemetry | None = None,
    ) -> None:
        """A feed of ``store``'s commits.

        Args:
            store: The store whose commits are followed (and read by subscribers behind).
            window: Recent versions kept in memory for subscribers catching up.
            buffer: Matching versions a live subscriber may have waiting (see
                :data:`SUBSCRIBER_BUFFER`).
            telemetry: Lag metric and delivery spans; none by default.
        """
        self._store = store
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        self._window: collections.deque[StoredRecord] = collections.deque()
        self._window_size = window
        self._buffer_size = buffer
        self._newest: dict[str, StoredRecord] = {}
        """The newest version in the window of each record it holds: what an older window
        entry's latest version (and the handling it obeys) is now."""
        self._events: dict[tuple[int, int], SerializedEvent] = {}
        self._last_sequence = 0
        self._live: dict[_Subscription, None] = {}
        self._closed = False
        self.subscribers = 0
        """Number of streams currently subscribed (for health and metrics)."""
        self.fallbacks = 0
        """How many times a live subscriber's buffer overflowed and it went back to reading
        the window or the store (for tests and diagnosis)."""

    async def start(self) -> None:
        """Start following the store's commits."""
        self._store.add_commit_listener(self._on_commit)
        self._last_sequence = max(self._last_sequence, await self._store.last_sequence())

    def close(self) -> None:
        """Wake every subscriber so that its stream ends."""
        self._closed = True
        for subscription in self._live:
            subscription.wake.set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: streams that end then end because of it."""
        return self._closed

    @property
    def last_sequence(self) -> int:
        """The highest sequence committed so far."""
        return self._last_sequence

    def event(self, record: StoredRecord) -> SerializedEvent:
        """``record`` as the ``SubscribeResponse`` that carries it, serialized once for all."""
        key = (record.sequence, record.latest_version)
        event = self._events.get(key)
        if event is None:
            response = exchange_pb2.SubscribeResponse(
                record_event=exchange_pb2.RecordEvent(
                    record=record.to_message(), metadata=record_metadata(record)
                )
            )
            event = SerializedEvent(response.SerializeToString(), (record.record_id,))
            events = self._events
            events[key] = event
            if len(events) > self._window_size:
                del events[next(iter(events))]  # the oldest: dicts keep insertion order
        return event

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
        last = records[-1].sequence
        self._last_sequence = max(self._last_sequence, last)
        if self._live:
            self._fan_out([self._current(record) for record in records], last)

    def _fan_out(self, records: list[StoredRecord], last: int) -> None:
        """Hand one commit batch to every live subscriber it concerns."""
        limit = self._buffer_size
        overflowed: list[_Subscription] = []
        for subscription in self._live:
            matched = subscription.context.run(subscription.select, records)
            subscription.seen = last
            if not matched:
                continue
            buffer = subscription.buffer
            if len(buffer) + len(matched) > limit:
                overflowed.append(subscription)
            else:
                buffer.extend(matched)
            subscription.wake.set()
        for subscription in overflowed:
            # Behind by more than its buffer: it reads the window or the store from its
            # position instead, and holds nothing here meanwhile.
            del self._live[subscription]
            subscription.live = False
            subscription.buffer.clear()
            self.fallbacks += 1

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
        :class:`CaughtUpMarker` once the backlog is delivered. Ends when the feed closes
        (:attr:`closed` then says so)."""
        batches = self.stream_batches(
            after_sequence, kinds, originating_centres, visible=visible, batch_size=1
        )
        try:
            async for item in batches:
                if isinstance(item, CaughtUpMarker):
                    yield item
                else:
                    for record in item:
                        yield record
        finally:
            # Closing this generator must end the subscription now, not when the inner one is
            # garbage-collected (the subscriber count and the live set say who listens).
            await batches.aclose()

    async def stream_batches(
        self,
        after_sequence: int,
        kinds: frozenset[str] = frozenset(),
        originating_centres: frozenset[str] = frozenset(),
        *,
        visible: Callable[[StoredRecord], bool],
        batch_size: int,
    ) -> AsyncGenerator[list[StoredRecord] | CaughtUpMarker, None]:
        """:meth:`stream` in batches of up to ``batch_size`` versions: a batch holds what is
        ready at once (never waits to fill), so batching adds no latency; it only spares a
        subscriber that asked for it one message per version when versions come fast."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        subscription = _Subscription(kinds, originating_centres, visible)
        position = after_sequence
        """Every version up to here was delivered or does not concern this subscriber."""
        delivered_up_to = after_sequence
        caught_up = False
        self.subscribers += 1
        try:
            while not self._closed:
                if subscription.live:
                    buffer = subscription.buffer
                    if not buffer:
                        position = subscription.seen
                        subscription.wake.clear()
                        await subscription.wake.wait()
                        continue
                    span = self._pass_span(position)
                    delivered = 0
                    try:
                        while buffer and subscription.live and not self._closed:
                            taken: list[StoredRecord] = []
                            while buffer and len(taken) < batch_size:
                                taken.append(buffer.popleft())
                            position = taken[-1].sequence
                            # A later version may have restricted them since they were filtered.
                            out = await self._as_of_now(taken, taken[0].sequence, visible)
                            if out:
                                delivered += len(out)
                                delivered_up_to = position
                                yield out
                    finally:
                        _end(span, delivered)
                    continue
                span = self._pass_span(position)
                delivered = 0
                try:
                    while position < self._last_sequence and not self._closed:
                        read_at = self._last_sequence
                        batch, position = await self._next_batch(
                            position, self._last_sequence, kinds, originating_centres
                        )
                        shown = [record for record in batch if visible(record)]
                        for start in range(0, len(shown), batch_size):
                            # The subscriber may have held the stream at the last yield for as
                            # long as it liked: what it gets obeys the handling of now.
                            out = await self._as_of_now(
                                shown[start : start + batch_size], read_at, visible
                            )
                            if not out:
                                continue
                            delivered += len(out)
                            delivered_up_to = out[-1].sequence
                            yield out
                finally:
                    _end(span, delivered)
                if self._ended():
                    break
                if position >= self._last_sequence:
                    # Caught up, with no await since the check: every later commit is fanned out
                    # to this subscriber.
                    subscription.live = True
                    subscription.seen = position
                    subscription.buffer.clear()
                    subscription.wake.clear()
                    self._live[subscription] = None
                if not caught_up:
                    caught_up = True
                    yield CaughtUpMarker(delivered_up_to)
        finally:
            self._live.pop(subscription, None)
            subscription.buffer.clear()
            self.subscribers -= 1

    def _ended(self) -> bool:
        # A call, not the attribute: the checks above it are separated by awaits and yields.
        return self._closed

    def _pass_span(self, position: int) -> Span | None:
        """Record the lag at the start of a delivery pass, and start its span when traced."""
        lag = self._last_sequence - position
        if lag <= 0:
            return None
        self._telemetry.metrics.subscription_lag(lag)
        # One span per delivery pass (never per record), under the Subscribe span; not made
        # current, since the stream yields to its consumer in between.
        if trace.get_current_span().is_recording():
            return self._telemetry.tracer.start_span(
                SUBSCRIPTION_DELIVER_SPAN, attributes={attr.SUBSCRIPTION_LAG: lag}
            )
        return None

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

    async def _as_of_now(
        self,
        records: list[StoredRecord],
        known_at: int,
        visible: Callable[[StoredRecord], bool],
    ) -> list[StoredRecord]:
        """``records``, whose handling is known as of sequence ``known_at``, as read now:
        without those a later version of their record has hidden since. The window tells what
        was committed since, unless it has moved past ``known_at``; then the store does."""
        if self._last_sequence <= known_at:
            return records
        window = self._window
        if window and window[0].sequence <= known_at + 1:
            current = [self._current(record) for record in records]
        else:
            found = await self._store.get_versions([(r.record_id, r.version) for r in records])
            current = [
                now if now is not None else record
                for record, now in zip(records, found, strict=True)
            ]
        return [
            now
            for record, now in zip(records, current, strict=True)
            if now.latest_version == record.latest_version or visible(now)
        ]

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


def record_metadata(stored: StoredRecord) -> exchange_pb2.RecordMetadata:
    """The ``RecordMetadata`` of a stored version (sequence, hash, latest version, commit time)."""
    metadata = exchange_pb2.RecordMetadata(
        sequence=stored.sequence,
        content_sha256=stored.content_sha256,
        latest_version=stored.latest_version,
    )
    metadata.committed_at.seconds, micros = divmod(stored.committed_at_us, 1_000_000)
    metadata.committed_at.nanos = micros * 1000
    return metadata


def _end(span: Span | None, delivered: int) -> None:
    if span is not None:
        span.set_attribute(attr.RECORDS_COUNT, delivered)
        span.end()


def _matches(record: StoredRecord, kinds: frozenset[str], centres: frozenset[str]) -> bool:
    return (not kinds or record.kind in kinds) and (
        not centres or record.originating_centre in centres
    )
