"""Stream limits are per identity, health and reflection included (issue 10, item 7).

Health/Watch and reflection need no grant, so an identity with no grants at all can open them; it
must use up only its own allowance, never everyone's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.support.mtls import Pki, channel, denials, tls_gateway

LIMIT = 2
OPERATOR = "urn:liaison:client:operator"


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    grants = (Grant((OPERATOR,), ("liaison.v1.RecordExchange/*",)),)
    async with tls_gateway(tmp_path, pki, grants, max_streams_per_caller=LIMIT) as started:
        yield started


async def _watch(opened: aio.Channel) -> Any:
    call = health_pb2_grpc.HealthStub(opened).Watch(health_pb2.HealthCheckRequest(service=""))
    first = await call.read()  # the stream is open, and counted, once its first status arrives
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    return call


async def _list_services(opened: aio.Channel) -> set[str]:
    async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    stub = reflection_pb2_grpc.ServerReflectionStub(opened)
    responses = [r async for r in stub.ServerReflectionInfo(requests(), timeout=10)]
    return {service.name for service in responses[0].list_services_response.service}


async def test_an_identity_without_grants_exhausts_only_its_own_streams(
    gateway: Gateway, pki: Pki
) -> None:
    async with channel(gateway, pki, pki.client("idle")) as idle:
        held = [await _watch(idle) for _ in range(LIMIT)]
        with pytest.raises(aio.AioRpcError) as refused:
            await _watch(idle)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        with pytest.raises(aio.AioRpcError) as refused_reflection:
            await _list_services(idle)
        assert refused_reflection.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        # Everyone else is unaffected: health, reflection and their own streams.
        async with channel(gateway, pki, pki.client("operator")) as opened:
            watch = await _watch(opened)
            assert "grpc.health.v1.Health" in await _list_services(opened)
            exchange = exchange_pb2_grpc.RecordExchangeStub(opened)
            subscription = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
            first = await subscription.read()
            assert isinstance(first, exchange_pb2.SubscribeResponse)
            assert first.HasField("caught_up")
            subscription.cancel()
            watch.cancel()
        async with channel(gateway, pki, pki.lyon) as peer:
            (await _watch(peer)).cancel()
        for call in held:
            call.cancel()
    refusals = denials(gateway, "stream-limit")
    assert [(e["actor"], e["detail"]["method"]) for e in refusals] == [
        ("urn:liaison:client:idle", "/grpc.health.v1.Health/Watch"),
        (
            "urn:liaison:client:idle",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ),
    ]
    assert all(e["detail"]["limit"] == LIMIT for e in refusals)
