"""DNS rebinding: a plaintext loopback listener serves only requests addressed to loopback."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.http.hosts import _names_loopback
from gateway.server import Gateway


@pytest.mark.parametrize(
    ("host", "served"),
    [
        ("127.0.0.1:8080", True),
        ("127.0.0.1", True),
        ("localhost:8080", True),
        ("[::1]:8080", True),
        ("[::1]", True),
        ("127.0.0.1:9999", False),  # another port: another listener's name
        ("evil.example:8080", False),  # a rebinding page's own host name
        ("127.0.0.1.evil.example:8080", False),
        ("localhost.:8080", False),
        ("[::1]x:8080", False),
        ("", False),
    ],
)
def test_only_loopback_host_names_are_served(host: str, served: bool) -> None:
    assert _names_loopback(host, 8080) is served


async def _raw_get(address: str, host_header: bytes | None) -> tuple[int, bytes]:
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = b"GET /console/ HTTP/1.0\r\n"
        if host_header is not None:
            head += b"host: " + host_header + b"\r\n"
        writer.write(head + b"\r\n")
        answer = await reader.read()
    finally:
        writer.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


async def test_a_rebinding_page_gets_403_and_loopback_gets_the_console(gateway: Gateway) -> None:
    port = gateway.http_address.rpartition(":")[2]
    status, body = await _raw_get(gateway.http_address, b"attacker.example:" + port.encode())
    assert status == 403
    assert json.loads(body)["code"] == "permission_denied"
    assert (await _raw_get(gateway.http_address, None))[0] == 403
    status, body = await _raw_get(gateway.http_address, b"localhost:" + port.encode())
    assert status == 200
    assert b"<html" in body.lower()


async def test_api_calls_from_a_rebound_name_are_refused_before_the_api(gateway: Gateway) -> None:
    host, _, port = gateway.http_address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = b'{"recordId": "LOCAL:x"}'
    writer.write(
        b"POST /liaison.v1.RecordExchange/Get HTTP/1.1\r\nhost: attacker.example\r\n"
        b"content-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + body
    )
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 403")
