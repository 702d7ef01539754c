"""The live fan-out: new commits handed to every caught-up subscription, by groups, paced.

A subscription that has caught up with the feed is a *member* of a *group*: the subscriptions
with the same reader (:attr:`FeedReader.key`), the same filters and the same batch size. The
commit listener only queues the new versions; a *flush* then hands everything committed since the
last one to the groups:

* each group filters the versions once (kinds, originating centres, the visibility gate) and
  serializes what matched once, as the responses its members send - the same bytes for all;
* what the gate kept from the reader is audited once per member, in the member's own context
  (the caller of its stream, the list its denials are gathered in), exactly as if it had filtered
  alone;
* each member gets the group's deliveries in its own bounded queue and is woken; a member whose
  queue would overflow (its consumer is slower than the commits) leaves the group and reads from
  the feed's window or the store again from its position: it never blocks the writer or the
  others, holds nothing here meanwhile, and misses nothing.

Flushes are paced, because a member costs a wake-up and a gRPC message per flush (some 40 us of
the server's time) whatever the message carries. A flush waits until it has at least one new
version for every :data:`MEMBERS_PER_VERSION` members the previous flush woke (200 members: 25
versions), or until :data:`MAX_PACE` has passed, whichever comes first; and it never comes
sooner than :data:`PACE_PER_MEMBER` per such member after the previous one. What live
subscribers cost the writer is therefore bounded by what is committed, not multiplied by the
commits: frequent small commits reach each member as one message. The first commit after a quiet
spell is handed out at once (nothing was woken), a lone subscriber waits at most half a
millisecond, and subscriptions that match nothing are never woken, so they add no wait. A flush
that has nothing for a group does not look at its members one by one either: it moves the
group's watermark, which each member's :attr:`Member.position` includes.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from gateway.store.base import StoredRecord
from gateway.store.feed_events import SerializedEvent, batch_event

__all__ = [
    "MAX_PACE",
    "MEMBERS_PER_VERSION",
    "PACE_PER_MEMBER",
    "Delivery",
    "FanOut",
    "FeedReader",
    "Member",
]

PACE_PER_MEMBER = 0.0005
"""The least seconds between two flushes, for each member the previous one woke."""

MEMBERS_PER_VERSION = 8
"""A flush waits for one new version per this many members the previous one woke..."""

MAX_PACE = 0.25
"""... or for this many seconds since the previous one (the most a live subscriber waits)."""


def _always(_: StoredRecord) -> bool:
    return True


def _audit_nothing(_: Sequence[str]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class FeedReader:
    """Who a subscription reads for, as the feed needs to know it.

    A version is delivered when it ``serves`` (its content may be served at all) and the reader
    ``allows`` it; one that serves but is not allowed is *hidden*, and reported to ``hidden``
    (which audits it for the stream's caller). ``serves`` and ``allows`` must not depend on the
    calling context: they run once per group, for every member.
    """

    key: Hashable
    """Readers with equal keys are shown the same versions: their subscriptions (with equal
    filters) are filtered once for all. A reader nobody else equals (:meth:`alone`) is grouped
    with no other."""
    serves: Callable[[StoredRecord], bool]
    allows: Callable[[StoredRecord], bool]
    hidden: Callable[[Sequence[str]], None]

    @classmethod
    def alone(cls, visible: Callable[[StoredRecord], bool]) -> FeedReader:
        """A reader of its own, shown what ``visible`` says; ``visible`` audits what it hides
        itself (it runs in its stream's context, since its group has no other member)."""
        return cls(object(), _always, visible, _audit_nothing)

    def visible(self, stored: StoredRecord) -> bool:
        """Whether ``stored`` is delivered to this reader; audits it when hidden."""
        if not self.serves(stored):
            return False
        if self.allows(stored):
            return True
        self.hidden((stored.record_id,))
        return False


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a flush queued for one member: versions in order and, for a group that sends
    responses, the response carrying them (shared by the group's members)."""

    records: list[StoredRecord]
    event: SerializedEvent | None
    up_to: int
    """Every version up to this sequence is in this delivery, an earlier one, or of no concern."""
    known_at: int
    """The feed's last sequence when ``records`` were filtered: their handling as of then."""


class Member:
    """One caught-up subscription as the fan-out sees it."""

    __slots__ = ("context", "group", "live", "queue", "queued", "seen", "start", "wake")

    def __init__(self) -> None:
        # The gate audits what it hides in the context of the stream's call (who is calling,
        # where its denials are gathered): flushes run the audit there.
        self.context = contextvars.copy_context()
        self.queue: collections.deque[Delivery] = collections.deque()
        self.queued = 0
        """Versions waiting in ``queue``."""
        self.live = False
        self.seen = 0
        """With an empty queue: every version up to here was delivered or is of no concern."""
        self.start = 0
        """Where the member joined: it read every version up to here itself."""
        self.wake = asyncio.Event()
        self.group: _Group | None = None
        """The group it is live in."""

    @property
    def position(self) -> int:
        """With an empty queue: every version up to here was delivered or is of no concern
        (what the member saw itself, or what its group saw nothing of)."""
        group = self.group
        return self.seen if group is None else max(self.seen, group.seen)


@dataclass(frozen=True, slots=True)
class _Filters:
    reader_key: Hashable
    kinds: frozenset[str]
    centres: frozenset[str]
    batch_size: int
    events: bool


class _Group:
    __slots__ = ("batch_size", "centres", "events", "filters", "kinds", "members", "reader", "seen")

    def __init__(self, filters: _Filters, reader: FeedReader) -> None:
        self.filters = filters
        self.kinds = filters.kinds
        self.centres = filters.centres
        self.batch_size = filters.batch_size
        self.events = filters.events
        self.reader = reader
        self.members: dict[Member, None] = {}
        self.seen = 0
        """Every version up to here that concerns the group was handed to its members: a flush
        that has nothing for the group (no version shown, none hidden) moves this alone, so
        that members whose filters match nothing cost no Python work each."""

    def select(
        self, records: Sequence[StoredRecord]
    ) -> tuple[list[StoredRecord], list[StoredRecord]]:
        """What the group's reader is shown of ``records``, and what is hidden from it."""
        kinds, centres = self.kinds, self.centres
        serves, allows = self.reader.serves, self.reader.allows
        shown: list[StoredRecord] = []
        hidden: list[StoredRecord] = []
        for record in records:
            if (kinds and record.kind not in kinds) or (
                centres and record.originating_centre not in centres
            ):
                continue
            if not serves(record):
                continue
            if allows(record):
                shown.append(record)
            else:
                hidden.append(record)
        return shown, hidden


class FanOut:
    """The groups of caught-up subscriptions of one feed, and their paced flushes."""

    def __init__(
        self,
        *,
        current: Callable[[StoredRecord], StoredRecord],
        event: Callable[[StoredRecord], SerializedEvent],
        buffer: int,
        pace_per_member: float = PACE_PER_MEMBER,
        members_per_version: int = MEMBERS_PER_VERSION,
        max_pace: float = MAX_PACE,
    ) -> None:
        """Fan out through ``current`` (a version as read now) and ``event`` (its response).

        Args:
            current: A version with its record's current latest version and handling.
            event: The response carrying a version alone (cached by the feed).
            buffer: Versions a member may have queued before it falls back.
            pace_per_member: The least seconds between flushes, per member woken.
            members_per_version: Members woken per version a flush waits for.
            max_pace: The most seconds a flush waits for those versions.
        """
        self._current = current
        self._event = event
        self._buffer = buffer
        self._pace_per_member = pace_per_member
        self._members_per_version = members_per_version
        self._max_pace = max_pace
        self._groups: dict[_Filters, _Group] = {}
        self._members: dict[Member, _Group] = {}
        self._pending: list[StoredRecord] = []
        self._flush_at: asyncio.TimerHandle | None = None
        self._flushed_at = 0.0
        self._woken = 0
        """Members the last flush woke: what the next one will cost, roughly."""
        self.fallbacks = 0
        """How many times a member's queue overflowed and it went back to reading the window or
        the store (for tests and diagnosis)."""
        self.flushes = 0
        """Flushes that handed versions to the groups (for tests and diagnosis)."""
        self.visits = 0
        """Members flushes looked at one by one: those of groups something concerned (for
        tests and diagnosis)."""

    @property
    def members(self) -> int:
        """Caught-up subscriptions."""
        return len(self._members)

    @property
    def groups(self) -> int:
        """Groups of caught-up subscriptions (each filtered once per flush)."""
        return len(self._groups)

    @property
    def pace(self) -> float:
        """The least time between two flushes now: in proportion to the members the last one
        woke (members that something matched; the others cost a filter pass per group, and no
        wake-up or message)."""
        return min(self._max_pace, self._pace_per_member * self._woken)

    def _due(self) -> float:
        """When the next flush is due, as the event loop counts time."""
        worth = len(self._pending) * self._members_per_version >= self._woken
        return self._flushed_at + (self.pace if worth else self._max_pace)

    def join(
        self,
        member: Member,
        position: int,
        reader: FeedReader,
        kinds: frozenset[str],
        centres: frozenset[str],
        *,
        batch_size: int,
        events: bool,
    ) -> None:
        """Make ``member``, which has read everything up to ``position``, live in its group."""
        filters = _Filters(reader.key, kinds, centres, batch_size, events)
        group = self._groups.get(filters)
        if group is None:
            group = self._groups[filters] = _Group(filters, reader)
        member.live = True
        member.seen = member.start = position
        member.queue.clear()
        member.queued = 0
        member.wake.clear()
        member.group = group
        group.members[member] = None
        self._members[member] = group

    def leave(self, member: Member) -> None:
        """Take ``member`` out of its group (it falls back, or its stream ended)."""
        member.live = False
        member.queue.clear()
        member.queued = 0
        member.group = None
        group = self._members.pop(member, None)
        if group is None:
            return
        del group.members[member]
        if not group.members:
            del self._groups[group.filters]

    def publish(self, records: Sequence[StoredRecord]) -> None:
        """Queue a commit's versions for the next flush (none is needed without members)."""
        if not self._members:
            return
        self._pending += records
        due = self._due()
        scheduled = self._flush_at
        if scheduled is not None:
            if scheduled.when() <= due:
                return
            scheduled.cancel()  # enough came in to flush sooner
        self._flush_at = asyncio.get_running_loop().call_at(due, self.flush)

    def close(self) -> None:
        """Wake every member (its stream then ends) and flush no more."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        self._pending = []
        for member in self._members:
            member.wake.set()

    def flush(self) -> None:
        """Hand everything queued since the last flush to the groups."""
        if self._flush_at is not None:
            # Called before its time (tests do): the timer must not flush again.
            self._flush_at.cancel()
            self._flush_at = None
        pending, self._pending = self._pending, []
        if not pending or not self._members:
            return
        self._flushed_at = asyncio.get_running_loop().time()
        self.flushes += 1
        records = [self._current(record) for record in pending]
        first, last = records[0].sequence, records[-1].sequence
        overflowed: list[Member] = []
        woken = 0
        for group in tuple(self._groups.values()):
            lead = next(iter(group.members))
            # Run where a reader of its own audits (see FeedReader.alone).
            shown, hidden = lead.context.run(group.select, records)
            if not shown and not hidden:
                group.seen = last
                continue
            shared = self._deliveries(group, shown, last)
            hidden_ids = [record.record_id for record in hidden]
            self.visits += len(group.members)
            for member in group.members:
                deliveries, denied = shared, hidden_ids
                if member.start >= first:
                    # It joined after some of these commits, which it read (and was audited
                    # for) itself.
                    start = member.start
                    mine = [record for record in shown if record.sequence > start]
                    if len(mine) < len(shown):
                        deliveries = self._deliveries(group, mine, last)
                    denied = [record.record_id for record in hidden if record.sequence > start]
                if denied:
                    member.context.run(group.reader.hidden, denied)
                if not deliveries:
                    member.seen = last
                    continue
                count = sum(len(delivery.records) for delivery in deliveries)
                if member.queued + count > self._buffer:
                    overflowed.append(member)
                    continue
                member.queue.extend(deliveries)
                member.queued += count
                member.seen = last
                member.wake.set()
                woken += 1
        self._woken = woken
        for member in overflowed:
            # Behind by more than its buffer: it reads the window or the store from its
            # position instead, and holds nothing here meanwhile.
            self.leave(member)
            self.fallbacks += 1
            member.wake.set()

    def _deliveries(self, group: _Group, shown: list[StoredRecord], last: int) -> list[Delivery]:
        """``shown`` in deliveries of the group's batch size, each with its shared response."""
        if not shown:
            return []
        size = group.batch_size
        deliveries: list[Delivery] = []
        for start in range(0, len(shown), size):
            chunk = shown[start : start + size]
            up_to = last if start + size >= len(shown) else chunk[-1].sequence
            event: SerializedEvent | None = None
            if group.events:
                events = [self._event(record) for record in chunk]
                event = events[0] if size == 1 else batch_event(events)
            deliveries.append(Delivery(chunk, event, up_to, last))
        return deliveries
