"""The HTTP listener's connections: Nagle is off on each accepted socket."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from pathlib import Path

from gateway.config import HttpConfig
from gateway.server import Gateway
from tests.conftest import make_config


async def test_accepted_connections_have_nagle_off(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # asyncio turns Nagle off only for sockets made with proto IPPROTO_TCP; the listener's socket
    # is not, and every keep-alive response after the first waited for a delayed ACK (40 ms).
    from gateway.http import listener

    seen: list[int] = []
    original = listener._CertifiedH11.connection_made

    def spy(self, transport):  # type: ignore[no-untyped-def]
        original(self, transport)
        sock = transport.get_extra_info("socket")
        seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(listener._CertifiedH11, "connection_made", spy)
    gateway = Gateway(replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0")))
    await gateway.start()
    try:
        host, _, port = gateway.http_address.rpartition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"GET /openapi.json HTTP/1.1\r\nhost: " + gateway.http_address.encode() + b"\r\n\r\n"
        )
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        writer.close()
    finally:
        await gateway.stop()
    assert seen
    assert all(seen)
