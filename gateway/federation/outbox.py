"""The outbox: durable delivery state per record and peer - one interface, two databases.

The record store's commit sequence is the source of truth for *what* must be forwarded: the
router reads committed records after ``routed_through`` (a durable cursor), asks the routing
rules where each goes, and records one delivery row per (peer, record id, version) - queued, or
withheld when handling forbids it - and advances the cursor **in the same transaction**. A crash
at any point either leaves the cursor behind (the records are routed again, and the rows'
primary key makes that idempotent) or after the rows (nothing left to do). Records are never
copied here: the sender reads them from the store when it sends.

Delivery rows then move ``queued -> delivered``, or ``queued -> failed -> ... -> dead_lettered``,
and back to ``queued`` on replay. What dead-letters depends on the failure:

* the peer refused the record itself (it answered, with an error for that record): at once;
* the peer could not be reached (down, a refused handshake, no answer, a failed Identify):
  only ``max_age`` since queueing - an outage shorter than that never dead-letters, however many
  attempts it took (:meth:`Outbox.unavailable`; the sender backs off per peer);
* any other failure (the peer answered with a malformed response): ``max_attempts`` attempts, or
  ``max_age`` (:meth:`Outbox.failed`).

The audit entries a state change implies (a delivery made, a delivery withheld, dead letters)
are kept **in the same transaction** as the change, when the caller asks for them
(``audited=True``), and written to the audit log later by the forwarder
(:meth:`Outbox.audit_notes`, :meth:`Outbox.audit_written`): the delivery state is the truth, and
an audit log that cannot be written (disk full) neither stops deliveries nor loses their entries.
The same rows are the **recipient ledger** (:meth:`Outbox.recipients`): which peer was sent, or
is due, which version of a record, and the receiver's acknowledgement.

This module holds the interface and its values; the rules every implementation applies are in
:mod:`gateway.federation.delivery_policy`, and the SQL in
:mod:`gateway.federation.sqlite_outbox` (a file beside one gateway) and
:mod:`gateway.federation.postgresql_outbox` (tables that every replica of a centre shares, each
due delivery leased to one replica at a time; decision 0024).
"""

from __future__ import annotations

import abc
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.federation.routing import RouteDecision
from liaison.v1 import exchange_pb2, federation_pb2

__all__ = ["AuditNote", "Backoff", "Delivery", "Outbox", "PendingDelivery"]


QUEUED = federation_pb2.DELIVERY_STATE_QUEUED
DELIVERED = federation_pb2.DELIVERY_STATE_DELIVERED
FAILED = federation_pb2.DELIVERY_STATE_FAILED
DEAD_LETTERED = federation_pb2.DELIVERY_STATE_DEAD_LETTERED
WITHHELD = federation_pb2.DELIVERY_STATE_WITHHELD


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter, and when to give up (``[delivery]``)."""

    initial_seconds: float = 0.5
    """Upper bound of the first retry delay."""
    max_seconds: float = 300.0
    """Cap of the delay: a peer that is down is tried again at least this often."""
    max_attempts: int = 10
    """Attempts before a delivery is dead-lettered, for failures other than an unreachable peer
    (a peer that cannot be reached is waited for until ``max_age_seconds``)."""
    max_age_seconds: float = 24 * 3600.0
    """Age (since queueing) after which a delivery still failing is dead-lettered."""

    def delay(self, attempts: int, rng: random.Random) -> float:
        """The wait before the next attempt after ``attempts`` failures (full jitter)."""
        return rng.uniform(0, self._ceiling(attempts))

    def peer_delay(self, failures: int, rng: random.Random) -> float:
        """The wait before the next attempt to a peer that could not be reached ``failures``
        times in a row: doubling up to the cap, with jitter over its upper half (never near 0,
        so a peer that is down is not hammered)."""
        ceiling = self._ceiling(failures)
        return rng.uniform(ceiling / 2, ceiling)

    def _ceiling(self, attempts: int) -> float:
        doublings = min(max(attempts - 1, 0), 62)
        return float(min(self.max_seconds, self.initial_seconds * 2.0**doublings))


@dataclass(frozen=True, slots=True)
class AuditNote:
    """An audit entry a delivery state change implies, kept until the audit log has it."""

    id: int
    """Its row (delete it with :meth:`Outbox.audit_written` once written)."""
    action: str
    outcome: str
    record_ids: tuple[str, ...]
    detail: Mapping[str, str | int]
    noted_at: float
    """When the state changed (the entry may be written later)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One record's routing to one peer, as routed (before it is stored here)."""

    decision: RouteDecision
    record_id: str
    version: int
    sequence: int
    trace_context: str = ""
    """W3C ``traceparent`` of the submission, carried to the peer."""


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A delivery due for an attempt."""

    peer: str
    record_id: str
    version: int
    sequence: int
    attempts: int
    queued_at: float
    trace_context: str


class Outbox(abc.ABC):
    """The durable delivery state of one centre (see the module documentation).

    Implementations keep the state in SQL and apply :mod:`gateway.federation.delivery_policy`;
    every method is one short transaction. A closed outbox raises ``RuntimeError`` (a bug of
    the caller).
    """

    backoff: Backoff
    """When to retry and when to give up."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Open the database (creating the tables where the backend does that itself)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close it; deliveries this instance holds in flight are released to the others."""

    # -- routing ---------------------------------------------------------------------------

    @abc.abstractmethod
    async def routed_through(self) -> int:
        """The highest store sequence already routed."""

    @abc.abstractmethod
    async def record_routing(
        self,
        deliveries: Sequence[Delivery],
        routed_through: int,
        now: float,
        *,
        audited: bool = False,
    ) -> int:
        """Store the deliveries of the records up to ``routed_through`` and advance the cursor,
        atomically (with an audit note per new withheld delivery when ``audited``). Returns how
        many new queued deliveries were added. Routing again is idempotent."""

    @abc.abstractmethod
    async def recipients(self, record_ids: Sequence[str]) -> dict[str, set[str]]:
        """The recipient ledger: for each record, the peers that received one of its versions
        or have one queued (a delivery delivered, queued or failed; not withheld, not dead)."""

    # -- sending ---------------------------------------------------------------------------

    @abc.abstractmethod
    async def due(self, peer: str, now: float, limit: int) -> list[PendingDelivery]:
        """Deliveries to ``peer`` whose attempt is due, oldest commit first. Where replicas
        share the outbox, the deliveries returned are this replica's until it settles them
        (or its lease expires): no other replica gets them meanwhile."""

    @abc.abstractmethod
    async def next_due_at(self, peer: str) -> float | None:
        """When the earliest queued or failed delivery to ``peer`` is due, if any."""

    @abc.abstractmethod
    async def delivered(
        self,
        peer: str,
        acks: Iterable[tuple[PendingDelivery, exchange_pb2.SubmitAck]],
        now: float,
        *,
        audited: bool = False,
    ) -> None:
        """Mark deliveries acknowledged by the peer, with the receiver's ack (and note their
        ``forward`` audit entry when ``audited``)."""

    @abc.abstractmethod
    async def failed(
        self,
        peer: str,
        failures: Iterable[tuple[PendingDelivery, str]],
        now: float,
        *,
        permanent: bool = False,
        audited: bool = False,
    ) -> list[PendingDelivery]:
        """Record failed attempts that count toward ``max_attempts``; returns those that became
        dead letters (noted for the audit log when ``audited``).

        ``permanent`` failures (the peer refused the record itself) are dead-lettered at once:
        sending the same record again cannot succeed. A peer that could not be reached is
        :meth:`unavailable` instead.
        """

    @abc.abstractmethod
    async def unavailable(
        self,
        peer: str,
        attempted: Sequence[PendingDelivery],
        error: str,
        now: float,
        retry_at: float,
        *,
        audited: bool = False,
    ) -> list[PendingDelivery]:
        """The peer could not be reached: the ``attempted`` deliveries failed one more attempt,
        and every delivery due to ``peer`` now waits for ``retry_at`` with ``error`` as its last
        error (it was not sent because the peer is down). These failures never count toward
        ``max_attempts``: only deliveries older than ``max_age`` are dead-lettered (all of the
        peer's, attempted or not). Returns the new dead letters (noted when ``audited``)."""

    # -- audit notes -----------------------------------------------------------------------

    @abc.abstractmethod
    async def audit_notes(self, limit: int = 256) -> list[AuditNote]:
        """The audit entries noted and not written yet, oldest first."""

    @abc.abstractmethod
    async def audit_written(self, ids: Sequence[int]) -> None:
        """Forget the notes ``ids``: the audit log has their entries."""

    @abc.abstractmethod
    async def audit_pending(self) -> int:
        """How many audit notes wait for the audit log."""

    # -- operators -------------------------------------------------------------------------

    @abc.abstractmethod
    async def replay(
        self, peer: str, record_ids: Sequence[str], now: float
    ) -> list[federation_pb2.DeliveryStatus]:
        """Re-queue dead letters (of ``peer`` or all peers; of ``record_ids`` or all)."""

    @abc.abstractmethod
    async def statuses(
        self,
        *,
        peer: str = "",
        record_id: str = "",
        states: Sequence[int] = (),
        limit: int = 1000,
    ) -> list[federation_pb2.DeliveryStatus]:
        """Delivery states, newest first (metadata only)."""

    @abc.abstractmethod
    async def counts(self) -> dict[int, int]:
        """Deliveries per state."""
