"""At most N streaming calls at once per caller; more are refused with RESOURCE_EXHAUSTED.

Streams (SubmitStream, Search, Subscribe, and also Health/Watch and reflection) hold server
resources for their whole life; one caller opening hundreds of them must not starve the others.
Each verified identity has a count of its own, health and reflection included (authorisation
identifies their callers too); plaintext loopback callers, who have no identity to tell them
apart, share the ``local`` count. A refusal is audited. Unary calls are not counted: they are
bounded by their deadlines and the message size limit.
"""

from __future__ import annotations

import collections
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from gateway.audit.log import AuditLog
from gateway.security.authorization import current_caller
from gateway.security.policy import LOCAL_IDENTITY
from gateway.security.refusals import Refusals
from gateway.wrapping import WrappedHandlers, same_kind

__all__ = ["StreamLimitInterceptor"]


class StreamLimitInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts each caller's open streaming calls (runs after authorisation)."""

    def __init__(self, max_streams_per_caller: int, audit: AuditLog | None = None) -> None:
        self._limit = max_streams_per_caller
        self._refusals = Refusals(audit)
        self._open: collections.Counter[str] = collections.Counter()
        self._wrapped = WrappedHandlers()

    def open_streams(self, identity: str) -> int:
        """How many streaming calls ``identity`` has open now."""
        return self._open[identity]

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or not (handler.request_streaming or handler.response_streaming):
            return handler
        method: str = handler_call_details.method
        return self._wrapped.get(method, handler, lambda: self._counted(handler, method))

    def _counted(self, handler: Any, method: str) -> Any:
        # Only streaming calls come here; a unary response is counted as a coroutine.
        def counted(inner: Any) -> Any:
            if handler.unary_stream or handler.stream_stream:
                return self._counted_stream(inner, method)
            return self._counted_unary(inner, method)

        return same_kind(handler, counted)

    async def _enter(self, context: Any, method: str) -> str:
        caller = current_caller()
        identity = caller.identity if caller is not None else LOCAL_IDENTITY
        if self._open[identity] >= self._limit:
            await self._refusals.record(identity, method, "stream-limit", limit=self._limit)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"at most {self._limit} streaming calls at once per caller; wait for one to end",
            )
        self._open[identity] += 1
        return identity

    def _leave(self, identity: str) -> None:
        self._open[identity] -= 1
        if self._open[identity] <= 0:
            del self._open[identity]

    def _counted_stream(self, inner: Any, method: str) -> Any:
        if not inspect.isasyncgenfunction(inner):
            # A streaming behaviour may also be a coroutine that writes with context.write
            # (grpc_health's Watch does): count it the same way.
            return self._counted_unary(inner, method)

        async def behaviour(request: Any, context: Any) -> AsyncIterator[Any]:
            identity = await self._enter(context, method)
            try:
                async for response in inner(request, context):
                    yield response
            finally:
                self._leave(identity)

        return behaviour

    def _counted_unary(self, inner: Any, method: str) -> Any:
        async def behaviour(requests: Any, context: Any) -> Any:
            identity = await self._enter(context, method)
            try:
                return await inner(requests, context)
            finally:
                self._leave(identity)

        return behaviour
