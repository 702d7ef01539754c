"""The screener: subjects in, explained matches out, by each list's thresholds."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence

from gateway.screening.index import ScreeningIndex
from gateway.screening.lists import DEFAULT_LISTS, ListDefinition
from gateway.screening.model import Band, EntryRef, ListEntry, Match, Subject
from gateway.screening.scoring import ScoringInput, score_entry

__all__ = ["Screener", "SuppressedPair"]

SuppressedPair = tuple[str, str, int]
"""(subject identity key, entry record id, entry version): a confirmed no-match."""


class Screener:
    """Screens subjects against an index with the lists' thresholds. Deterministic: the same
    index and subject always give the same matches in the same order."""

    def __init__(
        self,
        index: ScreeningIndex,
        lists: Sequence[ListDefinition] = DEFAULT_LISTS,
        *,
        cache_size: int = 1024,
    ) -> None:
        """A screener over ``index``.

        Args:
            index: The entries.
            lists: The list definitions, for their thresholds (names must be unique).
            cache_size: Decoded entries kept between screenings (entries that come up again and
                again, common names, are decoded once). Kept small: every cached entry is a few
                objects the garbage collector walks on each full collection.
        """
        names = [spec.name for spec in lists]
        if len(set(names)) != len(names):
            raise ValueError(f"list names must be unique: {names}")
        self.index = index
        self.lists = {spec.name: spec for spec in lists}
        self._cache: OrderedDict[int, tuple[ListEntry, ScoringInput]] = OrderedDict()
        self._cache_size = cache_size

    def screen(
        self,
        subject: Subject,
        lists: Collection[str] | None = None,
        suppressed: Collection[SuppressedPair] = frozenset(),
    ) -> list[Match]:
        """The subject's matches in the HIT or REVIEW band, strongest first.

        Args:
            subject: What to screen.
            lists: Only these lists (every list when None).
            suppressed: Pairs confirmed as no match, left out while the entry's version is the
                one decided on.
        """
        return self.screen_many([subject], lists, suppressed)[0]

    def screen_many(
        self,
        subjects: Sequence[Subject],
        lists: Collection[str] | None = None,
        suppressed: Collection[SuppressedPair] = frozenset(),
    ) -> list[list[Match]]:
        """:meth:`screen` for several subjects at once (one vectorised candidate lookup)."""
        unknown = sorted(set(lists or ()) - self.lists.keys())
        if unknown:
            raise ValueError(f"unknown screening lists: {', '.join(unknown)}")
        wanted = set(lists) if lists else None
        applying = [spec for name, spec in self.lists.items() if wanted is None or name in wanted]
        review = min((spec.review_threshold for spec in applying), default=1.0)
        out: list[list[Match]] = []
        candidates = self.index.candidates(subjects, review_threshold=review)
        for subject, slots in zip(subjects, candidates, strict=True):
            subject_input = ScoringInput.of(subject.names)
            matches: list[Match] = []
            for slot in slots:
                entry, entry_input = self._entry(slot)
                matches.extend(
                    self._matches(subject, subject_input, entry, entry_input, wanted, suppressed)
                )
            matches.sort(key=lambda m: (-m.score, m.entry.list, m.entry.record_id))
            out.append(matches)
        return out

    def _matches(
        self,
        subject: Subject,
        subject_input: ScoringInput,
        entry: ListEntry,
        entry_input: ScoringInput,
        wanted: set[str] | None,
        suppressed: Collection[SuppressedPair],
    ) -> Iterable[Match]:
        names = [name for name in entry.lists if name in self.lists]
        if wanted is not None:
            names = [name for name in names if name in wanted]
        if not names or (subject.identity_key, entry.record_id, entry.version) in suppressed:
            return
        scored = score_entry(subject, subject_input, entry, entry_input)
        for name in names:
            spec = self.lists[name]
            if scored.score >= spec.hit_threshold:
                band = Band.HIT
            elif scored.score >= spec.review_threshold:
                band = Band.REVIEW
            else:
                continue
            yield Match(
                entry=EntryRef(entry.record_id, entry.version, name, entry.centre),
                score=scored.score,
                band=band,
                evidence=scored.evidence,
                subject_record_id=scored.subject_document_record_id or subject.record_id,
                subject_version=scored.subject_document_version or subject.version,
            )

    def _entry(self, slot: int) -> tuple[ListEntry, ScoringInput]:
        cached = self._cache.get(slot)
        if cached is not None:
            self._cache.move_to_end(slot)
            return cached
        entry = self.index.entry(slot)
        value = (entry, ScoringInput.of(entry.names))
        self._cache[slot] = value
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return value
