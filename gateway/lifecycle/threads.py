"""Request/reply threads as this gateway sees them: sent, delivered, read, answered, overdue.

A request (``InformationRequest`` body) opens a thread with every centre its
``handling.releasable_to`` names; a reply (``InformationReply``) answers the thread for the centre
that sends it. The book follows the store's commits (and rebuilds from the store at start), so
it sees this centre's own requests and replies as they are stored, and other centres' as they
arrive by federation:

* at the requesting centre a thread is ``SENT``, then ``ANSWERED`` when the reply arrives;
* at an addressed centre it is ``DELIVERED`` when the request is stored here, ``READ`` when a
  client acting for this centre fetches it (Get), ``ANSWERED`` when a reply is submitted here.

Overdue: not answered when the reply deadline (the request's, or ``[lifecycle]`` urgent/normal
reply periods after it was sent) has passed, by the book's clock. Read times are kept in memory
only: after a restart a thread read before is ``DELIVERED`` again until read again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.lifecycle.settings import LifecycleSettings
from gateway.store.base import RecordStore, StoredRecord
from liaison.v1 import exchange_pb2, thread_pb2

__all__ = ["THREAD_KINDS", "ThreadBook", "ThreadEntry"]

logger = logging.getLogger(__name__)

THREAD_KINDS = frozenset({"request", "reply"})
"""The record kinds a thread is made of."""

_REBUILD_BATCH = 1000


@dataclass(slots=True)
class ThreadEntry:
    """One request as one addressed centre handles it."""

    thread_id: str
    request_record_id: str
    requesting_centre: str
    addressed_centre: str
    urgency: int
    deadline_us: int
    sent_at_us: int
    delivered_at_us: int = 0
    read_at_us: int = 0
    answered_at_us: int = 0
    reply_record_ids: list[str] = field(default_factory=list)
    alerted: bool = False
    """Whether its overdue alert was raised."""

    @property
    def state(self) -> int:
        """Its ``ThreadState``."""
        if self.answered_at_us:
            return exchange_pb2.THREAD_STATE_ANSWERED
        if self.read_at_us:
            return exchange_pb2.THREAD_STATE_READ
        if self.delivered_at_us:
            return exchange_pb2.THREAD_STATE_DELIVERED
        return exchange_pb2.THREAD_STATE_SENT

    def overdue(self, now_us: int) -> bool:
        """Unanswered past its deadline."""
        return not self.answered_at_us and 0 < self.deadline_us < now_us


class ThreadBook:
    """The threads this centre takes part in."""

    def __init__(
        self,
        store: RecordStore,
        centre_id: str,
        settings: LifecycleSettings,
        clock: Callable[[], int],
    ) -> None:
        self._store = store
        self._centre = centre_id
        self._settings = settings
        self._clock = clock
        self._entries: dict[tuple[str, str], ThreadEntry] = {}
        self._unlisten: Callable[[], None] | None = None

    async def open(self) -> None:
        """Follow commits, then rebuild from what the store holds."""
        self._unlisten = self._store.add_commit_listener(self._on_commit)
        after = 0
        while True:
            batch = await self._store.read_since(after, _REBUILD_BATCH, kinds=THREAD_KINDS)
            self._on_commit(batch)
            if len(batch) < _REBUILD_BATCH:
                return
            after = batch[-1].sequence

    def close(self) -> None:
        """Stop following commits."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def addressed_here(self, thread_id: str) -> bool:
        """Whether a request of ``thread_id`` addressed this centre (a reply may answer it)."""
        return (thread_id, self._centre) in self._entries

    def mark_read(self, stored: StoredRecord) -> None:
        """A client of this centre fetched ``stored``: a request addressed here is read."""
        if stored.kind != "request" or stored.originating_centre == self._centre:
            return
        record = stored.to_message()
        entry = self._entries.get((record.request.thread_id, self._centre))
        if entry is not None and not entry.read_at_us:
            entry.read_at_us = self._clock()
            logger.info(
                "thread %s read here",
                entry.thread_id,
                extra={"liaison.event": "thread.read", "liaison.record_id": stored.record_id},
            )

    def entries(self, *, open_only: bool = False) -> list[ThreadEntry]:
        """Every thread, most recent request first."""
        found = [e for e in self._entries.values() if not (open_only and e.answered_at_us)]
        return sorted(found, key=lambda e: (-e.sent_at_us, e.thread_id, e.addressed_centre))

    def overdue_alerts(self) -> list[ThreadEntry]:
        """The threads newly overdue (each alerted once: a log event), by the clock."""
        now = self._clock()
        due = [e for e in self._entries.values() if e.overdue(now) and not e.alerted]
        for entry in due:
            entry.alerted = True
            logger.warning(
                "thread %s with %s is overdue: no reply by its deadline (%d us)",
                entry.thread_id,
                entry.addressed_centre,
                entry.deadline_us,
                extra={"liaison.event": "thread.overdue", "liaison.thread_id": entry.thread_id},
            )
        return due

    def overdue_count(self) -> int:
        """How many threads are overdue now."""
        now = self._clock()
        return sum(1 for entry in self._entries.values() if entry.overdue(now))

    def to_message(self, entry: ThreadEntry) -> exchange_pb2.Thread:
        """The ``Thread`` message of ``entry``."""
        thread = exchange_pb2.Thread(
            thread_id=entry.thread_id,
            request_record_id=entry.request_record_id,
            requesting_centre=entry.requesting_centre,
            addressed_centre=entry.addressed_centre,
            state=entry.state,  # type: ignore[arg-type]
            urgency=entry.urgency,  # type: ignore[arg-type]
            overdue=entry.overdue(self._clock()),
            reply_record_ids=entry.reply_record_ids,
        )
        for name, micros in (
            ("reply_deadline", entry.deadline_us),
            ("sent_at", entry.sent_at_us),
            ("delivered_at", entry.delivered_at_us),
            ("read_at", entry.read_at_us),
            ("answered_at", entry.answered_at_us),
        ):
            if micros:
                stamp = getattr(thread, name)
                stamp.seconds, rest = divmod(micros, 1_000_000)
                stamp.nanos = rest * 1000
        return thread

    def _on_commit(self, records: Sequence[StoredRecord]) -> None:
        for stored in records:
            if stored.kind in THREAD_KINDS and not stored.withdrawn:
                self._apply(stored)

    def _apply(self, stored: StoredRecord) -> None:
        record = stored.to_message()
        origin = stored.originating_centre
        if stored.kind == "request":
            request = record.request
            received = record.provenance.received_at
            sent = received.seconds * 1_000_000 + received.nanos // 1000 or stored.committed_at_us
            deadline = _micros(request.reply_deadline) if request.HasField("reply_deadline") else 0
            if not deadline:
                urgent = request.urgency == thread_pb2.URGENCY_URGENT
                period = (
                    self._settings.urgent_reply_us if urgent else self._settings.normal_reply_us
                )
                deadline = sent + period
            for centre in record.handling.releasable_to:
                key = (request.thread_id, centre)
                if key in self._entries or centre == origin:
                    continue
                entry = ThreadEntry(
                    request.thread_id,
                    stored.record_id,
                    origin,
                    centre,
                    request.urgency,
                    deadline,
                    sent,
                )
                if centre == self._centre:
                    entry.delivered_at_us = stored.committed_at_us
                self._entries[key] = entry
        else:
            answered = self._entries.get((record.reply.thread_id, origin))
            if answered is None:
                return  # a reply to a thread this gateway never saw: nothing to track
            if stored.record_id not in answered.reply_record_ids:
                answered.reply_record_ids.append(stored.record_id)
            if not answered.answered_at_us:
                answered.answered_at_us = stored.committed_at_us


def _micros(stamp: object) -> int:
    seconds: int = stamp.seconds  # type: ignore[attr-defined]
    nanos: int = stamp.nanos  # type: ignore[attr-defined]
    return seconds * 1_000_000 + nanos // 1000
