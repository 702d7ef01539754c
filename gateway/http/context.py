"""The servicer context of a call that came over HTTP.

The interceptors and services were written against :class:`grpc.aio.ServicerContext`; this
class offers the part of it they use, with the same meaning, so that they run unchanged:

* ``auth_context()`` is what gRPC reports for the same connection: ``transport_security_type``
  ``ssl`` and the verified client certificate (``x509_pem_cert``) under mutual TLS, nothing on
  plaintext loopback - so :func:`gateway.security.tls.caller_identity` finds the same identity,
  or ``local``, exactly as over gRPC;
* ``abort`` and ``abort_with_status`` record the status and raise :class:`grpc.aio.AbortError`,
  as grpc.aio does, so the guard and telemetry read the outcome with ``code()``;
* ``time_remaining()`` counts down from the ``Connect-Timeout-Ms`` (or gRPC-Web's
  ``grpc-timeout``) header;
* ``wire_protocol`` says how the caller spoke, for telemetry (:mod:`gateway.telemetry.protocols`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import grpc
from grpc import aio

from gateway.telemetry.protocols import CONNECT, OverHttp, WireProtocol

__all__ = ["HttpContext"]


class HttpContext(OverHttp):
    """One HTTP call, seen as a gRPC servicer context."""

    def __init__(
        self,
        *,
        peer: str,
        tls: bool,
        certificate: bytes | None,
        metadata: Sequence[tuple[str, str]],
        timeout_seconds: float | None,
        protocol: WireProtocol = CONNECT,
    ) -> None:
        """Args:
        peer: The client address in gRPC's form (``ipv4:127.0.0.1:5000``).
        tls: Whether the connection is TLS.
        certificate: The client certificate the TLS handshake verified (PEM), if any.
        metadata: The request headers that stand for gRPC metadata (trace context).
        timeout_seconds: The call's deadline from now, if the client set one.
        protocol: How the caller spoke (telemetry describes the call by it).
        """
        self.wire_protocol = protocol
        self._peer = peer
        self._auth: dict[str, list[bytes]] = {}
        if tls:
            self._auth["transport_security_type"] = [b"ssl"]
            self._auth["x509_pem_cert"] = [] if certificate is None else [certificate]
        self._metadata = tuple(metadata)
        self._deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        self._code: grpc.StatusCode | None = None
        self._details = ""
        self._trailing: tuple[tuple[str, str | bytes], ...] = ()

    # -- what the interceptors and services read --------------------------------------------

    def auth_context(self) -> dict[str, list[bytes]]:
        """The verified transport properties, as gRPC names them."""
        return self._auth

    def peer(self) -> str:
        """The client's address."""
        return self._peer

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        """The request's metadata (trace context headers)."""
        return self._metadata

    def time_remaining(self) -> float | None:
        """Seconds left before the deadline; ``None`` without one."""
        if self._deadline is None:
            return None
        return max(self._deadline - time.monotonic(), 0.0)

    def cancelled(self) -> bool:
        """Whether the call was cancelled (an HTTP call is cancelled by cancelling its task)."""
        return False

    def code(self) -> grpc.StatusCode | None:
        """The status set or aborted with; ``None`` before either."""
        return self._code

    def details(self) -> str:
        """The status message."""
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        """The trailing metadata (``grpc-status-details-bin`` of a rich status)."""
        return self._trailing

    # -- what they set ---------------------------------------------------------------------

    def set_code(self, code: grpc.StatusCode) -> None:
        """Set the call's status."""
        self._code = code

    def set_details(self, details: str) -> None:
        """Set the status message."""
        self._details = details

    def set_trailing_metadata(self, metadata: Sequence[tuple[str, str | bytes]]) -> None:
        """Set the trailing metadata."""
        self._trailing = tuple(metadata)

    async def send_initial_metadata(self, metadata: Any) -> None:
        """Headers are sent with the first response; nothing to do ahead of it."""

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Sequence[tuple[str, str | bytes]] = (),
    ) -> None:
        """End the call with ``code``: raises :class:`grpc.aio.AbortError`, as grpc.aio does."""
        self._code = code
        self._details = details
        self._trailing = tuple(trailing_metadata)
        raise aio.AbortError(f"aborted with {code.name}")

    async def abort_with_status(self, status: grpc.Status) -> None:
        """End the call with a rich status (its details travel in the trailing metadata)."""
        await self.abort(status.code, status.details, status.trailing_metadata)
