"""The method handlers the HTTP listener serves: the very ones the gRPC server has.

The services register through :func:`gateway.services.registration.add_service` (and grpc_health
through its generated helper), which only call ``add_generic_rpc_handlers`` on what they are
given. :class:`Mirror` hands each registration to the gRPC server and to a
:class:`HandlerTable`, so HTTP calls reach the same handler objects, wrapped by the same
interceptors (:mod:`gateway.http.calls`), and a service added to the gRPC server cannot be
missing, or different, over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import grpc

__all__ = ["HandlerTable", "Mirror"]


class _Details(grpc.HandlerCallDetails):
    """What a generic handler is asked: the method path (no metadata is needed to find it)."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


class HandlerTable:
    """The handlers of every service registered on it, found by method path."""

    def __init__(self) -> None:
        self._generic: list[Any] = []
        self._registered: dict[str, Any] = {}

    def add_generic_rpc_handlers(self, handlers: Iterable[Any]) -> None:
        """Keep ``handlers`` (the registration call of :class:`grpc.aio.Server`)."""
        self._generic.extend(handlers)

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, Any]
    ) -> None:
        """Keep per-method handlers (how newer generated helpers register)."""
        for name, handler in method_handlers.items():
            self._registered[f"/{service_name}/{name}"] = handler

    def paths(self) -> list[str]:
        """Every method path registered, in registration order."""
        found = list(self._registered)
        for generic in self._generic:
            # grpc.method_handlers_generic_handler keeps its methods in _method_handlers.
            found.extend(getattr(generic, "_method_handlers", {}))
        return found

    def lookup(self, method: str) -> Any:
        """The handler of ``method`` (``/package.Service/Method``), or ``None``."""
        handler = self._registered.get(method)
        if handler is not None:
            return handler
        details = _Details(method)
        for generic in self._generic:
            found = generic.service(details)
            if found is not None:
                return found
        return None


class Mirror:
    """Registers on the gRPC server and on the HTTP handler table at once."""

    def __init__(self, server: grpc.aio.Server, table: HandlerTable) -> None:
        self._server = server
        self._table = table

    def add_generic_rpc_handlers(self, handlers: Iterable[Any]) -> None:
        """Register ``handlers`` on both."""
        handlers = tuple(handlers)
        self._server.add_generic_rpc_handlers(handlers)
        self._table.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, Any]
    ) -> None:
        """Register per-method handlers on both."""
        self._server.add_registered_method_handlers(  # type: ignore[attr-defined]
            service_name, method_handlers
        )
        self._table.add_registered_method_handlers(service_name, method_handlers)
