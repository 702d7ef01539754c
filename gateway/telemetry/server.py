"""The server interceptor: one span and one latency measurement per RPC, sampling decided first.

Span names and attributes are those of the official ``opentelemetry-instrumentation-grpc``
(``/liaison.v1.RecordExchange/Submit``, ``rpc.system``, ``rpc.service``, ``rpc.method``,
``rpc.grpc.status_code``, the peer's address; a call that came over HTTP also says how, see
:mod:`gateway.telemetry.protocols`), and a caller's W3C trace context is read from the
call's metadata with the configured propagator. What differs is the order of the work, which is
why this interceptor exists (``docs/decisions/0010-telemetry-interceptors.md``):

- the method's handler is wrapped once and reused, not re-wrapped per call;
- the propagator runs only when the metadata carries one of its fields;
- the sampler decides before anything else is built; an unsampled call gets a non-recording span
  (so that logs and outgoing calls still carry its trace id) and nothing more;
- the status code is read from the servicer context after the call, rather than by wrapping the
  context in a proxy that intercepts ``abort``;
- streaming calls are one span per stream, never per message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc
from grpc import aio
from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from opentelemetry.util.types import Attributes

from gateway.telemetry import attributes as attr
from gateway.telemetry.metrics import GatewayMetrics
from gateway.telemetry.protocols import HTTP_PROTOCOLS, OverHttp, WireProtocol
from gateway.telemetry.spans import record_exception_type
from gateway.wrapping import WrappedHandlers

__all__ = ["ServerTelemetryInterceptor"]

_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
"""Server spans are errors only for these codes (semantic conventions for gRPC): the others are
the client's mistake, not the server's."""

# Aliases for annotations only (grpc's classes are generic in grpc-stubs, not at run time).
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]"


class _Variant:
    """What a span and a measurement of a method say, for one wire protocol."""

    __slots__ = ("attributes", "metric_attributes")

    def __init__(self, attributes: dict[str, str | int], base: dict[str, str]) -> None:
        self.attributes = attributes
        # One attribute dict per status code, built once: a latency measurement allocates none.
        self.metric_attributes: dict[grpc.StatusCode, Attributes] = {
            code: {**base, attr.RPC_GRPC_STATUS_CODE: code.value[0]} for code in grpc.StatusCode
        }


class _Method:
    """What is known of a method before any call: its span name and fixed attributes, for
    native gRPC and for each protocol of a call that came over HTTP."""

    __slots__ = ("grpc", "name", "over_http")

    def __init__(
        self, path: str, server_address: str, server_port: int, http: tuple[str, int] | None
    ) -> None:
        service, _, method = path.lstrip("/").partition("/")
        self.name = path
        attributes: dict[str, str | int] = {
            attr.RPC_SYSTEM: "grpc",
            attr.RPC_SERVICE: service,
            attr.RPC_METHOD: method,
        }
        if server_address:
            attributes[attr.SERVER_ADDRESS] = server_address
            attributes[attr.SERVER_PORT] = server_port
        base = {attr.RPC_SYSTEM: "grpc", attr.RPC_SERVICE: service, attr.RPC_METHOD: method}
        self.grpc = _Variant(attributes, base)
        # An HTTP call is described by how it arrived (rpc.system connect_rpc for Connect),
        # and server.* name the HTTP listener it arrived at.
        at_http: dict[str, str | int] = {}
        if http is not None:
            at_http = {attr.SERVER_ADDRESS: http[0], attr.SERVER_PORT: http[1]}
        self.over_http: dict[WireProtocol, _Variant] = {
            protocol: _Variant(
                {
                    **attributes,
                    **at_http,
                    attr.RPC_SYSTEM: protocol.rpc_system,
                    attr.RPC_PROTOCOL: protocol.name,
                    attr.NETWORK_PROTOCOL_NAME: "http",
                    attr.NETWORK_PROTOCOL_VERSION: protocol.http_version,
                },
                {**base, attr.RPC_SYSTEM: protocol.rpc_system, attr.RPC_PROTOCOL: protocol.name},
            )
            for protocol in HTTP_PROTOCOLS
        }

    def variant(self, context: object) -> _Variant:
        """The description of a call with ``context``: by its wire protocol if it came over
        HTTP, else native gRPC's."""
        if isinstance(context, OverHttp):
            return self.over_http.get(context.wire_protocol) or self.grpc
        return self.grpc


class ServerTelemetryInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Traces and times every RPC the server handles.

    Args:
        tracer: Spans are started on it; ``None`` records no spans (metrics only).
        metrics: Instruments for the latency histogram; ``None`` records no metrics.
        propagator: Reads the caller's trace context from the metadata.
        server_address: ``server.address`` of the spans (the host the server listens on).
        server_port: ``server.port`` of the spans.
    """

    def __init__(
        self,
        *,
        tracer: Tracer | None,
        metrics: GatewayMetrics | None,
        propagator: TextMapPropagator,
        server_address: str = "",
        server_port: int = 0,
    ) -> None:
        self._tracer = tracer
        self._metrics = metrics
        self._propagator = propagator
        self._fields = frozenset(propagator.fields)
        self._server_address = server_address
        self._server_port = server_port
        self._http: tuple[str, int] | None = None
        self._wrapped = WrappedHandlers()

    def cached_handlers(self) -> int:
        """How many wrapped handlers are kept (one per method called, never one per call)."""
        return len(self._wrapped)

    def set_server_port(self, port: int) -> None:
        """Record the port once bound (a server asked to listen on port 0 learns it late)."""
        self._server_port = port
        self._wrapped.clear()

    def set_http_listener(self, address: str, port: int) -> None:
        """Record the HTTP listener's address and bound port: ``server.address`` and
        ``server.port`` of the calls that arrive there."""
        self._http = (address, port)
        self._wrapped.clear()

    async def intercept_service(  # type: ignore[override]
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        """Return the method's handler, wrapped (once per handler) to trace and time calls."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        # grpc-stubs says str; some grpc versions have passed bytes.
        given: str | bytes = handler_call_details.method
        path = given.decode() if isinstance(given, bytes) else given
        # Kept per method: at most one entry per method served, whatever the inner
        # interceptors hand out (gateway/wrapping.py).
        return self._wrapped.get(  # type: ignore[no-any-return]
            path,
            handler,
            lambda: self._wrap(
                handler, _Method(path, self._server_address, self._server_port, self._http)
            ),
        )

    def _wrap(self, handler: Any, method: _Method) -> Handler:
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=self._unary(handler.unary_unary, method))  # type: ignore[no-any-return]
        if handler.stream_unary is not None:
            return handler._replace(stream_unary=self._unary(handler.stream_unary, method))  # type: ignore[no-any-return]
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=self._streaming(handler.unary_stream, method))  # type: ignore[no-any-return]
        return handler._replace(stream_stream=self._streaming(handler.stream_stream, method))  # type: ignore[no-any-return]

    def _start(
        self, method: _Method, variant: _Variant, context: aio.ServicerContext[Any, Any]
    ) -> Span:
        parent: Context | None = None
        fields = self._fields
        metadata = context.invocation_metadata() or ()
        for key, _ in metadata:
            # A plain loop: a generator expression here costs more than the check (every call).
            if key in fields:
                parent = self._propagator.extract(dict(metadata))
                break
        if self._tracer is None:
            return trace.INVALID_SPAN
        # The SDK samples before it builds anything; an unsampled span is a bare id holder.
        span = self._tracer.start_span(
            method.name, context=parent, kind=SpanKind.SERVER, attributes=variant.attributes
        )
        if span.is_recording():
            _set_peer(span, context.peer())
        return span

    def _finish(
        self,
        span: Span,
        variant: _Variant,
        code: grpc.StatusCode,
        error: BaseException | None,
        started: float,
    ) -> None:
        if span.is_recording():
            span.set_attribute(attr.RPC_GRPC_STATUS_CODE, code.value[0])
            if code in _ERROR_CODES:
                if error is not None and not isinstance(error, aio.AbortError):
                    record_exception_type(span, error)
                span.set_status(StatusCode.ERROR)
            span.end()
        if self._metrics is not None:
            self._metrics.rpc_server_duration.record(
                time.perf_counter() - started, variant.metric_attributes[code]
            )

    def _unary(self, behaviour: Any, method: _Method) -> Any:
        async def handle(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            variant = method.variant(context)
            span = self._start(method, variant, context)
            token = context_api.attach(trace.set_span_in_context(span))
            error: BaseException | None = None
            try:
                return await behaviour(request, context)
            except BaseException as raised:
                error = raised
                raise
            finally:
                context_api.detach(token)
                self._finish(span, variant, _status(context, error), error, started)

        return handle

    def _streaming(self, behaviour: Any, method: _Method) -> Any:
        async def handle(
            request: Any, context: aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            started = time.perf_counter()
            variant = method.variant(context)
            span = self._start(method, variant, context)
            token = context_api.attach(trace.set_span_in_context(span))
            error: BaseException | None = None
            try:
                async for response in behaviour(request, context):
                    yield response
            except BaseException as raised:
                error = raised
                raise
            finally:
                context_api.detach(token)
                self._finish(span, variant, _status(context, error), error, started)

        return handle


def _status(context: aio.ServicerContext[Any, Any], error: BaseException | None) -> grpc.StatusCode:
    """The call's status: what the servicer set or aborted with, else what the error means."""
    # None until the servicer sets a code or aborts (grpc-stubs types it as always set).
    code: object = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


def _set_peer(span: Span, peer: str) -> None:
    """``network.peer.*`` from gRPC's peer string (``ipv4:127.0.0.1:5000``, ``ipv6:[::1]:5000``)."""
    kind, _, address = peer.partition(":")
    if kind not in ("ipv4", "ipv6"):
        return
    host, _, port = address.rpartition(":")
    if port.isdigit():
        span.set_attributes(
            {attr.NETWORK_PEER_ADDRESS: host.strip("[]"), attr.NETWORK_PEER_PORT: int(port)}
        )
