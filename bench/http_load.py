"""The http scenario: the same unary Submit over native gRPC and over HTTP/JSON (Connect).

One unscreened gateway with its HTTP listener on loopback serves both. For each number of calls in
flight, closed-loop callers submit new records over gRPC (pre-serialized bytes, as in the submit
scenario), then over HTTP: a Connect unary POST of the request as proto3 JSON to
``/liaison.v1.RecordExchange/Submit``, on HTTP/1.1 keep-alive connections, one per caller.
The JSON bodies are encoded before each call's clock starts; the answer is parsed and checked
after it stops. At one call in flight the p50 difference is what HTTP/JSON adds to a call (the
goal: at most 5 ms); at 64 the throughput ratio HTTP / gRPC is what it costs under load.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from google.protobuf import json_format

from bench.load import RecordNumbers, open_channel
from bench.records import RecordEncoder
from bench.servers import ServerProcess
from liaison.v1 import exchange_pb2

__all__ = [
    "HTTP_CONCURRENCIES",
    "HttpMeasurement",
    "http_address",
    "measure_http",
    "summarize_http",
]

HTTP_CONCURRENCIES = (1, 64)
"""Calls in flight: one (latency added per call) and the submit scenario's 64 (throughput)."""

_SUBMIT_PATH = "/liaison.v1.RecordExchange/Submit"
_GRPC_SUBMIT = "/liaison.v1.RecordExchange/Submit"
_HTTP_LINE = re.compile(r"HTTP on (127\.0\.0\.1:\d+)")
_CALL_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class HttpMeasurement:
    """One transport at one concurrency."""

    transport: str
    """"grpc" or "http"."""
    concurrency: int
    calls: int
    calls_per_s: float
    p50_ms: float
    p99_ms: float
    failures: int
    """Failed calls and wrong acknowledgements (any makes the run invalid)."""

    def as_run(self, round_number: int) -> dict[str, Any]:
        """The JSON document's entry for this measurement."""
        errors = {"FAILED": self.failures} if self.failures else {}
        return {"round": round_number, "scenario": "http", "errors": errors, **asdict(self)}


def http_address(server: ServerProcess) -> str:
    """The HTTP listener's ``host:port``, from the gateway's startup line."""
    for line in server.output:
        found = _HTTP_LINE.search(line)
        if found:
            return found.group(1)
    raise RuntimeError("the gateway printed no 'HTTP on 127.0.0.1:PORT' in its startup line")


class _Connection:
    """A lean HTTP/1.1 keep-alive client connection: one write per request (head and body
    together), the answer read by its Content-Length. The gRPC side of the scenario sends
    pre-serialized bytes for the same reason: a general-purpose client (httpx costs about 1 ms
    of CPU per call here) would measure itself, on the two cores it shares with the gateway."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self._reader, self._writer = reader, writer
        self._host = host
        """``Host``: the listener's own address (a plaintext listener serves only loopback
        names, gateway/http/hosts.py)."""

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, f"{host}:{port}")

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {self._host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode()
        self._writer.write(head + body)
        lines = (await self._reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self._reader.readexactly(length)

    def close(self) -> None:
        self._writer.close()


def _percentile_ms(sorted_ns: list[int], fraction: float) -> float:
    if not sorted_ns:
        return math.nan
    return sorted_ns[max(1, math.ceil(fraction * len(sorted_ns))) - 1] / 1e6


def _json_body(encoder: RecordEncoder, number: int) -> bytes:
    request = exchange_pb2.SubmitRequest.FromString(encoder.entry(number))
    return json.dumps(json_format.MessageToDict(request)).encode()


async def _closed_loop(
    concurrency: int, seconds: float, call: Any, numbers: RecordNumbers
) -> tuple[list[int], int, float]:
    latencies: list[int] = []
    failures = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def caller() -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            ok, took = await call(numbers.one())
            if ok:
                latencies.append(took)
            else:
                failures += 1

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return latencies, failures, time.perf_counter() - start


async def measure_http(
    server: ServerProcess,
    encoder: RecordEncoder,
    numbers: RecordNumbers,
    *,
    concurrency: int,
    seconds: float,
    warmup_seconds: float,
) -> list[HttpMeasurement]:
    """gRPC then HTTP/JSON Submit at ``concurrency`` calls in flight against ``server``."""
    results: list[HttpMeasurement] = []
    async with open_channel(server.address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)
        submit = channel.unary_unary(_GRPC_SUBMIT, None, None)

        async def grpc_call(number: int) -> tuple[bool, int]:
            request = encoder.entry(number)
            began = time.perf_counter_ns()
            raw = await submit(request, timeout=_CALL_TIMEOUT_S)
            took = time.perf_counter_ns() - began
            ack = exchange_pb2.SubmitResponse.FromString(raw).ack
            return ack.record_id == encoder.record_id(number) and not ack.duplicate, took

        results.append(
            await _measured("grpc", concurrency, seconds, warmup_seconds, grpc_call, numbers)
        )
    host, _, port = http_address(server).rpartition(":")
    connections = [await _Connection.open(host, int(port)) for _ in range(concurrency)]
    idle = list(connections)
    try:

        async def http_call(number: int) -> tuple[bool, int]:
            body = _json_body(encoder, number)
            connection = idle.pop()
            try:
                began = time.perf_counter_ns()
                status, answer = await connection.post(_SUBMIT_PATH, body)
                took = time.perf_counter_ns() - began
            finally:
                idle.append(connection)
            if status != 200:
                return False, took
            ack = json.loads(answer).get("ack", {})
            duplicate = ack.get("duplicate", False)
            return ack.get("recordId") == encoder.record_id(number) and not duplicate, took

        results.append(
            await _measured("http", concurrency, seconds, warmup_seconds, http_call, numbers)
        )
    finally:
        for connection in connections:
            connection.close()
    return results


async def _measured(
    transport: str,
    concurrency: int,
    seconds: float,
    warmup_seconds: float,
    call: Any,
    numbers: RecordNumbers,
) -> HttpMeasurement:
    await _closed_loop(concurrency, warmup_seconds, call, numbers)
    latencies, failures, elapsed = await _closed_loop(concurrency, seconds, call, numbers)
    latencies.sort()
    return HttpMeasurement(
        transport=transport,
        concurrency=concurrency,
        calls=len(latencies),
        calls_per_s=len(latencies) / elapsed,
        p50_ms=_percentile_ms(latencies, 0.50),
        p99_ms=_percentile_ms(latencies, 0.99),
        failures=failures,
    )


def _median(runs: list[dict[str, Any]], key: str) -> float:
    values = sorted(run[key] for run in runs)
    return float(values[len(values) // 2])


def summarize_http(runs: list[dict[str, Any]]) -> list[str]:
    """One line per concurrency: medians over rounds, HTTP against gRPC."""
    lines: list[str] = []
    for concurrency in HTTP_CONCURRENCIES:
        by = {
            transport: [
                run
                for run in runs
                if run.get("scenario") == "http"
                and run["concurrency"] == concurrency
                and run["transport"] == transport
            ]
            for transport in ("grpc", "http")
        }
        if not by["grpc"] or not by["http"]:
            continue

        grpc_rate, http_rate = (
            _median(by["grpc"], "calls_per_s"),
            _median(by["http"], "calls_per_s"),
        )
        grpc_p50, http_p50 = _median(by["grpc"], "p50_ms"), _median(by["http"], "p50_ms")
        lines.append(
            f"http  {concurrency:>2} in flight: gRPC {grpc_rate:,.0f}/s p50 {grpc_p50:.2f} ms; "
            f"HTTP/JSON {http_rate:,.0f}/s p50 {http_p50:.2f} ms; ratio HTTP/gRPC "
            f"{http_rate / grpc_rate:.2f}, p50 added {http_p50 - grpc_p50:+.2f} ms"
        )
    return lines
