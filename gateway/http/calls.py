"""HTTP calls through the gRPC server's own interceptors, to the same handlers.

A call is resolved as grpc.aio resolves one: each interceptor of the gateway's chain (the
audited refusal of unknown methods, telemetry, authorisation, the stream limit, the record guard,
the refusal of malformed requests - ``Gateway._interceptors``) is given the method and a
continuation to the next, and the innermost continuation finds the handler in the
:class:`~gateway.http.handlers.HandlerTable`. The handler that comes back is invoked with an
:class:`~gateway.http.context.HttpContext`. Nothing here decides who may call what: the policy
runs in the interceptors and services, in the same order as for gRPC, and a method the chain
does not know is refused (and audited) by it.

Requests arrive parsed (from JSON or protobuf); methods the gateway serves on raw bytes (Submit,
SubmitStream) get the message's bytes, as over gRPC. A request that could not be parsed travels
as a :class:`MalformedJson` and is refused, innermost, with INVALID_ARGUMENT - after identity,
grants and the guard have seen the call, as over gRPC.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from gateway.errors import GatewayError, InvalidArgumentError
from gateway.http.context import HttpContext
from gateway.http.handlers import HandlerTable
from gateway.services.registration import MalformedRequest
from gateway.services.statuses import to_status

__all__ = ["NOT_OVER_HTTP", "Calls", "MalformedJson", "Method", "RefusedBody"]

NOT_OVER_HTTP: dict[str, str] = {
    "/grpc.health.v1.Health/Watch": (
        "a gRPC server stream written with context.write; HTTP monitors poll Health/Check"
    ),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": (
        "a bidirectional stream, which HTTP/1.1 cannot carry; /openapi.json describes the API"
    ),
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": (
        "a bidirectional stream, which HTTP/1.1 cannot carry; /openapi.json describes the API"
    ),
}
"""Methods the gRPC server serves that the HTTP listener does not, and why. Called over HTTP
they are unknown methods: refused UNIMPLEMENTED and audited by the same interceptor."""

_MAX_PARSE_MESSAGE = 300


class MalformedJson(MalformedRequest):
    """A request body that is not the method's request message in JSON (or protobuf)."""

    __slots__ = ("reason",)

    def __init__(self, type_name: str, reason: str) -> None:
        super().__init__(type_name)
        self.reason = reason[:_MAX_PARSE_MESSAGE]

    def error(self) -> InvalidArgumentError:
        """The refusal, saying what the parser found wrong."""
        return InvalidArgumentError(f"the request is not a valid {self.type_name}: {self.reason}")


class RefusedBody(MalformedRequest):
    """A request body refused before any message could be read from it (gRPC-Web framing:
    a cut frame, one over the limit, a compressed one), with the status that says why. Like a
    :class:`MalformedJson`, it travels through the interceptors and is refused innermost."""

    __slots__ = ("refusal",)

    def __init__(self, type_name: str, refusal: GatewayError | InvalidArgumentError) -> None:
        super().__init__(type_name)
        self.refusal = refusal

    def error(self) -> GatewayError | InvalidArgumentError:
        """The refusal."""
        return self.refusal


@dataclass(frozen=True, slots=True)
class Method:
    """A method served over HTTP, from its descriptor."""

    path: str
    """``/package.Service/Method``."""
    descriptor: MethodDescriptor
    request_type: type[Message]
    response_type: type[Message]

    @property
    def client_streaming(self) -> bool:
        """Whether the client sends a stream of messages."""
        return bool(self.descriptor.client_streaming)

    @property
    def server_streaming(self) -> bool:
        """Whether the server answers with a stream of messages."""
        return bool(self.descriptor.server_streaming)

    @property
    def over_grpc_web(self) -> bool:
        """Whether gRPC-Web serves it: unary methods and server streams. A browser cannot
        stream a request, so a client stream over gRPC-Web is refused UNIMPLEMENTED (after the
        policy has seen the call); Connect streaming and NDJSON carry it."""
        return not self.client_streaming


class _Details(grpc.HandlerCallDetails):
    def __init__(self, method: str, metadata: Sequence[tuple[str, str]]) -> None:
        self.method = method
        self.invocation_metadata = tuple(metadata)


Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Any]]


class Calls:
    """Resolves and invokes HTTP calls through the gateway's interceptor chain."""

    def __init__(self, table: HandlerTable, interceptors: Sequence[Any]) -> None:
        """Args:
        table: The handlers the gRPC server has (mirrored at registration).
        interceptors: The gRPC server's interceptors, outermost first - the same instances.
        """
        self._table = table
        self._interceptors = tuple(interceptors)
        self._methods: dict[str, Method | None] = {}
        self._innermost: dict[str, Any] = {}

    @property
    def interceptors(self) -> tuple[Any, ...]:
        """The gRPC server's interceptors, outermost first (the same instances)."""
        return self._interceptors

    def method(self, path: str) -> Method | None:
        """The method ``path`` names if the HTTP listener serves it, else ``None``."""
        if path not in self._methods:
            self._methods[path] = self._describe(path)
        return self._methods[path]

    def methods(self) -> list[Method]:
        """Every method served over HTTP (the services registered, less :data:`NOT_OVER_HTTP`)."""
        return [m for m in map(self.method, self._table.paths()) if m is not None]

    def registered(self) -> list[str]:
        """Every method registered on the gRPC server through the mirror."""
        return self._table.paths()

    def _describe(self, path: str) -> Method | None:
        if path in NOT_OVER_HTTP or self._table.lookup(path) is None:
            return None
        service, _, name = path.lstrip("/").partition("/")
        try:
            found = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]
        except KeyError:
            return None
        if found.client_streaming and found.server_streaming:
            return None
        return Method(
            path,
            found,
            message_factory.GetMessageClass(found.input_type),
            message_factory.GetMessageClass(found.output_type),
        )

    # -- resolution ------------------------------------------------------------------------

    async def _resolve(self, path: str, context: HttpContext) -> Any:
        details = _Details(path, context.invocation_metadata())
        interceptors = self._interceptors

        async def at(index: int, call: grpc.HandlerCallDetails) -> Any:
            if index == len(interceptors):
                return self._bottom(call.method)
            return await interceptors[index].intercept_service(
                functools.partial(at, index + 1), call
            )

        return await at(0, details)

    def _bottom(self, path: str) -> Any:
        """The registered handler, with malformed requests refused for methods served on raw
        bytes (the others are refused by ``MalformedRequestInterceptor``); built once per method,
        so that interceptors caching per handler (telemetry) see one handler per method."""
        if self.method(path) is None:
            return None
        if path not in self._innermost:
            self._innermost[path] = _refusing_malformed(self._table.lookup(path))
        return self._innermost[path]

    # -- invocation ------------------------------------------------------------------------

    async def unary(self, path: str, request: Any, context: HttpContext) -> Message | None:
        """Call a unary (or client-streaming, given an async iterator) method; ``None`` when the
        call ended with a status (read it from ``context``)."""
        handler = await self._resolve(path, context)
        if handler is None:
            await _unknown(path, context)
            return None
        method = self.method(path)
        response: Any = None
        try:
            async with _deadline(context):
                if handler.unary_unary is not None:
                    response = await handler.unary_unary(_as_received(handler, request), context)
                elif handler.stream_unary is not None:
                    response = await handler.stream_unary(
                        _each_as_received(handler, request), context
                    )
                else:
                    # A refusal handler of another shape (an unknown method): it aborts.
                    await _drain(handler, context)
                    return None
        except aio_abort_errors:
            return None
        if response is None:
            return None  # the deadline expired before the handler answered (DEADLINE_EXCEEDED)
        assert method is not None
        return _message(handler, method, response)

    async def stream(self, path: str, request: Any, context: HttpContext) -> AsyncIterator[Message]:
        """Call a server-streaming method: its responses; ends quietly when the call ended with
        a status (read it from ``context``; a status set mid-stream is the stream's end)."""
        handler = await self._resolve(path, context)
        if handler is None:
            await _unknown(path, context)
            return
        method = self.method(path)
        if handler.unary_stream is None or method is None:
            await _drain(handler, context)
            return
        try:
            async with _deadline(context):
                async for response in handler.unary_stream(_as_received(handler, request), context):
                    yield _message(handler, method, response)
        except aio_abort_errors:
            return


aio_abort_errors = (grpc.aio.AbortError,)


async def _unknown(path: str, context: HttpContext) -> None:
    """An unknown method when no interceptor answers it (plaintext without an audit log)."""
    context.set_code(grpc.StatusCode.UNIMPLEMENTED)
    context.set_details(f"unknown method {path[:128]!r} over HTTP")


async def _drain(handler: Any, context: HttpContext) -> None:
    """Run a refusal handler of any shape (it aborts)."""
    behaviour = (
        handler.stream_stream or handler.unary_stream or handler.stream_unary
    ) or handler.unary_unary
    try:
        outcome = behaviour(_no_requests(), context)
        if inspect.isasyncgen(outcome):
            async for _ in outcome:
                pass
        elif inspect.isawaitable(outcome):
            await outcome
    except aio_abort_errors:
        return


async def _no_requests() -> AsyncIterator[Any]:
    return
    yield  # pragma: no cover - makes this an async generator


class _deadline:
    """Cancels the call at the client's deadline and reports DEADLINE_EXCEEDED."""

    def __init__(self, context: HttpContext) -> None:
        self._context = context
        remaining = context.time_remaining()
        self._timeout = asyncio.timeout(remaining) if remaining is not None else None

    async def __aenter__(self) -> None:
        if self._timeout is not None:
            await self._timeout.__aenter__()

    async def __aexit__(self, kind: Any, error: Any, traceback: Any) -> bool:
        if self._timeout is None:
            return False
        try:
            await self._timeout.__aexit__(kind, error, traceback)
        except TimeoutError:
            self._context.set_code(grpc.StatusCode.DEADLINE_EXCEEDED)
            self._context.set_details(
                "the call's deadline (Connect-Timeout-Ms or grpc-timeout) expired"
            )
            return True
        return False


def _as_received(handler: Any, request: Any) -> Any:
    """The request as the handler takes it: the message, or its bytes for a raw method."""
    if handler.request_deserializer is None and isinstance(request, Message):
        return request.SerializeToString()
    return request


async def _each_as_received(handler: Any, requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield _as_received(handler, request)


def _message(handler: Any, method: Method, response: Any) -> Message:
    """The response as a message (a Subscribe event may come serialized ahead)."""
    if isinstance(response, Message):
        return response
    return method.response_type.FromString(handler.response_serializer(response))


def _refusing_malformed(handler: Any) -> Any:
    if handler is None or handler.request_deserializer is not None:
        return handler
    serialize = handler.response_serializer
    if handler.unary_unary is not None:
        inner = handler.unary_unary

        async def unary(request: Any, context: Any) -> Any:
            if isinstance(request, MalformedRequest):
                await context.abort_with_status(to_status(request.error()))
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(unary, None, serialize)
    if handler.stream_unary is not None:
        inner_su = handler.stream_unary

        async def stream_unary(requests: AsyncIterator[Any], context: Any) -> Any:
            async def checked() -> AsyncIterator[Any]:
                async for request in requests:
                    if isinstance(request, MalformedRequest):
                        await context.abort_with_status(to_status(request.error()))
                    yield request

            return await inner_su(checked(), context)

        return grpc.stream_unary_rpc_method_handler(stream_unary, None, serialize)
    return handler
