"""Handlers wrapped once per method, for server interceptors.

An interceptor gets the handler of the interceptor inside it and returns its own, wrapped; gRPC
(and the HTTP listener's :class:`~gateway.http.calls.Calls`) asks for it on every call. An
interceptor that wrapped on every call would hand a new handler per call to the interceptor
outside it, and the telemetry interceptor - which keeps each handler's wrapping to build it only
once - would keep one per call, never freed. So each interceptor keeps the wrapping of the
handler it last saw per method and returns that same object while the inner handler is the
same: the whole chain then hands out one handler per method, and every cache stays as small as
the set of methods served (unknown methods have no handler and are never kept).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

__all__ = ["WrappedHandlers", "same_kind"]


class WrappedHandlers:
    """One interceptor's wrapped handlers, one per method."""

    __slots__ = ("_by_method",)

    def __init__(self) -> None:
        self._by_method: dict[str, tuple[Any, Any]] = {}

    def get(self, method: str, handler: Any, wrap: Callable[[], Any]) -> Any:
        """The wrapping of ``handler`` for ``method``: built by ``wrap`` the first time, or when
        the inner handler changed (it is held, so identity is a sound test), then reused."""
        kept = self._by_method.get(method)
        if kept is not None and kept[0] is handler:
            return kept[1]
        wrapped = wrap()
        self._by_method[method] = (handler, wrapped)
        return wrapped

    def clear(self) -> None:
        """Forget every wrapping (what they were built from has changed)."""
        self._by_method.clear()

    def __len__(self) -> int:
        return len(self._by_method)


def same_kind(handler: Any, behaviour: Callable[[Any], Any]) -> Any:
    """A handler of ``handler``'s kind (unary or streaming request and response), with its
    (de)serializers, whose behaviour is ``behaviour(inner)`` of ``handler``'s behaviour."""
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(
            behaviour(handler.unary_unary),
            handler.request_deserializer,
            handler.response_serializer,
        )
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            behaviour(handler.unary_stream),
            handler.request_deserializer,
            handler.response_serializer,
        )
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            behaviour(handler.stream_unary),
            handler.request_deserializer,
            handler.response_serializer,
        )
    return grpc.stream_stream_rpc_method_handler(
        behaviour(handler.stream_stream),
        handler.request_deserializer,
        handler.response_serializer,
    )
