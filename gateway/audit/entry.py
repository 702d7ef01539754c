"""One audit entry: its fields, its canonical JSON, and the strict parser of its stored form.

An entry is stored as exactly one byte string: its canonical JSON (sorted keys, no
insignificant whitespace, non-ASCII escaped). The parser accepts that string and nothing else:

* a **duplicate key** is refused, because JSON readers disagree on which value wins (Python's
  keeps the last, SQLite's ``json_extract`` the first), so a forger could show one actor to the
  verifier and another to every query;
* an **unknown field** is refused, because it is outside the hash and could carry anything;
* any other **encoding** of the same content (reordered keys, spaces, escapes) is refused, by
  comparing the stored text with the canonical form of what was parsed: one content, one text.

Every field must also have its exact type and shape (a sequence is an integer, a hash 64
lower-case hex digits, the time the writer's RFC 3339 form), so that no value is coerced into
one that would hash the same.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from gateway.errors import AuditError

__all__ = ["GENESIS_HASH", "KEYED_MAC", "AuditEntry", "EntryFormatError", "parse_entry"]

GENESIS_HASH = "0" * 64
"""The previous-hash of the first entry."""

KEYED_MAC = "hmac-sha256"
"""The ``mac`` of a keyed entry: its hash is HMAC-SHA256 over its canonical bytes."""

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""How entries state their time (UTC, microseconds)."""

_FIELDS = frozenset(
    {
        "sequence",
        "time",
        "actor",
        "action",
        "outcome",
        "record_ids",
        "detail",
        "previous_hash",
        "hash",
    }
)
_KEYED_FIELDS = _FIELDS | {"mac"}
_HASH = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_MAX_SEQUENCE = 2**63 - 1


class EntryFormatError(AuditError, ValueError):
    """A stored entry is not an entry in canonical form; the message says what is wrong.

    Attributes:
        sequence: The sequence number the entry claims, when it could be read.
    """

    def __init__(self, message: str, sequence: int | None = None) -> None:
        super().__init__(message)
        self.sequence = sequence


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
        """What the hash covers: the body with sorted keys, no insignificant whitespace, ASCII."""
        return _canonical(self.body()).encode("ascii")

    def to_json(self) -> str:
        """The stored form: the body plus the hash, canonical like ``canonical_bytes``."""
        return _canonical({**self.body(), "hash": self.hash})

    @classmethod
    def from_json(cls, text: str) -> AuditEntry:
        """Parse a stored entry strictly (see :func:`parse_entry`).

        Raises:
            EntryFormatError: the text is not an entry in canonical form.
        """
        return parse_entry(text)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _canonical(value: Mapping[str, Any]) -> str:
    return _ENCODER.encode(value)


class _DuplicateKeyError(EntryFormatError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise _DuplicateKeyError(key)
        value[key] = item
    return value


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


# One decoder for every entry: json.loads with options would build a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def parse_entry(text: object) -> AuditEntry:
    """The entry stored as ``text``, which must be its canonical JSON and nothing else.

    Raises:
        EntryFormatError: not text, not JSON, a duplicate key, a missing or unknown field, a
            field of the wrong type or shape, or not byte-identical to the canonical form.
    """
    if not isinstance(text, str):
        raise EntryFormatError(f"stored as {type(text).__name__}, not as text")
    # Duplicate keys cannot survive the canonical comparison below (the parsed object keeps one
    # of them); they are looked for by name only when explaining a refusal, which keeps the
    # common path - a canonical entry - as fast as a plain parse.
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise EntryFormatError(f"not JSON ({error.msg} at character {error.pos})") from None
    except (ValueError, RecursionError) as error:
        raise EntryFormatError(f"not JSON ({error})") from None
    if not isinstance(value, dict):
        raise EntryFormatError(f"not a JSON object but {type(value).__name__}")
    claimed = _sequence_in(value)
    try:
        entry = _entry(value, claimed)
    except EntryFormatError:
        _refuse_duplicates(text, claimed)
        raise
    if entry.to_json() != text:
        _refuse_duplicates(text, claimed)
        raise EntryFormatError(
            "not in canonical form (sorted keys, no spaces, ASCII escapes): the stored text "
            "must be byte-identical to it",
            claimed,
        )
    return entry


def _refuse_duplicates(text: str, sequence: int | None) -> None:
    """Raise for the first key that appears twice in one object of ``text``, if any."""
    try:
        json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as duplicate:
        raise EntryFormatError(f"duplicate key {duplicate.key!r}", sequence) from None


def _sequence_in(value: dict[str, Any]) -> int | None:
    sequence = value.get("sequence")
    if isinstance(sequence, int) and _is_int(sequence) and 1 <= sequence <= _MAX_SEQUENCE:
        return sequence
    return None


def _entry(value: dict[str, Any], sequence: int | None) -> AuditEntry:
    def refuse(message: str) -> NoReturn:
        raise EntryFormatError(message, sequence)

    keys = value.keys()
    if keys != _FIELDS and keys != _KEYED_FIELDS:
        unknown = sorted(keys - _KEYED_FIELDS)
        if unknown:
            refuse(f"unknown field(s) {', '.join(map(repr, unknown))}")
        refuse(f"missing field(s) {', '.join(map(repr, sorted(_FIELDS - keys)))}")
    if sequence is None:
        refuse(f"sequence must be an integer from 1 to {_MAX_SEQUENCE}")
    for name in ("time", "actor", "action", "outcome"):
        if not isinstance(value[name], str):
            refuse(f"{name} must be a string")
    if not _is_time(value["time"]):
        refuse("time must be RFC 3339 UTC with microseconds (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    record_ids = value["record_ids"]
    if not isinstance(record_ids, list) or not all(isinstance(i, str) for i in record_ids):
        refuse("record_ids must be an array of strings")
    detail = value["detail"]
    if not isinstance(detail, dict) or not all(
        isinstance(item, str) or _is_int(item) for item in detail.values()
    ):
        refuse("detail must be an object of strings and integers")
    for name in ("previous_hash", "hash"):
        if not isinstance(value[name], str) or not _HASH.fullmatch(value[name]):
            refuse(f"{name} must be 64 lower-case hexadecimal digits")
    mac = value.get("mac", "")
    if "mac" in value and mac != KEYED_MAC:
        refuse(f"mac must be {KEYED_MAC!r} when present")
    return AuditEntry(
        sequence=sequence,
        time=value["time"],
        actor=value["actor"],
        action=value["action"],
        outcome=value["outcome"],
        record_ids=tuple(record_ids),
        detail=detail,
        previous_hash=value["previous_hash"],
        mac=mac,
        hash=value["hash"],
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_time(text: str) -> bool:
    if not _TIME.fullmatch(text):
        return False
    try:
        # The pattern fixed the layout; this checks the ranges (no 30 February), much faster
        # than strptime.
        dt.datetime.fromisoformat(text[:-1])
    except ValueError:
        return False
    return True
