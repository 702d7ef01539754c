"""Every RPC of every service is declared as gated or metadata-only, with a reason.

The methods are enumerated from the descriptors - the contract's generated modules, and the
standard services the gateway serves - so that a new RPC fails this test until it is declared
in ``gateway.security.access``; and the record guard refuses to serve an undeclared method.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import ServiceDescriptor
from grpc import aio
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

import liaison.v1
from gateway.federation.settings import FederationSettings
from gateway.security.access import RPC_ACCESS, access_of
from gateway.security.guard import RecordGuardInterceptor
from gateway.server import Gateway
from gateway.services.statuses import abort
from liaison.v1 import federation_pb2
from tests.conftest import make_config


def _contract_services() -> Iterator[ServiceDescriptor]:
    for module_info in pkgutil.iter_modules(liaison.v1.__path__):
        if module_info.name.endswith("_pb2"):
            module = importlib.import_module(f"liaison.v1.{module_info.name}")
            yield from module.DESCRIPTOR.services_by_name.values()


def _standard_services() -> Iterator[ServiceDescriptor]:
    yield health_pb2.DESCRIPTOR.services_by_name["Health"]
    yield reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"]


def _methods() -> list[str]:
    return sorted(
        f"/{service.full_name}/{method.name}"
        for service in (*_contract_services(), *_standard_services())
        for method in service.methods
    )


METHODS = _methods()


def test_the_enumeration_finds_the_services() -> None:
    services = {method.split("/")[1] for method in METHODS}
    assert {
        "liaison.v1.RecordExchange",
        "liaison.v1.Translation",
        "liaison.v1.Federation",
        "liaison.v1.FederationAdmin",
        "liaison.v1.Screening",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= services


@pytest.mark.parametrize("method", METHODS)
def test_every_rpc_is_declared_with_a_reason(method: str) -> None:
    access = access_of(method)
    assert access is not None, (
        f"{method} is not declared in gateway.security.access.RPC_ACCESS: say whether it reads "
        "records through the visibility gate (gated) or reveals none (metadata-only, and why)"
    )
    assert access.kind in ("gated", "metadata-only")
    assert len(access.reason) > 20, f"{method}: give the reason in a sentence"


def test_no_declaration_names_a_method_that_does_not_exist() -> None:
    known = set(METHODS) | {"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"}
    assert set(RPC_ACCESS) <= known


async def _served_services(gateway: Gateway) -> set[str]:
    """What the running gateway serves, read from its own reflection service."""
    async with aio.insecure_channel(gateway.address) as channel:
        stub = reflection_pb2.ServerReflectionRequest
        call = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=stub.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )

        async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
            yield stub(list_services="")

        responses = [response async for response in call(requests())]
    return {s.name for s in responses[0].list_services_response.service}


async def test_every_method_the_gateway_serves_is_declared(gateway: Gateway) -> None:
    declared_services = {method.split("/")[1] for method in RPC_ACCESS}
    assert await _served_services(gateway) <= declared_services


async def test_a_standalone_gateway_keeping_an_audit_log_serves_its_status(
    tmp_path: Path,
) -> None:
    # No peers, routes or TLS: FederationAdmin is served for VerifyAuditLog (decision 0026),
    # and every method it has is declared, hence gated by the same interceptors.
    config = replace(
        make_config(tmp_path), federation=FederationSettings(audit_path=tmp_path / "audit.db")
    )
    gateway = Gateway(config)
    await gateway.start()
    try:
        served = await _served_services(gateway)
    finally:
        await gateway.stop(grace=0)
    admin = federation_pb2.DESCRIPTOR.services_by_name["FederationAdmin"]
    assert admin.full_name in served
    assert "liaison.v1.Federation" not in served
    assert {f"/{admin.full_name}/{m.name}" for m in admin.methods} <= set(RPC_ACCESS)


async def test_the_guard_refuses_an_undeclared_method() -> None:
    async def echo(request: bytes, context: aio.ServicerContext[bytes, bytes]) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "liaison.v1.Undeclared", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = aio.server(interceptors=[RecordGuardInterceptor(None, refuse=abort)])
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(
                "/liaison.v1.Undeclared/Echo",
                request_serializer=bytes,
                response_deserializer=bytes,
            )
            with pytest.raises(aio.AioRpcError) as refused:
                await call(b"ping")
    finally:
        await server.stop(None)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "not declared" in (refused.value.details() or "")
