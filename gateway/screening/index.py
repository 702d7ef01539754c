"""The screening index: list entries, their postings, and candidate retrieval.

Layout, chosen so that eleven million entries fit in about a hundred bytes each and a
manifest's candidates come from a handful of vectorised lookups:

- entries are encoded once in :class:`~gateway.screening.storage.EntryStorage` (one buffer);
- the **base** is three parallel numpy arrays sorted by key (64-bit key, 32-bit slot, 32-bit info
  field, see :mod:`gateway.screening.postings`) plus a sorted array of record-id hashes with
  their slots, and the facts of every named entry for the score bound
  (:class:`~gateway.screening.facts.EntryFactsTable`);
- the **delta** holds what was upserted since the base was last merged, in dicts scanned in
  Python; it is merged into the base (one sort of the delta, one linear merge) when it grows past
  an eighth of the base (at least ``MIN_DELTA_POSTINGS``), and never past ``merge_threshold``
  postings. Merges then cost a bounded multiple of the postings upserted, and a lookup never
  scans a delta much larger than a few thousand postings per eighth of the base: an index that
  grows by commits (a gateway's, entry by entry) stays as fast as one built in bulk.

:meth:`ScreeningIndex.build` loads entries in bulk: each entry is encoded and its postings
appended to flat arrays, which are sorted once at the end. A new version of a record replaces
the old one at once (the old slot is marked dead, the new entry goes to the delta), so a
committed entry can be screened against immediately.

Candidates are chosen in two steps. The lookups find every posting that shares a name code with
the subject within the birth-year window (or the same document key, or, for entries without a
name, the same birth date). An entry is a candidate when it shares two or more selecting codes,
or one code and a birth date compatible at the entry's precision, or one code and the entry's
name has a single word, or a document or date key. Then every candidate not found by a document
or date key gets an upper bound on its score (:mod:`gateway.screening.bound`); those whose bound
stays under the lowest review threshold that applies are left out before anything is decoded.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.screening.bound import date_weights, floor_logit, score_bounds
from gateway.screening.codec import EntryCodec
from gateway.screening.facts import EntryFactsTable
from gateway.screening.keys import number_key
from gateway.screening.model import ListEntry, Subject
from gateway.screening.name_match import forms_of
from gateway.screening.postings import SELECTS, SINGLE, WORDS_SHIFT, entry_postings, word_pool
from gateway.screening.queries import NO_CODE, QueryPlan, plan_queries
from gateway.screening.storage import EntryStorage

__all__ = ["DEFAULT_YEAR_WINDOW", "ScreeningIndex"]

DEFAULT_YEAR_WINDOW = 2
"""Birth years this far apart are still candidates."""
_LOW = 0xFFFF
_HASH_MASK = (1 << 64) - 1
_BATCH = 2048
"""Subjects looked up together (bounds the size of the arrays one lookup makes)."""
_U64: type[np.uint64] = np.uint64


MIN_DELTA_POSTINGS = 4096
"""The delta is merged into the base once it holds this many postings, or an eighth of the base
when that is more (see the module documentation)."""


def _record_hash(record_id: str) -> int:
    # Python's own string hash: per process, but the index lives in one process and only looks
    # record ids up by it (an equal hash is checked against the entry's record id).
    return hash(record_id) & _HASH_MASK


class ScreeningIndex:
    """Every list entry, searchable by name codes, birth years, dates and document keys.

    Not safe for concurrent use: the gateway serialises updates and screenings.
    """

    def __init__(
        self, *, year_window: int = DEFAULT_YEAR_WINDOW, merge_threshold: int = 200_000
    ) -> None:
        """An empty index.

        Args:
            year_window: Birth years at most this far from the subject's are candidates.
            merge_threshold: Delta postings that trigger a merge into the sorted base.
        """
        if year_window < 0 or merge_threshold < 1:
            raise ValueError("year_window must be >= 0 and merge_threshold >= 1")
        self.year_window = year_window
        self._merge_threshold = merge_threshold
        self._codec = EntryCodec()
        self._storage = EntryStorage()
        self._facts = EntryFactsTable()
        self._keys: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
        self._slots: npt.NDArray[np.uint32] = np.empty(0, dtype=np.uint32)
        self._info: npt.NDArray[np.uint32] = np.empty(0, dtype=np.uint32)
        self._record_hashes: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
        self._record_slots: npt.NDArray[np.uint32] = np.empty(0, dtype=np.uint32)
        self._delta: dict[int, list[tuple[int, int, int]]] = {}
        self._delta_postings = 0
        self._delta_records: dict[str, list[int]] = {}

    # -- building and updating ---------------------------------------------------------------

    @classmethod
    def build(
        cls,
        entries: Iterable[ListEntry],
        *,
        year_window: int = DEFAULT_YEAR_WINDOW,
        merge_threshold: int = 200_000,
    ) -> ScreeningIndex:
        """An index of ``entries`` loaded in bulk: one pass, one sort (start-up, from the store).

        Raises ``ValueError`` when two entries have the same record id (the store yields each
        record's latest version once; an update goes through :meth:`upsert`).
        """
        index = cls(year_window=year_window, merge_threshold=merge_threshold)
        keys, slots, info = array("Q"), array("I"), array("I")
        record_hashes, record_slots = array("Q"), array("I")
        for entry in entries:
            slot = index._store(entry)
            record_hashes.append(_record_hash(entry.record_id))
            record_slots.append(slot)
            if entry.document_centric:
                # Ten million stolen documents: no names to look at, one posting each.
                for document in entry.documents:
                    if document.number:
                        keys.append(number_key(document.number))
                        slots.append(slot)
                        info.append(0)
                continue
            for key, field in index._postings(slot, entry):
                keys.append(key)
                slots.append(slot)
                info.append(field)
        order = np.argsort(np.frombuffer(keys, dtype=np.uint64) if keys else _NO_KEYS)
        index._keys = _sorted(keys, np.uint64, order)
        index._slots = _sorted(slots, np.uint32, order)
        index._info = _sorted(info, np.uint32, order)
        del keys, slots, info, order
        record_order = np.argsort(
            np.frombuffer(record_hashes, dtype=np.uint64) if record_hashes else _NO_KEYS
        )
        index._record_hashes = _sorted(record_hashes, np.uint64, record_order)
        index._record_slots = _sorted(record_slots, np.uint32, record_order)
        index._check_unique_records()
        return index

    def _store(self, entry: ListEntry) -> int:
        return self._storage.append(self._codec.encode(entry))

    def _postings(self, slot: int, entry: ListEntry) -> list[tuple[int, int]]:
        """The entry's postings; records its facts when it has a name."""
        forms = [form for _, form in forms_of(n for n in entry.names if not n.is_empty)]
        pool = word_pool(forms)
        if forms:
            self._facts.append(slot, forms, pool, entry.sex, entry.nationalities)
        return entry_postings(entry, forms, pool)

    def upsert(self, record_id: str, entries: Sequence[ListEntry]) -> None:
        """Replace whatever ``record_id`` contributed by ``entries`` (empty: remove it)."""
        for entry in entries:
            if entry.record_id != record_id:
                raise ValueError(f"entry of {entry.record_id} upserted as {record_id}")
        self.remove(record_id)
        if not entries:
            return
        slots = self._delta_records.setdefault(record_id, [])
        for entry in entries:
            slot = self._store(entry)
            slots.append(slot)
            postings = (
                [(number_key(d.number), 0) for d in entry.documents if d.number]
                if entry.document_centric
                else self._postings(slot, entry)
            )
            for key, field in postings:
                self._delta.setdefault(key >> 16, []).append((slot, key & _LOW, field))
                self._delta_postings += 1
        limit = min(self._merge_threshold, max(MIN_DELTA_POSTINGS, len(self._keys) // 8))
        if self._delta_postings >= limit:
            self.merge()

    def remove(self, record_id: str) -> bool:
        """Take ``record_id``'s entries out of the index; False when it had none."""
        removed = False
        for slot in self._delta_records.pop(record_id, []):
            self._storage.kill(slot)
            removed = True
        if len(self._record_hashes):
            hashed = _U64(_record_hash(record_id))
            start = int(np.searchsorted(self._record_hashes, hashed, side="left"))
            end = int(np.searchsorted(self._record_hashes, hashed, side="right"))
            for position in range(start, end):
                slot = int(self._record_slots[position])
                if self._storage.is_alive(slot) and self.entry(slot).record_id == record_id:
                    self._storage.kill(slot)
                    removed = True
        return removed

    def merge(self) -> None:
        """Merge the delta into the sorted base (also dropping dead postings)."""
        delta_keys, delta_slots, delta_info = array("Q"), array("I"), array("I")
        for prefix, postings in self._delta.items():
            for slot, low, field in postings:
                delta_keys.append((prefix << 16) | low)
                delta_slots.append(slot)
                delta_info.append(field)
        order = np.argsort(np.frombuffer(delta_keys, dtype=np.uint64) if delta_keys else _NO_KEYS)
        keys = _sorted(delta_keys, np.uint64, order)
        slots = _sorted(delta_slots, np.uint32, order)
        info = _sorted(delta_info, np.uint32, order)
        live = self._storage.alive_mask(self._slots)
        base_keys, base_slots, base_info = self._keys[live], self._slots[live], self._info[live]
        at = np.searchsorted(base_keys, keys, side="right")
        self._keys = np.insert(base_keys, at, keys)
        self._slots = np.insert(base_slots, at, slots)
        self._info = np.insert(base_info, at, info)
        hashes = np.array(
            [_record_hash(r) for r, s in self._delta_records.items() for _ in s], dtype=np.uint64
        )
        record_slots = np.array(
            [slot for s in self._delta_records.values() for slot in s], dtype=np.uint32
        )
        order = np.argsort(hashes, kind="stable")
        hashes, record_slots = hashes[order], record_slots[order]
        live = self._storage.alive_mask(self._record_slots)
        base_hashes, base_record_slots = self._record_hashes[live], self._record_slots[live]
        at = np.searchsorted(base_hashes, hashes, side="right")
        self._record_hashes = np.insert(base_hashes, at, hashes)
        self._record_slots = np.insert(base_record_slots, at, record_slots)
        self._delta.clear()
        self._delta_records.clear()
        self._delta_postings = 0

    def _check_unique_records(self) -> None:
        hashes = self._record_hashes
        if len(hashes) < 2:
            return
        repeated = np.flatnonzero(hashes[1:] == hashes[:-1])
        for position in repeated:
            first = self.entry(int(self._record_slots[position])).record_id
            second = self.entry(int(self._record_slots[position + 1])).record_id
            if first == second:
                raise ValueError(f"record {first} given twice to ScreeningIndex.build")

    # -- reading ------------------------------------------------------------------------------

    @property
    def delta_postings(self) -> int:
        """Postings in the delta, not yet merged into the base."""
        return self._delta_postings

    def __len__(self) -> int:
        """Live entries."""
        return self._storage.live

    def entry(self, slot: int) -> ListEntry:
        """The entry in ``slot``."""
        return self._codec.decode(self._storage.get(slot))

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays and buffers (the delta's dicts estimated)."""
        arrays = (self._keys, self._slots, self._info, self._record_hashes, self._record_slots)
        delta = self._delta_postings * 100 + len(self._delta_records) * 150
        return (
            self._storage.nbytes
            + self._facts.nbytes
            + self._codec.nbytes
            + sum(a.nbytes for a in arrays)
            + delta
        )

    def candidates(
        self, subjects: Sequence[Subject], *, review_threshold: float = 0.0
    ) -> list[list[int]]:
        """For each subject, the slots of its candidate entries (live, sorted).

        Args:
            subjects: What to screen.
            review_threshold: The lowest review threshold that applies: candidates whose score
                cannot reach it are left out (0: none is).
        """
        floor = floor_logit(review_threshold)
        out: list[list[int]] = []
        for start in range(0, len(subjects), _BATCH):
            batch = subjects[start : start + _BATCH]
            out.extend(self._candidates(plan_queries(batch, self.year_window), len(batch), floor))
        return out

    def _candidates(self, plan: QueryPlan, count: int, floor: float) -> list[list[int]]:
        found: list[list[int]] = [[] for _ in range(count)]
        if not len(plan):
            return found
        which, slots, info, years = self._lookup(plan)
        if not len(which):
            return found
        subject = plan.subject[which]
        always = plan.always[which]
        selecting = (~always) & (plan.code[which] != NO_CODE) & ((info & SELECTS) != 0)
        query_date = plan.date[which]
        month, day = (info >> 5) & 0xF, info & 0x1F
        compatible = _compatible(years, month, day, query_date)
        own = always | (selecting & (((info & SINGLE) != 0) | compatible))
        code = np.where(selecting, plan.code[which], NO_CODE)
        composite = (subject << 42) | (slots << 10) | code
        order = np.argsort(composite)
        composite = composite[order]
        group = composite >> 10
        new_group = np.empty(len(group), dtype=np.bool_)
        new_group[0] = True
        np.not_equal(group[1:], group[:-1], out=new_group[1:])
        starts = np.flatnonzero(new_group)
        new_code = new_group.copy()
        new_code[1:] |= composite[1:] != composite[:-1]
        distinct = np.add.reduceat(
            (new_code & ((composite & 0x3FF) != NO_CODE)).astype(np.int64), starts
        )
        candidate = np.logical_or.reduceat(own[order], starts) | (distinct >= 2)
        by_document = np.logical_or.reduceat(always[order], starts)
        judged = np.flatnonzero(candidate & ~by_document)
        if len(judged) and floor > -np.inf:
            weights, known = date_weights(query_date, np.stack([years, month, day], axis=1))
            weights = np.where(known & ~always, weights, -np.inf)[order]
            best_date = np.maximum.reduceat(weights, starts)[judged]
            subject_hits = np.bitwise_or.reduceat(plan.words[which][order], starts)[judged]
            entry_hits = np.bitwise_or.reduceat((info[order] >> WORDS_SHIFT) & 0xFF, starts)[judged]
            group_subject = group[starts[judged]] >> 32
            group_slot = group[starts[judged]] & 0xFFFFFFFF
            candidate[judged] = score_bounds(
                plan.facts,
                self._facts,
                group_subject,
                self._facts.rows(group_slot),
                subject_hits,
                entry_hits,
                np.where(np.isfinite(best_date), best_date, 0.0),
                floor,
            )
        chosen = group[starts[candidate]]
        chosen_slots = chosen & 0xFFFFFFFF
        alive = self._storage.alive_mask(chosen_slots)
        for subject_index, slot in zip(
            (chosen[alive] >> 32).tolist(), chosen_slots[alive].tolist(), strict=True
        ):
            found[subject_index].append(slot)
        return found

    def _lookup(
        self, plan: QueryPlan
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
    ]:
        """(query of each posting found, its slot, its info field, the low 16 bits of its key)."""
        starts = np.searchsorted(self._keys, plan.low, side="left")
        ends = np.searchsorted(self._keys, plan.high, side="right")
        lengths = ends - starts
        which = np.repeat(np.arange(len(plan), dtype=np.int64), lengths)
        offsets = np.arange(len(which), dtype=np.int64) - np.repeat(
            np.cumsum(lengths) - lengths, lengths
        )
        positions = np.repeat(starts, lengths) + offsets
        slots = self._slots[positions].astype(np.int64)
        info = self._info[positions].astype(np.int64)
        years = (self._keys[positions] & _U64(_LOW)).astype(np.int64)
        if self._delta:
            extra = self._delta_lookup(plan)
            which = np.concatenate([which, extra[0]])
            slots = np.concatenate([slots, extra[1]])
            info = np.concatenate([info, extra[2]])
            years = np.concatenate([years, extra[3]])
        return which, slots, info, years

    def _delta_lookup(
        self, plan: QueryPlan
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
    ]:
        which, slots, fields, years = array("q"), array("q"), array("q"), array("q")
        for number, (low, high) in enumerate(
            zip(plan.low.tolist(), plan.high.tolist(), strict=True)
        ):
            postings = self._delta.get(low >> 16)
            if not postings:
                continue
            first, last = low & _LOW, high & _LOW
            for slot, year, field in postings:
                if first <= year <= last:
                    which.append(number)
                    slots.append(slot)
                    fields.append(field)
                    years.append(year)
        return tuple(  # type: ignore[return-value]
            np.frombuffer(column, dtype=np.int64).copy() if column else _NO_ROWS
            for column in (which, slots, fields, years)
        )


_NO_KEYS: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
_NO_ROWS: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)


def _sorted(
    values: array[int], dtype: type[np.generic], order: npt.NDArray[np.intp]
) -> npt.NDArray[Any]:
    """``values`` as a numpy array of ``dtype`` in ``order``."""
    if not values:
        return np.empty(0, dtype=dtype)
    return np.frombuffer(values, dtype=dtype)[order]


def _compatible(
    years: npt.NDArray[np.int64],
    month: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    date: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Whether each posting's birth date agrees with the query's at the coarser precision
    (day and month swapped included)."""
    q_year, q_month, q_day = date[:, 0], date[:, 1], date[:, 2]
    same_day = (day == 0) | (q_day == 0) | (day == q_day)
    agree = (month == 0) | (q_month == 0) | ((month == q_month) & same_day)
    swapped = (month == q_day) & (day == q_month) & (day > 0)
    compatible: npt.NDArray[np.bool_] = (q_year > 0) & (years == q_year) & (agree | swapped)
    return compatible
