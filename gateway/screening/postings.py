"""What an entry is found by: its postings, each a 64-bit key and a 32-bit info field.

The info field says what the sorted arrays must tell about a posting without decoding its entry:

======  ==============================================================================
bits    meaning
======  ==============================================================================
0-4     birth day of the date the posting was made for (0: unknown)
5-8     birth month (0: unknown)
9       :data:`SINGLE`: the name form has one significant word
10      :data:`SELECTS`: the posting takes part in choosing candidates (else it explains)
16-23   which of the entry's first eight distinct words the posting's code stands for
======  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.screening.keys import (
    MANY_WORDS,
    ONE_WORD,
    birth_date_key,
    code_prefix,
    document_key,
    name_units,
)
from gateway.screening.model import ListEntry
from gateway.screening.names import NameForm

__all__ = [
    "MAX_WORDS",
    "SELECTS",
    "SINGLE",
    "WORDS_SHIFT",
    "entry_postings",
    "word_pool",
]

SINGLE = 1 << 9
SELECTS = 1 << 10
WORDS_SHIFT = 16
MAX_WORDS = 8
"""Words of an entry the score bound knows individually (beyond: no bound on its name)."""


def word_pool(forms: Sequence[NameForm]) -> tuple[str, ...]:
    """The distinct significant words of all forms, in order of appearance."""
    return tuple(dict.fromkeys(token.text for form in forms for token in form.significant))


def entry_postings(
    entry: ListEntry, forms: Sequence[NameForm], pool: Sequence[str]
) -> list[tuple[int, int]]:
    """The (key, info) postings ``entry`` is found by.

    Args:
        entry: The entry.
        forms: Its names' Latin forms (``forms_of`` of its non-empty names).
        pool: :func:`word_pool` of ``forms`` (its first :data:`MAX_WORDS` words get bits).
    """
    postings: list[tuple[int, int]] = [(document_key(d), 0) for d in entry.documents if d.number]
    if entry.document_centric:
        return postings
    if not forms:
        postings.extend((birth_date_key(date), 0) for date in entry.birth_dates)
        return postings
    bit_of = {word: 1 << (WORDS_SHIFT + i) for i, word in enumerate(pool[:MAX_WORDS])}
    selecting, words = name_units(forms, bit_of)
    fields: list[tuple[int, int]] = []
    for code, bits in words.items():
        prefix = code_prefix(code)
        kinds = selecting.get(code, 0)
        if not kinds:
            fields.append((prefix, bits))
        if kinds & MANY_WORDS:
            fields.append((prefix, SELECTS | bits))
        if kinds & ONE_WORD:
            fields.append((prefix, SELECTS | SINGLE | bits))
    if not entry.birth_dates:
        postings.extend(fields)
        return postings
    for date in entry.birth_dates:
        day = date.month * 32 + date.day
        postings.extend([(prefix | date.year, info | day) for prefix, info in fields])
    return postings
