"""Traces of the four call shapes, through an in-memory span exporter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from gateway.client import (
    AsyncLiaisonClient,
    InvalidRecordError,
    LiaisonClient,
    RecordNotFoundError,
)
from gateway.server import Gateway
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import (
    STORE_READ_SPAN,
    STORE_WRITE_SPAN,
    SUBSCRIPTION_DELIVER_SPAN,
    VALIDATE_SPAN,
)
from liaison.v1 import exchange_pb2, record_pb2
from tests.gateway.telemetry.conftest import Recorded, recording
from tests.gateway.telemetry.spans import named, one
from tests.support.factories import person
from tests.support.rpc import ExchangeStub

SERVICE = "liaison.v1.RecordExchange"
SUBMIT = f"/{SERVICE}/Submit"
SUBMIT_STREAM = f"/{SERVICE}/SubmitStream"
SEARCH = f"/{SERVICE}/Search"
SUBSCRIBE = f"/{SERVICE}/Subscribe"
GET = f"/{SERVICE}/Get"


async def _finished(
    recorded: Recorded, ready: Callable[[Sequence[ReadableSpan]], bool]
) -> Sequence[ReadableSpan]:
    """The finished spans once ``ready`` says so (client spans end just after their call)."""
    for _ in range(200):
        spans = recorded.spans.get_finished_spans()
        if ready(spans):
            return spans
        await asyncio.sleep(0.01)
    raise AssertionError(f"spans never ready: {[s.name for s in spans]}")


def _children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


def _client(gateway: Gateway, recorded: Recorded) -> AsyncLiaisonClient:
    return AsyncLiaisonClient(
        gateway.address, interceptors=recorded.telemetry.aio_client_interceptors(gateway.address)
    )


async def test_submit_is_a_server_span_over_validation_and_store(
    gateway: Gateway, exchange: ExchangeStub, recorded: Recorded
) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("TEST-CENTRE:trace-1")))

    spans = recorded.spans.get_finished_spans()
    server = one(spans, SUBMIT)
    assert server.kind is SpanKind.SERVER
    assert server.parent is None
    assert dict(server.attributes or {}) == {
        attr.RPC_SYSTEM: "grpc",
        attr.RPC_SERVICE: SERVICE,
        attr.RPC_METHOD: "Submit",
        attr.RPC_GRPC_STATUS_CODE: 0,
        attr.SERVER_ADDRESS: "127.0.0.1",
        attr.SERVER_PORT: gateway.port,
        attr.NETWORK_PEER_ADDRESS: "127.0.0.1",
        attr.NETWORK_PEER_PORT: (server.attributes or {})[attr.NETWORK_PEER_PORT],
    }
    assert server.status.status_code is StatusCode.UNSET
    assert [s.name for s in _children(spans, server)] == [VALIDATE_SPAN, STORE_WRITE_SPAN]
    validate, store = _children(spans, server)
    assert dict(validate.attributes or {}) == {attr.RECORDS_COUNT: 1}
    assert dict(store.attributes or {}) == {
        attr.RECORDS_COUNT: 1,
        attr.RECORDS_STORED: 1,
        attr.RECORDS_DUPLICATE: 0,
        attr.RECORDS_REJECTED: 0,
    }
    assert {s.context.trace_id for s in spans if s.context} == {server.context.trace_id}
    # The store span covers the wait for the commit, inside the RPC span.
    assert server.start_time is not None
    assert server.end_time is not None
    assert store.start_time is not None
    assert store.end_time is not None
    assert server.start_time <= store.start_time <= store.end_time <= server.end_time


async def test_a_duplicate_is_counted_on_the_store_span(
    gateway: Gateway, exchange: ExchangeStub, recorded: Recorded
) -> None:
    for _ in range(2):
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("TEST-CENTRE:trace-dup")))

    second = named(recorded.spans.get_finished_spans(), STORE_WRITE_SPAN)[1]
    assert (second.attributes or {})[attr.RECORDS_DUPLICATE] == 1
    assert (second.attributes or {})[attr.RECORDS_STORED] == 0


async def test_a_refused_record_stops_at_validation(
    gateway: Gateway, exchange: ExchangeStub, recorded: Recorded
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await exchange.Submit(exchange_pb2.SubmitRequest(record=record_pb2.Record(record_id="X")))
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    # The span of an aborted call ends just after its status has gone out.
    spans = await _finished(recorded, lambda spans: len(named(spans, SUBMIT)) == 1)
    server = one(spans, SUBMIT)
    assert (server.attributes or {})[attr.RPC_GRPC_STATUS_CODE] == 3
    # A refusal is the caller's error, not the server's: the span status stays unset.
    assert server.status.status_code is StatusCode.UNSET
    [validate] = _children(spans, server)
    assert validate.name == VALIDATE_SPAN
    assert (validate.attributes or {})[attr.RECORDS_REJECTED] == 1
    assert int((validate.attributes or {})[attr.VIOLATIONS_COUNT]) >= 1  # type: ignore[arg-type]
    assert named(spans, STORE_WRITE_SPAN) == []


async def test_client_and_server_spans_share_the_trace(
    gateway: Gateway, recorded: Recorded
) -> None:
    async with _client(gateway, recorded) as client:
        await client.submit(person("TEST-CENTRE:trace-2"))

    spans = await _finished(recorded, lambda spans: len(named(spans, SUBMIT)) == 2)
    [client_span] = [s for s in named(spans, SUBMIT) if s.kind is SpanKind.CLIENT]
    [server_span] = [s for s in named(spans, SUBMIT) if s.kind is SpanKind.SERVER]
    assert client_span.context is not None
    assert server_span.context is not None
    assert server_span.context.trace_id == client_span.context.trace_id
    assert server_span.parent is not None
    assert server_span.parent.span_id == client_span.context.span_id
    assert server_span.parent.is_remote
    assert dict(client_span.attributes or {}) == {
        attr.RPC_SYSTEM: "grpc",
        attr.RPC_SERVICE: SERVICE,
        attr.RPC_METHOD: "Submit",
        attr.RPC_GRPC_STATUS_CODE: 0,
        attr.SERVER_ADDRESS: "127.0.0.1",
        attr.SERVER_PORT: gateway.port,
    }


async def test_client_span_of_a_refused_call_is_an_error(
    gateway: Gateway, recorded: Recorded
) -> None:
    async with _client(gateway, recorded) as client:
        with pytest.raises(InvalidRecordError):
            await client.submit(record_pb2.Record(record_id="X"))

    spans = await _finished(recorded, lambda spans: len(named(spans, SUBMIT)) == 2)
    [client_span] = [s for s in named(spans, SUBMIT) if s.kind is SpanKind.CLIENT]
    assert (client_span.attributes or {})[attr.RPC_GRPC_STATUS_CODE] == 3
    assert client_span.status.status_code is StatusCode.ERROR


async def test_blocking_client_propagates_its_trace(gateway: Gateway, recorded: Recorded) -> None:
    def submit() -> None:
        interceptors = recorded.telemetry.client_interceptors(gateway.address)
        with LiaisonClient(gateway.address, interceptors=interceptors) as client:
            client.submit(person("TEST-CENTRE:trace-blocking"))

    await asyncio.to_thread(submit)

    spans = await _finished(recorded, lambda spans: len(named(spans, SUBMIT)) == 2)
    kinds = {s.kind: s for s in named(spans, SUBMIT)}
    client_span, server_span = kinds[SpanKind.CLIENT], kinds[SpanKind.SERVER]
    assert client_span.context is not None
    assert server_span.parent is not None
    assert server_span.parent.span_id == client_span.context.span_id


async def test_submit_stream_is_one_span_per_stream(gateway: Gateway, recorded: Recorded) -> None:
    records = [person(f"TEST-CENTRE:stream-{n}") for n in range(3)] + [
        record_pb2.Record(record_id="X")
    ]
    async with _client(gateway, recorded) as client:
        response = await client.submit_many(records, batch_size=2)
    assert (response.stored, response.rejected) == (3, 1)

    spans = await _finished(recorded, lambda spans: len(named(spans, SUBMIT_STREAM)) == 2)
    [server] = [s for s in named(spans, SUBMIT_STREAM) if s.kind is SpanKind.SERVER]
    [client_span] = [s for s in named(spans, SUBMIT_STREAM) if s.kind is SpanKind.CLIENT]
    assert server.parent is not None
    assert client_span.context is not None
    assert server.parent.span_id == client_span.context.span_id
    children = _children(spans, server)
    validations = [s for s in children if s.name == VALIDATE_SPAN]
    writes = [s for s in children if s.name == STORE_WRITE_SPAN]
    # Two stream messages: one validation span and one store span for each, none per record.
    assert [dict(s.attributes or {}) for s in validations] == [
        {attr.RECORDS_COUNT: 2, attr.RECORDS_REJECTED: 0},
        {attr.RECORDS_COUNT: 2, attr.RECORDS_REJECTED: 1},
    ]
    assert sorted((s.attributes or {})[attr.RECORDS_COUNT] for s in writes) == [1, 2]  # type: ignore[type-var]


async def test_search_is_one_server_streaming_span(gateway: Gateway, recorded: Recorded) -> None:
    async with _client(gateway, recorded) as client:
        for n in range(3):
            await client.submit(person(f"TEST-CENTRE:search-{n}", family="SEARCHABLE"))
        recorded.spans.clear()
        hits = [
            hit
            async for hit in client.search_all(
                exchange_pb2.SearchRequest(family_name="SEARCHABLE", page_size=10)
            )
        ]
    assert len(hits) == 3

    spans = await _finished(recorded, lambda spans: len(named(spans, SEARCH)) == 2)
    server = next(s for s in named(spans, SEARCH) if s.kind is SpanKind.SERVER)
    client_span = next(s for s in named(spans, SEARCH) if s.kind is SpanKind.CLIENT)
    assert (server.attributes or {})[attr.RPC_GRPC_STATUS_CODE] == 0
    assert (client_span.attributes or {})[attr.RPC_GRPC_STATUS_CODE] == 0
    assert server.context is not None
    assert client_span.context is not None
    assert server.context.trace_id == client_span.context.trace_id


async def test_reads_have_a_store_span_counting_rows(gateway: Gateway, recorded: Recorded) -> None:
    async with _client(gateway, recorded) as client:
        for n in range(3):
            await client.submit(person(f"TEST-CENTRE:read-{n}", family="READABLE"))
        recorded.spans.clear()
        await client.get("TEST-CENTRE:read-0")
        with pytest.raises(RecordNotFoundError):
            await client.get("TEST-CENTRE:absent")
        hits = [
            hit
            async for hit in client.search_all(
                exchange_pb2.SearchRequest(family_name="READABLE", page_size=2)
            )
        ]
    assert len(hits) == 3

    def ended(spans: Sequence[ReadableSpan]) -> bool:
        servers = [
            s for s in [*named(spans, GET), *named(spans, SEARCH)] if s.kind is SpanKind.SERVER
        ]
        return len(servers) == 4

    spans = await _finished(recorded, ended)
    counts = []
    for server in sorted(
        (s for s in [*named(spans, GET), *named(spans, SEARCH)] if s.kind is SpanKind.SERVER),
        key=lambda s: s.start_time or 0,
    ):
        [read] = _children(spans, server)
        assert read.name == STORE_READ_SPAN
        counts.append((server.name, (read.attributes or {})[attr.RECORDS_COUNT]))
    # Get found, Get absent, then Search's two pages of at most two rows.
    assert counts == [(GET, 1), (GET, 0), (SEARCH, 2), (SEARCH, 1)]


async def test_subscribe_delivers_under_its_span(gateway: Gateway, recorded: Recorded) -> None:
    async with _client(gateway, recorded) as client:
        for n in range(2):
            await client.submit(person(f"TEST-CENTRE:sub-{n}"))
        recorded.spans.clear()
        events = client.subscribe(after_sequence=0)
        delivered = 0
        async for event in events:
            if event.HasField("caught_up"):
                break
            delivered += 1
        await events.aclose()
    assert delivered == 2

    def ended(spans: Sequence[ReadableSpan]) -> bool:
        return any(s.kind is SpanKind.SERVER for s in named(spans, SUBSCRIBE))

    spans = await _finished(recorded, ended)
    server = next(s for s in named(spans, SUBSCRIBE) if s.kind is SpanKind.SERVER)
    # The client went away: the stream ended CANCELLED, which is not a server error.
    assert (server.attributes or {})[attr.RPC_GRPC_STATUS_CODE] == grpc.StatusCode.CANCELLED.value[
        0
    ]
    assert server.status.status_code is StatusCode.UNSET
    [deliver] = _children(spans, server)
    assert deliver.name == SUBSCRIPTION_DELIVER_SPAN
    assert dict(deliver.attributes or {}) == {attr.SUBSCRIPTION_LAG: 2, attr.RECORDS_COUNT: 2}


@pytest.mark.parametrize("sampling_ratio", [0.0])
async def test_unsampled_calls_record_no_span(
    gateway: Gateway, exchange: ExchangeStub, recorded: Recorded
) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("TEST-CENTRE:unsampled")))
    assert recorded.spans.get_finished_spans() == ()


@pytest.mark.parametrize("sampling_ratio", [0.0])
async def test_a_sampled_caller_is_followed(
    gateway: Gateway, recorded: Recorded, pipeline: str
) -> None:
    caller = recording(sampling_ratio=1.0, pipeline=pipeline)
    try:
        async with AsyncLiaisonClient(
            gateway.address, interceptors=caller.telemetry.aio_client_interceptors()
        ) as client:
            await client.submit(person("TEST-CENTRE:followed"))
        server = one(recorded.spans.get_finished_spans(), SUBMIT)
        assert server.parent is not None
        assert server.parent.is_remote
        spans = await _finished(caller, lambda spans: len(spans) == 1)
        assert spans[0].context is not None
        assert server.context is not None
        assert spans[0].context.trace_id == server.context.trace_id
    finally:
        caller.telemetry.shutdown()


async def test_an_unsampled_caller_is_followed(
    gateway: Gateway, recorded: Recorded, pipeline: str
) -> None:
    caller = recording(sampling_ratio=0.0, pipeline=pipeline)
    try:
        async with AsyncLiaisonClient(
            gateway.address, interceptors=caller.telemetry.aio_client_interceptors()
        ) as client:
            await client.submit(person("TEST-CENTRE:not-followed"))
        assert recorded.spans.get_finished_spans() == ()
    finally:
        caller.telemetry.shutdown()
