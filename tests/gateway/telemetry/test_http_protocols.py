"""Calls that came over HTTP say so in their spans and metrics: ``rpc.system`` ``connect_rpc``
for Connect (and the Connect handler's NDJSON and Server-Sent Events forms), ``grpc`` for
gRPC-Web, with ``network.protocol.name`` ``http``, ``liaison.rpc.protocol`` naming the exact
form and ``server.port`` the HTTP listener's; native gRPC calls are described as before.
Through the in-memory span exporter, on both telemetry pipelines; no attribute carries the
request's data."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from gateway.config import CentreConfig, HttpConfig
from gateway.server import Gateway
from gateway.telemetry import attributes as attr
from gateway.telemetry.privacy import METRIC_ATTRIBUTES, SPAN_ATTRIBUTES
from liaison.v1 import exchange_pb2
from tests.conftest import make_config
from tests.gateway.telemetry.conftest import Recorded
from tests.gateway.telemetry.metric_points import points
from tests.support import grpcweb
from tests.support.rpc import ExchangeStub

GET = "/liaison.v1.RecordExchange/Get"
SEARCH = "/liaison.v1.RecordExchange/Search"
SUBSCRIBE = "/liaison.v1.RecordExchange/Subscribe"
SECRET_ID = "LOCAL-PRIVATE-4711"
SECRET_NAME = "HAVERSHAM"


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    return replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}", timeout=20) as client:
        yield client


async def _server_spans(recorded: Recorded, count: int) -> list[ReadableSpan]:
    """The server spans, once ``count`` have ended (a stream's ends after its last chunk)."""
    spans: Sequence[ReadableSpan] = []
    for _ in range(500):
        spans = [s for s in recorded.spans.get_finished_spans() if s.kind is SpanKind.SERVER]
        if len(spans) >= count:
            return list(spans)
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(spans)} server spans ended, {count} expected")


def _described(span: ReadableSpan) -> tuple[str, str | None, str | None, str | None]:
    found = dict(span.attributes or {})

    def text(key: str) -> str | None:
        value = found.get(key)
        return None if value is None else str(value)

    return (
        str(found[attr.RPC_SYSTEM]),
        text(attr.RPC_PROTOCOL),
        text(attr.NETWORK_PROTOCOL_NAME),
        text(attr.NETWORK_PROTOCOL_VERSION),
    )


async def test_each_protocol_is_named_in_the_span(
    gateway: Gateway, channel: grpc.aio.Channel, http: httpx.AsyncClient, recorded: Recorded
) -> None:
    get = exchange_pb2.GetRequest(record_id=SECRET_ID)
    search = exchange_pb2.SearchRequest(family_name=SECRET_NAME)
    with pytest.raises(grpc.aio.AioRpcError):
        await ExchangeStub(channel).Get(get)
    connect = await http.post(GET, json={"recordId": SECRET_ID})
    assert connect.status_code == 404
    streamed = await http.post(SEARCH, json={"familyName": SECRET_NAME})
    assert streamed.status_code == 200
    async with http.stream(
        "GET", SUBSCRIBE, params={"message": json.dumps({"afterSequence": "0"})}
    ) as events:
        async for line in events.aiter_lines():
            if line.startswith("event: caught_up"):
                break
    web = await grpcweb.unary(http, GET, get)
    assert web.code == grpc.StatusCode.NOT_FOUND.value[0]
    text = await grpcweb.unary(http, SEARCH, search, text=True)
    assert text.code == 0

    spans = await _server_spans(recorded, 6)
    described = {(span.name, _described(span)) for span in spans}
    assert described == {
        (GET, ("grpc", None, None, None)),
        (GET, ("connect_rpc", "connect", "http", "1.1")),
        (SEARCH, ("connect_rpc", "ndjson", "http", "1.1")),
        (SUBSCRIBE, ("connect_rpc", "sse", "http", "1.1")),
        (GET, ("grpc", "grpc-web", "http", "1.1")),
        (SEARCH, ("grpc", "grpc-web-text", "http", "1.1")),
    }
    for span in spans:
        found = dict(span.attributes or {})
        assert set(found) <= SPAN_ATTRIBUTES
        # server.* name the listener the call arrived at.
        over_http = attr.RPC_PROTOCOL in found
        assert found[attr.SERVER_ADDRESS] == "127.0.0.1"
        assert found[attr.SERVER_PORT] == (gateway.http_port if over_http else gateway.port)
        # Get: NOT_FOUND; Search: OK; Subscribe: CANCELLED (the client left after caught_up).
        assert found[attr.RPC_GRPC_STATUS_CODE] == {GET: 5, SEARCH: 0, SUBSCRIBE: 1}[span.name]
        assert not [v for v in found.values() if SECRET_ID in str(v) or SECRET_NAME in str(v)]


async def test_the_latency_metric_is_split_by_protocol(
    gateway: Gateway, http: httpx.AsyncClient, recorded: Recorded
) -> None:
    get = exchange_pb2.GetRequest(record_id=SECRET_ID)
    for _ in range(2):
        assert (await http.post(GET, json={"recordId": SECRET_ID})).status_code == 404
    assert (await grpcweb.unary(http, GET, get)).code == 5
    await _server_spans(recorded, 3)
    found = {
        (a[attr.RPC_SYSTEM], a.get(attr.RPC_PROTOCOL), a[attr.RPC_GRPC_STATUS_CODE]): p.count
        for a, p in points(recorded.metrics, "rpc.server.call.duration")
        if a[attr.RPC_METHOD] == "Get"
    }
    assert found == {("connect_rpc", "connect", 5): 2, ("grpc", "grpc-web", 5): 1}
    for attributes, _ in points(recorded.metrics, "rpc.server.call.duration"):
        assert set(attributes) <= METRIC_ATTRIBUTES
