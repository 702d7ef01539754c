"""The HTTP listener: uvicorn, inside the gateway's event loop, with the gRPC listener's TLS.

With ``[tls]`` the listener requires and verifies a client certificate against the centre's
trust bundle, as the gRPC listener does; without it, it serves plaintext on loopback only, where
callers are the ``local`` identity. The verified certificate reaches the application through the
ASGI TLS extension (``scope["extensions"]["tls"]["client_cert_chain"]``), which uvicorn does not
fill in: :class:`_CertifiedH11` - the only place that leans on uvicorn's protocol class - adds it
for each connection. It is pinned with uvicorn's version in ``pyproject.toml`` and proved by the
mutual-TLS tests (an identity that does not arrive is refused, never assumed).

Uvicorn runs without its signal handlers (``startup``/``main_loop``/``shutdown``, not
``serve``): the gateway's process owns SIGINT and SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.http.hosts import LoopbackHostGuard
from gateway.security.tls import PlaintextRefusedError, TlsConfig, is_loopback

__all__ = ["HttpListener"]


class _CertifiedH11(H11Protocol):
    """uvicorn's h11 protocol, passing the connection's verified client certificate on."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # asyncio turns Nagle off only for sockets whose proto is IPPROTO_TCP, and a socket made
        # with socket(family, SOCK_STREAM) (proto 0) and its accepted connections are not: h11
        # writes a response's head and body apart, and the body then waited for the client's
        # delayed ACK, 40 ms on every keep-alive request after the first.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        der = ssl_object.getpeercert(binary_form=True)
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        tls = {"client_cert_chain": chain, "tls_version": None, "cipher_suite": None}
        inner: ASGIApp = self.app

        async def with_tls(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("extensions", {})["tls"] = tls
            await inner(scope, receive, send)

        self.app = with_tls


class HttpListener:
    """Serves an ASGI application on ``host:port``. ``await start()``, then ``await stop()``."""

    def __init__(self, app: ASGIApp, listen: str, tls: TlsConfig | None) -> None:
        """Args:
        app: The application.
        listen: ``host:port``; port 0 picks a free port.
        tls: Mutual TLS material; ``None`` serves plaintext, on loopback only.

        Raises:
            PlaintextRefusedError: plaintext on a non-loopback address.
        """
        host, _, port = listen.rpartition(":")
        if tls is None and not is_loopback(host):
            raise PlaintextRefusedError(
                f"HTTP plaintext is only served on loopback, not on {listen}: configure [tls]"
            )
        self._host = host.strip("[]")
        self._port = int(port)
        self._tls = tls
        self._app = app
        self._server: uvicorn.Server | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self.port = 0
        """The bound port (after :meth:`start`)."""

    async def start(self) -> None:
        """Bind and start serving.

        Raises:
            OSError: the address cannot be bound.
        """
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.bind((self._host, self._port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        # Plaintext serves the local operator: only to requests addressed to loopback
        # (DNS rebinding, gateway/http/hosts.py).
        app = self._app if self._tls is not None else LoopbackHostGuard(self._app, self.port)
        config = uvicorn.Config(
            app,
            http=_CertifiedH11,
            lifespan="off",
            log_config=None,
            access_log=False,
            ws="none",
            **self._tls_options(),
        )
        server = uvicorn.Server(config)
        config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        if server.should_exit:
            sock.close()
            raise OSError(f"the HTTP listener on {self._host}:{self.port} did not start")
        self._server = server
        self._loop_task = asyncio.ensure_future(server.main_loop())

    def _tls_options(self) -> dict[str, Any]:
        if self._tls is None:
            return {}
        return {
            "ssl_certfile": str(self._tls.certificate),
            "ssl_keyfile": str(self._tls.private_key),
            "ssl_ca_certs": str(self._tls.trusted_cas),
            "ssl_cert_reqs": ssl.CERT_REQUIRED,
        }

    async def stop(self, grace: float) -> None:
        """Stop accepting connections; calls in flight get ``grace`` seconds, then are
        cancelled (streams end: clients resume)."""
        server, self._server = self._server, None
        if server is None:
            return
        # uvicorn waits with asyncio.timeout, which takes fractions of a second; rounded up to
        # whole seconds (its annotation), a stop's last 0.3 s of grace became 1 s.
        server.config.timeout_graceful_shutdown = grace  # type: ignore[assignment]
        server.should_exit = True
        if self._loop_task is not None:
            # Its loop only looks at should_exit every 0.1 s, and has nothing to finish.
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        await server.shutdown()
