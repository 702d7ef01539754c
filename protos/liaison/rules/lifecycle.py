"""The rules of a record's lifecycle: retention defaults, periods, tombstones.

A withdrawn record's last version is a *tombstone*: a ``Withdrawal`` body instead of content
(decision 0016). :func:`tombstone_of` builds one from the record it withdraws, keeping the
envelope (id, provenance, handling) and nothing of the content. Retention dates are lifecycle
metadata: :class:`RetentionDefaults` stamps them per kind when a record arrives without them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from liaison.rules.errors import FieldViolation
from liaison.rules.ids import namespace_of
from liaison.rules.indexing import KIND_BY_BODY
from liaison.v1 import record_pb2

__all__ = [
    "DAY_US",
    "TOMBSTONE_KIND",
    "RetentionDefaults",
    "RetentionPeriod",
    "parse_period",
    "request_thread_violations",
    "reserved_id_violations",
    "tombstone_of",
]

TOMBSTONE_KIND = "withdrawal"
"""The kind the store keeps for a tombstone (the body field's name, as for every kind)."""

DAY_US = 86_400_000_000
"""One day in microseconds."""

_YEAR_US = 365 * DAY_US + DAY_US // 4  # Julian year: five years come out five calendar years
_MONTH_US = _YEAR_US // 12
_UNITS = {"y": _YEAR_US, "m": _MONTH_US, "w": 7 * DAY_US, "d": DAY_US, "h": 3_600_000_000}
_PERIOD = re.compile(r"^\s*(\d{1,6})\s*([ymwdh])\s*$")


def parse_period(text: str) -> int:
    """A period written as a count and a unit - ``5y``, ``6m`` (months), ``2w``, ``30d``,
    ``8h`` - in microseconds.

    Raises:
        ValueError: not such a period, or zero.
    """
    match = _PERIOD.match(text.lower())
    if match is None or int(match[1]) == 0:
        raise ValueError(
            f"{text!r} is not a period: a positive count and a unit, y (years), m (months), "
            "w (weeks), d (days) or h (hours), e.g. 5y or 6m"
        )
    return int(match[1]) * _UNITS[match[2]]


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    """How long records of one kind are kept, and when they are reviewed."""

    expires_after_us: int
    """From receipt to expiry (automatic withdrawal), in microseconds."""
    review_after_us: int
    """From receipt to the review, in microseconds; at most ``expires_after_us``."""


@dataclass(frozen=True, slots=True)
class RetentionDefaults:
    """The per-kind retention a gateway stamps on its own records that arrive without dates."""

    periods: Mapping[str, RetentionPeriod] = field(default_factory=dict)
    """Record kind (body field name) -> its period; kinds not listed get ``default``."""
    default: RetentionPeriod | None = None
    """The period of unlisted kinds; ``None``: they get no dates (never expire)."""

    def stamp(self, kind: str, received_at_us: int) -> tuple[int, int]:
        """``(review_due_us, expires_at_us)`` of a record of ``kind`` received at
        ``received_at_us``; ``(0, 0)`` when the kind has no period (and for tombstones)."""
        if kind == TOMBSTONE_KIND:
            return 0, 0
        period = self.periods.get(kind, self.default)
        if period is None:
            return 0, 0
        return (received_at_us + period.review_after_us, received_at_us + period.expires_after_us)

    def to_plain(self) -> dict[str, list[int]]:
        """A JSON-able form (for the store's writer process); :meth:`from_plain` reads it."""
        plain = {k: [p.expires_after_us, p.review_after_us] for k, p in self.periods.items()}
        if self.default is not None:
            plain[""] = [self.default.expires_after_us, self.default.review_after_us]
        return plain

    @classmethod
    def from_plain(cls, plain: Mapping[str, list[int]]) -> RetentionDefaults:
        """The defaults :meth:`to_plain` wrote."""
        periods = {kind: RetentionPeriod(*values) for kind, values in plain.items() if kind}
        default = RetentionPeriod(*plain[""]) if "" in plain else None
        return cls(periods, default)


def tombstone_of(
    record: record_pb2.Record,
    reason: int,
    note: str,
    withdrawn_at_us: int,
) -> record_pb2.Record:
    """The tombstone that withdraws ``record`` (its latest version, as read): the same id,
    provenance and handling, a ``Withdrawal`` body, no links and no content.

    The provenance's receipt time and signature are cleared: the tombstone is received and
    signed as a version of its own.
    """
    body = record.WhichOneof("body")
    tombstone = record_pb2.Record(record_id=record.record_id)
    tombstone.provenance.CopyFrom(record.provenance)
    tombstone.provenance.ClearField("received_at")
    tombstone.provenance.ClearField("signature")
    tombstone.handling.CopyFrom(record.handling)
    withdrawal = tombstone.withdrawal
    withdrawal.reason = reason  # type: ignore[assignment]
    withdrawal.note = note
    seconds, micros = divmod(withdrawn_at_us, 1_000_000)
    withdrawal.withdrawn_at.seconds, withdrawal.withdrawn_at.nanos = seconds, micros * 1000
    if body is not None and body != TOMBSTONE_KIND:
        withdrawal.withdrawn_kind = KIND_BY_BODY[body]  # type: ignore[assignment]
    withdrawal.withdrawn_version = record.version
    return tombstone


def request_thread_violations(record: record_pb2.Record, origin: str) -> list[FieldViolation]:
    """A request's thread id must be in its requesting centre's (``origin``'s) namespace.

    The requester mints its thread ids: replies and receipts are routed to the thread id's
    namespace, and each addressed centre keeps one thread per (thread id, itself). A request
    under another centre's thread id would take that centre's thread at the addressed centre and
    send the answer there; one under no namespace could never be answered back.
    """
    if record.WhichOneof("body") != "request" or namespace_of(record.request.thread_id) == origin:
        return []
    return [
        FieldViolation(
            "request.thread_id",
            f"must be in the requesting centre's namespace ({origin}:...): the requester mints "
            "its thread ids, and replies go back to that namespace",
        )
    ]


def reserved_id_violations(
    record_id: str, centre_id: str, *, hit: bool, receipt: bool
) -> list[FieldViolation]:
    """The ids of the records a gateway writes for itself - its screening hits
    (``CENTRE:hit:...``) and thread receipts (``CENTRE:receipt:...``) - are its own: a record of
    another kind under one would be their next version (a hit replaced by a person is an alert
    silenced without a decision). ``hit`` / ``receipt``: the writer is the screening desk / the
    thread book (or the gateway withdrawing them)."""
    for kind, allowed in (("hit", hit), ("receipt", receipt)):
        if not allowed and record_id.startswith(f"{centre_id}:{kind}:"):
            return [
                FieldViolation(
                    "record_id",
                    f"{centre_id}:{kind}:... ids are the gateway's own ({kind}s it writes itself)",
                )
            ]
    return []
