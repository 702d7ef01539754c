"""The screening engine: travellers and documents against notices and stolen/lost documents.

Pure rules and data structures (no gRPC, no store): the gateway feeds it records and turns its
matches into ``ScreeningHit`` records. See docs/screening.md.
"""

from __future__ import annotations

from gateway.screening.hits import hit_from_match, redacted_hit
from gateway.screening.index import ScreeningIndex
from gateway.screening.lists import (
    DEFAULT_HIT_THRESHOLD,
    DEFAULT_LISTS,
    DEFAULT_REVIEW_THRESHOLD,
    NOTICES,
    SLTD,
    SLTD_STATUSES,
    ListDefinition,
)
from gateway.screening.model import (
    Band,
    BirthDate,
    DocumentKey,
    EntryRef,
    Evidence,
    ListEntry,
    Match,
    NameRole,
    PersonName,
    Subject,
)
from gateway.screening.records import (
    ScreeningInputError,
    entries_from_record,
    subject_identity_key,
    subjects_from_records,
)
from gateway.screening.screener import Screener, SuppressedPair

__all__ = [
    "DEFAULT_HIT_THRESHOLD",
    "DEFAULT_LISTS",
    "DEFAULT_REVIEW_THRESHOLD",
    "NOTICES",
    "SLTD",
    "SLTD_STATUSES",
    "Band",
    "BirthDate",
    "DocumentKey",
    "EntryRef",
    "Evidence",
    "ListDefinition",
    "ListEntry",
    "Match",
    "NameRole",
    "PersonName",
    "Screener",
    "ScreeningIndex",
    "ScreeningInputError",
    "Subject",
    "SuppressedPair",
    "entries_from_record",
    "hit_from_match",
    "redacted_hit",
    "subject_identity_key",
    "subjects_from_records",
]
