"""The request/response layer both clients share: every RPC's path and messages, and for each
unary call how its request is built and its response (or refusal) read.

A client method builds a :class:`Unary` here and hands it to its own ``_unary``, which makes the
call the blocking or the asyncio way; nothing else differs between the two clients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Generic, TypeVar

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from gateway.client._errors import (
    ERROR_CLASSES,
    SCREENING_ERROR_CLASSES,
    TRANSLATION_ERROR_CLASSES,
    ClientError,
)
from liaison.v1 import (
    exchange_pb2,
    federation_pb2,
    record_pb2,
    screening_hit_pb2,
    screening_pb2,
    translation_pb2,
)

__all__ = [
    "CHECK",
    "DECIDE",
    "EXPORT",
    "GET",
    "INGEST",
    "KEEP_CHECKPOINT",
    "LIST_ADAPTERS",
    "LIST_CHECKPOINTS",
    "LIST_DELIVERIES",
    "LIST_HITS",
    "REPLAY_DEAD_LETTERS",
    "SCREEN",
    "SEARCH",
    "SUBMIT",
    "SUBMIT_STREAM",
    "SUBSCRIBE",
    "TRANSLATE",
    "Callables",
    "Method",
    "Moment",
    "Unary",
    "checkpoints",
    "decide",
    "deliveries",
    "export",
    "get",
    "health",
    "hits_request",
    "ingest",
    "keep_checkpoint",
    "list_adapters",
    "list_hits",
    "next_hits_page",
    "next_page",
    "replay_dead_letters",
    "screen",
    "submit",
    "translate",
]

RequestT = TypeVar("RequestT", bound=Message)
ResponseT = TypeVar("ResponseT", bound=Message)
ResultT = TypeVar("ResultT")


@dataclass(frozen=True, slots=True)
class Method(Generic[RequestT, ResponseT]):
    """One RPC: its path, its message classes and the error class of each status code."""

    path: str
    """``/package.Service/Method``."""
    request_type: type[RequestT]
    response_type: type[ResponseT]
    errors: Mapping[grpc.StatusCode, type[ClientError]]


def _method(
    service: ServiceDescriptor,
    name: str,
    request_type: type[RequestT],
    response_type: type[ResponseT],
    errors: Mapping[grpc.StatusCode, type[ClientError]] = ERROR_CLASSES,
) -> Method[RequestT, ResponseT]:
    """The method ``name`` of ``service``, its message classes checked against the descriptor
    (at import: a contract change that moves a message fails loudly, not on a call)."""
    descriptor = service.methods_by_name[name]
    if (
        descriptor.input_type is not request_type.DESCRIPTOR
        or descriptor.output_type is not response_type.DESCRIPTOR
    ):
        raise TypeError(f"{service.full_name}/{name} does not take {request_type.__name__}")
    return Method(f"/{service.full_name}/{name}", request_type, response_type, errors)


_EXCHANGE: Final = exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"]
_TRANSLATION: Final = translation_pb2.DESCRIPTOR.services_by_name["Translation"]
_FEDERATION: Final = federation_pb2.DESCRIPTOR.services_by_name["Federation"]
_FEDERATION_ADMIN: Final = federation_pb2.DESCRIPTOR.services_by_name["FederationAdmin"]
_SCREENING: Final = screening_pb2.DESCRIPTOR.services_by_name["Screening"]
_HEALTH: Final = health_pb2.DESCRIPTOR.services_by_name["Health"]

SUBMIT: Final = _method(
    _EXCHANGE, "Submit", exchange_pb2.SubmitRequest, exchange_pb2.SubmitResponse
)
SUBMIT_STREAM: Final = _method(
    _EXCHANGE,
    "SubmitStream",
    exchange_pb2.SubmitStreamRequest,
    exchange_pb2.SubmitStreamResponse,
)
GET: Final = _method(_EXCHANGE, "Get", exchange_pb2.GetRequest, exchange_pb2.GetResponse)
SEARCH: Final = _method(
    _EXCHANGE, "Search", exchange_pb2.SearchRequest, exchange_pb2.SearchResponse
)
SUBSCRIBE: Final = _method(
    _EXCHANGE, "Subscribe", exchange_pb2.SubscribeRequest, exchange_pb2.SubscribeResponse
)
LIST_ADAPTERS: Final = _method(
    _TRANSLATION,
    "ListAdapters",
    translation_pb2.ListAdaptersRequest,
    translation_pb2.ListAdaptersResponse,
    TRANSLATION_ERROR_CLASSES,
)
TRANSLATE: Final = _method(
    _TRANSLATION,
    "Translate",
    translation_pb2.TranslateRequest,
    translation_pb2.TranslateResponse,
    TRANSLATION_ERROR_CLASSES,
)
INGEST: Final = _method(
    _TRANSLATION,
    "Ingest",
    translation_pb2.IngestRequest,
    translation_pb2.IngestResponse,
    TRANSLATION_ERROR_CLASSES,
)
EXPORT: Final = _method(
    _TRANSLATION,
    "Export",
    translation_pb2.ExportRequest,
    translation_pb2.ExportResponse,
    TRANSLATION_ERROR_CLASSES,
)
LIST_DELIVERIES: Final = _method(
    _FEDERATION_ADMIN,
    "ListDeliveries",
    federation_pb2.ListDeliveriesRequest,
    federation_pb2.ListDeliveriesResponse,
)
REPLAY_DEAD_LETTERS: Final = _method(
    _FEDERATION_ADMIN,
    "ReplayDeadLetters",
    federation_pb2.ReplayDeadLettersRequest,
    federation_pb2.ReplayDeadLettersResponse,
)
LIST_CHECKPOINTS: Final = _method(
    _FEDERATION_ADMIN,
    "ListCheckpoints",
    federation_pb2.ListCheckpointsRequest,
    federation_pb2.ListCheckpointsResponse,
)
KEEP_CHECKPOINT: Final = _method(
    _FEDERATION,
    "KeepCheckpoint",
    federation_pb2.KeepCheckpointRequest,
    federation_pb2.KeepCheckpointResponse,
)
SCREEN: Final = _method(
    _SCREENING,
    "Screen",
    screening_pb2.ScreenRequest,
    screening_pb2.ScreenResponse,
    SCREENING_ERROR_CLASSES,
)
DECIDE: Final = _method(
    _SCREENING,
    "Decide",
    screening_pb2.DecideRequest,
    screening_pb2.DecideResponse,
    SCREENING_ERROR_CLASSES,
)
LIST_HITS: Final = _method(
    _SCREENING,
    "ListHits",
    screening_pb2.ListHitsRequest,
    screening_pb2.ListHitsResponse,
    SCREENING_ERROR_CLASSES,
)
WITHDRAW: Final = _method(
    _EXCHANGE, "Withdraw", exchange_pb2.WithdrawRequest, exchange_pb2.WithdrawResponse
)
EXTEND_RETENTION: Final = _method(
    _EXCHANGE,
    "ExtendRetention",
    exchange_pb2.ExtendRetentionRequest,
    exchange_pb2.ExtendRetentionResponse,
)
LIST_REVIEWS: Final = _method(
    _EXCHANGE, "ListReviews", exchange_pb2.ListReviewsRequest, exchange_pb2.ListReviewsResponse
)
LIST_THREADS: Final = _method(
    _EXCHANGE, "ListThreads", exchange_pb2.ListThreadsRequest, exchange_pb2.ListThreadsResponse
)
CHECK: Final = _method(
    _HEALTH, "Check", health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
)


@dataclass(frozen=True, slots=True)
class Unary(Generic[RequestT, ResponseT, ResultT]):
    """A unary call ready to be made: what to send, and how to read what comes back."""

    method: Method[RequestT, ResponseT]
    request: RequestT
    result: Callable[[ResponseT], ResultT]
    """The caller's value from the response."""
    fallbacks: Mapping[grpc.StatusCode, ResultT] = field(default_factory=dict)
    """Status codes that are an answer, not a failure, and the value each stands for."""


def _itself(response: ResponseT) -> ResponseT:
    return response


def submit(
    record: record_pb2.Record,
) -> Unary[exchange_pb2.SubmitRequest, exchange_pb2.SubmitResponse, exchange_pb2.SubmitAck]:
    """Submit: the acknowledgement of one record."""

    def ack(response: exchange_pb2.SubmitResponse) -> exchange_pb2.SubmitAck:
        return response.ack

    return Unary(SUBMIT, exchange_pb2.SubmitRequest(record=record), ack)


def get(
    record_id: str, version: int
) -> Unary[exchange_pb2.GetRequest, exchange_pb2.GetResponse, exchange_pb2.GetResponse]:
    """Get: a record and its metadata."""
    request = exchange_pb2.GetRequest(record_id=record_id, version=version)
    return Unary(GET, request, _itself)


def withdraw(
    record_id: str, reason: record_pb2.WithdrawalReason.ValueType, note: str
) -> Unary[exchange_pb2.WithdrawRequest, exchange_pb2.WithdrawResponse, exchange_pb2.SubmitAck]:
    """Withdraw: the tombstone's acknowledgement."""

    def ack(response: exchange_pb2.WithdrawResponse) -> exchange_pb2.SubmitAck:
        return response.ack

    request = exchange_pb2.WithdrawRequest(record_id=record_id, reason=reason, note=note)
    return Unary(WITHDRAW, request, ack)


def extend_retention(
    record_id: str, extend_by: timedelta, note: str
) -> Unary[
    exchange_pb2.ExtendRetentionRequest,
    exchange_pb2.ExtendRetentionResponse,
    exchange_pb2.Retention,
]:
    """ExtendRetention: the record's dates after the extension."""

    def retention(response: exchange_pb2.ExtendRetentionResponse) -> exchange_pb2.Retention:
        return response.retention

    request = exchange_pb2.ExtendRetentionRequest(record_id=record_id, note=note)
    request.extend_by.FromTimedelta(extend_by)
    return Unary(EXTEND_RETENTION, request, retention)


def list_reviews(
    within: timedelta | None, page_size: int
) -> Unary[
    exchange_pb2.ListReviewsRequest, exchange_pb2.ListReviewsResponse, list[exchange_pb2.Retention]
]:
    """ListReviews: the records due for review, soonest first."""

    def reviews(response: exchange_pb2.ListReviewsResponse) -> list[exchange_pb2.Retention]:
        return list(response.reviews)

    request = exchange_pb2.ListReviewsRequest(page_size=page_size)
    if within is not None:
        request.within.FromTimedelta(within)
    return Unary(LIST_REVIEWS, request, reviews)


def list_threads(
    open_only: bool,
) -> Unary[
    exchange_pb2.ListThreadsRequest, exchange_pb2.ListThreadsResponse, list[exchange_pb2.Thread]
]:
    """ListThreads: the request/reply threads, most recent first."""

    def threads(response: exchange_pb2.ListThreadsResponse) -> list[exchange_pb2.Thread]:
        return list(response.threads)

    return Unary(LIST_THREADS, exchange_pb2.ListThreadsRequest(open_only=open_only), threads)


_SERVICE_UNKNOWN: Final = "SERVICE_UNKNOWN"


def health(service: str) -> Unary[Message, Message, str]:
    """Health Check: the status name; NOT_FOUND is the gateway not knowing ``service``."""

    def status_name(response: health_pb2.HealthCheckResponse) -> str:
        name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        return name

    return Unary(
        CHECK,
        health_pb2.HealthCheckRequest(service=service),
        status_name,
        {grpc.StatusCode.NOT_FOUND: _SERVICE_UNKNOWN},
    )


def list_adapters() -> Unary[
    translation_pb2.ListAdaptersRequest,
    translation_pb2.ListAdaptersResponse,
    list[translation_pb2.AdapterInfo],
]:
    """ListAdapters: the gateway's adapters."""

    def adapters(
        response: translation_pb2.ListAdaptersResponse,
    ) -> list[translation_pb2.AdapterInfo]:
        return list(response.adapters)

    return Unary(LIST_ADAPTERS, translation_pb2.ListAdaptersRequest(), adapters)


def translate(
    adapter: str, payload: bytes, source_reference: str
) -> Unary[
    translation_pb2.TranslateRequest,
    translation_pb2.TranslateResponse,
    translation_pb2.TranslateResponse,
]:
    """Translate: records and diagnostics of a legacy payload."""
    request = translation_pb2.TranslateRequest(
        adapter=adapter, payload=payload, source_reference=source_reference
    )
    return Unary(TRANSLATE, request, _itself)


def ingest(
    adapter: str,
    payload: bytes,
    source_reference: str,
    handling: record_pb2.Handling | None,
    accept_partial: bool,
) -> Unary[
    translation_pb2.IngestRequest, translation_pb2.IngestResponse, translation_pb2.IngestResponse
]:
    """Ingest: a legacy payload's records stored, all or none."""
    request = translation_pb2.IngestRequest(
        adapter=adapter,
        payload=payload,
        source_reference=source_reference,
        accept_partial=accept_partial,
    )
    if handling is not None:
        request.handling.CopyFrom(handling)
    return Unary(INGEST, request, _itself)


def export(
    adapter: str,
    record_refs: Iterable[translation_pb2.RecordRef | str],
    records: Iterable[record_pb2.Record],
) -> Unary[
    translation_pb2.ExportRequest, translation_pb2.ExportResponse, translation_pb2.ExportResponse
]:
    """Export: stored records (a ``RecordRef`` or a record id, the latest version) and inline
    ones encoded into an adapter's format."""
    request = translation_pb2.ExportRequest(
        adapter=adapter,
        record_refs=[
            translation_pb2.RecordRef(record_id=ref) if isinstance(ref, str) else ref
            for ref in record_refs
        ],
        records=records,
    )
    return Unary(EXPORT, request, _itself)


def deliveries(
    record_id: str,
    peer: str,
    states: Sequence[federation_pb2.DeliveryState.ValueType],
    limit: int,
) -> Unary[
    federation_pb2.ListDeliveriesRequest,
    federation_pb2.ListDeliveriesResponse,
    list[federation_pb2.DeliveryStatus],
]:
    """ListDeliveries: delivery states of forwarded records, newest first."""

    def found(
        response: federation_pb2.ListDeliveriesResponse,
    ) -> list[federation_pb2.DeliveryStatus]:
        return list(response.deliveries)

    request = federation_pb2.ListDeliveriesRequest(
        record_id=record_id, peer=peer, states=states, limit=limit
    )
    return Unary(LIST_DELIVERIES, request, found)


def replay_dead_letters(
    peer: str, record_ids: Sequence[str]
) -> Unary[
    federation_pb2.ReplayDeadLettersRequest,
    federation_pb2.ReplayDeadLettersResponse,
    list[federation_pb2.DeliveryStatus],
]:
    """ReplayDeadLetters: the deliveries re-queued."""

    def requeued(
        response: federation_pb2.ReplayDeadLettersResponse,
    ) -> list[federation_pb2.DeliveryStatus]:
        return list(response.requeued)

    request = federation_pb2.ReplayDeadLettersRequest(peer=peer, record_ids=record_ids)
    return Unary(REPLAY_DEAD_LETTERS, request, requeued)


def checkpoints(
    centre: str, limit: int
) -> Unary[
    federation_pb2.ListCheckpointsRequest,
    federation_pb2.ListCheckpointsResponse,
    list[federation_pb2.AuditCheckpoint],
]:
    """ListCheckpoints: the audit checkpoints the gateway keeps, newest first."""

    def kept(
        response: federation_pb2.ListCheckpointsResponse,
    ) -> list[federation_pb2.AuditCheckpoint]:
        return list(response.checkpoints)

    request = federation_pb2.ListCheckpointsRequest(centre=centre, limit=limit)
    return Unary(LIST_CHECKPOINTS, request, kept)


def keep_checkpoint(
    checkpoint: federation_pb2.AuditCheckpoint,
) -> Unary[federation_pb2.KeepCheckpointRequest, federation_pb2.KeepCheckpointResponse, int]:
    """KeepCheckpoint: how many of the caller's checkpoints the gateway keeps now."""

    def kept(response: federation_pb2.KeepCheckpointResponse) -> int:
        return response.kept

    request = federation_pb2.KeepCheckpointRequest(checkpoint=checkpoint)
    return Unary(KEEP_CHECKPOINT, request, kept)


def screen(
    records: Iterable[record_pb2.Record], adapter: str, payload: bytes, lists: Iterable[str]
) -> Unary[screening_pb2.ScreenRequest, screening_pb2.ScreenResponse, screening_pb2.ScreenResponse]:
    """Screen: the subjects (records, or a legacy payload an adapter decodes) with their hits."""
    request = screening_pb2.ScreenRequest(
        subjects=records, adapter=adapter, payload=payload, lists=lists
    )
    return Unary(SCREEN, request, _itself)


def decide(
    hit_record_id: str,
    decision: screening_hit_pb2.ScreeningDecisionKind.ValueType,
    note: str,
    expected_version: int,
) -> Unary[screening_pb2.DecideRequest, screening_pb2.DecideResponse, screening_pb2.DecideResponse]:
    """Decide: the acknowledgement of the hit's new version, and the hit as now stored."""
    request = screening_pb2.DecideRequest(
        hit_record_id=hit_record_id,
        decision=decision,
        note=note,
        expected_version=expected_version,
    )
    return Unary(DECIDE, request, _itself)


Moment = datetime | timestamp_pb2.Timestamp
"""A point in time as the client takes it: a timezone-aware datetime, or a Timestamp."""


def hits_request(
    bands: Iterable[screening_hit_pb2.ScreeningBand.ValueType],
    decisions: Iterable[screening_hit_pb2.ScreeningDecisionKind.ValueType],
    lists: Iterable[str],
    screened_after: Moment | None,
    screened_before: Moment | None,
    page_size: int,
) -> screening_pb2.ListHitsRequest:
    """The first ListHits request of these criteria.

    Raises:
        ValueError: A datetime without a timezone (it would be read as UTC silently otherwise).
    """
    request = screening_pb2.ListHitsRequest(
        bands=bands, decisions=decisions, lists=lists, page_size=page_size
    )
    for name, moment in (("screened_after", screened_after), ("screened_before", screened_before)):
        if moment is None:
            continue
        field_ = getattr(request, name)
        if isinstance(moment, timestamp_pb2.Timestamp):
            field_.CopyFrom(moment)
        elif moment.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
        else:
            field_.FromDatetime(moment)
    return request


def list_hits(
    request: screening_pb2.ListHitsRequest,
) -> Unary[
    screening_pb2.ListHitsRequest, screening_pb2.ListHitsResponse, screening_pb2.ListHitsResponse
]:
    """ListHits: one page of stored hit records."""
    return Unary(LIST_HITS, request, _itself)


def next_hits_page(
    request: screening_pb2.ListHitsRequest, response: screening_pb2.ListHitsResponse
) -> screening_pb2.ListHitsRequest | None:
    """The request for the page after ``response``, or ``None`` when the listing is complete.

    Raises:
        ClientError: The gateway announced more hits without a new cursor.
    """
    return _following(request, response.has_more, response.next_cursor, "hits")


def next_page(
    request: exchange_pb2.SearchRequest, page_end: exchange_pb2.SearchPageEnd
) -> exchange_pb2.SearchRequest | None:
    """The request for the page after ``page_end``, or ``None`` when the search is complete.

    Raises:
        ClientError: The gateway announced more results without a new cursor.
    """
    return _following(request, page_end.has_more, page_end.next_cursor, "results")


_Paged = TypeVar("_Paged", exchange_pb2.SearchRequest, screening_pb2.ListHitsRequest)


def _following(request: _Paged, has_more: bool, next_cursor: str, what: str) -> _Paged | None:
    """``request`` resumed at ``next_cursor`` when more pages follow (the same criteria)."""
    if not has_more:
        return None
    if not next_cursor or next_cursor == request.cursor:
        # Following such a page end would ask for the same page forever.
        raise ClientError(
            grpc.StatusCode.INTERNAL, f"the gateway announced more {what} without a new cursor"
        )
    following = type(request)()
    following.CopyFrom(request)
    following.cursor = next_cursor
    return following


class Callables:
    """A channel's multicallables, made once per method.

    Blocking and asyncio channels make them with the same calls, so both clients use this; what
    they return is then called the blocking or the asyncio way.
    """

    def __init__(self, channel: Any) -> None:
        self._channel = channel
        self._made: dict[str, Any] = {}

    def unary_unary(self, method: Method[Any, Any]) -> Any:
        """The multicallable of a unary method."""
        return self._make("unary_unary", method)

    def unary_stream(self, method: Method[Any, Any]) -> Any:
        """The multicallable of a server-streaming method."""
        return self._make("unary_stream", method)

    def stream_unary(self, method: Method[Any, Any]) -> Any:
        """The multicallable of a client-streaming method."""
        return self._make("stream_unary", method)

    def _make(self, shape: str, method: Method[Any, Any]) -> Any:
        made = self._made.get(method.path)
        if made is None:
            # _registered_method, as the generated stubs pass it: the channel resolves the
            # method once instead of on every call.
            made = getattr(self._channel, shape)(
                method.path,
                request_serializer=method.request_type.SerializeToString,
                response_deserializer=method.response_type.FromString,
                _registered_method=True,
            )
            self._made[method.path] = made
        return made
