"""Request/reply threads as this gateway sees them: sent, delivered, read, answered, overdue.

A request (``InformationRequest`` body) opens a thread with every centre its
``handling.releasable_to`` names; a reply (``InformationReply``) answers the thread for the centre
that sends it. The book follows the store's commits (and rebuilds from the store at start), so
it sees this centre's own requests and replies as they are stored, and other centres' as they
arrive by federation:

* at an addressed centre a thread is ``DELIVERED`` when the request is stored here, ``READ``
  when a client acting for this centre first fetches it (Get), ``ANSWERED`` when a reply is
  stored here. Each change is written as the next version of this centre's *receipt* of the
  request (:mod:`gateway.lifecycle.receipts`), which goes back to the requester and keeps the
  times across a restart;
* at the requesting centre a thread is ``SENT``, then takes every state the addressed centre's
  receipts report (with that centre's times), and ``ANSWERED`` at the latest when a reply
  arrives.

Every state change, at either end, is an audit entry (action ``thread-state``); so is an
overdue alert (``thread-overdue``). Overdue: not answered when the reply deadline (the
request's, or ``[lifecycle]`` urgent/normal reply periods after it was sent) has passed, by the
book's clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from google.protobuf.timestamp_pb2 import Timestamp

from gateway.audit.log import AuditLog
from gateway.lifecycle.receipts import (
    RECEIPT_KIND,
    ReceiptTimes,
    receipt_record,
    receipt_times,
)
from gateway.lifecycle.settings import LifecycleSettings
from gateway.store.base import RecordStore, StoredRecord, StoredVersion
from gateway.supervision import Supervised
from liaison.rules.intake import prepare_record
from liaison.rules.lifecycle import TOMBSTONE_KIND, request_thread_violations
from liaison.v1 import exchange_pb2, record_pb2, thread_pb2

__all__ = ["THREAD_KINDS", "ThreadBook", "ThreadEntry"]

logger = logging.getLogger(__name__)

THREAD_KINDS = frozenset({"request", "reply", RECEIPT_KIND})
"""The record kinds a thread is made of."""

_REBUILD_BATCH = 1000
_STATE_NAMES: dict[int, str] = {
    exchange_pb2.THREAD_STATE_SENT: "SENT",
    exchange_pb2.THREAD_STATE_DELIVERED: "DELIVERED",
    exchange_pb2.THREAD_STATE_READ: "READ",
    exchange_pb2.THREAD_STATE_ANSWERED: "ANSWERED",
}


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

    @property
    def times(self) -> ReceiptTimes:
        """``(delivered_at, read_at, answered_at)``, 0 for a state not reached."""
        return self.delivered_at_us, self.read_at_us, self.answered_at_us

    def overdue(self, now_us: int) -> bool:
        """Unanswered past its deadline (one before the epoch too: year 1 is long past)."""
        return not self.answered_at_us and self.deadline_us != 0 and self.deadline_us < now_us


@dataclass(frozen=True, slots=True)
class _Note:
    """An audit entry to append (the commit listener cannot await the audit log)."""

    action: str
    record_ids: tuple[str, ...]
    detail: dict[str, str | int]


class ThreadBook:
    """The threads this centre takes part in."""

    def __init__(
        self,
        store: RecordStore,
        centre_id: str,
        settings: LifecycleSettings,
        clock: Callable[[], int],
        *,
        audit: AuditLog | None = None,
    ) -> None:
        """Follow the threads in ``store`` for ``centre_id``.

        Args:
            store: The record store (read; written: this centre's receipts).
            centre_id: This centre.
            settings: ``[lifecycle]`` (the default reply deadlines).
            clock: The time in microseconds since the epoch (injectable): read times, overdue.
            audit: Where every state change and overdue alert is recorded (``None``: not).
        """
        self._store = store
        self._centre = centre_id
        self._settings = settings
        self._clock = clock
        self._audit = audit
        self._entries: dict[tuple[str, str], ThreadEntry] = {}
        self._receipted: dict[tuple[str, str], ReceiptTimes] = {}
        """What the latest receipt this centre wrote says, per thread addressed here."""
        self._due: set[tuple[str, str]] = set()
        """Threads addressed here whose state is ahead of their receipt."""
        self._notes: list[_Note] = []
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._replaying = False
        self._unlisten: Callable[[], None] | None = None

    async def open(self) -> None:
        """Follow commits, then rebuild from what the store holds (no audit entry is written
        again for what it replays); receipts that lag behind are written by :meth:`flush`."""
        self._unlisten = self._store.add_commit_listener(self._on_commit)
        after = 0
        self._replaying = True
        try:
            while True:
                batch = await self._store.read_since(after, _REBUILD_BATCH, kinds=THREAD_KINDS)
                self._on_commit(batch)
                if len(batch) < _REBUILD_BATCH:
                    break
                after = batch[-1].sequence
        finally:
            self._replaying = False
        for key, entry in self._entries.items():
            if entry.addressed_centre == self._centre and entry.times != self._receipted.get(key):
                self._due.add(key)
        if self._due:
            self._wake.set()

    def close(self) -> None:
        """Stop following commits."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    async def run(self, handle: Supervised) -> None:
        """Write receipts and audit entries as states change, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()
            handle.progress()

    async def flush(self) -> None:
        """Write the receipts that lag behind their thread's state here, then the audit entries
        of the state changes seen so far.

        Raises:
            StoreError: the store could not be written (the receipts stay due).
            AuditLogError: the audit log is closed or failed.
        """
        async with self._flushing:
            due = sorted(self._due)
            self._due.clear()
            try:
                await self._write_receipts(due)
            except BaseException:
                self._due.update(due)
                raise
            notes, self._notes = self._notes, []
            if self._audit is None:
                return
            for index, note in enumerate(notes):
                try:
                    await self._audit.append(
                        actor=self._centre,
                        action=note.action,
                        outcome="ok",
                        record_ids=note.record_ids,
                        detail=note.detail,
                    )
                except BaseException:
                    self._notes[:0] = notes[index:]
                    raise

    async def _write_receipts(self, keys: list[tuple[str, str]]) -> None:
        items, wanted = [], []
        for key in keys:
            entry = self._entries[key]
            record = receipt_record(
                self._centre,
                thread_id=entry.thread_id,
                request_record_id=entry.request_record_id,
                requesting_centre=entry.requesting_centre,
                times=entry.times,
                reply_record_ids=list(entry.reply_record_ids),
            )
            items.append(prepare_record(record, self._centre, thread_receipt=True))
            wanted.append((key, entry.times))
        if not items:
            return
        outcomes = await self._store.write(items)
        for (key, times), outcome in zip(wanted, outcomes, strict=True):
            if isinstance(outcome, StoredVersion):
                self._receipted[key] = times
            else:  # the receipt was withdrawn (expired): the thread's states stop travelling
                logger.warning(
                    "thread %s: its receipt could not be written (%s)",
                    key[0],
                    type(outcome).__name__,
                    extra={"liaison.event": "thread.receipt_refused", "liaison.thread_id": key[0]},
                )

    def addressed_here(self, thread_id: str) -> bool:
        """Whether a request of ``thread_id`` addressed this centre (a reply may answer it)."""
        return (thread_id, self._centre) in self._entries

    def mark_read(self, stored: StoredRecord) -> bool:
        """A client of this centre fetched ``stored``: a request addressed here is read (the
        first time only). Returns whether it was: its receipt is then due (:meth:`flush`)."""
        if stored.kind != "request" or stored.originating_centre == self._centre:
            return False
        record = stored.to_message()
        key = (record.request.thread_id, self._centre)
        entry = self._entries.get(key)
        if entry is None or entry.read_at_us:
            return False
        entry.read_at_us = self._clock()
        logger.info(
            "thread %s read here",
            entry.thread_id,
            extra={"liaison.event": "thread.read", "liaison.record_id": stored.record_id},
        )
        self._changed(entry, exchange_pb2.THREAD_STATE_READ)
        return True

    def entries(self, *, open_only: bool = False) -> list[ThreadEntry]:
        """Every thread, most recent request first."""
        found = [e for e in self._entries.values() if not (open_only and e.answered_at_us)]
        return sorted(found, key=lambda e: (-e.sent_at_us, e.thread_id, e.addressed_centre))

    def overdue_alerts(self) -> list[ThreadEntry]:
        """The threads newly overdue (each alerted once: a log event and an audit entry, written
        by the next :meth:`flush`), by the clock."""
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
            self._note("thread-overdue", entry, {"deadline_us": entry.deadline_us})
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
            elif stored.kind == TOMBSTONE_KIND:
                self._close(stored)

    def _close(self, tombstone: StoredRecord) -> None:
        """A request withdrawn (or expired): its threads end here as the rebuild at start would
        leave them - gone, so no overdue alert and no answer (FAILED_PRECONDITION)."""
        withdrawal = tombstone.to_message().withdrawal
        if withdrawal.withdrawn_kind != record_pb2.RECORD_KIND_REQUEST:
            return
        for key in [
            k for k, e in self._entries.items() if e.request_record_id == tombstone.record_id
        ]:
            del self._entries[key]
            self._due.discard(key)
            self._receipted.pop(key, None)

    def _apply(self, stored: StoredRecord) -> None:
        record = stored.to_message()
        origin = stored.originating_centre
        if stored.kind == "request":
            self._open_thread(stored, record)
        elif stored.kind == RECEIPT_KIND:
            key = (record.receipt.thread_id, origin)
            entry = self._entries.get(key)
            if entry is None:
                return  # a receipt of a request this gateway never saw
            if origin == self._centre:
                # Ours, replayed at start (or just written): the times it keeps are the thread's.
                self._receipted[key] = receipt_times(record)
            self._reached(entry, receipt_times(record), list(record.receipt.reply_record_ids))
        else:
            entry = self._entries.get((record.reply.thread_id, origin))
            if entry is None:
                return  # a reply to a thread this gateway never saw: nothing to track
            answered = entry.answered_at_us or stored.committed_at_us
            self._reached(entry, (0, 0, answered), [stored.record_id])

    def _open_thread(self, stored: StoredRecord, record: record_pb2.Record) -> None:
        request = record.request
        origin = stored.originating_centre
        if request_thread_violations(record, origin):
            return  # under another centre's thread id (stored before intake refused it)
        received = record.provenance.received_at
        sent = received.seconds * 1_000_000 + received.nanos // 1000 or stored.committed_at_us
        deadline = _micros(request.reply_deadline) if request.HasField("reply_deadline") else 0
        if not deadline:
            urgent = request.urgency == thread_pb2.URGENCY_URGENT
            period = self._settings.urgent_reply_us if urgent else self._settings.normal_reply_us
            deadline = sent + period
        for centre in record.handling.releasable_to:
            key = (request.thread_id, centre)
            if key in self._entries or centre == origin:
                continue
            entry = ThreadEntry(
                request.thread_id, stored.record_id, origin, centre, request.urgency, deadline, sent
            )
            self._entries[key] = entry
            if centre == self._centre:
                entry.delivered_at_us = stored.committed_at_us
                self._changed(entry, exchange_pb2.THREAD_STATE_DELIVERED)
            elif origin == self._centre:
                self._changed(entry, exchange_pb2.THREAD_STATE_SENT)

    def _reached(self, entry: ThreadEntry, times: ReceiptTimes, replies: list[str]) -> None:
        """Take the times a receipt or a reply reports (the first time of each state wins)."""
        new_reply = False
        for reply_id in replies:
            if reply_id not in entry.reply_record_ids:
                entry.reply_record_ids.append(reply_id)
                new_reply = True
        delivered, read, answered = times
        for name, micros, state in (
            ("delivered_at_us", delivered, exchange_pb2.THREAD_STATE_DELIVERED),
            ("read_at_us", read, exchange_pb2.THREAD_STATE_READ),
            ("answered_at_us", answered, exchange_pb2.THREAD_STATE_ANSWERED),
        ):
            if micros and not getattr(entry, name):
                setattr(entry, name, micros)
                self._changed(entry, state)
        if new_reply and entry.state == exchange_pb2.THREAD_STATE_ANSWERED:
            self._changed(entry, 0)  # a further reply: the receipt lists it

    def _changed(self, entry: ThreadEntry, state: int) -> None:
        """A state reached (0: only the replies changed): audited, and at the addressed centre
        its receipt is due. Nothing is written again for what the rebuild at start replays."""
        if self._replaying:
            return
        if entry.addressed_centre == self._centre:
            self._due.add((entry.thread_id, entry.addressed_centre))
        if state:
            self._note("thread-state", entry, {"state": _STATE_NAMES[state]})
        self._wake.set()

    def _note(self, action: str, entry: ThreadEntry, detail: dict[str, str | int]) -> None:
        self._notes.append(
            _Note(
                action,
                (entry.request_record_id, *entry.reply_record_ids),
                {
                    "thread_id": entry.thread_id,
                    "requesting_centre": entry.requesting_centre,
                    "addressed_centre": entry.addressed_centre,
                    **detail,
                },
            )
        )
        self._wake.set()


def _micros(stamp: Timestamp) -> int:
    return stamp.seconds * 1_000_000 + stamp.nanos // 1000
