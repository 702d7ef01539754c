"""The server interceptor on its own: statuses, errors, streams, caller context, handler cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import grpc
import pytest
from opentelemetry.propagate import get_global_textmap
from opentelemetry.trace import StatusCode

from gateway.telemetry import ServerTelemetryInterceptor
from gateway.telemetry import attributes as attr
from tests.gateway.telemetry.conftest import Recorded
from tests.gateway.telemetry.spans import one

METHOD = "/liaison.v1.RecordExchange/Submit"
TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
PARENT_ID = 0xB7AD6B7169203331


class _Metadatum(NamedTuple):
    key: str
    value: str


class _Context:
    def __init__(self, metadata: tuple[_Metadatum, ...] = ()) -> None:
        self._metadata = metadata
        self.status: grpc.StatusCode | None = None

    def invocation_metadata(self) -> tuple[_Metadatum, ...]:
        return self._metadata

    def peer(self) -> str:
        return "ipv6:[::1]:50123"

    def code(self) -> grpc.StatusCode | None:
        return self.status


class _Details:
    method = METHOD
    invocation_metadata = ()


def _interceptor(recorded: Recorded) -> ServerTelemetryInterceptor:
    return ServerTelemetryInterceptor(
        tracer=recorded.telemetry.tracer,
        metrics=recorded.telemetry.metrics,
        propagator=get_global_textmap(),
    )


async def _handler(interceptor: ServerTelemetryInterceptor, handler: Any) -> Any:
    async def continuation(details: Any) -> Any:
        return handler

    return await interceptor.intercept_service(continuation, _Details())  # type: ignore[arg-type]


async def test_an_unexpected_error_is_unknown_and_an_error(recorded: Recorded) -> None:
    async def fail(request: Any, context: Any) -> Any:
        raise RuntimeError("broken on DOE")

    wrapped = await _handler(_interceptor(recorded), grpc.unary_unary_rpc_method_handler(fail))
    with pytest.raises(RuntimeError):
        await wrapped.unary_unary(None, _Context())
    span = one(recorded.spans.get_finished_spans(), METHOD)
    assert (span.attributes or {})[attr.RPC_GRPC_STATUS_CODE] == grpc.StatusCode.UNKNOWN.value[0]
    assert span.status.status_code is StatusCode.ERROR
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        ("exception", {"exception.type": "RuntimeError"})
    ]
    assert (span.attributes or {})[attr.NETWORK_PEER_ADDRESS] == "::1"
    assert (span.attributes or {})[attr.NETWORK_PEER_PORT] == 50123


async def test_a_code_set_by_the_servicer_is_kept(recorded: Recorded) -> None:
    async def unavailable(request: Any, context: _Context) -> Any:
        context.status = grpc.StatusCode.UNAVAILABLE
        return b""

    handler = grpc.unary_unary_rpc_method_handler(unavailable)
    wrapped = await _handler(_interceptor(recorded), handler)
    await wrapped.unary_unary(None, _Context())
    span = one(recorded.spans.get_finished_spans(), METHOD)
    assert (span.attributes or {})[attr.RPC_GRPC_STATUS_CODE] == 14
    assert span.status.status_code is StatusCode.ERROR
    assert span.events == ()


async def test_a_stream_is_one_span_and_follows_the_caller(recorded: Recorded) -> None:
    async def three(request: Any, context: Any) -> AsyncIterator[int]:
        for n in range(3):
            yield n

    traceparent = f"00-{TRACE_ID:032x}-{PARENT_ID:016x}-01"
    context = _Context((_Metadatum("traceparent", traceparent),))
    wrapped = await _handler(_interceptor(recorded), grpc.unary_stream_rpc_method_handler(three))
    assert [n async for n in wrapped.unary_stream(None, context)] == [0, 1, 2]
    span = one(recorded.spans.get_finished_spans(), METHOD)
    assert span.context is not None
    assert span.context.trace_id == TRACE_ID
    assert span.parent is not None
    assert span.parent.span_id == PARENT_ID
    assert span.parent.is_remote


async def test_handlers_are_wrapped_once(recorded: Recorded) -> None:
    async def ok(request: Any, context: Any) -> Any:
        return b""

    interceptor = _interceptor(recorded)
    handler = grpc.unary_unary_rpc_method_handler(ok)
    first = await _handler(interceptor, handler)
    assert await _handler(interceptor, handler) is first
    assert await _handler(interceptor, None) is None


async def test_a_new_inner_handler_per_call_replaces_the_kept_one(recorded: Recorded) -> None:
    async def ok(request: Any, context: Any) -> Any:
        return b""

    interceptor = _interceptor(recorded)
    for _ in range(10):
        await _handler(interceptor, grpc.unary_unary_rpc_method_handler(ok))
    assert interceptor.cached_handlers() == 1
