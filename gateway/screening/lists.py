"""Screening lists: which stored records are entries, and each list's thresholds.

Two lists are built in: ``notices`` (every Notice record) and ``sltd`` (every TravelDocument whose
status is stolen, lost, revoked or invalidated: INTERPOL's Stolen and Lost Travel Documents).
A centre may define more, by record kind and originating centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from liaison.v1 import record_pb2, travel_document_pb2

__all__ = [
    "DEFAULT_HIT_THRESHOLD",
    "DEFAULT_LISTS",
    "DEFAULT_REVIEW_THRESHOLD",
    "NOTICES",
    "SLTD",
    "SLTD_STATUSES",
    "ListDefinition",
]

DEFAULT_HIT_THRESHOLD = 0.85
"""The tuner gives 0.80 on seed 1 (bench/screening/run.py), plus a 0.05 margin."""
DEFAULT_REVIEW_THRESHOLD = 0.4
"""The tuner gives 0.50 on seed 1; 0.10 taken off as a margin for recall. See docs/screening.md."""

_BODIES = frozenset(f.name for f in record_pb2.Record.DESCRIPTOR.oneofs_by_name["body"].fields)

SLTD_STATUSES = frozenset(
    {
        travel_document_pb2.DOCUMENT_STATUS_STOLEN,
        travel_document_pb2.DOCUMENT_STATUS_LOST,
        travel_document_pb2.DOCUMENT_STATUS_REVOKED,
        travel_document_pb2.DOCUMENT_STATUS_INVALIDATED,
    }
)
"""The statuses that put a travel document on the ``sltd`` list."""


@dataclass(frozen=True, slots=True)
class ListDefinition:
    """A named screening list: which records are its entries, and its thresholds."""

    name: str
    """The list's name, as hits carry it ("notices", "sltd", "eu-wanted")."""
    kinds: frozenset[str]
    """Record bodies whose records are entries: "notice", "travel_document", "person"."""
    originating_centres: frozenset[str] = frozenset()
    """Only records from these centres; every centre when empty."""
    hit_threshold: float = DEFAULT_HIT_THRESHOLD
    """A score at or above it is a HIT."""
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD
    """A score at or above it (and under the hit threshold) is for REVIEW; below, dropped."""
    document_statuses: frozenset[int] = field(default_factory=frozenset)
    """Travel documents only: only these ``DocumentStatus`` values; any status when empty."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a screening list needs a name")
        unknown = sorted(self.kinds - _BODIES)
        if unknown or not self.kinds:
            raise ValueError(
                f"list {self.name!r}: kinds must be record bodies "
                f"({', '.join(sorted(_BODIES))}), got {', '.join(unknown) or 'none'}"
            )
        if "screening_hit" in self.kinds:
            raise ValueError(f"list {self.name!r}: hits cannot be screened against")
        if not 0.0 < self.review_threshold <= self.hit_threshold <= 1.0:
            raise ValueError(
                f"list {self.name!r}: thresholds must satisfy 0 < review ({self.review_threshold})"
                f" <= hit ({self.hit_threshold}) <= 1"
            )

    def includes(self, kind: str, centre: str, document_status: int) -> bool:
        """Whether a record of this body, centre and (for documents) status is an entry."""
        if kind not in self.kinds:
            return False
        if self.originating_centres and centre not in self.originating_centres:
            return False
        if kind == "travel_document" and self.document_statuses:
            return document_status in self.document_statuses
        return True


NOTICES = ListDefinition(name="notices", kinds=frozenset({"notice"}))
"""Every INTERPOL notice (and any other notice record) is an entry."""
SLTD = ListDefinition(
    name="sltd", kinds=frozenset({"travel_document"}), document_statuses=SLTD_STATUSES
)
"""Stolen, lost, revoked and invalidated travel documents."""
DEFAULT_LISTS = (NOTICES, SLTD)
"""The built-in lists, with the default thresholds."""
