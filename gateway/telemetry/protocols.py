"""The wire protocol a call arrived in, for the telemetry of calls that came over HTTP.

The HTTP listener runs its calls through the gRPC server's telemetry interceptor (decision
0020), so without more its spans and metrics would say ``rpc.system`` ``grpc`` whatever the
caller spoke. A servicer context that is an :class:`OverHttp` names its :class:`WireProtocol`,
and the interceptor describes the call by it: ``rpc.system`` as the semantic conventions name
the system (``connect_rpc`` for Connect, ``grpc`` for gRPC-Web, which is gRPC's own protocol),
``network.protocol.name`` ``http`` and its version, and ``liaison.rpc.protocol``, the exact
form (``connect``, ``grpc-web``, ...). Native gRPC calls carry none of these three additions:
their contexts are grpc.aio's. Every value is one of the constants below - never data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "CONNECT",
    "GRPC_WEB",
    "GRPC_WEB_TEXT",
    "HTTP_PROTOCOLS",
    "NDJSON",
    "SSE",
    "OverHttp",
    "WireProtocol",
]


@dataclass(frozen=True, slots=True)
class WireProtocol:
    """One way of calling an RPC over HTTP."""

    name: str
    """``liaison.rpc.protocol``: the exact form (docs/operations.md lists them)."""
    rpc_system: str
    """``rpc.system``, a value of the semantic conventions' list."""
    http_version: str = "1.1"
    """``network.protocol.version`` (the listener speaks HTTP/1.1)."""


CONNECT: Final = WireProtocol("connect", "connect_rpc")
"""The Connect protocol: unary JSON or protobuf, and Connect streaming envelopes."""
NDJSON: Final = WireProtocol("ndjson", "connect_rpc")
"""A server stream asked for as plain JSON, or a client stream sent as NDJSON: the Connect
handler's JSON forms (Connect's error body), counted with Connect."""
SSE: Final = WireProtocol("sse", "connect_rpc")
"""A server stream as Server-Sent Events (``GET``), also the Connect handler's."""
GRPC_WEB: Final = WireProtocol("grpc-web", "grpc")
"""gRPC-Web, binary (``application/grpc-web+proto``)."""
GRPC_WEB_TEXT: Final = WireProtocol("grpc-web-text", "grpc")
"""gRPC-Web, base64 (``application/grpc-web-text``)."""

HTTP_PROTOCOLS: Final = (CONNECT, NDJSON, SSE, GRPC_WEB, GRPC_WEB_TEXT)
"""Every protocol served over HTTP."""


class OverHttp:
    """A servicer context of a call that came over HTTP, naming its wire protocol."""

    __slots__ = ()

    wire_protocol: WireProtocol
    """How the caller spoke."""
