"""The index keeper: the screening index, its suppressed pairs, and every use of them.

One object owns the :class:`ScreeningIndex`, the :class:`Screener` over it and the pairs
confirmed as no match, and takes and gives only plain values (record ids, versions, serialized
records, serialized hits): the same keeper runs on the gateway's screening thread or in the
screening worker process (:mod:`gateway.screening.worker_process`), and whatever it is handed
crosses a pipe cheaply. The records are parsed here, not on the event loop, and a commit batch's
entries and subjects arrive together: one hop indexes the entries and screens the subjects.

Not safe for concurrent use: its owner serialises the calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.screening.hits import hit_from_match
from gateway.screening.index import ScreeningIndex
from gateway.screening.lists import ListDefinition
from gateway.screening.model import ListEntry, Match, Subject
from gateway.screening.records import (
    ScreeningInputError,
    entries_from_record,
    subjects_from_records,
)
from gateway.screening.screener import Screener, SuppressedPair
from liaison.v1 import record_pb2

__all__ = ["FoundHit", "IndexKeeper", "RecordRow", "ScreenedBatch", "hit_key"]

RecordRow = tuple[str, int, bytes | None]
"""(record id, version, serialized record with that version, or ``None``: withdrawn)."""

FoundHit = tuple[str, int, str, int, str, str, int, bytes]
"""A match of automatic screening: (hit subject record id, its version, entry record id, entry
version, list, screened subject record id, its version, serialized ``ScreeningHit``). The hit's
subject is the document matched when a document matched, the screened subject the traveller's
person (or document) the hit's handling follows."""

ScreenedBatch = tuple[list[FoundHit], list[tuple[str, str]], int]
"""What screening a commit batch found: its hits, the records skipped with why (record id,
message), and how many records contribute entries to the index afterwards."""


def hit_key(
    subject_record_id: str,
    subject_version: int,
    entry_record_id: str,
    entry_version: int,
    list_: str,
) -> str:
    """The digest a hit's record id ends with: the same subject version, entry version and list
    always give the same id, so a screening repeated (a restart, a replay) stores nothing new."""
    key = "\x1f".join(
        (subject_record_id, str(subject_version), entry_record_id, str(entry_version), list_)
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class IndexKeeper:
    """The index, the screener and the suppressed pairs; see the module."""

    def __init__(self, lists: Sequence[ListDefinition]) -> None:
        self._lists = tuple(lists)
        self._index = ScreeningIndex()
        self._screener = Screener(self._index, self._lists)
        self._suppressed: set[SuppressedPair] = set()
        self._records: set[str] = set()
        """Records that contribute entries to the index."""
        self._loading: dict[str, list[ListEntry]] = {}

    @property
    def indexed_records(self) -> int:
        """Records that contribute entries to the index."""
        return len(self._records)

    # -- building and updating ---------------------------------------------------------------

    def load(self, rows: Sequence[RecordRow]) -> None:
        """Take the latest versions of list records read in a rebuild (in sequence order: a later
        row of a record replaces an earlier one); :meth:`build` then builds the index."""
        for record_id, version, blob in rows:
            self._loading[record_id] = [] if blob is None else self._entries(blob, version)

    def build(self) -> tuple[int, int]:
        """Replace the index with one of everything loaded since the last build; (entries,
        records contributing them)."""
        loaded, self._loading = self._loading, {}
        built = [entry for entries in loaded.values() for entry in entries]
        self._index = ScreeningIndex.build(built)
        self._screener.index = self._index
        self._records = {record_id for record_id, entries in loaded.items() if entries}
        return len(built), len(self._records)

    def upsert(self, rows: Sequence[RecordRow]) -> None:
        """Committed versions of list-kind records (``None``: the record was withdrawn), in
        commit order: each replaces what its record contributed to the index."""
        for record_id, version, blob in rows:
            entries = [] if blob is None else self._entries(blob, version)
            # Most such records are no entry (a valid passport) and never were: nothing to do.
            if entries or record_id in self._records:
                self._index.upsert(record_id, entries)
            if entries:
                self._records.add(record_id)
            else:
                self._records.discard(record_id)

    def suppress(self, added: Iterable[Sequence[Any]], removed: Iterable[Sequence[Any]]) -> None:
        """Pairs newly confirmed as no match, and pairs whose decision changed (as tuples or,
        from the pipe, lists)."""
        self._suppressed.difference_update(_pair(p) for p in removed)
        self._suppressed.update(_pair(p) for p in added)

    def suppressed(self) -> frozenset[SuppressedPair]:
        """The pairs confirmed as no match."""
        return frozenset(self._suppressed)

    # -- screening ---------------------------------------------------------------------------

    def screen(
        self, subjects: Sequence[Subject], lists: Collection[str] | None = None
    ) -> list[list[Match]]:
        """The matches of each subject, strongest first, suppressed pairs left out, and never a
        record on itself (a stolen passport's own record is both)."""
        found = self._screener.screen_many(list(subjects), lists, self._suppressed)
        return [
            [m for m in matches if m.entry.record_id != subject.record_id]
            for subject, matches in zip(subjects, found, strict=True)
        ]

    def apply(
        self,
        rows: Sequence[RecordRow],
        upserts: Sequence[int],
        groups: Sequence[Sequence[int]],
        screened_at: tuple[int, int],
    ) -> ScreenedBatch:
        """One commit batch: index ``rows[i]`` for each ``i`` of ``upserts`` (in order), then
        screen the groups of rows (a committed subject, or a manifest with its travellers'
        records) in one pass.

        A person or document committed with the manifest it travels on is screened once, as
        that traveller (its hits name the manifest), and not again alone. ``screened_at`` is
        (seconds, nanoseconds) since the epoch.
        """
        parsed: dict[int, record_pb2.Record] = {}

        def record(position: int) -> record_pb2.Record:
            found = parsed.get(position)
            if found is None:
                record_id, version, blob = rows[position]
                found = record_pb2.Record.FromString(blob or b"")
                found.record_id = record_id
                found.version = version
                parsed[position] = found
            return found

        self.upsert([rows[i] for i in upserts])
        batch: dict[str, record_pb2.Record] = {}
        skipped: list[tuple[str, str]] = []
        for group in groups:
            expanded = [record(i) for i in group]
            if expanded[0].WhichOneof("body") == "passenger_manifest":
                # The one kind that can fail to join: a manifest none of whose travellers is
                # stored (a person or a document alone always makes a subject).
                try:
                    subjects_from_records(expanded)
                except ScreeningInputError as error:
                    skipped.append((rows[group[0]][0], error.message))
                    continue
            for each in expanded:
                batch.setdefault(each.record_id, each)
        subjects = subjects_from_records(batch.values())
        if not subjects:
            return [], skipped, len(self._records)
        seconds, nanos = screened_at
        when = datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=nanos // 1000)
        try:
            found = self.screen(subjects)
        except Exception:
            found = self._screen_alone(subjects, skipped)
        hits: list[FoundHit] = []
        for subject, matches in zip(subjects, found, strict=True):
            for match in matches:
                body = hit_from_match(match, subject, when)
                hits.append(
                    (
                        match.subject_record_id,
                        match.subject_version,
                        match.entry.record_id,
                        match.entry.version,
                        match.entry.list,
                        subject.record_id,
                        subject.version,
                        body.SerializeToString(),
                    )
                )
        return hits, skipped, len(self._records)

    def _screen_alone(
        self, subjects: Sequence[Subject], skipped: list[tuple[str, str]]
    ) -> list[list[Match]]:
        """Screen a batch that failed one subject at a time, skipping (and naming) those that
        fail alone: the desk retries a failed batch until it succeeds, so one subject the engine
        cannot screen would otherwise stop automatic screening of every later commit."""
        found: list[list[Match]] = []
        for subject in subjects:
            try:
                found.append(self.screen([subject])[0])
            except Exception as error:
                skipped.append((subject.record_id, f"cannot be screened: {type(error).__name__}"))
                found.append([])
        return found

    def _entries(self, blob: bytes, version: int) -> list[ListEntry]:
        return entries_from_record(record_pb2.Record.FromString(blob), version, self._lists)


def _pair(pair: Sequence[Any]) -> SuppressedPair:
    subject_key, entry_record_id, entry_version = pair
    return (str(subject_key), str(entry_record_id), int(entry_version))
