"""Authorisation of every RPC: the verified caller, the policy, and an audited refusal.

``AuthorizationInterceptor`` wraps each method handler so that, before the service code runs, the
caller's identity is read from the verified TLS session, checked against the ``Policy``, and
either made available to the service (``current_caller()``) or refused - and every refusal is
audited:

* a certificate that names no valid identity: UNAUTHENTICATED, on every call (a TLS handshake
  cannot be refused from Python, see :mod:`gateway.security.tls`);
* a call the policy does not allow: PERMISSION_DENIED (the Federation service only for peer
  centres, see :mod:`gateway.security.policy`);
* a method the server does not have: UNIMPLEMENTED (``UnknownMethodInterceptor``, which goes
  outside every other interceptor), audited with the method name made printable and truncated,
  since the caller chose it.

Refusals are appended through :class:`~gateway.security.refusals.Refusals`.

Health checks and reflection need no grant - they reveal no records and monitoring must reach
them - but their callers are identified like any other (so the stream limit counts them per
identity, :mod:`gateway.security.limits`), and a certificate without an identity is refused there
too.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from gateway.audit.log import AuditLog
from gateway.security.identity import IdentityKind, parse_identity
from gateway.security.policy import FEDERATION_SERVICE_NAME, Policy
from gateway.security.refusals import Refusals, audit_text
from gateway.wrapping import WrappedHandlers

__all__ = ["AuthorizationInterceptor", "Caller", "UnknownMethodInterceptor", "current_caller"]

OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Methods callable without a grant (by any caller with a valid identity)."""

_FEDERATION_PREFIX = f"/{FEDERATION_SERVICE_NAME}/"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as verified.

    Raises:
        ValueError: ``identity`` is not a valid identity.
    """

    identity: str
    """``urn:liaison:client:...``, ``urn:liaison:centre:...`` or ``local``."""
    centre: str
    """The centre the caller reads for in this call (releasability is checked against it)."""
    kind: IdentityKind = field(init=False)
    """``centre`` (a peer centre), ``client`` (an agency service) or ``local`` (plaintext on
    loopback), from ``identity``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", parse_identity(self.identity).kind)


_CALLER: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "liaison_caller", default=None
)


def current_caller() -> Caller | None:
    """The caller of the RPC being served; ``None`` when no authorisation runs (plaintext on
    loopback without an audit log: every caller is then ``local``)."""
    return _CALLER.get()


class AuthorizationInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses calls the policy does not grant; records who called for the services."""

    def __init__(self, policy: Policy, local_centre: str, audit: AuditLog | None = None) -> None:
        self._policy = policy
        self._local_centre = local_centre
        self._refusals = Refusals(audit)
        self._wrapped = WrappedHandlers()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None:
            return None  # UnknownMethodInterceptor, outermost, answers it
        # Wrapped once per method: the admission depends on the call's context only.
        return self._wrapped.get(
            method, handler, lambda: _wrap(handler, lambda context: self._admit(context, method))
        )

    async def _admit(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
        identity = await self._refusals.identify(context, method)
        admission = self._policy.admit(identity.uri, method)
        if admission is None and not method.startswith(OPEN_PREFIXES):
            federation = method.startswith(_FEDERATION_PREFIX) and identity.kind != "local"
            await self._refusals.record(
                identity.uri, method, "not-a-peer" if federation else "policy"
            )
            reason = ": only peer centres call the Federation service" if federation else ""
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{identity.uri} may not call {method}{reason}"
            )
        if identity.kind == "centre":
            centre = identity.name
        elif admission is not None and admission.acts_for:
            centre = admission.acts_for
        else:
            centre = self._local_centre
        _CALLER.set(Caller(identity.uri, centre))


class UnknownMethodInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Answers a method the server does not have with UNIMPLEMENTED, audited with the caller's
    identity (a caller without one is refused as such).

    It must be the outermost interceptor: the refusal handler is made for each call (it names
    the method), and an interceptor outside it - telemetry - would otherwise see, and keep, a new
    handler and an attacker-chosen method name per call.
    """

    def __init__(self, audit: AuditLog | None) -> None:
        self._refusals = Refusals(audit)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is not None:
            return handler
        method: str = handler_call_details.method
        refusals = self._refusals

        async def refuse(requests: Any, context: Any) -> None:
            identity = await refusals.identify(context, method)
            await refusals.record(identity.uri, method, "unknown-method")
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED, f"unknown method {audit_text(method)}"
            )

        # Whatever shape the caller meant, the refusal is the same: no request is read.
        return grpc.stream_stream_rpc_method_handler(refuse)


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
