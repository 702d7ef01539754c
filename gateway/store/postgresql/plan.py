"""What one group-commit transaction writes, decided in Python from what it read under the lock.

The rules are the embedded store's (:mod:`gateway.store.transaction`): items are decided in
order - origin conflict, duplicate, tombstone, version conflict or new version - each seeing the
decisions before it. Here the decisions are a pure function of a :class:`Snapshot` that the
transaction read in one round trip, so that a whole batch costs a fixed number of round trips
instead of one per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.store.base import (
    OriginConflict,
    RecordWithdrawn,
    StoredRecord,
    StoredVersion,
    VersionConflict,
    VersionSigner,
    WriteItem,
    WriteOutcome,
)
from liaison.rules.lifecycle import TOMBSTONE_KIND, RetentionDefaults

__all__ = ["Head", "NewVersion", "Plan", "Snapshot", "plan_transaction"]


@dataclass(frozen=True, slots=True)
class Head:
    """A record's latest stored version, before the transaction."""

    version: int
    originating_centre: str
    handling_code: int
    releasable_to: tuple[str, ...]
    kind: str


@dataclass(slots=True)
class Snapshot:
    """What the transaction read about the records it writes, with the feed lock held."""

    last_sequence: int
    heads: dict[str, Head] = field(default_factory=dict)
    by_content: dict[tuple[str, bytes], tuple[int, int, int]] = field(default_factory=dict)
    """(record id, content hash) -> (version, sequence, commit time) of every stored version."""
    taken: set[tuple[str, int]] = field(default_factory=set)
    """(record id, version) of every stored version."""
    dates: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Retention dates (review, expiry) of the records that have some."""


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version the transaction inserts."""

    item: WriteItem
    version: int
    sequence: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the transaction writes, and what it answers."""

    outcomes: list[list[WriteOutcome]]
    new_versions: list[NewVersion]
    heads: list[NewVersion]
    """The new head of each record whose latest version changed."""
    replaced_keys: list[str]
    """Records whose search keys are replaced (they had some before)."""
    changed_dates: list[tuple[str, int, int]]
    removed_dates: list[str]
    records: list[StoredRecord]
    """The new versions as the commit listeners get them, in sequence order."""
    committed_at_us: int
    """The transaction's commit time."""


def plan_transaction(
    groups: Sequence[Sequence[WriteItem]],
    snapshot: Snapshot,
    committed_at_us: int,
    signer: VersionSigner | None,
    retention: RetentionDefaults,
) -> Plan:
    """Decide every item of every group, in order; see the module documentation."""
    stored = snapshot.heads
    existing = {record_id: head.version for record_id, head in stored.items()}
    origins = {record_id: head.originating_centre for record_id, head in stored.items()}
    latest = dict(existing)
    written: dict[tuple[str, bytes], tuple[int, int, int]] = {}
    taken = set(snapshot.taken)
    new_versions: list[NewVersion] = []
    head_kinds = {record_id: head.kind for record_id, head in stored.items()}
    dates = dict(snapshot.dates)
    dates_before = dict(snapshot.dates)
    sequence = snapshot.last_sequence
    outcomes: list[list[WriteOutcome]] = []
    for group in groups:
        group_outcomes: list[WriteOutcome] = []
        for item in group:
            record_id = item.record_id
            sha = item.content_sha256
            origin = origins.setdefault(record_id, item.keys.originating_centre)
            if origin != item.keys.originating_centre:
                # Before duplicates: the answer must not depend on content the caller may not know.
                group_outcomes.append(OriginConflict(record_id, origin))
                continue
            previous = written.get((record_id, sha)) or snapshot.by_content.get((record_id, sha))
            if previous is not None:
                # Dates given with a duplicate move the record's (an extension: no new version).
                if head_kinds.get(record_id) != TOMBSTONE_KIND:
                    _date(dates, item, committed_at_us, retention, new_record=False)
                group_outcomes.append(StoredVersion(record_id, *previous, sha, duplicate=True))
                continue
            current = latest.get(record_id, 0)
            if head_kinds.get(record_id) == TOMBSTONE_KIND and not item.replica_version:
                group_outcomes.append(RecordWithdrawn(record_id, current))
                continue
            if item.expected_version and item.expected_version != current:
                group_outcomes.append(VersionConflict(record_id, item.expected_version, current))
                continue
            version = item.replica_version or current + 1
            if item.replica_version and (record_id, version) in taken:
                group_outcomes.append(VersionConflict(record_id, version, current))
                continue
            sequence += 1
            taken.add((record_id, version))
            if version >= current:
                head_kinds[record_id] = item.keys.kind
                if item.keys.kind == TOMBSTONE_KIND:
                    dates[record_id] = (0, 0)
                else:
                    _date(dates, item, committed_at_us, retention, new_record=current == 0)
            latest[record_id] = max(current, version)
            written[(record_id, sha)] = (version, sequence, committed_at_us)
            new_versions.append(
                NewVersion(item, version, sequence, _sign(signer, item, version, committed_at_us))
            )
            group_outcomes.append(
                StoredVersion(record_id, version, sequence, committed_at_us, sha, False)
            )
        outcomes.append(group_outcomes)
    heads = [
        new for new in _highest(new_versions) if new.version >= existing.get(new.item.record_id, 0)
    ]
    latest_handling = {
        record_id: (head.handling_code, head.releasable_to) for record_id, head in stored.items()
    }
    for new in heads:
        latest_handling[new.item.record_id] = (
            new.item.keys.handling_code,
            new.item.keys.releasable_to,
        )
    records = [
        StoredRecord(
            new.item.record_id,
            new.version,
            new.sequence,
            committed_at_us,
            new.item.content_sha256,
            new.item.keys.kind,
            new.item.keys.originating_centre,
            new.item.blob,
            latest[new.item.record_id],
            new.item.keys.handling_code,
            new.item.keys.releasable_to,
            new.signature,
            *latest_handling[new.item.record_id],
            head_kinds[new.item.record_id],
            *dates.get(new.item.record_id, (0, 0)),
        )
        for new in new_versions
    ]
    return Plan(
        outcomes=outcomes,
        new_versions=new_versions,
        heads=heads,
        replaced_keys=[new.item.record_id for new in heads if new.item.record_id in existing],
        changed_dates=[
            (r, *d) for r, d in dates.items() if d != dates_before.get(r) and d != (0, 0)
        ],
        removed_dates=[r for r, d in dates.items() if d == (0, 0) and r in dates_before],
        records=records,
        committed_at_us=committed_at_us,
    )


def _date(
    dates: dict[str, tuple[int, int]],
    item: WriteItem,
    committed_at_us: int,
    retention: RetentionDefaults,
    *,
    new_record: bool,
) -> None:
    """Set the record's retention dates after ``item``: the dates it gives, else those the
    record has, else (a new record of this centre) the defaults for its kind."""
    if not (new_record or item.replica_version or item.moves_retention):
        # This centre's later versions and resubmissions keep the record's dates: only
        # ExtendRetention moves them (within its limits, never for an expired record).
        return
    current = dates.get(item.record_id)
    if current is None and new_record and not item.replica_version:
        current = retention.stamp(item.keys.kind, committed_at_us)
    review, expires = current if current is not None else (0, 0)
    review = item.review_due_us or review
    expires = item.expires_at_us or expires
    if expires and review > expires:
        review = expires
    if review or expires or item.record_id in dates:
        dates[item.record_id] = (review, expires)


def _sign(
    signer: VersionSigner | None, item: WriteItem, version: int, committed_at_us: int
) -> bytes:
    if item.replica_version or signer is None or item.keys.originating_centre != signer.centre:
        return item.signature
    seconds, micros = divmod(committed_at_us, 1_000_000)
    return signer.sign_version(
        item.record_id, version, item.content_sha256, item.received_at, (seconds, micros * 1000)
    )


def _highest(new_versions: list[NewVersion]) -> list[NewVersion]:
    """The highest new version of each record: the only one whose head and keys are kept."""
    last: dict[str, NewVersion] = {}
    for new in new_versions:
        kept = last.get(new.item.record_id)
        if kept is None or new.version > kept.version:
            last[new.item.record_id] = new
    return list(last.values())
