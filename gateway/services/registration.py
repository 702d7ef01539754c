"""Registering a service so that a malformed request is INVALID_ARGUMENT, not UNKNOWN.

The generated ``add_*Servicer_to_server`` helpers deserialize with ``FromString``; when a client
sends bytes that are not the request message, the parse error escapes into gRPC, which answers
UNKNOWN with a Python exception name. Here the handlers are built from the service descriptor
instead, with a deserializer that turns a parse failure into a :class:`MalformedRequest` value
that the wrapped method refuses with INVALID_ARGUMENT, naming the message type and nothing of the
bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.message import DecodeError

from gateway.errors import InvalidArgumentError, abort

__all__ = ["MalformedRequest", "add_service"]


class MalformedRequest:
    """Stands in for a request message whose bytes could not be parsed."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def error(self) -> InvalidArgumentError:
        """The refusal for this request."""
        return InvalidArgumentError(f"the request is not a valid {self.type_name} message")


def add_service(
    server: grpc.aio.Server,
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
        make_handler, wrapped = _HANDLERS[(method.client_streaming, method.server_streaming)]
        if method.name in raw:
            handlers[method.name] = make_handler(
                raw[method.name], response_serializer=response_type.SerializeToString
            )
            continue
        handlers[method.name] = make_handler(
            wrapped(getattr(servicer, method.name)),
            request_deserializer=_lenient(request_type),
            response_serializer=response_type.SerializeToString,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),)
    )


def _lenient(request_type: Any) -> Callable[[bytes], Any]:
    type_name = request_type.DESCRIPTOR.full_name

    def deserialize(data: bytes) -> Any:
        try:
            return request_type.FromString(data)
        except DecodeError:
            return MalformedRequest(type_name)

    return deserialize


def _unary_unary(behaviour: Any) -> Any:
    async def handle(request: Any, context: Any) -> Any:
        if isinstance(request, MalformedRequest):
            await abort(context, request.error())
        return await behaviour(request, context)

    return handle


def _unary_stream(behaviour: Any) -> Any:
    async def handle(request: Any, context: Any) -> AsyncIterator[Any]:
        if isinstance(request, MalformedRequest):
            await abort(context, request.error())
        async for response in behaviour(request, context):
            yield response

    return handle


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The request stream, raising the refusal at the first malformed message; the service
    method maps it to its status like any other refusal."""
    async for request in requests:
        if isinstance(request, MalformedRequest):
            raise request.error()
        yield request


def _stream_unary(behaviour: Any) -> Any:
    async def handle(requests: AsyncIterator[Any], context: Any) -> Any:
        return await behaviour(_checked(requests), context)

    return handle


def _stream_stream(behaviour: Any) -> Any:
    async def handle(requests: AsyncIterator[Any], context: Any) -> AsyncIterator[Any]:
        async for response in behaviour(_checked(requests), context):
            yield response

    return handle


_HANDLERS = {
    (False, False): (grpc.unary_unary_rpc_method_handler, _unary_unary),
    (False, True): (grpc.unary_stream_rpc_method_handler, _unary_stream),
    (True, False): (grpc.stream_unary_rpc_method_handler, _stream_unary),
    (True, True): (grpc.stream_stream_rpc_method_handler, _stream_stream),
}
