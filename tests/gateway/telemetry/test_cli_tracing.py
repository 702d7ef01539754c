"""The ``liaison`` client commands trace their calls when ``OTEL_*`` asks for it, and the
gateway's spans continue the command's trace; without it they record nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from gateway.cli import main
from gateway.cli.jsonio import record_to_json
from gateway.server import Gateway
from tests.gateway.telemetry.conftest import Recorded
from tests.gateway.telemetry.otlp_receiver import OtlpReceiver
from tests.support.factories import person

_SERVER_METHOD = "liaison.v1.RecordExchange/SubmitStream"


def _server_span(recorded: Recorded) -> ReadableSpan:
    [span] = [
        s
        for s in recorded.spans.get_finished_spans()
        if s.kind is SpanKind.SERVER and s.name.endswith(_SERVER_METHOD)
    ]
    return span


def _records_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text(record_to_json(person("CLI-1", family="CLIFAMILY")) + "\n")
    return path


async def test_a_command_is_traced_and_the_gateway_continues_its_trace(
    gateway: Gateway,
    recorded: Recorded,
    receiver: OtlpReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    path = _records_file(tmp_path)

    # main() blocks; the receiver and the gateway serve on this loop meanwhile. The command
    # flushes its spans before it returns.
    code = await asyncio.to_thread(main, ["--target", gateway.address, "submit", str(path)])

    assert (code, capsys.readouterr().out) == (0, "stored 1, duplicates 0, rejected 0\n")
    client_spans = [
        (resource, span)
        for resource, span in receiver.spans()
        if span.kind == span.SPAN_KIND_CLIENT and span.name.endswith(_SERVER_METHOD)
    ]
    assert len(client_spans) == 1
    resource, client_span = client_spans[0]
    assert resource["service.name"] == "liaison-cli"
    server_span = _server_span(recorded)
    assert server_span.context is not None
    assert client_span.trace_id == server_span.context.trace_id.to_bytes(16, "big")
    assert "CLIFAMILY" not in str(receiver.traces)


async def test_without_otel_variables_a_command_records_nothing(
    gateway: Gateway,
    recorded: Recorded,
    receiver: OtlpReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_TRACES_SAMPLER"):
        monkeypatch.delenv(name, raising=False)
    # An endpoint alone asks for nothing: the exporter stays "none".
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    path = _records_file(tmp_path)

    code = await asyncio.to_thread(main, ["--target", gateway.address, "submit", str(path)])

    assert code == 0
    capsys.readouterr()
    assert receiver.traces == []
    # The gateway still traces its side, as a trace of its own.
    server_span = _server_span(recorded)
    assert server_span.parent is None


async def test_an_unsupported_otel_value_is_a_usage_error(
    gateway: Gateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    path = _records_file(tmp_path)

    code = await asyncio.to_thread(main, ["--target", gateway.address, "submit", str(path)])

    assert code == 2
    assert "OTEL_TRACES_EXPORTER must be one of" in capsys.readouterr().err
