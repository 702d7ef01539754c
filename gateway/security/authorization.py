"""Authorisation of every RPC: the verified caller, the policy, and an audited refusal.

``AuthorizationInterceptor`` wraps each method handler so that, before the service code runs, the
caller's identity is read from the verified TLS session, checked against the ``Policy``, and
either made available to the service (``current_caller()``) or refused with PERMISSION_DENIED
and an audit entry. Health checks and reflection are exempt: they reveal no records, and
monitoring must reach them (TLS still applies to them).
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from gateway.audit.log import AuditLog
from gateway.security.policy import LOCAL_IDENTITY, Policy
from gateway.security.tls import caller_identity

__all__ = ["AuthorizationInterceptor", "Caller", "current_caller"]

EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as verified."""

    identity: str
    """``urn:liaison:client:...``, ``urn:liaison:centre:...`` or ``local``."""
    centre: str
    """The centre the caller reads for (releasability is checked against it)."""


_CALLER: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "liaison_caller", default=None
)


def current_caller() -> Caller | None:
    """The caller of the RPC being served; ``None`` when no policy is configured."""
    return _CALLER.get()


class AuthorizationInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses calls the policy does not grant; records who called for the services."""

    def __init__(self, policy: Policy, local_centre: str, audit: AuditLog | None = None) -> None:
        self._policy = policy
        self._local_centre = local_centre
        self._audit = audit

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(EXEMPT_PREFIXES):
            return handler
        return _wrap(handler, lambda context: self._admit(context, method))

    async def _admit(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
        identity = caller_identity(context)
        if not self._policy.allows(identity, method):
            if self._audit is not None:
                await self._audit.append(
                    actor=identity or "(no identity)",
                    action="deny",
                    outcome="denied",
                    detail={"method": method, "reason": "policy"},
                )
            shown = identity or "a certificate without a Liaison identity"
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{shown} may not call {method}")
        centre = (
            self._local_centre
            if identity == LOCAL_IDENTITY
            else self._policy.centre_of(identity, self._local_centre)
        )
        _CALLER.set(Caller(identity, centre))


Admit = Callable[[Any], Awaitable[None]]


def _wrap(handler: Any, admit: Admit) -> Any:
    # The aio handlers' behaviours are coroutines and async generators, which grpc-stubs does not
    # describe: typed as Any here, checked by the tests of all four call shapes.
    if handler.unary_unary:
        inner_uu = handler.unary_unary

        async def unary_unary(request: Any, context: Any) -> Any:
            await admit(context)
            return await inner_uu(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream and not inspect.isasyncgenfunction(handler.unary_stream):
        # A coroutine that writes with context.write (grpc_health's Watch is one).
        inner_uc = handler.unary_stream

        async def unary_stream_writer(request: Any, context: Any) -> Any:
            await admit(context)
            return await inner_uc(request, context)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream_writer, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        inner_us = handler.unary_stream

        async def unary_stream(request: Any, context: Any) -> AsyncIterator[Any]:
            await admit(context)
            async for response in inner_us(request, context):
                yield response

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )
    if handler.stream_unary:
        inner_su = handler.stream_unary

        async def stream_unary(requests: Any, context: Any) -> Any:
            await admit(context)
            return await inner_su(requests, context)

        return grpc.stream_unary_rpc_method_handler(
            stream_unary, handler.request_deserializer, handler.response_serializer
        )
    inner_ss = handler.stream_stream

    async def stream_stream(requests: Any, context: Any) -> AsyncIterator[Any]:
        await admit(context)
        async for response in inner_ss(requests, context):
            yield response

    return grpc.stream_stream_rpc_method_handler(
        stream_stream, handler.request_deserializer, handler.response_serializer
    )
