"""The audit log's hash chain: hashing entries, chaining them, and verification.

Each entry carries the hash of the entry before it, and its own hash over its canonical bytes
(which include that previous hash and its sequence number). So:

* an **edited** entry no longer matches its own hash;
* a **deleted** entry leaves a gap in the sequence and a previous-hash that points at nothing;
* **reordered** entries break the sequence and the previous-hash links;
* an entry stored in any form but its canonical JSON (a duplicate key, an extra field, other
  spacing) is refused before its hash is even computed (see :mod:`gateway.audit.entry`).

``verify`` walks the log once and reports the *first* entry where the chain breaks, with its
position and why. Cutting entries off the end (or deleting them all) leaves a valid shorter
chain: that is caught only against an **anchor**, a sequence number and the hash the entry there
had, recorded outside the log - a head the operator kept (``--expect-head``), or a checkpoint the
centre signed and a peer centre keeps (:mod:`gateway.audit.checkpoints`). The log may have grown
since an anchor was recorded; it must still reach it, with the same hash.

A plain SHA-256 chain proves only that nobody edited the log *without rewriting everything after
the edit*: whoever can write the file can recompute every hash. With a key (``[audit] key_file``)
each entry's hash is an HMAC-SHA256 under that key instead, and marks itself so (``"mac"``): a
forger now needs the key as well, and verification with the key refuses any entry without it. A
log is keyed from its first entry or not at all (:class:`~gateway.audit.log.AuditLog` refuses to
mix), so an unkeyed entry in a keyed log is always a forgery.

Entries hold identities, actions, record ids and outcomes - never personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.audit.entry import (
    GENESIS_HASH,
    KEYED_MAC,
    TIME_FORMAT,
    AuditEntry,
    EntryFormatError,
    parse_entry,
)

__all__ = [
    "GENESIS_HASH",
    "KEYED_MAC",
    "Anchor",
    "AuditEntry",
    "ChainBreak",
    "ChainHead",
    "VerifyReport",
    "entry_hash",
    "next_entry",
    "verify",
]


def entry_hash(entry: AuditEntry, key: bytes | None = None) -> str:
    """The hash ``entry`` should carry: HMAC-SHA256 under ``key`` for a keyed entry, SHA-256
    otherwise.

    Raises:
        ValueError: a keyed entry without a key.
    """
    if entry.mac:
        if key is None:
            raise ValueError("a keyed entry's hash needs the key")
        return hmac.new(key, entry.canonical_bytes(), hashlib.sha256).hexdigest()
    return hashlib.sha256(entry.canonical_bytes()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last entry's sequence and hash: what an operator records to detect truncation."""

    sequence: int = 0
    hash: str = GENESIS_HASH


def next_entry(
    head: ChainHead,
    *,
    actor: str,
    action: str,
    outcome: str,
    record_ids: Iterable[str] = (),
    detail: Mapping[str, str | int] | None = None,
    now: dt.datetime | None = None,
    key: bytes | None = None,
) -> AuditEntry:
    """The entry that follows ``head``, hashed (under ``key`` when given)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    unhashed = AuditEntry(
        sequence=head.sequence + 1,
        time=moment.astimezone(dt.UTC).strftime(TIME_FORMAT),
        actor=actor,
        action=action,
        outcome=outcome,
        record_ids=tuple(record_ids),
        detail=dict(detail or {}),
        previous_hash=head.hash,
        mac=KEYED_MAC if key is not None else "",
    )
    return AuditEntry(**{**_fields(unhashed), "hash": entry_hash(unhashed, key)})


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class Anchor:
    """A point the log must reach with a given hash, recorded outside the log."""

    head: ChainHead
    """The sequence number and the hash the entry there had."""
    source: str
    """Where it comes from, for messages: ``"the recorded head"``, ``"the checkpoint signed by
    WCO-I2C at 2026-11-27T12:00:00Z"``."""


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain breaks first."""

    position: int
    """1-based position of the offending entry in the log as stored (for entries cut off the
    end: the position the first missing entry would have)."""
    sequence: int | None
    """The sequence number that entry claims, when it could be read."""
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of a verification."""

    checked: int
    """Entries read."""
    head: ChainHead
    """The last good entry."""
    first_break: ChainBreak | None = None
    anchored: int = 0
    """Anchors the log was found to reach with the recorded hash."""

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify(
    stored: Iterable[object],
    *,
    expect_head: ChainHead | None = None,
    key: bytes | None = None,
    anchors: Iterable[Anchor] = (),
) -> VerifyReport:
    """Verify stored entries (their JSON form, in stored order); stop at the first break.

    With ``key`` every entry must be keyed and its MAC right; without, every entry must be
    unkeyed (a keyed one cannot be checked, and is reported as such). The entry at each anchor's
    sequence (``expect_head`` is one more anchor) must carry the anchor's hash, and the log must
    be long enough to have one.
    """
    pending: dict[int, list[Anchor]] = {}
    every = [*anchors]
    if expect_head is not None:
        every.append(Anchor(expect_head, "the recorded head"))
    for anchor in every:
        pending.setdefault(anchor.head.sequence, []).append(anchor)
    head = ChainHead()
    position = 0
    anchored = 0
    for anchor in pending.pop(0, []):
        if anchor.head.hash != GENESIS_HASH:
            why = f"{anchor.source} records 0 entries with a head hash other than the genesis hash"
            return VerifyReport(0, head, ChainBreak(1, None, why))
        anchored += 1
    for position, text in enumerate(stored, start=1):
        problem = _check(text, head, position, key)
        if isinstance(problem, ChainBreak):
            return VerifyReport(position, head, problem, anchored)
        for anchor in pending.pop(problem.sequence, []):
            if not hmac.compare_digest(anchor.head.hash, problem.hash):
                why = (
                    f"the entry's hash differs from the one {anchor.source} records for "
                    f"sequence {problem.sequence}: the log was rewritten up to here"
                )
                broken = ChainBreak(position, problem.sequence, why)
                return VerifyReport(position, head, broken, anchored)
            anchored += 1
        head = problem
    if pending:
        furthest = max(pending)
        source = pending[furthest][0].source
        why = (
            f"the log ends at sequence {head.sequence}, but {source} records {furthest} entries: "
            "entries were cut off the end"
        )
        return VerifyReport(position, head, ChainBreak(position + 1, None, why), anchored)
    return VerifyReport(position, head, None, anchored)


def _check(
    text: object, head: ChainHead, position: int, key: bytes | None
) -> ChainHead | ChainBreak:
    try:
        entry = parse_entry(text)
    except EntryFormatError as error:
        return ChainBreak(position, error.sequence, f"malformed entry: {error}")
    if entry.mac and key is None:
        return ChainBreak(
            position, entry.sequence, "the entry is keyed (HMAC-SHA256): give the key to verify it"
        )
    if not entry.mac and key is not None:
        return ChainBreak(
            position,
            entry.sequence,
            "the entry is not keyed, but the log is verified with a key: keyed logs are keyed "
            "from their first entry, so this one was forged or the log is not the keyed one",
        )
    if not hmac.compare_digest(entry_hash(entry, key), entry.hash):
        what = "MAC (edited, or not this key)" if key is not None else "hash (edited)"
        why = f"content does not match its {what}"
        return ChainBreak(position, entry.sequence, why)
    expected = head.sequence + 1
    if entry.sequence != expected:
        if entry.sequence > expected:
            why = f"sequence {entry.sequence} where {expected} was expected (entries deleted)"
        else:
            why = f"sequence {entry.sequence} where {expected} was expected (entries reordered)"
        return ChainBreak(position, entry.sequence, why)
    if entry.previous_hash != head.hash:
        return ChainBreak(
            position, entry.sequence, "previous-hash does not match the entry before it"
        )
    return ChainHead(entry.sequence, entry.hash)
