"""Client interceptors: a CLIENT span per call, its trace context sent in the call's metadata.

For the blocking channel (``grpc.intercept_channel``) and for grpc.aio channels (the
``interceptors`` argument), in all four call shapes. Names and attributes follow the official
gRPC instrumentation; the trace context is written with the configured propagator (W3C
``traceparent`` by default), also for an unsampled call, so that the gateway follows the
caller's decision. A span ends when its call is done, however the caller consumed it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import grpc
from grpc import aio
from opentelemetry import trace
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer

from gateway.telemetry import attributes as attr
from gateway.telemetry.metrics import GatewayMetrics

__all__ = ["ClientTelemetry", "aio_client_interceptors", "client_interceptors"]


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _BlockingCallDetails(_CallDetails, grpc.ClientCallDetails):
    """The details of a blocking call with the trace context added to its metadata."""


class ClientTelemetry:
    """Starts and ends the client spans; shared by the interceptors of one channel.

    Args:
        tracer: Spans are started on it; ``None`` records no spans.
        metrics: Instruments for the latency histogram; ``None`` records no metrics.
        propagator: Writes the trace context into the metadata.
        target: The channel's ``host:port``, for ``server.address`` and ``server.port``.
    """

    def __init__(
        self,
        *,
        tracer: Tracer | None,
        metrics: GatewayMetrics | None,
        propagator: TextMapPropagator,
        target: str = "",
    ) -> None:
        self._tracer = tracer
        self._metrics = metrics
        self._propagator = propagator
        host, _, port = target.rpartition(":")
        self._server: dict[str, str | int] = (
            {attr.SERVER_ADDRESS: host.strip("[]"), attr.SERVER_PORT: int(port)}
            if host and port.isdigit()
            else {}
        )
        self._pending: set[asyncio.Task[None]] = set()

    def start(self, method: str | bytes) -> tuple[Span, list[tuple[str, str]], str, str, float]:
        """Start the span of a call to ``method``; its metadata entries to send, and its names."""
        path = method.decode() if isinstance(method, bytes) else method
        service, _, name = path.lstrip("/").partition("/")
        started = time.perf_counter()
        if self._tracer is None:
            span: Span = trace.INVALID_SPAN
        else:
            span = self._tracer.start_span(
                path,
                kind=SpanKind.CLIENT,
                attributes={
                    attr.RPC_SYSTEM: "grpc",
                    attr.RPC_SERVICE: service,
                    attr.RPC_METHOD: name,
                    **self._server,
                },
            )
        carrier: dict[str, str] = {}
        # Without a tracer of its own the caller's current context (if any) is passed on.
        context = trace.set_span_in_context(span) if self._tracer is not None else None
        self._propagator.inject(carrier, context=context)
        return span, list(carrier.items()), service, name, started

    def end(
        self, span: Span, code: grpc.StatusCode, service: str, method: str, started: float
    ) -> None:
        """End a call's span with its status code and record its latency."""
        if span.is_recording():
            span.set_attribute(attr.RPC_GRPC_STATUS_CODE, code.value[0])
            if code is not grpc.StatusCode.OK:
                span.set_status(StatusCode.ERROR)
            span.end()
        if self._metrics is not None:
            self._metrics.rpc_client_duration.record(
                time.perf_counter() - started,
                {
                    attr.RPC_SYSTEM: "grpc",
                    attr.RPC_SERVICE: service,
                    attr.RPC_METHOD: method,
                    attr.RPC_GRPC_STATUS_CODE: code.value[0],
                },
            )

    def end_when_done(
        self, call: Any, span: Span, service: str, method: str, started: float
    ) -> None:
        """End the span of an asyncio call once it is done (its status is awaited there)."""

        async def finish() -> None:
            try:
                code = await call.code()
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
            self.end(span, code, service, method, started)

        def done(_: object) -> None:
            task = asyncio.get_running_loop().create_task(finish())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        call.add_done_callback(done)


def _with_metadata(metadata: Any, extra: list[tuple[str, str]]) -> list[tuple[str, Any]]:
    return [*(tuple(item) for item in (metadata or ())), *extra]


class _AioInterceptor:
    def __init__(self, telemetry: ClientTelemetry) -> None:
        self._telemetry = telemetry

    async def _call(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        span, extra, service, method, started = self._telemetry.start(details.method)
        details = aio.ClientCallDetails(
            details.method,
            details.timeout,
            aio.Metadata(*_with_metadata(details.metadata, extra)),
            details.credentials,
            details.wait_for_ready,
        )
        try:
            call = await continuation(details, request)
        except grpc.RpcError as error:
            self._telemetry.end(span, error.code(), service, method, started)
            raise
        self._telemetry.end_when_done(call, span, service, method, started)
        return call


class _AioUnaryUnary(_AioInterceptor, aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await self._call(continuation, client_call_details, request)


class _AioUnaryStream(_AioInterceptor, aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return await self._call(continuation, client_call_details, request)


class _AioStreamUnary(_AioInterceptor, aio.StreamUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await self._call(continuation, client_call_details, request_iterator)


class _AioStreamStream(_AioInterceptor, aio.StreamStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await self._call(continuation, client_call_details, request_iterator)


def aio_client_interceptors(telemetry: ClientTelemetry) -> list[Any]:
    """Interceptors for a grpc.aio channel, one per call shape."""
    return [
        _AioUnaryUnary(telemetry),
        _AioUnaryStream(telemetry),
        _AioStreamUnary(telemetry),
        _AioStreamStream(telemetry),
    ]


class _BlockingInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    def __init__(self, telemetry: ClientTelemetry) -> None:
        self._telemetry = telemetry

    def _call(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        span, extra, service, method, started = self._telemetry.start(details.method)
        details = _BlockingCallDetails(
            details.method,
            details.timeout,
            _with_metadata(details.metadata, extra),
            details.credentials,
            details.wait_for_ready,
            getattr(details, "compression", None),
        )
        call = continuation(details, request)
        call.add_done_callback(
            lambda done: self._telemetry.end(span, done.code(), service, method, started)
        )
        return call

    def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return self._call(continuation, client_call_details, request)

    def intercept_unary_stream(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        return self._call(continuation, client_call_details, request)

    def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return self._call(continuation, client_call_details, request_iterator)

    def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return self._call(continuation, client_call_details, request_iterator)


def client_interceptors(telemetry: ClientTelemetry) -> list[Any]:
    """Interceptors for a blocking channel (``grpc.intercept_channel``): one for every shape."""
    return [_BlockingInterceptor(telemetry)]
