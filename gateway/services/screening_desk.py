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
supervised task, so it never slows or blocks the commit that triggered it. Index work (updates
and screenings, the RPC's too) runs on one worker thread: the index is not thread-safe, and a
300-traveller manifest (about 80 ms on a million names) must not hold the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from gateway.errors import FieldViolation, InvalidArgumentError
from gateway.screening import (
    Match,
    Screener,
    ScreeningIndex,
    ScreeningInputError,
    Subject,
    SuppressedPair,
    entries_from_record,
    hit_from_match,
    subjects_from_records,
)
from gateway.screening.model import ListEntry
from gateway.screening.settings import ScreeningSettings
from gateway.security.gate import RecordGate
from gateway.security.visibility import H2_CODE
from gateway.services.screening_cursor import ScreeningCursor
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
_P = ParamSpec("_P")
_T = TypeVar("_T")


def hit_record_id(centre: str, match: Match) -> str:
    """The id of the hit record for ``match``: the same subject version, entry version and list
    always give the same id, so a screening repeated (a restart, a replay) stores nothing new."""
    key = "\x1f".join(
        (
            match.subject_record_id,
            str(match.subject_version),
            match.entry.record_id,
            str(match.entry.version),
            match.entry.list,
        )
    )
    return f"{centre}:hit:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


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
        self._entry_kinds = frozenset(kind for spec in settings.lists for kind in spec.kinds)
        self._auto_kinds = frozenset(settings.screen_on_commit)
        self._index = ScreeningIndex()
        self.screener = Screener(self._index, settings.lists)
        self._suppressed: set[SuppressedPair] = set()
        self._queue: deque[StoredRecord] = deque()
        self._arrived = asyncio.Event()
        self._unlisten: Callable[[], None] | None = None
        self._built_through = 0
        self._seen_through = 0
        self._records: set[str] = set()
        self._hits_of: dict[str, set[str]] = {}
        """Record id -> the hits that repeat its data (as subject or entry)."""
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liaison-screening")
        self.applied_through = 0
        """The highest committed sequence the index and the automatic screening have handled."""
        self.hits_stored = 0
        """Hit records this desk has stored since it started."""

    @property
    def lists(self) -> list[str]:
        """The names of the lists screened against."""
        return list(self.screener.lists)

    @property
    def indexed_records(self) -> int:
        """Records that contribute entries to the index."""
        return len(self._records)

    # -- starting and stopping ---------------------------------------------------------------

    async def open(self) -> None:
        """Rebuild the index from the store (listening first: nothing committed meanwhile is
        missed) and load the suppressed pairs."""
        self._unlisten = self._store.add_commit_listener(self._on_commit)
        last = await self._store.last_sequence()
        latest: dict[str, list[ListEntry]] = {}
        decided: dict[str, StoredRecord] = {}
        after = 0
        wanted = self._entry_kinds | {HIT_KIND, TOMBSTONE_KIND}
        while True:
            batch = await self._store.read_since(after, _REBUILD_BATCH, kinds=wanted)
            for stored in batch:
                if stored.kind == HIT_KIND:
                    # Which records each hit repeats (to follow their handling); version 1 is
                    # the hit as screened, decisions are later versions.
                    self._remember(stored.to_message())
                    if stored.version > 1:
                        decided[stored.record_id] = stored
                elif stored.withdrawn:
                    latest[stored.record_id] = []  # withdrawn: no entries, whatever came before
                else:
                    latest[stored.record_id] = entries_from_record(
                        stored.to_message(), stored.version, self._settings.lists
                    )
            if len(batch) < _REBUILD_BATCH:
                break
            after = batch[-1].sequence
        self._built_through = max(after, batch[-1].sequence if batch else 0)
        committed = max(self._built_through, last)
        built = [entry for entries in latest.values() for entry in entries]
        self._index = await self._run(ScreeningIndex.build, built)
        self.screener.index = self._index
        self._records = {record_id for record_id, entries in latest.items() if entries}
        for stored in decided.values():
            await self._note_decision(stored)
        self._seen_through = max(self._seen_through, committed)
        self.applied_through = committed
        if self._cursor is not None:
            await self._recover(await self._run(self._cursor.open, committed), committed)
        _log.info(
            "screening index rebuilt: %d entries from %d records, %d suppressed pairs",
            len(built),
            len(self._records),
            len(self._suppressed),
        )

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
        """Stop following commits, save how far screening got, release the worker thread."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._cursor is not None:
            cursor = self._cursor
            if not self._queue:
                await self._run(cursor.save, self.applied_through)
            await self._run(cursor.close)
        await asyncio.to_thread(self._worker.shutdown, wait=True, cancel_futures=True)

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
        hits) the supervisor restarts this task and it resumes with the same record."""
        while True:
            if not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            batch = list(self._queue)
            await self.apply(batch)
            for _ in batch:
                self._queue.popleft()
            # With the queue empty, every commit seen so far is handled (those it skipped too).
            done = batch[-1].sequence if self._queue else self._seen_through
            self.applied_through = max(self.applied_through, done)
            await self._save_cursor()
            handle.progress()

    async def _save_cursor(self) -> None:
        # At most once a second: a cursor that lags only means a few subjects screened again
        # (storing nothing new) after a crash.
        now = time.monotonic()
        if self._cursor is not None and now - self._saved_at >= 1.0:
            self._saved_at = now
            await self._run(self._cursor.save, self.applied_through)

    async def apply(self, committed: Sequence[StoredRecord]) -> None:
        """Index the entries and screen the subjects among ``committed`` (in sequence order).

        Raises:
            StoreError: hits could not be stored (nothing of this batch is lost: retry it).
        """
        subjects: list[StoredRecord] = []
        changed: set[str] = set()
        withdrawn: list[StoredRecord] = []
        upserts: list[tuple[str, list[ListEntry]]] = []
        for stored in committed:
            if stored.kind == HIT_KIND:
                await self._note_decision(stored)
                continue
            if stored.kind == TOMBSTONE_KIND:
                # A withdrawn record is used by no screening: its entries leave the index.
                if stored.record_id in self._records:
                    upserts.append((stored.record_id, []))
                    self._records.discard(stored.record_id)
                if stored.record_id in self._hits_of:
                    withdrawn.append(stored)
                continue
            if stored.withdrawn:
                continue  # a late version of a withdrawn record (its tombstone came first)
            if stored.version > 1 and stored.record_id in self._hits_of:
                changed.add(stored.record_id)
            if stored.kind in self._entry_kinds:
                record = stored.to_message()
                entries = entries_from_record(record, stored.version, self._settings.lists)
                # Most such records are no entry (a valid passport) and never were: nothing to do.
                if entries or stored.record_id in self._records:
                    upserts.append((stored.record_id, entries))
                if entries:
                    self._records.add(stored.record_id)
                else:
                    self._records.discard(stored.record_id)
            if stored.kind in self._auto_kinds and stored.version == stored.latest_version:
                subjects.append(stored)
        if upserts:
            # One hop to the index's thread for the whole batch, in commit order.
            await self._run(_upsert_all, self._index, upserts)
        if subjects:
            await self._screen_committed(subjects)
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
        """
        unknown = sorted(set(lists or ()) - set(self.screener.lists))
        if unknown:
            raise InvalidArgumentError(
                "unknown screening lists",
                [FieldViolation("lists", f"not configured here: {', '.join(unknown)}")],
            )
        suppressed = frozenset(self._suppressed)
        found = await self._run(self.screener.screen_many, list(subjects), lists, suppressed)
        # A record is never a hit on itself (a stolen passport's own record is both).
        return [
            [m for m in matches if m.entry.record_id != subject.record_id]
            for subject, matches in zip(subjects, found, strict=True)
        ]

    async def _screen_committed(self, committed: Sequence[StoredRecord]) -> None:
        handling = {stored.record_id: stored for stored in committed}
        batch: dict[str, record_pb2.Record] = {}
        for stored in committed:
            record = stored.to_message()
            try:
                expanded = await self._with_travellers(record)
                subjects_from_records(expanded)  # a manifest none of whose travellers is stored
            except ScreeningInputError as error:
                _log.warning("screening skipped %s: %s", record.record_id, error.message)
                continue
            for each in expanded:
                batch.setdefault(each.record_id, each)
        # One pass over the whole batch: a person or document committed with the manifest it
        # travels on is screened once, as that traveller (its hits name the manifest), and not
        # again alone - which would store a second hit for the same traveller and entry.
        subjects = subjects_from_records(batch.values())
        if not subjects:
            return
        found = await self.screen(subjects)
        hits: list[record_pb2.Record] = []
        now = self._clock()
        pairs = [(s, m) for s, matches in zip(subjects, found, strict=True) for m in matches]
        if not pairs:
            return
        # The handling of both sides, read in one go: a hit is handled as the stricter of them.
        keys = [(m.entry.record_id, m.entry.version) for _, m in pairs]
        keys += [(s.record_id, s.version) for s, _ in pairs if s.record_id not in handling]
        read = await self._store.get_versions(keys)
        facts = {(f.record_id, f.version): f for f in read if f is not None}
        facts.update({(f.record_id, f.version): f for f in handling.values()})
        for subject, match in pairs:
            subject_facts = facts.get((subject.record_id, subject.version))
            entry = facts.get((match.entry.record_id, match.entry.version))
            if subject_facts is None or entry is None:
                continue
            hits.append(self.hit_record(match, subject, now, subject_facts, entry))
        await self._store_new(hits)

    async def _with_travellers(self, record: record_pb2.Record) -> list[record_pb2.Record]:
        """A manifest with the stored person and document records of its travellers (those
        with none stored are left out); any other record alone."""
        if record.WhichOneof("body") != "passenger_manifest":
            return [record]
        manifest = record.passenger_manifest
        wanted = [
            (record_id, 0)
            for traveller in manifest.travellers
            for record_id in (traveller.person_record_id, *traveller.document_record_ids)
            if record_id
        ]
        found = {
            stored.record_id: stored.to_message()
            for stored in await self._store.get_versions(wanted)
            if stored is not None
        }
        kept = record_pb2.Record()
        kept.CopyFrom(record)
        del kept.passenger_manifest.travellers[:]
        for traveller in manifest.travellers:
            ids = (traveller.person_record_id, *traveller.document_record_ids)
            if any(record_id in found for record_id in ids):
                kept.passenger_manifest.travellers.add().CopyFrom(traveller)
        return [kept, *found.values()]

    def hit_record(
        self,
        match: Match,
        subject: Subject,
        screened_at: datetime,
        subject_facts: StoredRecord,
        entry: StoredRecord,
    ) -> record_pb2.Record:
        """The ``ScreeningHit`` record of a match: this centre's, handled as the stricter of the
        subject's and the entry's handling (only those who may see both may see it)."""
        hit = hit_from_match(match, subject, screened_at)
        record = record_pb2.Record(record_id=hit_record_id(self._centre, match))
        record.screening_hit.CopyFrom(hit)
        code, readers = self._handling(subject_facts, entry)
        record.handling.code = code  # type: ignore[assignment]
        record.handling.releasable_to.extend(readers)
        return record

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
        if stored.version != stored.latest_version:
            return
        hit = stored.to_message().screening_hit
        pair = await self._pair_of(hit)
        if pair is None:
            return
        if hit.decision.kind == screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH:
            self._suppressed.add(pair)
        else:
            self._suppressed.discard(pair)

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

    async def _run(self, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, lambda: function(*args, **kwargs))


def _upsert_all(index: ScreeningIndex, upserts: Sequence[tuple[str, list[ListEntry]]]) -> None:
    for record_id, entries in upserts:
        index.upsert(record_id, entries)


def _stricter(first: Iterable[str], second: Iterable[str]) -> list[str] | None:
    """Releasability of a record derived from two: the centres both allow (an empty list allows
    every centre, so it yields the other); ``None`` when they allow no centre in common."""
    a, b = set(first), set(b_ := list(second))
    if not a:
        return sorted(set(b_))
    if not b:
        return sorted(a)
    return sorted(a & b) or None
