"""The ``liaison.v1.RecordExchange`` service: submit, read, search and follow records."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from typing import Literal

from google.protobuf.message import DecodeError
from grpc import aio
from opentelemetry import trace
from opentelemetry.trace import Span

from gateway.config import LimitsConfig
from gateway.errors import (
    FailedPreconditionError,
    FieldViolation,
    ForeignRecordError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)
from gateway.federation.traces import SubmissionTraces
from gateway.security.gate import RecordGate
from gateway.services.filters import check_filter_sizes
from gateway.services.lifecycle import LifecycleCalls
from gateway.services.search_requests import decode_cursor, encode_cursor, query_from_request
from gateway.services.statuses import ack_of, statuses, store_failed
from gateway.services.streaming import StreamOutcome, StreamSubmission, conflict_error
from gateway.store.base import (
    PreparationRefused,
    RecordStore,
    StoredVersion,
    StoreError,
    WriteItem,
    WriteOutcome,
)
from gateway.store.feed import CaughtUpMarker, CommitFeed, record_metadata
from gateway.store.preparation import PreparedEntry, Refused
from gateway.store.preparation_pool import MessagePreparer
from gateway.telemetry import ChildSpan, Telemetry
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import STORE_READ_SPAN, STORE_WRITE_SPAN, VALIDATE_SPAN
from liaison.rules.ids import CENTRE_ID_PATTERN, RECORD_ID_PATTERN
from liaison.rules.indexing import KIND_BY_BODY, body_of_kind
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2, exchange_pb2_grpc

__all__ = ["SERVICE_NAME", "RecordExchangeService", "require_publisher"]

SERVICE_NAME: str = exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"].full_name

_KINDS = frozenset(KIND_BY_BODY.values())
MAX_EVENTS_PER_RESPONSE = 500
"""The most versions one Subscribe response carries, whatever the request asks (a bound on
the size of one message: 500 records of a few KB stay well under the 4 MiB default)."""

_ONE_RECORD = {attr.RECORDS_COUNT: 1}
_REPLY_KEYS = (b"\xa2\x01", b"\xa2\x81")
"""The starts of every encoding of the key of ``Record.reply`` (field 20, wire type 2, the
varint 162): ``0xA2 0x01``, or - non-minimal, yet read as field 20 by every parser - ``0xA2
0x81`` followed by ``0x80``s and a ``0x00``. Matching only the minimal form let a reply to an
unknown thread through Submit."""

Context = aio.ServicerContext[object, object]


class RecordExchangeService(exchange_pb2_grpc.RecordExchangeServicer):
    """Implements RecordExchange on a :class:`RecordStore` and its :class:`CommitFeed`."""

    def __init__(
        self,
        *,
        store: RecordStore,
        gate: RecordGate,
        feed: CommitFeed,
        centre_id: str,
        limits: LimitsConfig,
        telemetry: Telemetry | None = None,
        preparer: MessagePreparer | None = None,
        traces: SubmissionTraces | None = None,
        preparation: Literal["writer", "inline"] = "writer",
        lifecycle: LifecycleCalls | None = None,
    ) -> None:
        """Serve on ``store`` and ``feed``.

        Args:
            store: The record store, written to (every read goes through ``gate``).
            gate: The visibility gate every read passes.
            feed: Its commit feed, for Subscribe.
            centre_id: This centre's id, stamped into records submitted without one.
            limits: Input limits.
            telemetry: Traces and metrics; none by default.
            preparer: Prepares SubmitStream messages; the caller owns (and closes) it. Without
                one, messages are prepared on the event loop.
            traces: Where the trace context of stored versions is remembered for forwarding.
            preparation: Where a Submit's record is prepared (``[storage] preparation``); with
                ``traces``, always here: the trace is remembered under the content hash before
                the commit.
            lifecycle: Serves Withdraw, ExtendRetention and ListReviews; without it they are
                refused (FAILED_PRECONDITION).
        """
        self._lifecycle = lifecycle
        self._store = store
        self._gate = gate
        self._feed = feed
        self._centre_id = centre_id
        self._limits = limits
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        self._tracer = self._telemetry.tracer
        self._metrics = self._telemetry.metrics
        self._traces = traces
        self._preparer = preparer if preparer is not None else MessagePreparer(centre_id, 0)
        self._prepare_in_writer = preparation == "writer" and traces is None

    async def _write(self, items: list[WriteItem], centres: list[str]) -> list[WriteOutcome]:
        """Write ``items`` (from ``centres``, in the same order) with their span and metrics."""
        if self._traces is not None and trace.get_current_span().is_recording():
            # Forwarded later, these records carry the submission's trace to the peers.
            for item in items:
                self._traces.remember(item.record_id, item.content_sha256)
        with ChildSpan(self._tracer, STORE_WRITE_SPAN, {attr.RECORDS_COUNT: len(items)}) as span:
            try:
                outcomes = await self._store.write(items)
            except StoreError:
                for centre, count in collections.Counter(centres).items():
                    self._metrics.rejected(count, "store", centre)
                raise
            if span is not None or self._telemetry.metering:
                self._count_outcomes(outcomes, centres, span)
        return outcomes

    def _count_outcomes(
        self, outcomes: list[WriteOutcome], centres: list[str], span: Span | None
    ) -> None:
        # Plain dicts: collections.Counter's per-key Python hooks cost more than the counting
        # (this runs on every Submit).
        stored: dict[str, int] = {}
        conflicts: dict[str, int] = {}
        duplicates = 0
        for centre, outcome in zip(centres, outcomes, strict=True):
            if not isinstance(outcome, StoredVersion):
                conflicts[centre] = conflicts.get(centre, 0) + 1
            elif outcome.duplicate:
                duplicates += 1
            else:
                stored[centre] = stored.get(centre, 0) + 1
        for centre, count in stored.items():
            self._metrics.ingested(count, centre)
        for centre, count in conflicts.items():
            self._metrics.rejected(count, "conflict", centre)
        if span is not None:
            span.set_attributes(
                {
                    attr.RECORDS_STORED: sum(stored.values()),
                    attr.RECORDS_DUPLICATE: duplicates,
                    attr.RECORDS_REJECTED: sum(conflicts.values()),
                }
            )

    def _trace_preparation(self, future: asyncio.Future[list[PreparedEntry]]) -> None:
        """A validation span per stream message, from its submission until it is prepared
        (possibly in a worker process), under the RPC span; refused records are counted."""
        recording = trace.get_current_span().is_recording()
        if not recording and not self._telemetry.metering:
            return
        span = self._tracer.start_span(VALIDATE_SPAN) if recording else None

        def prepared(done: asyncio.Future[list[PreparedEntry]]) -> None:
            if not done.cancelled() and done.exception() is None:
                entries = done.result()
                # Refused records are serialized RecordErrors; their centre is not parsed out.
                refused = sum(1 for entry in entries if isinstance(entry, Refused))
                if refused:
                    self._metrics.rejected(refused, "invalid", self._centre_id)
                if span is not None:
                    span.set_attributes(
                        {attr.RECORDS_COUNT: len(entries), attr.RECORDS_REJECTED: refused}
                    )
            if span is not None:
                span.end()

        future.add_done_callback(prepared)

    async def _write_stream_batch(self, items: list[WriteItem]) -> list[StreamOutcome]:
        """One SubmitStream batch, written with its store span and metrics; a reply to a thread
        unknown here is refused (FAILED_PRECONDITION) and the others are written."""
        refused = {} if self._lifecycle is None else self._lifecycle.unknown_threads(items)
        if refused:
            self._metrics.rejected(len(refused), "unknown-thread", self._centre_id)
            kept = [item for index, item in enumerate(items) if index not in refused]
            written = iter(
                await self._write(kept, [item.keys.originating_centre for item in kept])
                if kept
                else []
            )
            return [refused[i] if i in refused else next(written) for i in range(len(items))]
        return list(await self._write(items, [item.keys.originating_centre for item in items]))

    async def Submit(
        self, request: exchange_pb2.SubmitRequest, context: Context
    ) -> exchange_pb2.SubmitResponse:
        """Submit for callers that hold a parsed request; the gateway's own server registers
        :meth:`submit_bytes` instead, so that the request is parsed once, where it is prepared."""
        async with statuses(context):
            require_publisher(self._gate)
            if self._lifecycle is not None:
                self._lifecycle.check_reply(request.record)
            if self._prepare_in_writer:
                return await self._submit_prepared_by_store(request.SerializeToString())
            return await self._submit_prepared_here(request)
        raise AssertionError("unreachable: statuses aborts the call")

    async def submit_bytes(self, data: bytes, context: Context) -> exchange_pb2.SubmitResponse:
        """Submit on the serialized request, as received."""
        async with statuses(context):
            require_publisher(self._gate)
            self._check_reply_bytes(data)
            if self._prepare_in_writer:
                return await self._submit_prepared_by_store(data)
            try:
                request = exchange_pb2.SubmitRequest.FromString(data)
            except DecodeError:
                raise InvalidArgumentError(
                    "the request is not a valid liaison.v1.SubmitRequest message"
                ) from None
            return await self._submit_prepared_here(request)
        raise AssertionError("unreachable: statuses aborts the call")

    async def _submit_prepared_here(
        self, request: exchange_pb2.SubmitRequest
    ) -> exchange_pb2.SubmitResponse:
        """Submit with the record prepared on the event loop (``[storage] preparation =
        "inline"``, or a gateway that forwards with trace propagation)."""
        if not request.HasField("record"):
            raise InvalidArgumentError(
                "a record is required", [FieldViolation("record", "is required")]
            )
        refusal: InvalidArgumentError | None = None
        foreign: ForeignRecordError | None = None
        with ChildSpan(self._tracer, VALIDATE_SPAN, _ONE_RECORD) as span:
            try:
                item = prepare_record(request.record, self._centre_id)
            except InvalidArgumentError as error:
                refusal = error
                if span is not None:
                    span.set_attributes(
                        {attr.RECORDS_REJECTED: 1, attr.VIOLATIONS_COUNT: len(error.violations)}
                    )
            except ForeignRecordError as error:
                foreign = error
                if span is not None:
                    span.set_attributes({attr.RECORDS_REJECTED: 1, attr.VIOLATIONS_COUNT: 1})
        if foreign is not None:
            self._metrics.rejected(1, "invalid", self._centre_id)
            raise ForeignRecordError(foreign.message, foreign.field, foreign.originating_centre)
        if refusal is not None:
            self._metrics.rejected(1, "invalid", self._centre_id)
            raise InvalidArgumentError(refusal.message, refusal.violations)
        [outcome] = await self._write([item], [self._centre_id])
        return exchange_pb2.SubmitResponse(ack=ack_of(_stored_or_raise(outcome)))

    async def _submit_prepared_by_store(self, request: bytes) -> exchange_pb2.SubmitResponse:
        """Submit with the record prepared where it is written (``[storage] preparation =
        "writer"``): the same checks, refusals, spans and metrics as preparing it here, the
        validation span timed by the writer."""
        recording = trace.get_current_span().is_recording()
        try:
            result = await self._store.prepare_and_write(request, self._centre_id)
        except StoreError:
            self._metrics.rejected(1, "store", self._centre_id)
            raise
        prepared_at, validated_at = result.prepared_ns
        if isinstance(result, PreparationRefused):
            if recording:
                span = self._tracer.start_span(
                    VALIDATE_SPAN,
                    attributes={
                        **_ONE_RECORD,
                        attr.RECORDS_REJECTED: 1,
                        attr.VIOLATIONS_COUNT: len(result.violations),
                    },
                    start_time=prepared_at,
                )
                span.end(end_time=validated_at)
            self._metrics.rejected(1, "invalid", self._centre_id)
            if result.foreign_centre is not None:
                [(field, _)] = result.violations
                raise ForeignRecordError(result.message, field, result.foreign_centre)
            raise InvalidArgumentError(
                result.message,
                # Paths from the record, as the contract says; the writer names a missing record
                # with an empty path, the request's field is ``record``.
                [FieldViolation(field or "record", why) for field, why in result.violations],
            )
        if recording:
            self._tracer.start_span(
                VALIDATE_SPAN, attributes=_ONE_RECORD, start_time=prepared_at
            ).end(end_time=validated_at)
        outcomes = [result.outcome]
        write_span: Span | None = (
            self._tracer.start_span(
                STORE_WRITE_SPAN, attributes=_ONE_RECORD, start_time=validated_at
            )
            if recording
            else None
        )
        if write_span is not None or self._telemetry.metering:
            self._count_outcomes(outcomes, [self._centre_id], write_span)
        if write_span is not None:
            write_span.end()
        return exchange_pb2.SubmitResponse(ack=ack_of(_stored_or_raise(result.outcome)))

    async def SubmitStream(
        self,
        request_iterator: AsyncIterator[exchange_pb2.SubmitStreamRequest],
        context: Context,
    ) -> exchange_pb2.SubmitStreamResponse:
        """SubmitStream for callers that hold parsed messages; the gateway's own server registers
        :meth:`submit_stream_bytes` instead, which avoids parsing on the event loop."""

        async def serialized() -> AsyncIterator[bytes]:
            async for message in request_iterator:
                yield message.SerializeToString()

        return await self.submit_stream_bytes(serialized(), context)

    async def submit_stream_bytes(
        self, request_iterator: AsyncIterator[bytes], context: Context
    ) -> exchange_pb2.SubmitStreamResponse:
        """SubmitStream on the serialized request messages, as received."""
        submission = StreamSubmission(
            store=self._store,
            write=self._write_stream_batch,
            on_prepare=self._trace_preparation,
            preparer=self._preparer,
            max_records=self._limits.max_records_per_stream,
            store_failed=store_failed(),
        )
        async with statuses(context):
            require_publisher(self._gate)
            try:
                messages = aiter(request_iterator)
                while (data := await submission.next_message(messages)) is not None:
                    await submission.add(data)
                return await submission.finish()
            finally:
                # On a refusal, abort or cancellation the queued writes still commit (the store
                # never drops queued work); only their outcomes go unobserved.
                submission.close()
        raise AssertionError("unreachable: statuses aborts the call")

    async def Get(
        self, request: exchange_pb2.GetRequest, context: Context
    ) -> exchange_pb2.GetResponse:
        async with statuses(context):
            if not RECORD_ID_PATTERN.fullmatch(request.record_id):
                raise InvalidArgumentError(
                    "invalid record id", [FieldViolation("record_id", "must be a valid record id")]
                )
            with ChildSpan(self._tracer, STORE_READ_SPAN) as span:
                # A record the caller may not see is absent to it: same status, same message.
                stored = await self._gate.get(request.record_id, request.version)
                if span is not None:
                    span.set_attribute(attr.RECORDS_COUNT, int(stored is not None))
            if stored is None:
                what = f"version {request.version} of " if request.version else ""
                raise NotFoundError(f"{what}record {request.record_id} not found")
            threads = None if self._lifecycle is None else self._lifecycle.threads
            if (
                threads is not None
                and self._gate.reader() == self._centre_id
                and threads.mark_read(stored)
            ):
                # The read time is stored (the receipt) before the request is served.
                await threads.flush()
            return exchange_pb2.GetResponse(
                record=stored.to_message(), metadata=record_metadata(stored)
            )
        raise AssertionError("unreachable: statuses aborts the call")

    async def Search(
        self, request: exchange_pb2.SearchRequest, context: Context
    ) -> AsyncIterator[exchange_pb2.SearchResponse]:
        async with statuses(context):
            query = query_from_request(request)
            position = decode_cursor(query, request.cursor)
            page_size = min(
                request.page_size or self._limits.default_page_size, self._limits.max_page_size
            )
            with ChildSpan(self._tracer, STORE_READ_SPAN) as span:
                page = await self._gate.search(query, position, page_size)
                if span is not None:
                    span.set_attribute(attr.RECORDS_COUNT, len(page.records))
            for stored in page.records:
                position = stored.sequence
                yield exchange_pb2.SearchResponse(
                    hit=exchange_pb2.SearchHit(
                        record=stored.to_message(),
                        metadata=record_metadata(stored),
                        cursor=encode_cursor(query, position),
                    )
                )
            yield exchange_pb2.SearchResponse(
                page_end=exchange_pb2.SearchPageEnd(
                    next_cursor=encode_cursor(query, position), has_more=page.has_more
                )
            )

    async def Subscribe(
        self, request: exchange_pb2.SubscribeRequest, context: Context
    ) -> AsyncIterator[exchange_pb2.SubscribeResponse]:
        async with statuses(context):
            check_filter_sizes(kinds=request.kinds, originating_centres=request.originating_centres)
            violations = [
                FieldViolation(f"kinds[{i}]", f"unknown record kind {kind}")
                for i, kind in enumerate(request.kinds)
                if kind not in _KINDS
            ] + [
                FieldViolation(f"originating_centres[{i}]", "must be a centre id like WCO-I2C")
                for i, centre in enumerate(request.originating_centres)
                if not CENTRE_ID_PATTERN.fullmatch(centre)
            ]
            if violations:
                raise InvalidArgumentError("invalid subscription", violations)
            reader = self._gate.feed_reader()
            if request.HasField("after_sequence"):
                after = request.after_sequence
            else:
                # "From now on", counted in what this caller may see.
                after = await self._gate.last_visible_sequence()
            per_response = min(max(request.max_events_per_response, 1), MAX_EVENTS_PER_RESPONSE)
            # Each response is serialized once for every subscription of the same reader and
            # filters (and then sent as it is: see registration._serializer).
            events = self._feed.events(
                after,
                frozenset(body_of_kind(kind) for kind in request.kinds),
                frozenset(request.originating_centres),
                reader=reader,
                batch_size=per_response,
            )
            try:
                async for item in events:
                    if isinstance(item, CaughtUpMarker):
                        yield exchange_pb2.SubscribeResponse(
                            caught_up=exchange_pb2.CaughtUp(sequence=item.sequence)
                        )
                    else:
                        yield item  # type: ignore[misc]
            finally:
                # A cancelled call ends its subscription at once (not at garbage collection).
                await events.aclose()
            if self._feed.closed:
                # Not OK: a client tells a shutdown from a normal end by the status, and resumes.
                raise UnavailableError(
                    "the gateway is shutting down; subscribe again after the last sequence received"
                )

    async def Withdraw(
        self, request: exchange_pb2.WithdrawRequest, context: Context
    ) -> exchange_pb2.WithdrawResponse:
        async with statuses(context):
            return await self._lifecycle_calls().withdraw(request)
        raise AssertionError("unreachable: statuses aborts the call")

    async def ExtendRetention(
        self, request: exchange_pb2.ExtendRetentionRequest, context: Context
    ) -> exchange_pb2.ExtendRetentionResponse:
        async with statuses(context):
            return await self._lifecycle_calls().extend(request)
        raise AssertionError("unreachable: statuses aborts the call")

    async def ListReviews(
        self, request: exchange_pb2.ListReviewsRequest, context: Context
    ) -> exchange_pb2.ListReviewsResponse:
        async with statuses(context):
            return await self._lifecycle_calls().reviews(request)
        raise AssertionError("unreachable: statuses aborts the call")

    async def ListThreads(
        self, request: exchange_pb2.ListThreadsRequest, context: Context
    ) -> exchange_pb2.ListThreadsResponse:
        async with statuses(context):
            return await self._lifecycle_calls().list_threads(request)
        raise AssertionError("unreachable: statuses aborts the call")

    def _check_reply_bytes(self, data: bytes) -> None:
        """Refuse a reply to an unknown thread before it is prepared. Only requests whose bytes
        may hold the key of ``Record.reply`` in any encoding (``_REPLY_KEYS``) are parsed
        here; the others go to the writer unparsed, as before."""
        if self._lifecycle is None or self._lifecycle.threads is None:
            return
        if not any(key in data for key in _REPLY_KEYS):
            return
        try:
            request = exchange_pb2.SubmitRequest.FromString(data)
        except DecodeError:
            return  # refused where it is prepared, with the usual message
        self._lifecycle.check_reply(request.record)

    def _lifecycle_calls(self) -> LifecycleCalls:
        if self._lifecycle is None:
            raise FailedPreconditionError("this gateway does not manage record lifecycles")
        return self._lifecycle


def _stored_or_raise(outcome: WriteOutcome) -> StoredVersion:
    if not isinstance(outcome, StoredVersion):
        raise conflict_error(outcome)
    return outcome


def require_publisher(gate: RecordGate) -> None:
    """Refuse a write by a caller acting for another centre than this one.

    A centre publishes its own records only, signed by its own key; a caller reading here for
    another centre publishes at that centre's gateway.

    Raises:
        PermissionDeniedError: the caller acts for another centre.
    """
    reader = gate.reader()
    if reader != gate.local_centre:
        raise PermissionDeniedError(
            f"a caller acting for {reader} may read here but not publish: {gate.local_centre} "
            f"publishes only its own records; publish at {reader}'s gateway"
        )
