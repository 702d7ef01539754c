"""The console's files over the gateway's HTTP listener: each with its content type and a
Content-Security-Policy, ``/console`` redirected to the page, and nothing else - no path a
request chooses (dot segments, encoded slashes, NUL, deeper folders) reaches the file system."""

from __future__ import annotations

import asyncio
from importlib import resources

import httpx
import pytest

from gateway.console.site import ASSETS
from gateway.server import Gateway

STATIC = resources.files("gateway.console").joinpath("static")


async def _raw_get(address: str, target: str) -> tuple[int, bytes]:
    """GET ``target`` exactly as written (an HTTP client would normalise dot segments)."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@pytest.mark.parametrize("name", sorted(ASSETS))
async def test_each_file_is_served_with_its_type_and_policy(gateway: Gateway, name: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}") as client:
        answer = await client.get(f"/console/{name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == ASSETS[name]
    assert answer.content == STATIC.joinpath(name).read_bytes()
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_the_console_is_the_page_and_its_bare_path_redirects(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}") as client:
        bare = await client.get("/console")
        page = await client.get("/console/")
    assert (bare.status_code, bare.headers["location"]) == (308, "/console/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert b"<title>Liaison console</title>" in page.content


@pytest.mark.parametrize(
    "target",
    [
        "/console/../pyproject.toml",
        "/console/../gateway/console/site.py",
        "/console/%2e%2e/pyproject.toml",
        "/console/..%2fsite.py",
        "/console/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/console/static/console.js",
        "/console/static/../site.py",
        "/console/site.py",
        "/console/__init__.py",
        "/console//etc/passwd",
        "/console/console.js%00.py",
        "/console/console.js/",
        "/console/CONSOLE.JS",
        "/console/.",
        "/console/..",
    ],
)
async def test_no_other_path_is_served(gateway: Gateway, target: str) -> None:
    status, body = await _raw_get(gateway.http_address, target)
    assert status == 404, (target, status)
    assert b"import" not in body
    assert b"[project]" not in body
    assert b"root:" not in body


async def test_the_api_is_still_served_beside_the_console(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}") as client:
        answer = await client.post("/liaison.v1.RecordExchange/Get", json={"recordId": "X-1"})
        document = await client.get("/openapi.json")
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert document.status_code == 200
