"""Matches as ``ScreeningHit`` records, and what a caller who may not see the entry is told."""

from __future__ import annotations

from datetime import datetime

from gateway.screening.model import Match, Subject
from liaison.v1 import screening_hit_pb2

__all__ = ["hit_from_match", "redacted_hit"]


def hit_from_match(
    match: Match, subject: Subject, screened_at: datetime
) -> screening_hit_pb2.ScreeningHit:
    """The ``ScreeningHit`` body for a match (explanation included, no decision yet).

    Args:
        match: The match.
        subject: The subject it was found for (for its manifest).
        screened_at: When the subject was screened (timezone-aware).
    """
    if screened_at.tzinfo is None:
        raise ValueError("screened_at must be timezone-aware")
    hit = screening_hit_pb2.ScreeningHit(
        subject_record_id=match.subject_record_id,
        subject_version=match.subject_version,
        entry_record_id=match.entry.record_id,
        entry_version=match.entry.version,
        list=match.entry.list,
        score=match.score,
        band=int(match.band),  # type: ignore[arg-type]
        entry_centre=match.entry.centre,
        manifest_record_id=subject.manifest_record_id,
        subject_key=subject.identity_key,
    )
    hit.screened_at.FromDatetime(screened_at)
    for line in match.evidence:
        hit.explanation.add(
            feature=line.feature, outcome=line.outcome, weight=line.weight, detail=line.detail
        )
    return hit


def redacted_hit(hit: screening_hit_pb2.ScreeningHit) -> screening_hit_pb2.ScreeningHit:
    """What a caller who may not see the entry learns: that there is a hit, on which list, and
    which centre to contact. No entry id, score or explanation (they would reveal the entry)."""
    out = screening_hit_pb2.ScreeningHit(
        subject_record_id=hit.subject_record_id,
        subject_version=hit.subject_version,
        list=hit.list,
        band=hit.band,
        entry_centre=hit.entry_centre,
        manifest_record_id=hit.manifest_record_id,
    )
    out.screened_at.CopyFrom(hit.screened_at)
    return out
