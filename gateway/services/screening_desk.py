"""The screening desk: the index kept current with the store, and every commit screened.

At start the desk rebuilds the index from the store's latest versions (one pass; the notices and
listed documents the ``[screening]`` lists name). It then follows the store's commits:

* a committed list entry (a notice, a stolen passport, a record of a configured list) replaces
  what its record contributed to the index - screenable within a second of its commit;
* a committed subject of a screened kind (``[screening] screen_on_commit``: manifests, persons,
  travel documents) is screened, and each match becomes a ``ScreeningHit`` record of this centre,
  stored, searchable, subscribable and routed like any other record;
* a hit decided "no match" suppresses its pair (subject identity, entry, entry version).

Commits are only queued by the commit listener: screening happens afterwards, on the desk's
supervised task, so it never slows or blocks the commit that triggered it. The index, the
suppressed pairs and all index work (parsing the committed records, updates and screenings, the
RPC's too) live in an :class:`~gateway.services.screening_worker.IndexWorker`: a worker process
of its own by default (``[screening] worker``, decision 0018), whose Python does not compete
with the event loop for the interpreter lock, or a worker thread. A commit batch costs one hop:
its list records and its subjects go together, as serialized records, and its hits come back
as serialized ``ScreeningHit`` bodies.

A worker process that dies is noticed at once: the supervised task fails (the supervisor logs
it and marks the Screening service NOT_SERVING), and when it is restarted it starts a new worker
and rebuilds the index from the store before it applies the commits still queued - nothing
acknowledged goes unscreened. Screen calls meanwhile are refused as UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from google.protobuf import timestamp_pb2

from gateway.errors import FieldViolation, InvalidArgumentError
from gateway.screening import (
    Match,
    ScreeningInputError,
    Subject,
    SuppressedPair,
    subjects_from_records,
)
from gateway.screening.keeper import FoundHit, RecordRow, hit_key
from gateway.screening.settings import ScreeningSettings
from gateway.security.gate import RecordGate
from gateway.security.visibility import H2_CODE
from gateway.services.screening_cursor import ScreeningCursor
from gateway.services.screening_worker import IndexWorker, ScreeningWorkerError, index_worker
from gateway.store import RecordStore, StoredRecord
from gateway.store.base import StoredVersion
from gateway.supervision import Supervised
from liaison.rules.intake import prepare_record
from liaison.rules.lifecycle import TOMBSTONE_KIND, tombstone_of
from liaison.v1 import record_pb2, screening_hit_pb2

__all__ = ["HIT_KIND", "ScreeningDesk", "hit_record_id"]

_log = logging.getLogger(__name__)

HIT_KIND = "screening_hit"
_REBUILD_BATCH = 5000
LINGER_SECONDS = 0.05
"""Under load, how long automatic screening waits for a fuller batch (see ``_gather``)."""
FULL_BATCH = 256
"""Queued commits that make a batch worth screening without waiting longer."""
MAX_BATCH = 1024
"""The most queued commits applied in one hop (a backlog - a bulk load of stolen passports,
each screened too - goes in several, so that a Screen call or a stop never waits for all)."""
_P = ParamSpec("_P")
_T = TypeVar("_T")


def hit_record_id(centre: str, match: Match) -> str:
    """The id of the hit record for ``match``: the same subject version, entry version and list
    always give the same id, so a screening repeated (a restart, a replay) stores nothing new."""
    digest = hit_key(
        match.subject_record_id,
        match.subject_version,
        match.entry.record_id,
        match.entry.version,
        match.entry.list,
    )
    return f"{centre}:hit:{digest}"


class ScreeningDesk:
    """Keeps the screening index current and screens committed subjects; see the module."""

    def __init__(
        self,
        store: RecordStore,
        centre_id: str,
        settings: ScreeningSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        gate: RecordGate | None = None,
        centres: Collection[str] = (),
        cursor: ScreeningCursor | None = None,
    ) -> None:
        """Args:
        store: The store the index follows and hits are written to.
        centre_id: This centre.
        settings: The ``[screening]`` settings.
        clock: When hits are screened.
        gate: Need-to-know, to hand a hit only to the centres that may see both its subject
            and its entry; without it, the hit's handling is the stricter of theirs.
        centres: The other centres this gateway knows of (its peers, the centres its grants
            act for): those a hit is weighed for when it must name its readers.
        cursor: How far automatic screening got, kept across restarts (subjects committed
            after it are screened at start); without it, a subject committed just before a
            crash is never screened.
        """
        self._store = store
        self._centre = centre_id
        self._settings = settings
        self._clock = clock
        self._gate = gate
        self._centres = frozenset(centres) - {centre_id}
        self._cursor = cursor
        self._saved_at = 0.0
        self._applied_at = float("-inf")
        self._entry_kinds = frozenset(kind for spec in settings.lists for kind in spec.kinds)
        self._auto_kinds = frozenset(settings.screen_on_commit)
        self._worker: IndexWorker = index_worker(settings.worker, settings.lists, self._lost)
        self._ready = False
        """Whether the worker's index is built (a new worker's is not, until rebuilt)."""
        self._suppressed: set[SuppressedPair] = set()
        """The suppressed pairs, as the worker has them (to give a new worker)."""
        self._queue: deque[StoredRecord] = deque()
        self._arrived = asyncio.Event()
        self._unlisten: Callable[[], None] | None = None
        self._built_through = 0
        self._seen_through = 0
        self._indexed_records = 0
        self._cursor_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liaison-cursor")
        """The cursor's calls, all on one thread (its database connection's)."""
        self._hits_of: dict[str, set[str]] = {}
        """Record id -> the hits that repeat its data (as subject or entry)."""
        self.applied_through = 0
        """The highest committed sequence the index and the automatic screening have handled."""
        self.hits_stored = 0
        """Hit records this desk has stored since it started."""

    @property
    def lists(self) -> list[str]:
        """The names of the lists screened against."""
        return [spec.name for spec in self._settings.lists]

    @property
    def indexed_records(self) -> int:
        """Records that contribute entries to the index (as of the last commit batch applied)."""
        return self._indexed_records

    @property
    def worker_pid(self) -> int | None:
        """The screening worker process's id (``None`` with a worker thread)."""
        return self._worker.pid

    # -- starting and stopping ---------------------------------------------------------------

    async def open(self) -> None:
        """Start the worker and rebuild the index from the store (listening first: nothing
        committed meanwhile is missed), with the suppressed pairs.

        Raises:
            ScreeningWorkerError: the worker process could not be started, or ended.
        """
        self._unlisten = self._store.add_commit_listener(self._on_commit)
        await self._worker.start()
        last = await self._store.last_sequence()
        await self._rebuild()
        committed = max(self._built_through, last)
        self._seen_through = max(self._seen_through, committed)
        self.applied_through = committed
        if self._cursor is not None:
            cursor = self._cursor
            await self._recover(await self._on_cursor_thread(cursor.open, committed), committed)

    async def _rebuild(self) -> None:
        """Build the worker's index from the store's latest versions of list records, and give
        it the suppressed pairs (the decisions stored)."""
        decided: dict[str, StoredRecord] = {}
        after = 0
        wanted = self._entry_kinds | {HIT_KIND, TOMBSTONE_KIND}
        while True:
            batch = await self._store.read_since(after, _REBUILD_BATCH, kinds=wanted)
            rows: list[RecordRow] = []
            for stored in batch:
                if stored.kind == HIT_KIND:
                    # Which records each hit repeats (to follow their handling); version 1 is
                    # the hit as screened, decisions are later versions.
                    self._remember(stored.to_message())
                    if stored.version > 1:
                        decided[stored.record_id] = stored
                elif stored.withdrawn:
                    rows.append((stored.record_id, stored.version, None))  # no entries left
                else:
                    rows.append((stored.record_id, stored.version, stored.blob))
            # Parsed by the worker while the next batch is read.
            await self._worker.load(rows)
            if len(batch) < _REBUILD_BATCH:
                break
            after = batch[-1].sequence
        self._built_through = max(after, batch[-1].sequence if batch else 0)
        entries, self._indexed_records = await self._worker.build()
        self._suppressed.clear()
        for stored in decided.values():
            decision = await self._decision(stored)
            if decision is not None and decision[1]:
                self._suppressed.add(decision[0])
        if self._suppressed:
            await self._worker.suppress(sorted(self._suppressed), [])
        self._ready = True
        _log.info(
            "screening index rebuilt: %d entries from %d records, %d suppressed pairs",
            entries,
            self._indexed_records,
            len(self._suppressed),
        )

    def _lost(self) -> None:
        """The worker process ended unasked: wake the supervised task, which fails (and is
        restarted with a new worker)."""
        self._ready = False
        self._arrived.set()

    async def _recover(self, screened_through: int, committed: int) -> None:
        """Queue, ahead of what commits meanwhile, the subjects committed after the cursor up
        to ``committed``: acknowledged before a crash, never screened."""
        missed: list[StoredRecord] = []
        after = screened_through
        while self._auto_kinds and after < committed:
            batch = await self._store.read_since(after, _REBUILD_BATCH, kinds=self._auto_kinds)
            missed += [s for s in batch if s.sequence <= committed]
            if len(batch) < _REBUILD_BATCH:
                break
            after = batch[-1].sequence
        if missed:
            _log.warning(
                "screening %d subject version(s) committed after the last screened (sequence "
                "%d): the gateway stopped before screening them",
                len(missed),
                screened_through,
            )
            self._queue.extendleft(reversed(missed))
            self._arrived.set()
            self.applied_through = screened_through

    async def close(self) -> None:
        """Stop following commits, save how far screening got, stop the worker."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._cursor is not None:
            cursor = self._cursor
            if not self._queue:
                await self._on_cursor_thread(cursor.save, self.applied_through)
            await self._on_cursor_thread(cursor.close)
        self._ready = False
        await self._worker.stop()
        await asyncio.to_thread(self._cursor_thread.shutdown, wait=True, cancel_futures=True)

    def _on_commit(self, records: Sequence[StoredRecord]) -> None:
        wanted = self._entry_kinds | self._auto_kinds | {HIT_KIND, TOMBSTONE_KIND}
        fresh = [
            s
            for s in records
            if s.kind in wanted
            and s.sequence > self._built_through
            # A hit as screened (version 1) decides nothing; only its decisions matter here.
            and (s.kind != HIT_KIND or s.version > 1)
        ]
        if fresh:
            self._queue.extend(fresh)
            self._arrived.set()
        if records:
            self._seen_through = max(self._seen_through, records[-1].sequence)
            if not self._queue:
                # Nothing of it concerns screening: handled as soon as seen.
                self.applied_through = max(self.applied_through, self._seen_through)

    # -- the supervised task -----------------------------------------------------------------

    async def follow(self, handle: Supervised) -> None:
        """Apply queued commits until cancelled (run under the gateway's supervisor). A record
        is taken off the queue only once it is handled: after a failure (the store cannot write
        hits, the worker process died) the supervisor restarts this task and it resumes with the
        same record - after starting a new worker and rebuilding its index, when it died.

        Raises:
            ScreeningWorkerError: the worker process ended.
        """
        if self._worker.ended is not None:
            await self._restart()
            handle.progress()  # screening again: the Screen service is SERVING once more
        while True:
            if self._worker.ended is not None:
                raise ScreeningWorkerError(self._worker.ended)
            if not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            await self._gather()
            batch = list(itertools.islice(self._queue, MAX_BATCH))
            await self.apply(batch)
            self._applied_at = time.monotonic()
            for _ in batch:
                self._queue.popleft()
            # With the queue empty, every commit seen so far is handled (those it skipped too).
            done = batch[-1].sequence if self._queue else self._seen_through
            self.applied_through = max(self.applied_through, done)
            await self._save_cursor()
            handle.progress()

    async def _gather(self) -> None:
        """While commits stream in (the last batch was applied less than a linger ago), wait up
        to a linger for a fuller batch: screening a batch has a fixed cost (its vectorised
        lookups) about that of screening a few subjects, so a gateway under load screens several
        times more subjects per CPU second in batches of dozens than one by one. A commit after a
        quiet spell is applied at once."""
        loop = asyncio.get_running_loop()
        if time.monotonic() - self._applied_at >= LINGER_SECONDS:
            return
        deadline = loop.time() + LINGER_SECONDS
        while len(self._queue) < FULL_BATCH and self._worker.ended is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._arrived.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives as the event is set, and the gateway's stop then waits forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()

    async def _restart(self) -> None:
        """A new worker, its index rebuilt from the store (the commits still queued are then
        applied: those the rebuild read already only screen their subjects)."""
        old = self._worker
        await old.stop()
        self._worker = index_worker(self._settings.worker, self._settings.lists, self._lost)
        await self._worker.start()
        await self._rebuild()
        _log.warning("screening worker restarted; its index was rebuilt from the store")

    async def _save_cursor(self) -> None:
        # At most once a second: a cursor that lags only means a few subjects screened again
        # (storing nothing new) after a crash.
        now = time.monotonic()
        if self._cursor is not None and now - self._saved_at >= 1.0:
            self._saved_at = now
            await self._on_cursor_thread(self._cursor.save, self.applied_through)

    async def apply(self, committed: Sequence[StoredRecord]) -> None:
        """Index the entries and screen the subjects among ``committed`` (in sequence order).

        Raises:
            StoreError: hits could not be stored (nothing of this batch is lost: retry it).
            ScreeningWorkerError: the worker process ended (retry with a new one).
        """
        subjects: list[StoredRecord] = []
        changed: set[str] = set()
        withdrawn: list[StoredRecord] = []
        rows: list[RecordRow] = []
        upserts: list[int] = []
        position: dict[tuple[str, int], int] = {}

        def row(stored: StoredRecord) -> int:
            key = (stored.record_id, stored.version)
            if key not in position:
                position[key] = len(rows)
                rows.append((stored.record_id, stored.version, stored.blob))
            return position[key]

        for stored in committed:
            if stored.kind == HIT_KIND:
                await self._note_decision(stored)
                continue
            fresh = stored.sequence > self._built_through  # else the rebuild read it already
            if stored.kind == TOMBSTONE_KIND:
                # A withdrawn record is used by no screening: its entries leave the index.
                if fresh:
                    upserts.append(len(rows))
                    rows.append((stored.record_id, stored.version, None))
                if stored.record_id in self._hits_of:
                    withdrawn.append(stored)
                continue
            if stored.withdrawn:
                continue  # a late version of a withdrawn record (its tombstone came first)
            if stored.version > 1 and stored.record_id in self._hits_of:
                changed.add(stored.record_id)
            if stored.kind in self._entry_kinds and fresh:
                upserts.append(row(stored))
            if stored.kind in self._auto_kinds and stored.version == stored.latest_version:
                subjects.append(stored)
        groups = [await self._group(stored, rows, row) for stored in subjects]
        if upserts or groups:
            # One hop to the worker for the whole batch: its entries, in commit order, then its
            # subjects, screened in one pass.
            screened_at = timestamp_pb2.Timestamp()
            screened_at.FromDatetime(self._clock())
            found, skipped, self._indexed_records = await self._worker.apply(
                rows, upserts, groups, (screened_at.seconds, screened_at.nanos)
            )
            for record_id, message in skipped:
                _log.warning("screening skipped %s: %s", record_id, message)
            if found:
                await self._store_found(found, {s.record_id: s for s in subjects})
        if changed:
            await self._rehandle(changed)
        if withdrawn:
            await self._withdraw_hits(withdrawn)

    # -- screening ---------------------------------------------------------------------------

    async def screen(
        self, subjects: Sequence[Subject], lists: Collection[str] | None = None
    ) -> list[list[Match]]:
        """The matches of each subject, strongest first, suppressed pairs left out.

        Raises:
            InvalidArgumentError: a list name is not configured.
            ScreeningWorkerError: the worker process ended, or its index is being rebuilt.
        """
        unknown = sorted(set(lists or ()) - set(self.lists))
        if unknown:
            raise InvalidArgumentError(
                "unknown screening lists",
                [FieldViolation("lists", f"not configured here: {', '.join(unknown)}")],
            )
        if not self._ready:
            raise ScreeningWorkerError("the screening index is being rebuilt")
        return await self._worker.screen(list(subjects), None if lists is None else list(lists))

    async def _group(
        self, stored: StoredRecord, rows: list[RecordRow], row: Callable[[StoredRecord], int]
    ) -> list[int]:
        """The rows a committed subject is screened with: itself; for a manifest, the manifest
        (with only its travellers that have a stored record) and their stored records."""
        if stored.kind != "passenger_manifest":
            return [row(stored)]
        record = stored.to_message()
        manifest = record.passenger_manifest
        wanted = [
            (record_id, 0)
            for traveller in manifest.travellers
            for record_id in (traveller.person_record_id, *traveller.document_record_ids)
            if record_id
        ]
        found = {s.record_id: s for s in await self._store.get_versions(wanted) if s is not None}
        kept = record_pb2.Record()
        kept.CopyFrom(record)
        del kept.passenger_manifest.travellers[:]
        for traveller in manifest.travellers:
            ids = (traveller.person_record_id, *traveller.document_record_ids)
            if any(record_id in found for record_id in ids):
                kept.passenger_manifest.travellers.add().CopyFrom(traveller)
        group = [len(rows)]
        rows.append((stored.record_id, stored.version, kept.SerializeToString()))
        return group + [row(s) for s in found.values()]

    async def _store_found(
        self, found: Sequence[FoundHit], committed: dict[str, StoredRecord]
    ) -> None:
        """Store the hits of automatic screening, each handled as the stricter of its subject's
        and its entry's handling (read in one go)."""
        keys = [(f[2], f[3]) for f in found]
        keys += [(f[5], f[6]) for f in found if f[5] not in committed]
        read = await self._store.get_versions(keys)
        facts = {(f.record_id, f.version): f for f in read if f is not None}
        facts.update({(f.record_id, f.version): f for f in committed.values()})
        hits: list[record_pb2.Record] = []
        for subject_id, subject_version, entry_id, entry_version, list_, who, which, body in found:
            subject_facts = facts.get((who, which))
            entry = facts.get((entry_id, entry_version))
            if subject_facts is None or entry is None:
                continue
            if self._gate is not None and not (
                self._gate.serves_content(entry) and self._gate.serves_content(subject_facts)
            ):
                # Past its expiry (not swept yet, or the origin's tombstone not arrived): a hit
                # would repeat content no longer served.
                continue
            digest = hit_key(subject_id, subject_version, entry_id, entry_version, list_)
            record = record_pb2.Record(record_id=f"{self._centre}:hit:{digest}")
            record.screening_hit.MergeFromString(body)
            code, readers = self._handling(subject_facts, entry)
            record.handling.code = code  # type: ignore[assignment]
            record.handling.releasable_to.extend(readers)
            _expire_with(record, entry, subject_facts)
            hits.append(record)
        await self._store_new(hits)

    def _handling(self, subject: StoredRecord, entry: StoredRecord) -> tuple[int, list[str]]:
        """A hit's handling code and readers, from its subject's and entry's current handling."""
        code = max(subject.latest_handling_code, entry.latest_handling_code)
        releasable = _stricter(subject.latest_releasable_to, entry.latest_releasable_to)
        if self._gate is not None and (releasable or releasable is None or code == H2_CODE):
            # The hit's readers are named: those who may see both records. Its own H2 would be
            # weighed by this centre's rules for *hits*, not by the provider's permission for
            # the entry, and an empty intersection of lists would leave out the entry's origin.
            releasable = self._readers_of_both(subject, entry) or None
        # Releasable to nobody in common: only this centre keeps it.
        return code, releasable if releasable is not None else [self._centre]

    async def _rehandle(self, sources: Collection[str]) -> None:
        """New versions of the hits on records that have new versions, where their handling
        changed: a hit repeats its entry's and subject's data, so it follows their current
        handling (a notice restricted today hides yesterday's hits on it too)."""
        hit_ids = sorted({hit for source in sources for hit in self._hits_of.get(source, ())})
        if not hit_ids:
            return
        stored_hits = [s for s in await self._store.get_versions([(h, 0) for h in hit_ids]) if s]
        hits = [(stored, stored.to_message()) for stored in stored_hits]
        wanted = {
            record_id
            for _, record in hits
            for record_id in (
                record.screening_hit.subject_record_id,
                record.screening_hit.entry_record_id,
            )
        }
        latest = {
            s.record_id: s
            for s in await self._store.get_versions([(i, 0) for i in sorted(wanted)])
            if s is not None
        }
        items = []
        for stored, record in hits:
            subject = latest.get(record.screening_hit.subject_record_id)
            entry = latest.get(record.screening_hit.entry_record_id)
            if subject is None or entry is None:
                continue
            code, readers = self._handling(subject, entry)
            if (code, readers) == (stored.handling_code, list(stored.releasable_to)):
                continue
            record.handling.code = code  # type: ignore[assignment]
            del record.handling.releasable_to[:]
            record.handling.releasable_to.extend(readers)
            item = prepare_record(record, self._centre, screening_hit=True)
            items.append(dataclasses.replace(item, expected_version=stored.version))
        if items:
            # A decision committed meanwhile wins the version; its own commit brings the hit
            # back here (a new version of a source is seen again at the next change).
            await self._store.write(items)

    def _readers_of_both(self, first: StoredRecord, second: StoredRecord) -> list[str]:
        assert self._gate is not None
        gate = self._gate
        candidates = {
            self._centre,
            *self._centres,
            first.originating_centre,
            second.originating_centre,
            *first.latest_releasable_to,
            *second.latest_releasable_to,
        }
        return sorted(
            centre
            for centre in candidates
            if gate.visible(first, centre) and gate.visible(second, centre)
        )

    async def _store_new(self, hits: list[record_pb2.Record]) -> None:
        if not hits:
            return
        for hit in hits:
            self._remember(hit)
        existing = await self._store.get_versions([(hit.record_id, 0) for hit in hits])
        fresh = [hit for hit, stored in zip(hits, existing, strict=True) if stored is None]
        unique = list({hit.record_id: hit for hit in fresh}.values())
        if not unique:
            return
        items = [prepare_record(hit, self._centre, screening_hit=True) for hit in unique]
        outcomes = await self._store.write(items)
        self.hits_stored += sum(isinstance(o, StoredVersion) and not o.duplicate for o in outcomes)

    async def _withdraw_hits(self, tombstones: Sequence[StoredRecord]) -> None:
        """Withdraw the hits on records that were withdrawn: a hit repeats its entry's and its
        subject's data, which must not outlive them (the hit's tombstone then reaches every
        centre that received the hit, as any withdrawal does)."""
        reasons = {t.record_id: t.to_message().withdrawal.reason for t in tombstones}
        hit_ids = sorted({hit for source in reasons for hit in self._hits_of.get(source, ())})
        found = await self._store.get_versions([(h, 0) for h in hit_ids])
        now_us = int(self._clock().timestamp() * 1_000_000)
        items = []
        for stored in found:
            if stored is None or stored.kind != HIT_KIND:
                continue  # gone, or withdrawn already
            hit = stored.to_message()
            body = hit.screening_hit
            source = (
                body.entry_record_id if body.entry_record_id in reasons else body.subject_record_id
            )
            role = "entry" if source == body.entry_record_id else "subject"
            tombstone = tombstone_of(
                hit, reasons[source], f"its {role} {source} was withdrawn", now_us
            )
            item = prepare_record(tombstone, self._centre, tombstone=True)
            items.append(dataclasses.replace(item, expected_version=stored.version))
        if items:
            await self._store.write(items)

    def _remember(self, hit: record_pb2.Record) -> None:
        """Note which records ``hit`` repeats data of (to re-handle it when they change)."""
        body = hit.screening_hit
        for source in (body.subject_record_id, body.entry_record_id):
            self._hits_of.setdefault(source, set()).add(hit.record_id)

    # -- decisions ---------------------------------------------------------------------------

    async def _note_decision(self, stored: StoredRecord) -> None:
        """Keep the suppression set current with a hit version (only the latest counts)."""
        decided = await self._decision(stored)
        if decided is None:
            return
        pair, suppressed = decided
        if suppressed and pair not in self._suppressed:
            self._suppressed.add(pair)
            await self._worker.suppress([pair], [])
        elif not suppressed and pair in self._suppressed:
            self._suppressed.discard(pair)
            await self._worker.suppress([], [pair])

    async def _decision(self, stored: StoredRecord) -> tuple[SuppressedPair, bool] | None:
        """The pair a hit version decides on, and whether it is suppressed (a confirmed no
        match); ``None`` for a version that is not the latest, or a pair that cannot be told."""
        if stored.version != stored.latest_version:
            return None
        hit = stored.to_message().screening_hit
        pair = await self._pair_of(hit)
        if pair is None:
            return None
        return pair, hit.decision.kind == screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH

    async def _pair_of(self, hit: screening_hit_pb2.ScreeningHit) -> SuppressedPair | None:
        if hit.subject_key:
            return (hit.subject_key, hit.entry_record_id, hit.entry_version)
        # A hit stored before hits carried their subject's key: computed again from the subject
        # record (a traveller screened with its manifest's documents may then not be matched).
        subject = await self._store.get(hit.subject_record_id, hit.subject_version)
        if subject is None:
            return None
        try:
            found = subjects_from_records([subject.to_message()])
        except ScreeningInputError:
            return None
        if not found:
            return None
        return (found[0].identity_key, hit.entry_record_id, hit.entry_version)

    def suppressed(self) -> frozenset[SuppressedPair]:
        """The pairs confirmed as no match."""
        return frozenset(self._suppressed)

    async def _on_cursor_thread(
        self, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._cursor_thread, lambda: function(*args, **kwargs))


def _expire_with(hit: record_pb2.Record, *sources: StoredRecord) -> None:
    """Let ``hit`` expire no later than the records it repeats the data of: past its entry's or
    subject's expiry nothing serves it (the gate), and the retention keeper withdraws it, even
    when the entry's origin (whose tombstone would withdraw the hit) is not heard from."""
    ends = [source.expires_at_us for source in sources if source.expires_at_us]
    if ends:
        seconds, micros = divmod(min(ends), 1_000_000)
        hit.expires_at.seconds, hit.expires_at.nanos = seconds, micros * 1000


def _stricter(first: Iterable[str], second: Iterable[str]) -> list[str] | None:
    """Releasability of a record derived from two: the centres both allow (an empty list allows
    every centre, so it yields the other); ``None`` when they allow no centre in common."""
    a, b = set(first), set(b_ := list(second))
    if not a:
        return sorted(set(b_))
    if not b:
        return sorted(a)
    return sorted(a & b) or None
