"""Registering a service from its descriptor, and refusing malformed requests to any service.

The generated ``add_*Servicer_to_server`` helpers are replaced by :func:`add_service`, which
builds the handlers from the service descriptor (and can serve chosen methods on the raw request
bytes, for services that parse them elsewhere).

When a client sends bytes that are not the request message, the parse error would escape into
gRPC, which answers UNKNOWN with a Python exception name. :class:`MalformedRequestInterceptor`
wraps every method of every service - ours and the standard Health and reflection ones - so
that a parse failure becomes a :class:`MalformedRequest` value, refused with INVALID_ARGUMENT
naming the message type and nothing of the bytes.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

import grpc
from google.protobuf import message_factory

from gateway.errors import GatewayError, InvalidArgumentError
from gateway.services.statuses import to_status
from gateway.store.feed import SerializedEvent
from gateway.wrapping import WrappedHandlers

__all__ = ["HandlerRegistry", "MalformedRequest", "MalformedRequestInterceptor", "add_service"]


class HandlerRegistry(Protocol):
    """Where services are registered: a ``grpc.aio.Server``, or anything that takes its
    generic handlers the same way (the HTTP listener's mirror, ``gateway.http.handlers``)."""

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Any) -> None:
        """Register the handlers."""


class MalformedRequest:
    """Stands in for a request message whose bytes could not be parsed."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def error(self) -> GatewayError | InvalidArgumentError:
        """The refusal for this request."""
        return InvalidArgumentError(f"the request is not a valid {self.type_name} message")


def add_service(
    server: HandlerRegistry,
    servicer: object,
    service: Any,
    raw: Mapping[str, Callable[..., Any]] | None = None,
) -> None:
    """Register ``servicer``'s methods for the service descriptor ``service`` on ``server``.

    Args:
        server: The server to register on.
        servicer: Has one method per method of the service, named as in the descriptor.
        service: The service descriptor.
        raw: Methods served instead by the given behaviour, which receives the request bytes as
            received and must refuse malformed ones itself (it may parse them elsewhere).
    """
    raw = raw or {}
    handlers = {}
    for method in service.methods:
        request_type = message_factory.GetMessageClass(method.input_type)
        response_type = message_factory.GetMessageClass(method.output_type)
        make_handler = _MAKERS[(method.client_streaming, method.server_streaming)]
        serialize = _serializer(response_type.SerializeToString)
        if method.name in raw:
            handlers[method.name] = make_handler(raw[method.name], response_serializer=serialize)
            continue
        handlers[method.name] = make_handler(
            getattr(servicer, method.name),
            request_deserializer=request_type.FromString,
            response_serializer=serialize,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),)
    )


def _serializer(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """``serialize``, passing a response serialized ahead (a Subscribe event, the same bytes
    for every subscriber) as it is."""

    def serialized(response: Any) -> bytes:
        if type(response) is SerializedEvent:
            return response.data
        return serialize(response)

    return serialized


class MalformedRequestInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Makes every handler refuse unparsable request bytes with INVALID_ARGUMENT.

    Installed innermost, so that the other interceptors (authorisation, audit, telemetry) see the
    call and its real outcome.
    """

    def __init__(self) -> None:
        self._wrapped = WrappedHandlers()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler  # unknown method, or one served on the raw bytes
        method: str = handler_call_details.method
        return self._wrapped.get(method, handler, lambda: _refusing_malformed(handler))


def _refusing_malformed(handler: Any) -> Any:
    deserialize = _lenient(handler.request_deserializer)
    serialize = handler.response_serializer
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(
            _unary_unary(handler.unary_unary), deserialize, serialize
        )
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            _unary_stream(handler.unary_stream), deserialize, serialize
        )
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            _stream_unary(handler.stream_unary), deserialize, serialize
        )
    return grpc.stream_stream_rpc_method_handler(
        _stream_stream(handler.stream_stream), deserialize, serialize
    )


def _lenient(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    # The message type is named after the deserializer's class (FromString is a class method).
    owner = getattr(deserialize, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    type_name = getattr(descriptor, "full_name", "request")

    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception:  # DecodeError, or whatever a foreign deserializer raises on garbage
            return MalformedRequest(type_name)

    return parse


async def _refuse(context: Any, request: MalformedRequest) -> None:
    # grpc-stubs lags behind grpc.aio, which has had abort_with_status since 1.38.
    await context.abort_with_status(to_status(request.error()))


def _unary_unary(behaviour: Any) -> Any:
    async def handle(request: Any, context: Any) -> Any:
        if isinstance(request, MalformedRequest):
            await _refuse(context, request)
        return await behaviour(request, context)

    return handle


def _unary_stream(behaviour: Any) -> Any:
    if not inspect.isasyncgenfunction(behaviour):
        # A coroutine that writes with context.write (grpc_health's Watch is one).
        return _unary_unary(behaviour)

    async def handle(request: Any, context: Any) -> AsyncIterator[Any]:
        if isinstance(request, MalformedRequest):
            await _refuse(context, request)
        async for response in behaviour(request, context):
            yield response

    return handle


def _checked(requests: AsyncIterator[Any], context: Any) -> AsyncIterator[Any]:
    """The request stream, ending the call at the first malformed message."""

    async def checked() -> AsyncIterator[Any]:
        async for request in requests:
            if isinstance(request, MalformedRequest):
                await _refuse(context, request)
            yield request

    return checked()


def _stream_unary(behaviour: Any) -> Any:
    async def handle(requests: AsyncIterator[Any], context: Any) -> Any:
        return await behaviour(_checked(requests, context), context)

    return handle


def _stream_stream(behaviour: Any) -> Any:
    async def handle(requests: AsyncIterator[Any], context: Any) -> AsyncIterator[Any]:
        async for response in behaviour(_checked(requests, context), context):
            yield response

    return handle


_MAKERS = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}
