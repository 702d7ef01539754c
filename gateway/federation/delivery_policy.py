"""The rules of the outbox, shared by its implementations: they decide, the SQL stores.

Pure functions over the outbox's values (:mod:`gateway.federation.outbox`): which state a routed
delivery starts in, what a failed attempt becomes (retried after a backoff, or dead-lettered),
when an unreachable peer's deliveries are too old to wait for, which audit note a change implies,
and how a stored row reads as a ``DeliveryStatus``. Neither SQLite nor PostgreSQL code repeats
them, so both backends behave alike by construction (and the outbox tests run on both).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from gateway.federation.outbox import (
    DEAD_LETTERED,
    DELIVERED,
    FAILED,
    QUEUED,
    WITHHELD,
    Backoff,
    Delivery,
    PendingDelivery,
)
from liaison.v1 import federation_pb2

__all__ = [
    "DUE_STATES",
    "MAX_ERROR_CHARS",
    "RECIPIENT_STATES",
    "STATUS_COLUMNS",
    "NoteDraft",
    "Settled",
    "StatusRow",
    "dead_letter_note",
    "forward_note",
    "gave_up_error",
    "initial_state",
    "settle_failures",
    "status_of",
    "unavailable_dead_before",
    "withheld_note",
]

MAX_ERROR_CHARS = 500
"""Longest ``last_error`` kept (errors name causes and addresses, never data)."""

DUE_STATES = (QUEUED, FAILED)
"""States a delivery is attempted in."""

RECIPIENT_STATES = (QUEUED, DELIVERED, FAILED)
"""States that make a peer a recipient of the record (the ledger): received, or due to."""


@dataclass(frozen=True, slots=True)
class NoteDraft:
    """An audit note to keep in the same transaction as the change that implies it."""

    action: str
    outcome: str
    record_ids: tuple[str, ...]
    detail: Mapping[str, str | int]
    noted_at: float

    def columns(self) -> tuple[str, str, str, str, float]:
        """``action, outcome, record_ids, detail, noted_at`` as stored (JSON text)."""
        return (
            self.action,
            self.outcome,
            json.dumps(list(self.record_ids)),
            json.dumps(dict(self.detail)),
            self.noted_at,
        )


@dataclass(frozen=True, slots=True)
class Settled:
    """What one failed attempt makes of a delivery."""

    delivery: PendingDelivery
    state: int
    attempts: int
    error: str
    next_attempt_at: float


def initial_state(delivery: Delivery) -> int:
    """Queued when routing allows it, withheld (for the record) otherwise."""
    return QUEUED if delivery.decision.allowed else WITHHELD


def withheld_note(delivery: Delivery, now: float) -> NoteDraft:
    """The ``deny`` entry of a delivery withheld at routing."""
    detail = {"peer": delivery.decision.peer, "reason": delivery.decision.reason}
    return NoteDraft("deny", "withheld", (delivery.record_id,), detail, now)


def forward_note(peer: str, record_ids: Sequence[str], now: float) -> NoteDraft:
    """The ``forward`` entry of deliveries the peer acknowledged."""
    return NoteDraft("forward", "ok", tuple(record_ids), {"peer": peer}, now)


def dead_letter_note(peer: str, record_ids: Sequence[str], now: float) -> NoteDraft:
    """The ``dead-letter`` entry of deliveries given up on."""
    return NoteDraft("dead-letter", "failed", tuple(record_ids), {"peer": peer}, now)


def settle_failures(
    backoff: Backoff,
    rng: random.Random,
    failures: Sequence[tuple[PendingDelivery, str]],
    now: float,
    *,
    permanent: bool,
) -> tuple[list[Settled], list[PendingDelivery]]:
    """Failed attempts that count toward ``max_attempts``: each is retried after a jittered
    backoff, or dead-lettered when ``permanent``, out of attempts, or older than ``max_age``.

    Returns:
        The new state of each delivery, and those that became dead letters.
    """
    settled: list[Settled] = []
    dead: list[PendingDelivery] = []
    for delivery, error in failures:
        attempts = delivery.attempts + 1
        too_old = now - delivery.queued_at >= backoff.max_age_seconds
        if permanent or attempts >= backoff.max_attempts or too_old:
            state, next_at = DEAD_LETTERED, now
            dead.append(delivery)
        else:
            state = FAILED
            next_at = now + backoff.delay(attempts, rng)
        settled.append(Settled(delivery, state, attempts, error[:MAX_ERROR_CHARS], next_at))
    return settled, dead


def unavailable_dead_before(backoff: Backoff, now: float) -> float:
    """Deliveries to an unreachable peer queued at or before this time are dead-lettered."""
    return now - backoff.max_age_seconds


def gave_up_error(error: str, backoff: Backoff) -> str:
    """The last error of a delivery dead-lettered because its peer stayed unreachable."""
    return (
        f"{error}; dead-lettered: still undelivered after max_age_seconds "
        f"({backoff.max_age_seconds:g} s)"
    )[:MAX_ERROR_CHARS]


@dataclass(frozen=True, slots=True)
class StatusRow:
    """A delivery row as both backends select it for statuses."""

    record_id: str
    version: int
    peer: str
    state: int
    attempts: int
    last_error: str
    receiver_ack: bytes | None
    queued_at: float
    updated_at: float
    next_attempt_at: float
    reason: str

    @classmethod
    def of(cls, row: Sequence[Any]) -> StatusRow:
        """From the columns in the order of this class's fields."""
        (record_id, version, peer, state, attempts, error, ack, queued, updated, due, reason) = row
        return cls(
            record_id,
            int(version),
            peer,
            int(state),
            int(attempts),
            error,
            None if ack is None else bytes(ack),
            float(queued),
            float(updated),
            float(due),
            reason,
        )


STATUS_COLUMNS = (
    "record_id, version, peer, state, attempts, last_error, receiver_ack,"
    " queued_at, updated_at, next_attempt_at, reason"
)
"""The columns :meth:`StatusRow.of` reads, in order."""


def status_of(row: StatusRow) -> federation_pb2.DeliveryStatus:
    """The operator's view of one delivery (metadata only)."""
    status = federation_pb2.DeliveryStatus(
        record_id=row.record_id,
        version=row.version,
        peer=row.peer,
        state=cast(Any, row.state),
        attempts=row.attempts,
        last_error=row.last_error,
        reason=row.reason,
    )
    if row.receiver_ack:
        status.receiver_ack.ParseFromString(row.receiver_ack)
    status.queued_at.FromDatetime(_utc(row.queued_at))
    status.updated_at.FromDatetime(_utc(row.updated_at))
    if row.state in DUE_STATES:
        status.next_attempt_at.FromDatetime(_utc(row.next_attempt_at))
    return status


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)
