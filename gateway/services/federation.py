"""``liaison.v1.Federation`` (receiving peers' records) and ``FederationAdmin`` (operators).

Deliver stores each forwarded record under the version its originating centre gave it
(a replica write), so a resend is recognised by record id and version and acknowledged as a
duplicate: the sender may retry freely. A record is refused, per record, when it is invalid,
when its originating centre's signature of that version does not verify (whoever relays it, only
the originating centre speaks for its records), when this centre holds other content under that
version or the record under another origin, or when its handling does not release it to this
centre — a sender must never have sent it, and this centre will not keep it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from grpc import aio
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer

from gateway.audit.log import AuditLog, AuditLogError
from gateway.audit.verification import AuditStatus, AuditVerifier
from gateway.errors import (
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    PermissionDeniedError,
    UnauditedError,
    UnavailableError,
)
from gateway.federation.checkpoints import CheckpointDesk, required_desk
from gateway.federation.outbox import Outbox
from gateway.federation.traces import context_from
from gateway.security.authorization import current_caller
from gateway.security.gate import RecordGate
from gateway.services.filters import check_filter_sizes
from gateway.services.statuses import abort, ack_of, record_error, statuses
from gateway.services.streaming import conflict_error
from gateway.signing import (
    IDENTIFY_NONCE_BYTES,
    KeyRing,
    RecordSigner,
    SignatureError,
    identify_statement,
)
from gateway.store.base import RecordStore, StoredVersion, StoreError, WriteItem, WriteOutcome
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import FEDERATION_RECEIVE_SPAN
from liaison.rules.errors import LiaisonError
from liaison.rules.ids import RECORD_ID_PATTERN
from liaison.rules.intake import prepare_replica
from liaison.v1 import federation_pb2, federation_pb2_grpc

__all__ = ["FEDERATION_SERVICE", "FederationAdminService", "FederationService"]

FEDERATION_SERVICE = federation_pb2.DESCRIPTOR.services_by_name["Federation"]
ADMIN_SERVICE = federation_pb2.DESCRIPTOR.services_by_name["FederationAdmin"]

_MAX_LIST = 10_000

Context = aio.ServicerContext[object, object]


class FederationService(federation_pb2_grpc.FederationServicer):
    """Receives records forwarded by peer centres."""

    def __init__(
        self,
        store: RecordStore,
        centre_id: str,
        audit: AuditLog | None,
        key_ring: KeyRing,
        tracer: Tracer | None = None,
    ) -> None:
        self._tracer = tracer
        self._store = store
        self._centre_id = centre_id
        self._audit = audit
        self._key_ring = key_ring

    async def Deliver(
        self, request: federation_pb2.DeliverRequest, context: Context
    ) -> federation_pb2.DeliverResponse:
        caller = current_caller()
        sender = caller.identity if caller is not None else "local"
        results: list[federation_pb2.DeliveryResult | None] = [None] * len(request.records)
        items: list[tuple[int, WriteItem]] = []
        for index, forwarded in enumerate(request.records):
            try:
                items.append((index, self._prepare(forwarded)))
            except LiaisonError as error:
                results[index] = federation_pb2.DeliveryResult(error=record_error(error))
        try:
            if caller is not None and caller.kind == "centre":
                items = await self._without_relayed_dates(caller.centre, items)
            outcomes = await self._store.write([item for _, item in items]) if items else []
        except StoreError:
            await abort(context, UnavailableError("the store could not commit; retry"))
        self._trace_receipts(request, items, outcomes, sender)
        for (index, _), outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, StoredVersion):
                results[index] = federation_pb2.DeliveryResult(ack=ack_of(outcome))
            else:
                refusal = record_error(conflict_error(outcome))
                results[index] = federation_pb2.DeliveryResult(error=refusal)
        response = federation_pb2.DeliverResponse(results=[r for r in results if r is not None])
        try:
            await self._audit_receipt(sender, request, response)
        except AuditLogError:
            # Stored but not audited: the sender resends (UNAVAILABLE), the resend is
            # acknowledged as duplicates of what is stored here, and audited then.
            await abort(
                context,
                UnauditedError(
                    "the records are stored, but the audit log could not record their "
                    "receipt; resend them: they are acknowledged as duplicates and audited"
                ),
            )
        return response

    async def _without_relayed_dates(
        self, sender: str, items: list[tuple[int, WriteItem]]
    ) -> list[tuple[int, WriteItem]]:
        """``items`` with the retention dates a relay gave for records held here left out.

        Dates are outside the origin's signature (decision 0016): only the originating centre
        may move them. A peer relaying another centre's record could otherwise extend (or cut
        short) its retention here by delivering a signed version again with other dates. A
        record that is new here takes the dates it came with: they are all there is to go by
        until the origin's tombstone (decision 0028).
        """
        relayed = [
            position
            for position, (_, item) in enumerate(items)
            if item.keys.originating_centre != sender and (item.review_due_us or item.expires_at_us)
        ]
        if not relayed:
            return items
        held = await self._store.get_versions([(items[p][1].record_id, 0) for p in relayed])
        kept = list(items)
        for position, stored in zip(relayed, held, strict=True):
            if stored is not None:
                index, item = kept[position]
                kept[position] = (index, replace(item, review_due_us=0, expires_at_us=0))
        return kept

    def _trace_receipts(
        self,
        request: federation_pb2.DeliverRequest,
        items: list[tuple[int, WriteItem]],
        outcomes: list[WriteOutcome],
        sender: str,
    ) -> None:
        """A receive span per stored record, under the sender's forward span when it was
        sampled (the trace runs on from the submission at the originating centre)."""
        if self._tracer is None:
            return
        delivery = trace.get_current_span()
        links = [trace.Link(delivery.get_span_context())] if delivery.is_recording() else []
        for (index, _), outcome in zip(items, outcomes, strict=True):
            parent = context_from(request.records[index].trace_context.get("traceparent", ""))
            if parent is None:
                continue
            span = self._tracer.start_span(
                FEDERATION_RECEIVE_SPAN,
                context=parent,
                kind=SpanKind.CONSUMER,
                links=links,
                attributes={attr.PEER_CENTRE: sender.rpartition(":")[2]},
            )
            if isinstance(outcome, StoredVersion):
                span.set_attribute(
                    attr.DELIVERY_OUTCOME, "duplicate" if outcome.duplicate else "delivered"
                )
            else:
                span.set_attribute(attr.DELIVERY_OUTCOME, "refused")
            span.end()

    def _prepare(self, forwarded: federation_pb2.ForwardedRecord) -> WriteItem:
        record = forwarded.record
        releasable = record.handling.releasable_to
        if releasable and self._centre_id not in releasable:
            raise PermissionDeniedError(
                f"record {record.record_id} is not releasable to {self._centre_id}"
            )
        item = prepare_replica(record)
        try:
            self._key_ring.verify_version(
                record_id=item.record_id,
                originating_centre=item.keys.originating_centre,
                version=item.replica_version,
                content_sha256=item.content_sha256,
                received_at=item.received_at,
                signature=item.signature,
            )
        except SignatureError as error:
            raise PermissionDeniedError(
                f"version {item.replica_version} of record {item.record_id} is refused: {error} "
                f"(only {item.keys.originating_centre} speaks for its records)"
            ) from None
        return item

    async def _audit_receipt(
        self,
        sender: str,
        request: federation_pb2.DeliverRequest,
        response: federation_pb2.DeliverResponse,
    ) -> None:
        if self._audit is None:
            return
        stored = [r.ack.record_id for r in response.results if r.HasField("ack")]
        refused = [
            f.record.record_id
            for f, r in zip(request.records, response.results, strict=True)
            if r.HasField("error")
        ]
        if stored:
            await self._audit.append(
                actor=sender, action="receive", outcome="ok", record_ids=stored
            )
        if refused:
            # Ids of refused records are written only when well-formed: they could be anything.
            await self._audit.append(
                actor=sender,
                action="receive",
                outcome="refused",
                record_ids=[i for i in refused if RECORD_ID_PATTERN.fullmatch(i)],
                detail={"refused": len(refused)},
            )

    checkpoints: CheckpointDesk | None = None
    """Keeps peers' audit checkpoints; set by the runtime when this centre has the keys to
    verify them (``None``: KeepCheckpoint is refused with FAILED_PRECONDITION)."""

    signer: RecordSigner | None = None
    """This centre's signing key, which proves who it is (``None``: Identify is refused with
    FAILED_PRECONDITION)."""

    async def Identify(
        self, request: federation_pb2.IdentifyRequest, context: Context
    ) -> federation_pb2.IdentifyResponse:
        async with statuses(context):
            if len(request.nonce) != IDENTIFY_NONCE_BYTES:
                raise InvalidArgumentError(
                    "a fresh nonce is required",
                    [FieldViolation("nonce", f"must be {IDENTIFY_NONCE_BYTES} bytes")],
                )
            if self.signer is None:
                raise FailedPreconditionError("this centre has no signing key to prove it")
            caller = current_caller()
            peer = caller.centre if caller is not None and caller.kind == "centre" else ""
            response = federation_pb2.IdentifyResponse(
                centre=self._centre_id, caller=peer, key_id=self.signer.key_id
            )
            response.time.seconds, response.time.nanos = divmod(time.time_ns(), 1_000_000_000)
            response.signature = self.signer.sign_statement(
                identify_statement(
                    centre=self._centre_id,
                    caller=peer,
                    key_id=self.signer.key_id,
                    nonce=request.nonce,
                    time=(response.time.seconds, response.time.nanos),
                )
            )
        return response

    async def KeepCheckpoint(
        self, request: federation_pb2.KeepCheckpointRequest, context: Context
    ) -> federation_pb2.KeepCheckpointResponse:
        async with statuses(context):
            desk = required_desk(self.checkpoints)
            kept = await desk.keep(request.checkpoint, current_caller())
        return federation_pb2.KeepCheckpointResponse(kept=kept)


class FederationAdminService(federation_pb2_grpc.FederationAdminServicer):
    """Delivery status and dead-letter replay, for operators (metadata only)."""

    def __init__(
        self,
        outbox: Outbox | None,
        wake: Callable[[str | None], None],
        gate: RecordGate,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._gate = gate
        self._wake = wake
        self._clock = clock

    async def ListDeliveries(
        self, request: federation_pb2.ListDeliveriesRequest, context: Context
    ) -> federation_pb2.ListDeliveriesResponse:
        async with statuses(context):
            # One SQL variable per state: repeated ones are dropped, and a flood is refused.
            check_filter_sizes(states=request.states)
            limit = min(request.limit or 1000, _MAX_LIST)
            if self._outbox is None:
                # This centre forwards nothing (no peers): there is no delivery to list.
                return federation_pb2.ListDeliveriesResponse()
            found = await self._outbox.statuses(
                peer=request.peer,
                record_id=request.record_id,
                states=sorted(set(request.states)),
                limit=limit,
            )
            return federation_pb2.ListDeliveriesResponse(deliveries=await self._visible(found))
        raise AssertionError("unreachable: statuses aborts the call")

    async def ReplayDeadLetters(
        self, request: federation_pb2.ReplayDeadLettersRequest, context: Context
    ) -> federation_pb2.ReplayDeadLettersResponse:
        async with statuses(context):
            check_filter_sizes(_MAX_LIST, record_ids=request.record_ids)
            if self._outbox is None:
                return federation_pb2.ReplayDeadLettersResponse()
            requeued = await self._outbox.replay(
                request.peer, list(request.record_ids), self._clock()
            )
            self._wake(request.peer or None)
            return federation_pb2.ReplayDeadLettersResponse(requeued=await self._visible(requeued))
        raise AssertionError("unreachable: statuses aborts the call")

    async def _visible(
        self, statuses: Sequence[federation_pb2.DeliveryStatus]
    ) -> list[federation_pb2.DeliveryStatus]:
        """The delivery states of the versions the caller may see: a delivery names a record,
        its version and where it went, so it is need-to-know like the record."""
        # Metadata only: the ledger of a withdrawn record stays readable (issue 15).
        found = await self._gate.get_versions(
            [(s.record_id, s.version) for s in statuses], content=False
        )
        return [status for status, stored in zip(statuses, found, strict=True) if stored]

    checkpoints: CheckpointDesk | None = None
    """The audit checkpoints this centre keeps; set by the runtime (``None``: ListCheckpoints is
    refused with FAILED_PRECONDITION)."""

    async def ListCheckpoints(
        self, request: federation_pb2.ListCheckpointsRequest, context: Context
    ) -> federation_pb2.ListCheckpointsResponse:
        async with statuses(context):
            desk = required_desk(self.checkpoints)
            found = await desk.newest(request.centre, request.limit)
        return federation_pb2.ListCheckpointsResponse(checkpoints=found)

    verifier: AuditVerifier | None = None
    """Verifies this centre's audit log; set by the gateway when it keeps one (``None``:
    VerifyAuditLog is refused with FAILED_PRECONDITION)."""

    async def VerifyAuditLog(
        self, request: federation_pb2.VerifyAuditLogRequest, context: Context
    ) -> federation_pb2.VerifyAuditLogResponse:
        async with statuses(context):
            if self.verifier is None:
                raise FailedPreconditionError(
                    "this gateway keeps no audit log: configure [tls] or an [audit] table"
                )
            status = await self.verifier.verify()
        return _audit_answer(status)


_MAX_REASON = 500
"""Characters of a break's reason sent (a malformed entry's message quotes its keys)."""


def _audit_answer(status: AuditStatus) -> federation_pb2.VerifyAuditLogResponse:
    report = status.report
    answer = federation_pb2.VerifyAuditLogResponse(
        intact=report.ok,
        entries=report.checked,
        head_sequence=report.head.sequence,
        head_hash=report.head.hash,
        keyed=status.keyed,
        anchored=report.anchored,
    )
    if report.first_break is not None:
        answer.first_break.position = report.first_break.position
        answer.first_break.sequence = report.first_break.sequence or 0
        answer.first_break.reason = report.first_break.reason[:_MAX_REASON]
    if status.latest_checkpoint is not None:
        answer.latest_checkpoint.CopyFrom(status.latest_checkpoint)
    answer.verified_at.FromNanoseconds(int(status.verified_at * 1e9))
    return answer
