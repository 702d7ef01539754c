"""The http scenario's pieces: the HTTP address from the startup line, the lean client against a
real gateway's HTTP listener, and the summary line."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import replace
from pathlib import Path

import pytest

from bench.http_load import _Connection, http_address, summarize_http
from bench.servers import ServerProcess
from gateway.config import HttpConfig
from gateway.server import Gateway
from tests.conftest import make_config


def test_the_http_address_comes_from_the_startup_line() -> None:
    line = "liaison: centre X listening on 127.0.0.1:5, HTTP on 127.0.0.1:6 (store s)"
    server = ServerProcess(kind="gateway-http", process=None, port=5, output=deque([line]))  # type: ignore[arg-type]
    assert http_address(server) == "127.0.0.1:6"
    silent = ServerProcess(kind="gateway", process=None, port=5, output=deque(["x"]))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="HTTP on"):
        http_address(silent)


async def test_the_lean_client_keeps_one_connection_for_many_calls(tmp_path: Path) -> None:
    gateway = Gateway(replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0")))
    await gateway.start()
    try:
        host, _, port = gateway.http_address.rpartition(":")
        connection = await _Connection.open(host, int(port))
        try:
            for _ in range(3):
                status, body = await connection.post("/liaison.v1.Translation/ListAdapters", b"{}")
                assert status == 200
                assert json.loads(body)["adapters"]
            status, body = await connection.post("/liaison.v1.RecordExchange/Submit", b"{}")
            assert status == 400
            assert json.loads(body)["code"] == "invalid_argument"
        finally:
            connection.close()
    finally:
        await gateway.stop()


def test_the_summary_compares_http_with_grpc_at_each_concurrency() -> None:
    def run(transport: str, rate: float, p50: float) -> dict[str, object]:
        return {
            "scenario": "http",
            "concurrency": 1,
            "transport": transport,
            "calls_per_s": rate,
            "p50_ms": p50,
        }

    [line] = summarize_http([run("grpc", 400.0, 2.0), run("http", 200.0, 3.5)])
    assert "ratio HTTP/gRPC 0.50" in line
    assert "p50 added +1.50 ms" in line
