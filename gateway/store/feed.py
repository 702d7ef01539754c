"""The commit feed: every committed version, in commit order, to any number of subscribers.

A subscriber asks for everything after a sequence number. Until it has caught up it reads on its
own: from a bounded in-memory window of recent commits when it can, from the store when it has
fallen behind the window (a reconnect after a long absence). Once caught up it is *live*: the
commit listener hands each commit's versions, already decoded, to the fan-out
(:mod:`gateway.store.fanout`), which filters them once per group of identical subscriptions
(same reader, same filters), serializes what matched once per group and hands it to each
member's bounded queue, at a pace that keeps each wake-up worth what it costs.
A member whose consumer is slower than the commits overflows its queue; it then leaves its
group and reads from the window or the store again from its position, so a slow subscriber
never blocks the writer or the others, memory stays bounded, and because the position only ever
moves forward, nothing is skipped and nothing delivered twice.

Whatever a subscriber receives obeys the handling of the moment it is sent: a version restricted
by a later one while it waited (in a queue, or at a ``yield`` the consumer did not resume) is not
delivered.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Span

from gateway.store.base import RecordStore, StoredRecord
from gateway.store.fanout import (
    MAX_PACE,
    MEMBERS_PER_VERSION,
    PACE_PER_MEMBER,
    FanOut,
    FeedReader,
    Member,
)
from gateway.store.feed_events import SerializedEvent, batch_event, record_metadata, single_event
from gateway.telemetry import Telemetry
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import SUBSCRIPTION_DELIVER_SPAN

__all__ = [
    "SUBSCRIBER_BUFFER",
    "CaughtUpMarker",
    "CommitFeed",
    "FeedReader",
    "SerializedEvent",
    "batch_event",
    "record_metadata",
]

_STORE_BATCH = 512

SUBSCRIBER_BUFFER = 1024
"""Matching versions a live subscriber may have waiting before it falls back to reading the
window or the store from its position (its queue is then dropped)."""


@dataclass(frozen=True, slots=True)
class CaughtUpMarker:
    """Yielded once per stream, when it has delivered its backlog: ``sequence`` is that of the
    last version delivered (the starting point when none was), so that it never counts versions
    the subscriber may not see."""

    sequence: int


_Item = tuple[list[StoredRecord], SerializedEvent | None] | CaughtUpMarker


class CommitFeed:
    """Fans committed versions out to subscribers; attach with :meth:`start`."""

    def __init__(
        self,
        store: RecordStore,
        *,
        window: int = 8192,
        buffer: int = SUBSCRIBER_BUFFER,
        telemetry: Telemetry | None = None,
        pace_per_subscriber: float = PACE_PER_MEMBER,
        subscribers_per_version: int = MEMBERS_PER_VERSION,
        max_pace: float = MAX_PACE,
    ) -> None:
        """A feed of ``store``'s commits.

        Args:
            store: The store whose commits are followed (and read by subscribers behind).
            window: Recent versions kept in memory for subscribers catching up.
            buffer: Matching versions a live subscriber may have waiting (see
                :data:`SUBSCRIBER_BUFFER`).
            telemetry: Lag metric and delivery spans; none by default.
            pace_per_subscriber: The least seconds between two hand-outs to live subscribers,
                per subscriber the previous one woke (see :mod:`gateway.store.fanout`).
            subscribers_per_version: A hand-out waits for one new version per this many
                subscribers the previous one woke...
            max_pace: ... or for this many seconds.
        """
        self._store = store
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        self._window: collections.deque[StoredRecord] = collections.deque()
        self._window_size = window
        self._newest: dict[str, StoredRecord] = {}
        """The newest version in the window of each record it holds: what an older window
        entry's latest version (and the handling it obeys) is now."""
        self._events: dict[tuple[int, int], SerializedEvent] = {}
        self._last_sequence = 0
        self._last_new_version = 0
        """The sequence of the last version that was not its record's first: only such a
        version can restrict the versions before it."""
        self._fan_out = FanOut(
            current=self._current,
            event=self.event,
            buffer=buffer,
            pace_per_member=pace_per_subscriber,
            members_per_version=subscribers_per_version,
            max_pace=max_pace,
        )
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
        self._fan_out.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: streams that end then end because of it."""
        return self._closed

    @property
    def last_sequence(self) -> int:
        """The highest sequence committed so far."""
        return self._last_sequence

    @property
    def fallbacks(self) -> int:
        """How many times a live subscriber's queue overflowed and it went back to reading the
        window or the store (for tests and diagnosis)."""
        return self._fan_out.fallbacks

    @property
    def fan_out(self) -> FanOut:
        """The live subscribers' groups (for tests and diagnosis)."""
        return self._fan_out

    def event(self, record: StoredRecord) -> SerializedEvent:
        """``record`` as the ``SubscribeResponse`` that carries it, serialized once for all."""
        key = (record.sequence, record.latest_version)
        event = self._events.get(key)
        if event is None:
            event = single_event(record)
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
            if record.version > 1:
                self._last_new_version = record.sequence
        while len(window) > self._window_size:
            evicted = window.popleft()
            if newest.get(evicted.record_id) is evicted:
                del newest[evicted.record_id]
        self._last_sequence = max(self._last_sequence, records[-1].sequence)
        self._fan_out.publish(records)

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
        subscriber that asked for it one message per version when versions come fast.

        ``visible`` audits what it hides itself, so this subscription is filtered on its own
        (:meth:`FeedReader.alone`); :meth:`events` shares the filtering among subscriptions."""
        items = self._follow(
            after_sequence,
            kinds,
            originating_centres,
            FeedReader.alone(visible),
            batch_size=batch_size,
            events=False,
        )
        try:
            async for item in items:
                yield item if isinstance(item, CaughtUpMarker) else item[0]
        finally:
            await items.aclose()

    async def events(
        self,
        after_sequence: int,
        kinds: frozenset[str] = frozenset(),
        originating_centres: frozenset[str] = frozenset(),
        *,
        reader: FeedReader,
        batch_size: int,
    ) -> AsyncGenerator[SerializedEvent | CaughtUpMarker, None]:
        """:meth:`stream_batches` as the ``SubscribeResponse`` each batch goes out in (a
        version alone in a response when ``batch_size`` is 1). Subscriptions with the same
        reader key, filters and batch size are filtered once for all while they are live, and
        share their responses' bytes."""
        items = self._follow(
            after_sequence, kinds, originating_centres, reader, batch_size=batch_size, events=True
        )
        event = self.event
        try:
            async for item in items:
                if isinstance(item, CaughtUpMarker):
                    yield item
                    continue
                records, serialized = item
                if serialized is None:
                    if batch_size == 1:
                        for record in records:
                            yield event(record)
                        continue
                    serialized = batch_event([event(record) for record in records])
                yield serialized
        finally:
            await items.aclose()

    async def _follow(
        self,
        after_sequence: int,
        kinds: frozenset[str],
        centres: frozenset[str],
        reader: FeedReader,
        *,
        batch_size: int,
        events: bool,
    ) -> AsyncGenerator[_Item, None]:
        """The batches of one subscription (with their shared response, when the fan-out built
        one), and the caught-up marker after the backlog."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        visible = reader.visible
        member = Member()
        position = after_sequence
        """Every version up to here was delivered or does not concern this subscriber."""
        delivered_up_to = after_sequence
        caught_up = False
        self.subscribers += 1
        try:
            while not self._closed:
                if member.live:
                    queue = member.queue
                    if not queue:
                        position = member.position
                        member.wake.clear()
                        await member.wake.wait()
                        continue
                    span = self._pass_span(position)
                    delivered = 0
                    try:
                        while queue and member.live and not self._closed:
                            delivery = queue.popleft()
                            member.queued -= len(delivery.records)
                            position = delivery.up_to
                            records, serialized = delivery.records, delivery.event
                            if self._last_new_version > delivery.known_at:
                                # A later version may have restricted them since they were
                                # filtered.
                                now = await self._as_of_now(records, delivery.known_at, visible)
                                if not _same(now, records):
                                    records, serialized = now, None
                            if records:
                                delivered += len(records)
                                delivered_up_to = position
                                yield records, serialized
                    finally:
                        _end(span, delivered)
                    continue
                span = self._pass_span(position)
                delivered = 0
                try:
                    while position < self._last_sequence and not self._closed:
                        read_at = self._last_sequence
                        batch, position = await self._next_batch(
                            position, self._last_sequence, kinds, centres
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
                            yield out, None
                finally:
                    _end(span, delivered)
                if self._ended():
                    break
                if position >= self._last_sequence:
                    # Caught up, with no await since the check: every later commit is fanned out
                    # to this subscriber.
                    self._fan_out.join(
                        member,
                        position,
                        reader,
                        kinds,
                        centres,
                        batch_size=batch_size,
                        events=events,
                    )
                if not caught_up:
                    caught_up = True
                    yield CaughtUpMarker(delivered_up_to)
        finally:
            self._fan_out.leave(member)
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


def _end(span: Span | None, delivered: int) -> None:
    if span is not None:
        span.set_attribute(attr.RECORDS_COUNT, delivered)
        span.end()


def _matches(record: StoredRecord, kinds: frozenset[str], centres: frozenset[str]) -> bool:
    return (not kinds or record.kind in kinds) and (
        not centres or record.originating_centre in centres
    )


def _same(now: list[StoredRecord], records: list[StoredRecord]) -> bool:
    """Whether the re-checked versions are the ones filtered (none hidden, none changed)."""
    return len(now) == len(records) and all(a is b for a, b in zip(now, records, strict=True))
