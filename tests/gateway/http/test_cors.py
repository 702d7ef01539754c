"""CORS only for the configured origins: by default no preflight passes and no answer is marked
for another origin; with ``[http] cors_origins``, pages of those origins - and of no other - may
call gRPC-Web and Connect with credentials. The Host check of a plaintext listener still runs
first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from gateway.config import CentreConfig, HttpConfig
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.conftest import make_config
from tests.support import grpcweb

APP = "https://app.example"
GET = "/liaison.v1.RecordExchange/Get"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type,x-grpc-web,x-user-agent",
}


async def _client(config: CentreConfig) -> AsyncIterator[httpx.AsyncClient]:
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}") as client:
            yield client
    finally:
        await gateway.stop(grace=0)


@pytest.fixture
async def closed(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway with no CORS origin (the default)."""
    config = replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))
    async for client in _client(config):
        yield client


@pytest.fixture
async def open_to_app(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway whose pages at ``APP`` may call it."""
    config = replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0", cors_origins=(APP,)))
    async for client in _client(config):
        yield client


def _cors_headers(answer: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.startswith("access-control-")}


async def test_by_default_no_preflight_passes_and_no_answer_is_marked(
    closed: httpx.AsyncClient,
) -> None:
    preflight = await closed.options(GET, headers={"origin": APP, **PREFLIGHT})
    assert preflight.status_code == 405
    assert _cors_headers(preflight) == {}
    body = grpcweb.body_of(exchange_pb2.GetRequest(record_id="LOCAL-NOWHERE"), text=False)
    answer = await grpcweb.call(closed, GET, body, headers={"origin": APP})
    assert answer.code == 5  # served (a curl-like client reads it), but not marked for a page
    raw = await closed.post(GET, json={"recordId": "X"}, headers={"origin": APP})
    assert _cors_headers(raw) == {}


async def test_a_configured_origin_passes_the_preflight(open_to_app: httpx.AsyncClient) -> None:
    preflight = await open_to_app.options(GET, headers={"origin": APP, **PREFLIGHT})
    assert preflight.status_code == 204
    headers = _cors_headers(preflight)
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-credentials"] == "true"
    assert set(headers["access-control-allow-methods"].split(", ")) == {"POST", "GET"}
    allowed = set(headers["access-control-allow-headers"].split(", "))
    assert {"content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"} <= allowed
    assert "vary" in preflight.headers


async def test_a_configured_origin_reads_a_grpc_web_answer(
    open_to_app: httpx.AsyncClient,
) -> None:
    answer = await open_to_app.post(
        GET,
        content=grpcweb.body_of(exchange_pb2.GetRequest(record_id="LOCAL-NOWHERE"), text=False),
        headers={"content-type": grpcweb.BINARY, "x-grpc-web": "1", "origin": APP},
    )
    assert answer.status_code == 200
    headers = _cors_headers(answer)
    assert headers["access-control-allow-origin"] == APP
    assert "grpc-status" in headers["access-control-expose-headers"]
    _, trailers, _ = grpcweb.parse(answer.content, text=False)
    assert trailers["grpc-status"] == "5"


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://app.example", "https://app.example:444", "null"]
)
async def test_any_other_origin_gets_nothing(open_to_app: httpx.AsyncClient, origin: str) -> None:
    preflight = await open_to_app.options(GET, headers={"origin": origin, **PREFLIGHT})
    assert preflight.status_code == 405
    assert _cors_headers(preflight) == {}
    answer = await open_to_app.post(GET, json={"recordId": "X"}, headers={"origin": origin})
    assert _cors_headers(answer) == {}


async def test_the_host_check_still_comes_first(open_to_app: httpx.AsyncClient) -> None:
    # DNS rebinding: a configured origin does not make another Host acceptable.
    preflight = await open_to_app.options(
        GET, headers={"origin": APP, "host": "app.example", **PREFLIGHT}
    )
    assert preflight.status_code == 403
    assert _cors_headers(preflight) == {}
