"""Forwarding committed records to peer centres: one router task, one sender task per peer, one
task that writes the audit entries of deliveries - all supervised.

The **router** follows the commit feed from the outbox's durable cursor. For each committed
version it asks the routing rules where the record goes, and records the decisions (queued or
withheld) with the new cursor in one outbox transaction. Only committed records are routed, so
nothing is forwarded that the centre has not acknowledged, and nothing acknowledged is skipped.

Each **sender** takes its peer's due deliveries in commit order, reads the records from the store
and sends them in one ``Deliver`` call. The peer answers per record: an ack marks the delivery
delivered (with the receiver's ack); a refusal of the record itself dead-letters it at once. A
peer that cannot be reached (down, a refused handshake, no answer, no identity proof) fails the
whole batch: the sender then backs off *per peer* (doubling up to ``[delivery]
max_backoff_seconds``) and tries again with the oldest batch, at once when the peer's channel
connects again; as soon as one batch goes through, the whole queue follows in commit order.
Unreachability dead-letters only by age (``max_age_seconds``), never by the attempt count. The
receiver deduplicates by record id and version, so a batch resent after a crash is harmless.

The **audit writer** writes the audit entries the outbox noted with each state change (in the
same transaction, see :mod:`gateway.federation.outbox`). An audit log that cannot be written
(disk full) fails that task alone: the supervisor logs it, turns health NOT_SERVING and
restarts it with backoff, while deliveries go on; the entries are written once the log can be,
at the latest at the next start.

Every task runs under a :class:`~gateway.supervision.Supervisor` (the gateway's, or one of the
forwarder's own): a task that fails is logged with its error class, restarted with backoff, and
makes the Federation and FederationAdmin services (and the gateway) NOT_SERVING until it works
again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.audit.log import AuditLog
from gateway.errors import UnavailableError
from gateway.federation.outbox import Delivery, Outbox, PendingDelivery
from gateway.federation.routing import (
    THREAD_ADDRESSED_KINDS,
    RouteDecision,
    RoutingRule,
    route,
    thread_addressees,
)
from gateway.federation.traces import context_from
from gateway.security.certs import centre_uri
from gateway.security.gate import RecordGate
from gateway.store.base import StoredRecord
from gateway.store.feed import CaughtUpMarker, CommitFeed
from gateway.supervision import HealthBoard, Supervised, Supervisor
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import FEDERATION_FORWARD_SPAN
from liaison.rules.ids import namespace_of
from liaison.v1 import federation_pb2

__all__ = ["FEDERATION_SERVICES", "Forwarder", "PeerLink", "PeerUnavailableError", "ReadyProbe"]

logger = logging.getLogger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()
_ROUTE_BATCH = 256
_SEND_BATCH = 256


FEDERATION_SERVICES = (
    federation_pb2.DESCRIPTOR.services_by_name["Federation"].full_name,
    federation_pb2.DESCRIPTOR.services_by_name["FederationAdmin"].full_name,
)
"""The services a failed forwarding task makes NOT_SERVING (besides the gateway as a whole)."""

_AUDIT_BATCH = 256
_CONNECT_CAUSES = frozenset({"unreachable", "handshake"})
_STOP_FLUSH_SECONDS = 2.0


class PeerUnavailableError(UnavailableError):
    """The peer could not be reached or did not answer; the whole batch is retried later."""

    def __init__(self, message: str, cause: str = "unavailable") -> None:
        super().__init__(message)
        self.cause = cause
        """What kind of failure (``unreachable``, ``handshake``, ``identity``, ``timeout``,
        ``unavailable``): words for logs and metrics, never data."""


class PeerLink(Protocol):
    """How records reach one peer (a gRPC ``Federation.Deliver`` call in production)."""

    async def deliver(
        self, records: Sequence[federation_pb2.ForwardedRecord]
    ) -> Sequence[federation_pb2.DeliveryResult]:
        """One result per record, in order; raises :class:`PeerUnavailableError`."""
        ...


@runtime_checkable
class ReadyProbe(Protocol):
    """A peer link that can say when the peer answers again (``GrpcPeerLink`` can)."""

    async def wait_ready(self) -> None:
        """Return once a connection to the peer is up."""
        ...


@dataclass(slots=True)
class _PeerState:
    """A sender's view of its peer: how long it has been unreachable, when to try again."""

    failures: int = 0
    retry_at: float = 0.0
    down_since: float = 0.0
    cause: str = ""
    logged: int = 0


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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tracer: Tracer | None = None,
        supervisor: Supervisor | None = None,
        services: Iterable[str] = FEDERATION_SERVICES,
        seed: int | None = None,
    ) -> None:
        """Args:
        centre_id: This centre.
        gate: The visibility gate (records are read as the peer).
        feed: The commit feed the router follows.
        outbox: The delivery state (open).
        rules: The routing rules.
        peers: Peer centre id -> its link.
        audit: Where forwards, withheld deliveries and dead letters are audited (``None``: not).
        trace_context_of: The submission trace of a committed version.
        clock: Wall-clock seconds (delivery times, ages, backoff).
        sleep: Waits on that clock (tests inject both).
        tracer: Makes forward spans.
        supervisor: Runs the tasks; by default one of the forwarder's own, with its own
            health board (:attr:`supervisor`).
        services: The services a failed task makes NOT_SERVING.
        seed: Seeds the backoff jitter (tests).
        """
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
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._owns_supervisor = supervisor is None
        self.supervisor = supervisor if supervisor is not None else Supervisor(HealthBoard())
        """Runs the router, the senders and the audit writer."""
        self._services = tuple(services)
        self._work = {peer: asyncio.Event() for peer in self._peers}
        self._retry = {peer: asyncio.Event() for peer in self._peers}
        self._state = {peer: _PeerState() for peer in self._peers}
        self._audit_due = asyncio.Event()
        self._names: list[str] = []
        self.routed_through = 0
        """The highest sequence routed so far (for status and tests)."""

    async def start(self) -> None:
        self.routed_through = await self._outbox.routed_through()
        spawn = self.supervisor.spawn
        self._names = ["federation:router"]
        spawn("federation:router", self._route, self._services)
        for peer in self._peers:
            name = f"delivery:{peer}"
            self._names.append(name)
            spawn(name, self._sender(peer), self._services)
        if self._audit is not None:
            self._names.append("federation:audit")
            spawn("federation:audit", self._write_audit, self._services)

    async def stop(self) -> None:
        """Stop the tasks, then write the audit entries still pending (briefly: those the audit
        log cannot take now stay in the outbox for the next start). Never raises for them."""
        await self.supervisor.cancel(self._names)
        if self._owns_supervisor:
            await self.supervisor.stop()
        self._names = []
        if self._audit is None:
            return
        try:
            async with asyncio.timeout(_STOP_FLUSH_SECONDS):
                await self._flush_audit()
        except Exception as error:
            pending = await self._outbox.audit_pending()
            logger.error(
                "forwarding stopped with %d audit entries of deliveries not written (%s): "
                "they are kept in the outbox and written at the next start",
                pending,
                type(error).__name__,
            )

    def wake(self, peer: str | None = None) -> None:
        """Make a sender (or all) look for due deliveries now, also while it backs off from an
        unreachable peer, e.g. after a replay or when the peer is known to be back."""
        for name in self._peers:
            if peer is None or name == peer:
                self._state[name].retry_at = 0.0
                self._work[name].set()
                self._retry[name].set()

    # -- routing ---------------------------------------------------------------------------

    async def _route(self, handle: Supervised) -> None:
        # Restarted after a failure: from the durable cursor (routing again is idempotent).
        self.routed_through = await self._outbox.routed_through()
        pending: list[StoredRecord] = []
        # Everything this centre holds is routed; each peer's own view is applied at sending.
        holder = self._gate.feed_filter(self._centre_id)
        async for item in self._feed.stream(self.routed_through, visible=holder):
            if isinstance(item, CaughtUpMarker):
                if pending:
                    await self._record(pending, handle)
                    pending = []
                continue
            pending.append(item)
            if len(pending) >= _ROUTE_BATCH:
                await self._record(pending, handle)
                pending = []
            elif self._feed.last_sequence <= item.sequence:
                # Nothing more is committed yet: route what we have instead of waiting.
                await self._record(pending, handle)
                pending = []

    async def _record(self, stored: list[StoredRecord], handle: Supervised) -> None:
        deliveries: list[Delivery] = []
        need_to_know = self._gate.need_to_know
        # Corrections and withdrawals follow every earlier version, whatever the rules say now
        # (a route removed, a tombstone's kind no rule names): the outbox is the ledger.
        received = await self._outbox.recipients(
            sorted({v.record_id for v in stored if v.version > 1})
        )
        for version in stored:
            trace = self._trace_context_of(version)
            decisions = route(version, self._rules, need_to_know=need_to_know)
            decided = {decision.peer for decision in decisions}
            excluded = {version.originating_centre, self._centre_id}
            if (
                version.kind in THREAD_ADDRESSED_KINDS
                and version.originating_centre == self._centre_id
            ):
                # A thread's records go where it says (not relayed: the origin sends them).
                for peer in thread_addressees(version.to_message()):
                    if peer in self._peers and peer not in decided | excluded:
                        decided.add(peer)
                        refusal = need_to_know.refusal(version, peer)
                        decisions.append(
                            RouteDecision(peer, True, "addressed by its thread")
                            if refusal is None
                            else RouteDecision(peer, False, f"handling: {refusal}")
                        )
            decisions += [
                RouteDecision(peer, True, "follows an earlier version this peer received")
                for peer in sorted(received.get(version.record_id, set()) - decided - excluded)
            ]
            for decision in decisions:
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
        await self._outbox.record_routing(
            deliveries, through, self._clock(), audited=self._audit is not None
        )
        self.routed_through = through
        handle.progress()
        if any(not d.decision.allowed for d in deliveries):
            self._audit_due.set()
        for peer in {d.decision.peer for d in deliveries if d.decision.allowed}:
            if peer in self._work:
                self._work[peer].set()

    # -- sending ---------------------------------------------------------------------------

    def _sender(self, peer: str) -> Callable[[Supervised], Awaitable[None]]:
        async def run(handle: Supervised) -> None:
            await self._send(peer, handle)

        return run

    async def _send(self, peer: str, handle: Supervised) -> None:
        link = self._peers[peer]
        state = self._state[peer]
        while True:
            self._work[peer].clear()
            now = self._clock()
            if state.retry_at > now:
                await self._back_off(peer, link, state.retry_at - now)
                continue
            due = await self._outbox.due(peer, now, _SEND_BATCH)
            if not due:
                next_at = await self._outbox.next_due_at(peer)
                await self._wait(
                    self._work[peer], None if next_at is None else max(0.0, next_at - now)
                )
                continue
            await self._send_batch(peer, link, due)
            handle.progress()

    async def _back_off(self, peer: str, link: PeerLink, seconds: float) -> None:
        """Wait for the peer's next attempt: its backoff, an explicit wake, or its channel
        connecting again (the peer answers: try at once)."""
        retry = self._retry[peer]
        retry.clear()
        # Only when the connection itself failed: a peer that connects but fails later (no
        # identity proof, no answer) has a channel that is ready all along.
        probe = isinstance(link, ReadyProbe) and self._state[peer].cause in _CONNECT_CAUSES
        ready = link.wait_ready() if probe and isinstance(link, ReadyProbe) else None
        woke = await self._wait(retry, seconds, ready)
        if woke:
            self._state[peer].retry_at = 0.0

    async def _wait(
        self,
        event: asyncio.Event,
        seconds: float | None,
        ready: Awaitable[None] | None = None,
    ) -> bool:
        """Until ``event`` is set, ``seconds`` pass (on the injected clock) or ``ready``
        completes; whether it ended before the time was up."""
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(event.wait())]
        if ready is not None:
            waiters.append(asyncio.ensure_future(ready))
        timers: list[asyncio.Future[Any]] = (
            [asyncio.ensure_future(self._sleep(seconds))] if seconds is not None else []
        )
        every = [*waiters, *timers]
        try:
            done, _ = await asyncio.wait(every, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in every:
                task.cancel()
            # Not suppressing CancelledError here: a cancellation of this task must go on.
            await asyncio.wait(every)
            for task in every:
                if not task.cancelled():
                    task.exception()  # retrieved: a failed probe is only a missed shortcut
        return any(task in done for task in waiters)

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
            _end(spans, ["unavailable"] * len(spans))
            await self._unreachable(peer, sendable, error)
            return
        self._answered(peer)
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
            await self._outbox.delivered(peer, acked, now, audited=self._audit is not None)
            self._audit_due.set()
        if refused:
            await self._dead(peer, refused, permanent=True)

    async def _unreachable(
        self, peer: str, attempted: list[PendingDelivery], error: PeerUnavailableError
    ) -> None:
        """The peer could not be reached: back off (per peer), keep the cause on every waiting
        delivery, dead-letter only what is older than ``max_age``."""
        state = self._state[peer]
        now = self._clock()
        if not state.failures:
            state.down_since = now
        state.failures += 1
        state.retry_at = now + self._outbox.backoff.peer_delay(state.failures, self._rng)
        dead = await self._outbox.unavailable(
            peer, attempted, str(error), now, state.retry_at, audited=self._audit is not None
        )
        if dead:
            self._audit_due.set()
        # Rate-limited: the first failure, a change of cause, then the 2nd, 4th, 8th... in a
        # row. The message names the cause and the address, never data.
        if error.cause != state.cause or state.failures & (state.failures - 1) == 0:
            state.cause = error.cause
            state.logged += 1
            logger.warning(
                "peer %s %s (%d failed attempt(s) over %.0f s; deliveries wait, next attempt in "
                "%.0f s%s): %s",
                peer,
                error.cause,
                state.failures,
                now - state.down_since,
                state.retry_at - now,
                f"; {len(dead)} dead-lettered by age" if dead else "",
                error,
            )

    def _answered(self, peer: str) -> None:
        state = self._state[peer]
        if state.failures:
            logger.warning(
                "peer %s answers again after %d failed attempt(s) over %.0f s",
                peer,
                state.failures,
                self._clock() - state.down_since,
            )
        state.failures = 0
        state.retry_at = 0.0
        state.cause = ""

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
        dead = await self._outbox.failed(
            peer, failures, self._clock(), permanent=permanent, audited=self._audit is not None
        )
        if dead:
            self._audit_due.set()

    # -- the audit entries of deliveries ---------------------------------------------------

    async def _write_audit(self, handle: Supervised) -> None:
        """Write the noted entries, then whenever more are noted. An AuditLogError ends the
        task: the supervisor reports it and restarts it with backoff (deliveries go on)."""
        while True:
            self._audit_due.clear()
            await self._flush_audit()
            handle.progress()
            await self._audit_due.wait()

    async def _flush_audit(self) -> None:
        """Write every noted entry to the audit log, in order, and forget those written.

        Raises:
            AuditLogError: the audit log cannot take them now (they stay noted).
        """
        audit = self._audit
        if audit is None:
            return
        actor = centre_uri(self._centre_id)
        while notes := await self._outbox.audit_notes(_AUDIT_BATCH):
            now = self._clock()
            appends = []
            for note in notes:
                detail = dict(note.detail)
                if now - note.noted_at >= 1.0:
                    # Written late (the log could not be written then): say when it happened.
                    detail["noted_at"] = (
                        dt.datetime.fromtimestamp(note.noted_at, dt.UTC)
                        .isoformat(timespec="milliseconds")
                        .replace("+00:00", "Z")
                    )
                appends.append(
                    audit.append(
                        actor=actor,
                        action=note.action,
                        outcome=note.outcome,
                        record_ids=note.record_ids,
                        detail=detail,
                    )
                )
            # Queued in order; the log group-commits them.
            results = await asyncio.gather(*appends, return_exceptions=True)
            written = [
                note.id
                for note, result in zip(notes, results, strict=True)
                if not isinstance(result, BaseException)
            ]
            if written:
                await self._outbox.audit_written(written)
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                raise failure


def _end(spans: list[Span | None], outcomes: list[str]) -> None:
    for span, outcome in zip(spans, outcomes, strict=False):
        if span is not None:
            span.set_attribute(attr.DELIVERY_OUTCOME, outcome)
            span.end()
