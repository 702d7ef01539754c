"""The standard services: health reports SERVING, reflection lists what the gateway serves."""

from __future__ import annotations

from collections.abc import AsyncIterator

from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.server import Gateway
from gateway.services.exchange import SERVICE_NAME
from gateway.services.translation import SERVICE_NAME as TRANSLATION_SERVICE


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
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    assert responses[1].file_descriptor_response.file_descriptor_proto, "descriptors are served"
