"""The lookups a batch of subjects makes in the index, as parallel arrays.

Each subject looks up every code of its name units (:func:`gateway.screening.keys.name_units`)
within the birth-year window of each of its birth dates (and at year 0, for entries without a
date), its documents' keys, and its birth dates' keys (for entries without a name).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.screening.facts import SubjectFacts
from gateway.screening.keys import code_prefix, date_key, name_units, number_key
from gateway.screening.model import BirthDate, Subject
from gateway.screening.name_match import forms_of

__all__ = ["NO_CODE", "QueryPlan", "plan_queries"]

NO_CODE = 1023
"""Code number of a lookup that does not select (documents, dates, explaining units)."""
_ANY_YEAR = 0xFFFF


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """One row per lookup: a key range and what a posting found by it means."""

    subject: npt.NDArray[np.int64]
    low: npt.NDArray[np.uint64]
    high: npt.NDArray[np.uint64]
    code: npt.NDArray[np.int64]
    """The subject's selecting code number (distinct codes count), or :data:`NO_CODE`."""
    words: npt.NDArray[np.int64]
    """Bits of the subject's word places the looked-up code stands for."""
    always: npt.NDArray[np.bool_]
    """A posting found by this lookup makes its entry a candidate (documents, dates)."""
    date: npt.NDArray[np.int64]
    """(n, 3) year, month, day of the birth date whose window this is (zeros: none)."""
    facts: SubjectFacts

    def __len__(self) -> int:
        return len(self.subject)


def plan_queries(subjects: Sequence[Subject], year_window: int) -> QueryPlan:
    """The lookups of ``subjects`` (numbered in order) with a birth-year window of
    ``year_window`` years either side."""
    facts = SubjectFacts(len(subjects))
    rows: dict[str, array[int]] = {
        name: array("q") for name in ("subject", "code", "words", "always", "y", "m", "d")
    }
    low, high = array("Q"), array("Q")

    def add(
        index: int, lo: int, hi: int, code: int, words: int, always: bool, date: BirthDate | None
    ) -> None:
        rows["subject"].append(index)
        low.append(lo)
        high.append(hi)
        rows["code"].append(code)
        rows["words"].append(words)
        rows["always"].append(always)
        rows["y"].append(date.year if date else 0)
        rows["m"].append(date.month if date else 0)
        rows["d"].append(date.day if date else 0)

    for index, subject in enumerate(subjects):
        forms = [form for _, form in forms_of(n for n in subject.names if not n.is_empty)]
        bits_of = facts.set(index, forms, subject.sex, subject.nationalities)
        selecting, words = name_units(forms, bits_of)
        numbers: dict[str, int] = {}
        for code, _ in selecting:
            if code not in numbers:
                numbers[code] = min(len(numbers), NO_CODE - 1)
        dates = [date for date in subject.birth_dates if date.year]
        windows: list[tuple[int, int, BirthDate | None]] = [(0, 0, None)]
        if dates:
            windows += [(max(1, d.year - year_window), d.year + year_window, d) for d in dates]
        else:
            windows.append((1, _ANY_YEAR, None))
        for code, bits in words.items():
            prefix = code_prefix(code)
            number = numbers.get(code, NO_CODE)
            for first, last, date in windows:
                add(index, prefix | first, prefix | last, number, bits, False, date)
        for document in subject.documents:
            if document.number:
                key = number_key(document.number)
                add(index, key, key, NO_CODE, 0, True, None)
        for date in dates:
            variants = {
                (date.year, 0, 0),
                (date.year, date.month, 0),
                (date.year, date.month, date.day),
            }
            if date.day and date.day <= 12:
                variants |= {(date.year, date.day, 0), (date.year, date.day, date.month)}
            for year, month, day in sorted(variants):
                key = date_key(year, month, day)
                add(index, key, key, NO_CODE, 0, True, None)

    def column(name: str) -> npt.NDArray[np.int64]:
        return np.frombuffer(rows[name], dtype=np.int64).copy() if rows[name] else _EMPTY

    return QueryPlan(
        subject=column("subject"),
        low=np.frombuffer(low, dtype=np.uint64).copy() if low else _EMPTY.astype(np.uint64),
        high=np.frombuffer(high, dtype=np.uint64).copy() if high else _EMPTY.astype(np.uint64),
        code=column("code"),
        words=column("words"),
        always=column("always").astype(np.bool_),
        date=np.stack([column("y"), column("m"), column("d")], axis=1),
        facts=facts,
    )


_EMPTY: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
