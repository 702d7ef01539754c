"""The telemetry interceptor wraps each method's handler once, whatever the interceptors inside it
do: on a mutual-TLS gateway (authorisation, the guard, the stream limit and the refusal of
malformed requests all wrap handlers), its cache holds one entry per method called, not one per
call - over gRPC and over HTTP alike. (Before the interceptors inside it wrapped once per method,
every call added an entry that was never freed.)"""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import pytest

from gateway.security.policy import Grant
from gateway.server import Gateway
from gateway.telemetry import ServerTelemetryInterceptor
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.gateway.telemetry.conftest import recording
from tests.support.mtls import Pki, channel, https_context, tls_gateway

CALLS = 25
GET = "liaison.v1.RecordExchange/Get"
SEARCH = "liaison.v1.RecordExchange/Search"


def _telemetry_interceptor(gateway: Gateway) -> ServerTelemetryInterceptor:
    calls = gateway.http_calls
    assert calls is not None
    [found] = [i for i in calls.interceptors if isinstance(i, ServerTelemetryInterceptor)]
    return found


async def test_the_handler_cache_holds_one_entry_per_method_not_per_call(
    tmp_path: Path, pki: Pki
) -> None:
    recorded = recording()
    analyst = pki.client("analyst-1")
    grant = Grant(("urn:liaison:client:analyst-*",), (GET, SEARCH))
    try:
        async with tls_gateway(
            tmp_path, pki, [grant], http=True, telemetry=recorded.telemetry
        ) as gateway:
            interceptor = _telemetry_interceptor(gateway)
            async with channel(gateway, pki, analyst) as grpc_channel:
                stub = exchange_pb2_grpc.RecordExchangeStub(grpc_channel)
                for _ in range(CALLS):
                    with pytest.raises(grpc.aio.AioRpcError, match="X-1"):
                        await stub.Get(exchange_pb2.GetRequest(record_id="X-1"))
                    async for _ in stub.Search(exchange_pb2.SearchRequest(family_name="DOE")):
                        pass
            after_grpc = interceptor.cached_handlers()
            async with httpx.AsyncClient(
                base_url=f"https://{gateway.http_address}", verify=https_context(pki, analyst)
            ) as client:
                for _ in range(CALLS):
                    answer = await client.post(f"/{GET}", json={"recordId": "X-1"})
                    assert answer.status_code == 404
                    answer = await client.post(f"/{SEARCH}", json={"familyName": "DOE"})
                    assert answer.status_code == 200
            after_http = interceptor.cached_handlers()
    finally:
        recorded.telemetry.shutdown()
    assert after_grpc == 2  # Get and Search
    assert after_http == 2  # the same handlers: HTTP goes through the same chain
