"""The lookups a batch of subjects makes in the index, as parallel arrays.

Each subject looks up every code of its name units (:func:`gateway.screening.keys.name_units`)
within the birth-year window of each of its birth dates (and at year 0, for entries without a
date), its documents' keys, and its birth dates' keys (for entries without a name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

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
    # Name lookups are every code of a subject times every window of its: kept apart as two
    # lists and crossed with numpy at the end.
    code_subject: list[int] = []
    code_prefix_: list[int] = []
    code_number: list[int] = []
    code_words: list[int] = []
    window_first: list[int] = []
    window_count: list[int] = []
    windows: list[tuple[int, int, int, int, int]] = []
    keyed: list[tuple[int, int]] = []
    """(subject, key) of the exact lookups: documents and birth dates."""
    for index, subject in enumerate(subjects):
        forms = [form for _, form in forms_of(n for n in subject.names if not n.is_empty)]
        bits_of = facts.set(index, forms, subject.sex, subject.nationalities)
        selecting, words = name_units(forms, bits_of)
        numbers = {code: min(number, NO_CODE - 1) for number, code in enumerate(selecting)}
        for code, bits in words.items():
            code_subject.append(index)
            code_prefix_.append(code_prefix(code))
            code_number.append(numbers.get(code, NO_CODE))
            code_words.append(bits)
        dates = [date for date in subject.birth_dates if date.year]
        window_first.append(len(windows))
        windows.append((0, 0, 0, 0, 0))
        if dates:
            windows.extend(
                (max(1, d.year - year_window), d.year + year_window, d.year, d.month, d.day)
                for d in dates
            )
        else:
            windows.append((1, _ANY_YEAR, 0, 0, 0))
        window_count.append(len(windows) - window_first[-1])
        keyed.extend((index, number_key(d.number)) for d in subject.documents if d.number)
        keyed.extend((index, key) for date in dates for key in _date_keys(date))
    facts.freeze()
    names = _crossed(
        np.array(code_subject, dtype=np.int64),
        np.array(code_prefix_, dtype=np.uint64),
        np.array(code_number, dtype=np.int64),
        np.array(code_words, dtype=np.int64),
        np.array(window_first, dtype=np.int64),
        np.array(window_count, dtype=np.int64),
        np.array(windows, dtype=np.int64).reshape(-1, 5),
    )
    exact_subject = np.array([subject for subject, _ in keyed], dtype=np.int64)
    exact_key = np.array([key for _, key in keyed], dtype=np.uint64)
    count = len(exact_subject)
    return QueryPlan(
        subject=np.concatenate([names.subject, exact_subject]),
        low=np.concatenate([names.low, exact_key]),
        high=np.concatenate([names.high, exact_key]),
        code=np.concatenate([names.code, np.full(count, NO_CODE, dtype=np.int64)]),
        words=np.concatenate([names.words, np.zeros(count, dtype=np.int64)]),
        always=np.concatenate([names.always, np.ones(count, dtype=np.bool_)]),
        date=np.concatenate([names.date, np.zeros((count, 3), dtype=np.int64)]),
        facts=facts,
    )


def _date_keys(date: BirthDate) -> list[int]:
    """The keys of a birth date at every precision, day and month swapped too."""
    variants = {(date.year, 0, 0), (date.year, date.month, 0), (date.year, date.month, date.day)}
    if date.day and date.day <= 12:
        variants |= {(date.year, date.day, 0), (date.year, date.day, date.month)}
    return [date_key(year, month, day) for year, month, day in sorted(variants)]


class _NameLookups(NamedTuple):
    subject: npt.NDArray[np.int64]
    low: npt.NDArray[np.uint64]
    high: npt.NDArray[np.uint64]
    code: npt.NDArray[np.int64]
    words: npt.NDArray[np.int64]
    always: npt.NDArray[np.bool_]
    date: npt.NDArray[np.int64]


def _crossed(
    subject: npt.NDArray[np.int64],
    prefix: npt.NDArray[np.uint64],
    number: npt.NDArray[np.int64],
    words: npt.NDArray[np.int64],
    window_first: npt.NDArray[np.int64],
    window_count: npt.NDArray[np.int64],
    windows: npt.NDArray[np.int64],
) -> _NameLookups:
    """Every code of each subject with every window of that subject."""
    repeats = window_count[subject] if len(subject) else _EMPTY
    code = np.repeat(np.arange(len(subject), dtype=np.int64), repeats)
    offsets = np.arange(len(code), dtype=np.int64) - np.repeat(
        np.cumsum(repeats) - repeats, repeats
    )
    window = windows[window_first[subject[code]] + offsets] if len(code) else windows[:0]
    return _NameLookups(
        subject=subject[code],
        low=prefix[code] | window[:, 0].astype(np.uint64),
        high=prefix[code] | window[:, 1].astype(np.uint64),
        code=number[code],
        words=words[code],
        always=np.zeros(len(code), dtype=np.bool_),
        date=window[:, 2:5],
    )


_EMPTY: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
