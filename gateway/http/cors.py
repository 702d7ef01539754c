"""CORS for the origins the operator configured (``[http] cors_origins``), and for no other.

A browser page of another origin may call the API (gRPC-Web, Connect) only if the gateway says
so: for every request that is not a CORS-safelisted form post - and every one of ours needs a
``content-type`` of its own, which is not safelisted - the browser first sends a preflight
(``OPTIONS`` with ``Access-Control-Request-Method``), and reads an answer only when it names the
page's origin. With no origin configured (the default) nothing here runs: the console is
same-origin, and a page elsewhere can neither pass a preflight nor read an answer.

A configured origin gets credentials (``Access-Control-Allow-Credentials``): a page of it calls
with the browser's client certificate over mutual TLS - or, on a plaintext loopback listener, as
the ``local`` operator. Configuring an origin is trusting its pages with that identity, which is
why origins are named one by one (no ``*``, no ``null``). The Host check of a plaintext listener
(:mod:`gateway.http.hosts`) runs before this, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ALLOWED_HEADERS", "EXPOSED_HEADERS", "CorsPolicy"]

ALLOWED_HEADERS = (
    "content-type",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "connect-protocol-version",
    "connect-timeout-ms",
    "last-event-id",
    "traceparent",
    "tracestate",
)
"""Request headers a page may send: the protocols' own and the trace context, nothing else."""
EXPOSED_HEADERS = ("grpc-status", "grpc-message", "grpc-status-details-bin")
"""Response headers a page may read besides the safelisted ones (gRPC-Web clients look for a
status in headers; the gateway writes it in the trailers frame of the body)."""
_MAX_AGE = b"600"


class CorsPolicy:
    """Answers preflights and marks answers for the configured origins; passes the rest on."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        """Args:
        app: The application (the API and the console).
        origins: ``scheme://host[:port]``, lower case, as browsers send ``Origin``.
        """
        self._app = app
        self._origins = frozenset(origin.encode("ascii") for origin in origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        origin = headers.get(b"origin")
        if origin is None or origin not in self._origins:
            # Same-origin, not a browser, or an origin not trusted: no CORS headers, so a
            # browser will not let a page of another origin read the answer (nor pass a
            # preflight, which the routes answer 405).
            await self._app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await self._preflight(origin, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", ()), *_answer_headers(origin)],
                }
            await send(message)

        await self._app(scope, receive, marked)

    async def _preflight(self, origin: bytes, send: Send) -> None:
        headers = [
            *_answer_headers(origin),
            (b"access-control-allow-methods", b"POST, GET"),
            (b"access-control-allow-headers", ", ".join(ALLOWED_HEADERS).encode()),
            (b"access-control-max-age", _MAX_AGE),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _answer_headers(origin: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", ", ".join(EXPOSED_HEADERS).encode()),
        (b"vary", b"Origin"),
    ]
