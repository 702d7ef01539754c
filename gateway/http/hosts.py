"""The Host check of a plaintext loopback listener: the defence against DNS rebinding.

Without TLS, every caller of the HTTP listener is the local operator (as over gRPC on loopback).
A web page from anywhere can make a browser on the operator's machine send requests to a host
name the page's owner controls and has re-pointed at 127.0.0.1: the browser then treats the
listener as that page's own origin, and the page could read hits, threads and deliveries as the
local operator. Such requests still carry the page's host name in ``Host``, so only requests
naming a loopback address (``127.0.0.1``, ``localhost``, ``[::1]``, with or without the port)
are served; anything else is refused with 403 before it reaches the console or the API. Over
mutual TLS the client certificate, not the address, is the identity, and no check is needed.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LOOPBACK_HOST_NAMES", "LoopbackHostGuard"]

LOOPBACK_HOST_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""Host names (without port) a plaintext loopback listener answers to."""

_REFUSAL = json.dumps(
    {
        "code": "permission_denied",
        "message": "this listener answers only requests addressed to a loopback host "
        "(127.0.0.1, localhost or [::1]); the Host header named another",
    }
).encode()


def _host_of(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return bytes(value).decode("latin-1").strip().lower()
    return None


def _names_loopback(host: str, port: int) -> bool:
    if host.startswith("["):
        bracketed, _, rest = host.partition("]")
        name = bracketed + "]"
        if rest and not rest.startswith(":"):
            return False
        given_port = rest[1:]
    else:
        name, _, given_port = host.partition(":")
    if given_port and given_port != str(port):
        return False
    return name in LOOPBACK_HOST_NAMES


class LoopbackHostGuard:
    """Serves ``app`` only to requests whose ``Host`` names a loopback address."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        """Args:
        app: The application (the console and the API).
        port: The listener's bound port; a Host naming another port is refused too.
        """
        self._app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = _host_of(scope)
            if host is None or not _names_loopback(host, self.port):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(_REFUSAL)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _REFUSAL})
                return
        await self._app(scope, receive, send)
