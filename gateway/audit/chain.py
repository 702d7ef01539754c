"""The audit log's hash chain: entries, their canonical bytes, and verification.

Each entry carries the hash of the entry before it, and its own hash over its canonical bytes
(which include that previous hash and its sequence number). So:

* an **edited** entry no longer matches its own hash;
* a **deleted** entry leaves a gap in the sequence and a previous-hash that points at nothing;
* **reordered** entries break the sequence and the previous-hash links.

``verify`` walks the log once and reports the *first* entry where the chain breaks, with its
position and why. Cutting entries off the end leaves a valid shorter chain: that is caught only
against a head (sequence and hash) recorded elsewhere, which ``verify`` accepts as ``expect_head``
and which ``liaison audit verify`` prints for operators to keep.

A plain SHA-256 chain proves only that nobody edited the log *without rewriting everything after
the edit*: whoever can write the file can recompute every hash. With a key (``[audit] key_file``)
each entry's hash is an HMAC-SHA256 under that key instead, and marks itself so (``"mac"``): a
forger now needs the key as well, and verification with the key refuses any entry without it. A
log is keyed from its first entry or not at all (:class:`~gateway.audit.log.AuditLog` refuses to
mix), so an unkeyed entry in a keyed log is always a forgery.

Entries hold identities, actions, record ids and outcomes — never personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "KEYED_MAC",
    "AuditEntry",
    "ChainBreak",
    "ChainHead",
    "VerifyReport",
    "entry_hash",
    "next_entry",
    "verify",
]

GENESIS_HASH = "0" * 64
"""The previous-hash of the first entry."""

KEYED_MAC = "hmac-sha256"
"""The ``mac`` of a keyed entry: its hash is HMAC-SHA256 over its canonical bytes."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action."""

    sequence: int
    """1 for the first entry, then +1 each."""
    time: str
    """When, RFC 3339 UTC with microseconds."""
    actor: str
    """Who: the caller's verified identity (``urn:liaison:client:...``), a peer centre, or
    ``local`` for an unauthenticated loopback caller."""
    action: str
    """What: ``submit``, ``read``, ``search``, ``subscribe``, ``ingest``, ``export``, ``forward``,
    ``receive``, ``deny``, ``dead-letter``, ``replay``."""
    outcome: str
    """``ok``, ``duplicate``, ``denied``, ``not-found``, ``failed`` ..."""
    record_ids: tuple[str, ...] = ()
    """The records concerned (ids only)."""
    detail: Mapping[str, str | int] = field(default_factory=dict)
    """Non-personal metadata: RPC method, status code, peer centre, version numbers."""
    previous_hash: str = GENESIS_HASH
    """Hash of the entry before (hex)."""
    mac: str = ""
    """``KEYED_MAC`` for an entry hashed under the log's key; empty for a plain SHA-256 hash."""
    hash: str = ""
    """This entry's hash (hex) over ``canonical_bytes``."""

    def body(self) -> dict[str, Any]:
        """Every field but ``hash``, as plain JSON values (``mac`` only when keyed, so that the
        entries of unkeyed logs hash as they always have)."""
        body: dict[str, Any] = {
            "sequence": self.sequence,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "outcome": self.outcome,
            "record_ids": list(self.record_ids),
            "detail": dict(self.detail),
            "previous_hash": self.previous_hash,
        }
        if self.mac:
            body["mac"] = self.mac
        return body

    def canonical_bytes(self) -> bytes:
        """Sorted keys, no insignificant whitespace, ASCII: one byte string per content."""
        return json.dumps(
            self.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode("ascii")

    def to_json(self) -> str:
        """The stored form: the body plus the hash."""
        return json.dumps({**self.body(), "hash": self.hash}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AuditEntry:
        """Parse a stored entry. Raises ``ValueError`` when it is not an entry at all."""
        try:
            value = json.loads(text)
            if not isinstance(value, dict):
                raise TypeError("not an object")
            mac = str(value.get("mac", ""))
            if mac not in ("", KEYED_MAC):
                raise ValueError("unknown mac")
            return cls(
                sequence=_int(value["sequence"]),
                time=str(value["time"]),
                actor=str(value["actor"]),
                action=str(value["action"]),
                outcome=str(value["outcome"]),
                record_ids=tuple(str(v) for v in value["record_ids"]),
                detail={str(k): v for k, v in dict(value["detail"]).items()},
                previous_hash=str(value["previous_hash"]),
                mac=mac,
                hash=str(value["hash"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"not an audit entry ({type(error).__name__})") from None


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("sequence is not an integer")
    return value


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
        time=moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
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
class ChainBreak:
    """Where the chain breaks first."""

    position: int
    """1-based position of the offending entry in the log as stored."""
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

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify(
    stored: Iterable[str], *, expect_head: ChainHead | None = None, key: bytes | None = None
) -> VerifyReport:
    """Verify stored entries (their JSON form, in stored order); stop at the first break.

    With ``key`` every entry must be keyed and its MAC right; without, every entry must be
    unkeyed (a keyed one cannot be checked, and is reported as such).
    """
    head = ChainHead()
    position = 0
    for position, text in enumerate(stored, start=1):
        problem = _check(text, head, position, key)
        if isinstance(problem, ChainBreak):
            return VerifyReport(position, head, problem)
        head = problem
    if expect_head is not None and expect_head != head:
        if expect_head.sequence > head.sequence:
            reason = (
                f"the log ends at sequence {head.sequence}, but the recorded head is at "
                f"{expect_head.sequence}: entries were cut off the end"
            )
        else:
            reason = f"the entry at sequence {expect_head.sequence} differs from the recorded head"
        return VerifyReport(position, head, ChainBreak(position, head.sequence, reason))
    return VerifyReport(position, head)


def _check(text: str, head: ChainHead, position: int, key: bytes | None) -> ChainHead | ChainBreak:
    try:
        entry = AuditEntry.from_json(text)
    except ValueError as error:
        return ChainBreak(position, None, f"unreadable entry: {error}")
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
