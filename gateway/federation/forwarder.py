"""Forwarding committed records to peer centres: one router task, one sender task per peer.

The **router** follows the commit feed from the outbox's durable cursor. For each committed
version it asks the routing rules where the record goes, and records the decisions (queued or
withheld) with the new cursor in one outbox transaction. Only committed records are routed, so
nothing is forwarded that the centre has not acknowledged, and nothing acknowledged is skipped.

Each **sender** takes its peer's due deliveries in commit order, reads the records from the store
and sends them in one ``Deliver`` call. The peer answers per record: an ack marks the delivery
delivered (with the receiver's ack); a refusal of the record itself dead-letters it at once; a
transport failure (peer down, deadline) fails the whole batch, which is retried with exponential
backoff and jitter until the attempt or age limit dead-letters it. The receiver deduplicates by
record id and version, so a batch resent after a crash is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.audit.log import AuditLog
from gateway.errors import UnavailableError
from gateway.federation.outbox import Delivery, Outbox, PendingDelivery
from gateway.federation.routing import RouteDecision, RoutingRule, route
from gateway.federation.traces import context_from
from gateway.security.certs import centre_uri
from gateway.security.gate import RecordGate
from gateway.store.base import StoredRecord
from gateway.store.feed import CaughtUpMarker, CommitFeed
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import FEDERATION_FORWARD_SPAN
from liaison.rules.ids import namespace_of
from liaison.v1 import federation_pb2

__all__ = ["Forwarder", "PeerLink", "PeerUnavailableError"]

logger = logging.getLogger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()
_ROUTE_BATCH = 256
_SEND_BATCH = 256


class PeerUnavailableError(UnavailableError):
    """The peer could not be reached or did not answer; the whole batch is retried later."""


class PeerLink(Protocol):
    """How records reach one peer (a gRPC ``Federation.Deliver`` call in production)."""

    async def deliver(
        self, records: Sequence[federation_pb2.ForwardedRecord]
    ) -> Sequence[federation_pb2.DeliveryResult]:
        """One result per record, in order; raises :class:`PeerUnavailableError`."""
        ...


TraceContextOf = Callable[[StoredRecord], str]
"""The W3C traceparent a committed version was submitted under ("" when unknown)."""


class Forwarder:
    """Routes committed records and delivers them to peers until stopped."""

    def __init__(
        self,
        *,
        centre_id: str,
        gate: RecordGate,
        feed: CommitFeed,
        outbox: Outbox,
        rules: Sequence[RoutingRule],
        peers: Mapping[str, PeerLink],
        audit: AuditLog | None = None,
        trace_context_of: TraceContextOf | None = None,
        clock: Callable[[], float] = time.time,
        tracer: Tracer | None = None,
    ) -> None:
        self._tracer = tracer
        self._centre_id = centre_id
        self._gate = gate
        self._feed = feed
        self._outbox = outbox
        self._rules = tuple(rules)
        self._peers = dict(peers)
        self._audit = audit
        self._trace_context_of = trace_context_of or (lambda _record: "")
        self._clock = clock
        self._wake = {peer: asyncio.Event() for peer in self._peers}
        self._tasks: list[asyncio.Task[None]] = []
        self.routed_through = 0
        """The highest sequence routed so far (for status and tests)."""

    async def start(self) -> None:
        self.routed_through = await self._outbox.routed_through()
        self._tasks.append(asyncio.create_task(self._route(), name="liaison-router"))
        for peer in self._peers:
            self._tasks.append(asyncio.create_task(self._send(peer), name=f"liaison-send-{peer}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def wake(self, peer: str | None = None) -> None:
        """Make a sender (or all) look for due deliveries now, e.g. after a replay."""
        for name, event in self._wake.items():
            if peer is None or name == peer:
                event.set()

    # -- routing ---------------------------------------------------------------------------

    async def _route(self) -> None:
        pending: list[StoredRecord] = []
        # Everything this centre holds is routed; each peer's own view is applied at sending.
        holder = self._gate.feed_filter(self._centre_id)
        async for item in self._feed.stream(self.routed_through, visible=holder):
            if isinstance(item, CaughtUpMarker):
                if pending:
                    await self._record(pending)
                    pending = []
                continue
            pending.append(item)
            if len(pending) >= _ROUTE_BATCH:
                await self._record(pending)
                pending = []
            elif self._feed.last_sequence <= item.sequence:
                # Nothing more is committed yet: route what we have instead of waiting.
                await self._record(pending)
                pending = []

    async def _record(self, stored: list[StoredRecord]) -> None:
        deliveries: list[Delivery] = []
        need_to_know = self._gate.need_to_know
        for version in stored:
            trace = self._trace_context_of(version)
            for decision in route(version, self._rules, need_to_know=need_to_know):
                if decision.allowed and namespace_of(version.record_id) != (
                    version.originating_centre
                ):
                    # Peers accept only ids minted in the origin's namespace (no centre can
                    # squat another's ids); a local id stays local.
                    decision = RouteDecision(
                        decision.peer,
                        False,
                        f"kept here: its id is not in this centre's namespace "
                        f"({version.originating_centre}:...), which peers require",
                    )
                deliveries.append(
                    Delivery(decision, version.record_id, version.version, version.sequence, trace)
                )
        through = stored[-1].sequence
        await self._outbox.record_routing(deliveries, through, self._clock())
        self.routed_through = through
        withheld = [d for d in deliveries if not d.decision.allowed]
        for delivery in withheld:
            await self._audit_entry(
                "deny",
                "withheld",
                [delivery.record_id],
                {"peer": delivery.decision.peer, "reason": delivery.decision.reason},
            )
        for peer in {d.decision.peer for d in deliveries if d.decision.allowed}:
            if peer in self._wake:
                self._wake[peer].set()

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, peer: str) -> None:
        link = self._peers[peer]
        wake = self._wake[peer]
        while True:
            due = await self._outbox.due(peer, self._clock(), _SEND_BATCH)
            if not due:
                await self._sleep_until_due(peer, wake)
                continue
            await self._send_batch(peer, link, due)

    async def _sleep_until_due(self, peer: str, wake: asyncio.Event) -> None:
        wake.clear()
        next_at = await self._outbox.next_due_at(peer)
        timeout = None if next_at is None else max(0.0, next_at - self._clock())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)

    async def _send_batch(self, peer: str, link: PeerLink, due: list[PendingDelivery]) -> None:
        forwarded: list[federation_pb2.ForwardedRecord] = []
        spans: list[Span | None] = []
        sendable: list[PendingDelivery] = []
        missing: list[tuple[PendingDelivery, str]] = []
        # Read as the peer: a version whose (current) handling no longer lets the peer see it is
        # not sent, whatever was decided when it was routed.
        versions = await self._gate.get_versions(
            [(d.record_id, d.version) for d in due], reader=peer
        )
        for delivery, stored in zip(due, versions, strict=True):
            if stored is None:
                missing.append(
                    (
                        delivery,
                        "NOT_FOUND: the version is no longer in the store, or its handling no "
                        "longer lets this peer see it",
                    )
                )
                continue
            if not stored.signature:
                missing.append(
                    (
                        delivery,
                        "FAILED_PRECONDITION: the version is unsigned (stored before [signing] "
                        "was configured); peers refuse unsigned versions",
                    )
                )
                continue
            item = federation_pb2.ForwardedRecord(record=stored.to_message())
            span = self._forward_span(delivery, peer)
            if span is not None:
                # The receiver's span becomes a child of this one: one trace across centres.
                carrier: dict[str, str] = {}
                _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
                item.trace_context.update(carrier)
            elif delivery.trace_context:
                item.trace_context["traceparent"] = delivery.trace_context
            spans.append(span)
            forwarded.append(item)
            sendable.append(delivery)
        if missing:
            await self._dead(peer, missing, permanent=True)
        if not forwarded:
            return
        try:
            results = await link.deliver(forwarded)
        except PeerUnavailableError as error:
            logger.warning("peer %s unavailable: %s", peer, error)
            _end(spans, ["unavailable"] * len(spans))
            await self._dead(peer, [(d, str(error)) for d in sendable], permanent=False)
            return
        if len(results) != len(sendable):
            reason = "INTERNAL: the peer answered a different number of results"
            _end(spans, ["refused"] * len(spans))
            await self._dead(peer, [(d, reason) for d in sendable], permanent=False)
            return
        _end(
            spans,
            [
                ("duplicate" if r.ack.duplicate else "delivered")
                if r.WhichOneof("result") == "ack"
                else "refused"
                for r in results
            ],
        )
        acked = []
        refused = []
        for delivery, result in zip(sendable, results, strict=True):
            if result.WhichOneof("result") == "ack":
                acked.append((delivery, result.ack))
            else:
                refused.append((delivery, f"refused by the peer: code {result.error.code}"))
        now = self._clock()
        if acked:
            await self._outbox.delivered(peer, acked, now)
            await self._audit_entry(
                "forward", "ok", [d.record_id for d, _ in acked], {"peer": peer}
            )
        if refused:
            await self._dead(peer, refused, permanent=True)

    def _forward_span(self, delivery: PendingDelivery, peer: str) -> Span | None:
        """A forward span under the record's submission, when that was sampled."""
        parent = context_from(delivery.trace_context)
        if self._tracer is None or parent is None:
            return None
        return self._tracer.start_span(
            FEDERATION_FORWARD_SPAN,
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={attr.PEER_CENTRE: peer},
        )

    async def _dead(
        self, peer: str, failures: list[tuple[PendingDelivery, str]], *, permanent: bool
    ) -> None:
        dead = await self._outbox.failed(peer, failures, self._clock(), permanent=permanent)
        if dead:
            await self._audit_entry(
                "dead-letter", "failed", [d.record_id for d in dead], {"peer": peer}
            )

    async def _audit_entry(
        self, action: str, outcome: str, record_ids: list[str], detail: dict[str, str | int]
    ) -> None:
        if self._audit is None:
            return
        await self._audit.append(
            actor=centre_uri(self._centre_id),
            action=action,
            outcome=outcome,
            record_ids=record_ids,
            detail=detail,
        )


def _end(spans: list[Span | None], outcomes: list[str]) -> None:
    for span, outcome in zip(spans, outcomes, strict=False):
        if span is not None:
            span.set_attribute(attr.DELIVERY_OUTCOME, outcome)
            span.end()
