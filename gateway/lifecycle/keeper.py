"""The retention keeper: withdraws this centre's expired records and raises review reminders.

A supervised task (``gateway.server`` spawns :meth:`RetentionKeeper.run`) calls
:meth:`RetentionKeeper.sweep` every ``[lifecycle] check_interval_seconds``. A sweep reads the
clock it was given - tests pass their own and move it; nothing here sleeps on its own - and

* withdraws every record of this centre whose ``expires_at`` has passed, with reason
  ``EXPIRED``: a tombstone version written like any withdrawal, so it is signed, fed to
  subscribers and forwarded to peers (other centres' records expire at their origin, whose
  tombstone follows; meanwhile the gate serves none of their content past ``expires_at``);
* raises an overdue alert (log event ``thread.overdue``, gauge ``liaison.threads.overdue``)
  for every request/reply thread past its reply deadline unanswered, at either end;
* raises a review reminder for every record of this centre whose review is due within the
  reminder lead: once per record and due date, as a log event (record id only: no personal
  data) and the ``liaison.reviews.due`` gauge; ``ListReviews`` lists them.

Each expiry is an audit entry (actor: the centre itself, action ``expire``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.audit.log import AuditLog
from gateway.lifecycle.settings import LifecycleSettings
from gateway.lifecycle.threads import ThreadBook
from gateway.store.base import RecordStore, RetentionRow, StoredVersion
from gateway.supervision import Supervised
from gateway.telemetry import Telemetry
from liaison.rules.intake import prepare_record
from liaison.rules.lifecycle import TOMBSTONE_KIND, tombstone_of
from liaison.v1 import record_pb2

__all__ = ["RetentionKeeper", "SweepReport"]

logger = logging.getLogger(__name__)

_BATCH = 500


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did."""

    expired: tuple[str, ...]
    """The records withdrawn because they expired."""
    reminded: tuple[str, ...]
    """The records whose review reminder was raised by this sweep (not again later)."""
    due: int
    """The records whose review is due within the reminder lead, reminded before or now."""
    overdue_threads: tuple[str, ...] = ()
    """The threads found overdue by this sweep (alerted once: a log event)."""


class RetentionKeeper:
    """Expiry and review reminders for one centre's own records."""

    def __init__(
        self,
        store: RecordStore,
        centre_id: str,
        settings: LifecycleSettings,
        *,
        clock: Callable[[], int],
        audit: AuditLog | None = None,
        telemetry: Telemetry | None = None,
        threads: ThreadBook | None = None,
    ) -> None:
        """Keep ``centre_id``'s records in ``store``.

        Args:
            store: The record store (written: tombstones).
            centre_id: This centre; only its own records are withdrawn or reminded.
            settings: ``[lifecycle]``.
            clock: The time, in microseconds since the epoch (injectable).
            audit: Where each expiry is recorded.
            telemetry: Metrics (withdrawals, reviews due, overdue threads).
            threads: The request/reply threads whose deadlines are watched.
        """
        self.threads = threads
        self._store = store
        self._centre = centre_id
        self._settings = settings
        self._clock = clock
        self._audit = audit
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        self._reminded: dict[str, int] = {}
        self.reviews_due = 0
        """How many of this centre's records were due for review at the last sweep."""
        self._telemetry.metrics.observe_reviews_due(lambda: self.reviews_due)
        self._telemetry.metrics.observe_threads_overdue(
            lambda: 0 if self.threads is None else self.threads.overdue_count()
        )

    async def run(
        self,
        handle: Supervised,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Wait ``check_interval_seconds``, then sweep, until cancelled.

        The first sweep waits too: nothing is served past its expiry meanwhile (reads check the
        time themselves), and the store's readers are not raced at start.
        """
        while True:
            await sleep(self._settings.check_interval_seconds)
            await self.sweep()
            handle.progress()

    async def sweep(self) -> SweepReport:
        """Withdraw what expired and raise the reminders that are due, at the clock's time.

        Raises:
            StoreError: the store could not be read or written (the supervisor retries).
        """
        now = self._clock()
        expired: list[str] = []
        while True:
            rows = await self._store.retention_due(expires_before_us=now + 1, limit=_BATCH)
            own = [row for row in rows if row.originating_centre == self._centre]
            done = [row.record_id for row in own if await self._expire(row, now)]
            expired.extend(done)
            if len(rows) < _BATCH or not done:
                break
        if expired:
            self._telemetry.metrics.withdrawn(len(expired), "EXPIRED")
        due = await self.due(now + self._settings.review_reminder_us)
        reminded = []
        for row in due:
            if self._reminded.get(row.record_id) != row.review_due_us:
                self._reminded[row.record_id] = row.review_due_us
                reminded.append(row.record_id)
                logger.info(
                    "review due: record %s (kind %s) is due for review at %d (us); extend it "
                    "(liaison review RECORD_ID --extend 5y) or withdraw it",
                    row.record_id,
                    row.kind,
                    row.review_due_us,
                    extra={"liaison.event": "review.due", "liaison.record_id": row.record_id},
                )
        self.reviews_due = len(due)
        overdue = () if self.threads is None else tuple(self.threads.overdue_alerts())
        return SweepReport(
            tuple(expired), tuple(reminded), len(due), tuple(e.thread_id for e in overdue)
        )

    async def due(self, before_us: int, limit: int = 10_000) -> list[RetentionRow]:
        """This centre's records whose review falls before ``before_us``, soonest first."""
        rows = await self._store.retention_due(review_before_us=before_us, limit=limit)
        return [row for row in rows if row.originating_centre == self._centre]

    async def _expire(self, row: RetentionRow, now: int) -> bool:
        stored = await self._store.get(row.record_id)
        if stored is None or stored.kind == TOMBSTONE_KIND:
            return False
        record = stored.to_message()
        tombstone = tombstone_of(record, record_pb2.WITHDRAWAL_REASON_EXPIRED, "", now)
        tombstone.version = stored.version  # a correction in between wins: retry next sweep
        item = prepare_record(tombstone, self._centre, tombstone=True)
        [outcome] = await self._store.write([item])
        if not isinstance(outcome, StoredVersion):
            return False
        logger.info(
            "record %s expired: withdrawn as version %d (reason EXPIRED)",
            row.record_id,
            outcome.version,
            extra={"liaison.event": "record.expired", "liaison.record_id": row.record_id},
        )
        if self._audit is not None:
            await self._audit.append(
                actor=self._centre,
                action="expire",
                outcome="ok",
                record_ids=[row.record_id],
                detail={"version": outcome.version, "expired_at_us": row.expires_at_us},
            )
        return True
