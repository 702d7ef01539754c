"""The screening index: list entries, their blocking keys, and candidate retrieval.

Layout, chosen so that ten million entries fit in a few hundred bytes each and a manifest's
candidates come from a handful of vectorised lookups:

- entries are encoded once in :class:`~gateway.screening.storage.EntryStorage` (one buffer);
- the **base** is three parallel numpy arrays sorted by key (64-bit key, 32-bit slot, 16-bit
  month/day field) plus a sorted array of record-id hashes with their slots;
- the **delta** holds what was upserted since the base was last merged, in dicts; when it grows
  past ``merge_threshold`` postings it is merged into the base (a linear merge, not a re-sort).

A new version of a record replaces the old one at once (the old slot is marked dead, the new
entry goes to the delta), so a committed entry can be screened against immediately.

Candidates are narrowed in two steps. The lookups take every entry that shares a name code with
the subject within the birth-year window (or the same document key, or, for entries without a
name, the same birth date). A candidate is kept when it shares two or more name codes, or one
code and a birth date compatible at the entry's precision, or one code and the entry's name has
a single word, or a document or date key. The cost is that of the candidates, which does not
grow with the list for a given name distribution: the keys are sorted, so lookups are
logarithmic.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.screening.codec import decode_entry, encode_entry
from gateway.screening.keys import (
    SINGLE_TOKEN,
    code_prefix,
    date_key,
    document_key,
    month_day,
    name_codes,
)
from gateway.screening.model import BirthDate, ListEntry, Subject
from gateway.screening.name_match import forms_of
from gateway.screening.names import NameForm
from gateway.screening.storage import EntryStorage

__all__ = ["DEFAULT_YEAR_WINDOW", "ScreeningIndex", "entry_postings"]

DEFAULT_YEAR_WINDOW = 2
"""Birth years this far apart are still candidates."""
_LOW = 0xFFFF
_ANY_YEAR = (0, _LOW)


def _record_hash(record_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(record_id.encode(), digest_size=8).digest(), "big")


def entry_postings(entry: ListEntry) -> list[tuple[int, int]]:
    """The (key, month/day field) postings an entry is found by."""
    postings: list[tuple[int, int]] = [(document_key(d), 0) for d in entry.documents if d.number]
    if entry.document_centric:
        return postings
    forms = [form for _, form in forms_of(name for name in entry.names if not name.is_empty)]
    dates: Sequence[BirthDate | None] = entry.birth_dates or (None,)
    if not forms:
        for known in entry.birth_dates:
            postings.append((date_key(known.year, known.month, known.day), 0))
        return postings
    seen: set[tuple[str, bool]] = set()
    for code, single in name_codes(forms):
        if (code, single) in seen:
            continue
        seen.add((code, single))
        prefix = code_prefix(code)
        for date in dates:
            postings.append((prefix | (date.year if date else 0), month_day(date, single)))
    return postings


@dataclass(frozen=True, slots=True)
class _Query:
    """One range of keys to look up for one subject."""

    subject: int
    code: int
    """Which of the subject's codes (distinct codes count towards keeping a candidate)."""
    low: int
    high: int
    always: bool
    """Candidates found by this query are kept without further filtering (documents, dates)."""
    date: BirthDate | None


class ScreeningIndex:
    """Every list entry, searchable by name codes, birth years, dates and document keys."""

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
        self._storage = EntryStorage()
        self._keys: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
        self._slots: npt.NDArray[np.uint32] = np.empty(0, dtype=np.uint32)
        self._md: npt.NDArray[np.uint16] = np.empty(0, dtype=np.uint16)
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
        """An index of ``entries`` built in one pass and one sort (start-up, from the store).

        Raises ``ValueError`` when two entries have the same record id (the store yields each
        record's latest version once; an update goes through :meth:`upsert`).
        """
        index = cls(year_window=year_window, merge_threshold=merge_threshold)
        keys, slots, md = array("Q"), array("I"), array("H")
        record_hashes, record_slots = array("Q"), array("I")
        storage = index._storage
        for entry in entries:
            slot = storage.append(encode_entry(entry))
            for key, field in entry_postings(entry):
                keys.append(key)
                slots.append(slot)
                md.append(field)
            record_hashes.append(_record_hash(entry.record_id))
            record_slots.append(slot)
        order = np.argsort(np.frombuffer(keys, dtype=np.uint64), kind="stable")
        index._keys = np.frombuffer(keys, dtype=np.uint64)[order]
        index._slots = np.frombuffer(slots, dtype=np.uint32)[order]
        index._md = np.frombuffer(md, dtype=np.uint16)[order]
        del keys, slots, md, order
        record_order = np.argsort(np.frombuffer(record_hashes, dtype=np.uint64), kind="stable")
        index._record_hashes = np.frombuffer(record_hashes, dtype=np.uint64)[record_order]
        index._record_slots = np.frombuffer(record_slots, dtype=np.uint32)[record_order]
        index._check_unique_records()
        return index

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
            slot = self._storage.append(encode_entry(entry))
            slots.append(slot)
            for key, field in entry_postings(entry):
                self._delta.setdefault(key >> 16, []).append((slot, key & _LOW, field))
                self._delta_postings += 1
        if self._delta_postings >= self._merge_threshold:
            self.merge()

    def remove(self, record_id: str) -> bool:
        """Take ``record_id``'s entries out of the index; False when it had none."""
        removed = False
        for slot in self._delta_records.pop(record_id, []):
            self._storage.kill(slot)
            removed = True
        if len(self._record_hashes):
            hashed = np.uint64(_record_hash(record_id))
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
        delta_keys = array("Q")
        delta_slots = array("I")
        delta_md = array("H")
        for prefix, postings in self._delta.items():
            for slot, low, field in postings:
                delta_keys.append((prefix << 16) | low)
                delta_slots.append(slot)
                delta_md.append(field)
        keys = np.frombuffer(delta_keys, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        slots = np.frombuffer(delta_slots, dtype=np.uint32)[order]
        md = np.frombuffer(delta_md, dtype=np.uint16)[order]
        live = self._storage.alive_mask(self._slots)
        base_keys, base_slots, base_md = self._keys[live], self._slots[live], self._md[live]
        at = np.searchsorted(base_keys, keys, side="right")
        self._keys = np.insert(base_keys, at, keys)
        self._slots = np.insert(base_slots, at, slots)
        self._md = np.insert(base_md, at, md)
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

    def __len__(self) -> int:
        """Live entries."""
        return self._storage.live

    def entry(self, slot: int) -> ListEntry:
        """The entry in ``slot``."""
        return decode_entry(self._storage.get(slot))

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays and buffers (the delta's dicts estimated)."""
        arrays = (self._keys, self._slots, self._md, self._record_hashes, self._record_slots)
        delta = self._delta_postings * 100 + len(self._delta_records) * 150
        return self._storage.nbytes + sum(a.nbytes for a in arrays) + delta

    def candidates(self, subjects: Sequence[Subject]) -> list[list[int]]:
        """For each subject, the slots of its candidate entries (live, sorted)."""
        queries = [
            q for index, subject in enumerate(subjects) for q in self._queries(index, subject)
        ]
        found: list[set[int]] = [set() for _ in subjects]
        if not queries:
            return [[] for _ in subjects]
        subject_of, slots, keep = self._lookup(queries)
        for subject, slot in zip(subject_of[keep].tolist(), slots[keep].tolist(), strict=True):
            found[subject].add(slot)
        return [sorted(slot for slot in group if self._storage.is_alive(slot)) for group in found]

    def _queries(self, subject_index: int, subject: Subject) -> list[_Query]:
        queries: list[_Query] = []
        forms: list[NameForm] = [
            form for _, form in forms_of(name for name in subject.names if not name.is_empty)
        ]
        codes = list(dict.fromkeys(code for code, _ in name_codes(forms)))
        dates = [date for date in subject.birth_dates if date.year]
        window = self.year_window
        for code_index, code in enumerate(codes):
            prefix = code_prefix(code)
            queries.append(_Query(subject_index, code_index, prefix, prefix, False, None))
            if not dates:
                low, high = _ANY_YEAR
                queries.append(
                    _Query(subject_index, code_index, prefix | 1, prefix | high, False, None)
                )
                continue
            for date in dates:
                low = max(1, date.year - window)
                queries.append(
                    _Query(
                        subject_index,
                        code_index,
                        prefix | low,
                        prefix | (date.year + window),
                        False,
                        date,
                    )
                )
        for document in subject.documents:
            if document.number:
                key = document_key(document)
                queries.append(_Query(subject_index, -1, key, key, True, None))
        for date in dates:
            variants = {
                (date.year, 0, 0),
                (date.year, date.month, 0),
                (date.year, date.month, date.day),
            }
            if date.day and date.day <= 12:
                variants |= {(date.year, date.day, 0), (date.year, date.day, date.month)}
            for year, month, day in variants:
                key = date_key(year, month, day)
                queries.append(_Query(subject_index, -1, key, key, True, None))
        return queries

    def _lookup(
        self, queries: list[_Query]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """(subject of each posting found, its slot, whether the candidate is kept)."""
        q_low = np.array([q.low for q in queries], dtype=np.uint64)
        q_high = np.array([q.high for q in queries], dtype=np.uint64)
        starts = np.searchsorted(self._keys, q_low, side="left")
        ends = np.searchsorted(self._keys, q_high, side="right")
        lengths = ends - starts
        which = np.repeat(np.arange(len(queries)), lengths)
        offsets = np.arange(len(which)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = np.repeat(starts, lengths) + offsets
        slots = self._slots[positions].astype(np.int64)
        md = self._md[positions].astype(np.int64)
        years = (self._keys[positions] & np.uint64(_LOW)).astype(np.int64)
        if self._delta:
            extra = self._delta_lookup(queries)
            which = np.concatenate([which, extra[0]])
            slots = np.concatenate([slots, extra[1]])
            md = np.concatenate([md, extra[2]])
            years = np.concatenate([years, extra[3]])
        q_subject = np.array([q.subject for q in queries], dtype=np.int64)[which]
        q_code = np.array([q.code for q in queries], dtype=np.int64)[which]
        q_always = np.array([q.always for q in queries], dtype=np.bool_)[which]
        q_date = np.array(
            [(q.date.year, q.date.month, q.date.day) if q.date else (0, 0, 0) for q in queries],
            dtype=np.int64,
        ).reshape(-1, 3)[which]
        keep = q_always | ((md & SINGLE_TOKEN) != 0) | _compatible(years, md, q_date)
        # Two or more distinct codes in common also keep a candidate.
        group = (q_subject << 32) | slots
        named = ~q_always
        pairs = np.unique((group[named] << 8) | (q_code[named] & 0xFF))
        groups, counts = np.unique(pairs >> 8, return_counts=True)
        keep |= np.isin(group, groups[counts >= 2])
        return q_subject, slots, keep

    def _delta_lookup(
        self, queries: list[_Query]
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
    ]:
        which: list[int] = []
        slots: list[int] = []
        fields: list[int] = []
        years: list[int] = []
        for number, query in enumerate(queries):
            postings = self._delta.get(query.low >> 16)
            if not postings:
                continue
            low, high = query.low & _LOW, query.high & _LOW
            for slot, year, field in postings:
                if low <= year <= high:
                    which.append(number)
                    slots.append(slot)
                    fields.append(field)
                    years.append(year)
        return (
            np.array(which, dtype=np.int64),
            np.array(slots, dtype=np.int64),
            np.array(fields, dtype=np.int64),
            np.array(years, dtype=np.int64),
        )


def _compatible(
    years: npt.NDArray[np.int64], md: npt.NDArray[np.int64], date: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Whether each posting's birth date agrees with the query's at the coarser precision
    (day and month swapped included)."""
    month = (md & 0x1FF) >> 5
    day = md & 0x1F
    q_year, q_month, q_day = date[:, 0], date[:, 1], date[:, 2]
    same_day = (day == 0) | (q_day == 0) | (day == q_day)
    agree = (month == 0) | (q_month == 0) | ((month == q_month) & same_day)
    swapped = (month == q_day) & (day == q_month) & (day > 0)
    compatible: npt.NDArray[np.bool_] = (q_year > 0) & (years == q_year) & (agree | swapped)
    return compatible
