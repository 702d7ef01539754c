"""The standard services: health reports SERVING, reflection lists what the gateway serves."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.server import Gateway
from gateway.services.exchange import SERVICE_NAME
from gateway.services.translation import SERVICE_NAME as TRANSLATION_SERVICE
from liaison.v1 import exchange_pb2
from tests.support.factories import person
from tests.support.rpc import ExchangeStub


async def test_health_reports_serving_overall_and_per_service(channel: aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE_NAME, TRANSLATION_SERVICE):
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_reports_not_serving_once_stopping(gateway: Gateway) -> None:
    async with aio.insecure_channel(gateway.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        await gateway.stop(grace=1)
        second = await watch.read()
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_reflection_lists_the_services(channel: aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        yield reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAME)

    responses = [response async for response in stub.ServerReflectionInfo(requests())]
    names = {service.name for service in responses[0].list_services_response.service}
    assert names == {
        "liaison.v1.RecordExchange",
        "liaison.v1.Translation",
        "liaison.v1.Screening",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    assert responses[1].file_descriptor_response.file_descriptor_proto, "descriptors are served"


async def test_health_turns_not_serving_when_the_store_writer_dies(gateway: Gateway) -> None:
    pid = gateway.store.writer_process_id  # type: ignore[attr-defined]
    assert pid is not None
    async with aio.insecure_channel(gateway.address) as channel:
        health_stub = health_pb2_grpc.HealthStub(channel)
        exchange = ExchangeStub(channel)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("TEST-CENTRE:p1")))
        watch = health_stub.Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        os.kill(pid, signal.SIGKILL)
        changed = await asyncio.wait_for(watch.read(), 30)
        assert changed.status == health_pb2.HealthCheckResponse.NOT_SERVING
        for service in (SERVICE_NAME, TRANSLATION_SERVICE):
            response = await health_stub.Check(health_pb2.HealthCheckRequest(service=service))
            assert response.status == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(aio.AioRpcError) as refused:
            await exchange.Submit(exchange_pb2.SubmitRequest(record=person("TEST-CENTRE:p2")))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        # Reads go on.
        found = await exchange.Get(exchange_pb2.GetRequest(record_id="TEST-CENTRE:p1"))
        assert found.record.record_id == "TEST-CENTRE:p1"
        watch.cancel()


async def test_health_follows_the_board_per_service_and_recovers(
    gateway: Gateway, channel: aio.Channel
) -> None:
    stub = health_pb2_grpc.HealthStub(channel)

    async def status(service: str) -> int:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        return int(response.status)

    serving = health_pb2.HealthCheckResponse.SERVING
    not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
    gateway.health.report("task:demo", (TRANSLATION_SERVICE,), "the demo task failed")
    await asyncio.sleep(0.05)
    assert await status(TRANSLATION_SERVICE) == not_serving
    assert await status("") == not_serving, "any condition makes the gateway as a whole unhealthy"
    assert await status(SERVICE_NAME) == serving, "a service the condition does not name serves"
    assert gateway.health.reasons(TRANSLATION_SERVICE) == ["task:demo: the demo task failed"]
    gateway.health.clear("task:demo")
    await asyncio.sleep(0.05)
    assert await status(TRANSLATION_SERVICE) == serving
    assert await status("") == serving
