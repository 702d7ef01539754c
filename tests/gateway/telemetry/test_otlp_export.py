"""A gateway process, started as operators start it, exports its spans to a real OTLP receiver,
with either telemetry pipeline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from devkit.cluster import ServeProcess
from gateway.client import AsyncLiaisonClient
from tests.gateway.telemetry.conftest import recording
from tests.gateway.telemetry.otlp_receiver import OtlpReceiver
from tests.support.factories import person

pytestmark = pytest.mark.slow

SUBMIT = "/liaison.v1.RecordExchange/Submit"


async def _until(condition: object, what: str, seconds: float = 20.0) -> None:
    assert callable(condition)
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_spans_and_metrics_reach_the_collector(
    tmp_path: Path, receiver: OtlpReceiver, pipeline: str
) -> None:
    config = tmp_path / "centre.toml"
    config.write_text(f'[centre]\nid = "TEST-CENTRE"\n\n[telemetry]\npipeline = "{pipeline}"\n')
    process = ServeProcess(
        "TEST-CENTRE",
        ["--config", str(config), "--listen", "127.0.0.1:0", "--db", str(tmp_path / "gw.db")],
        environment={
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_METRIC_EXPORT_INTERVAL": "200",
        },
    )
    # Started from a thread: the receiver serves on this loop meanwhile.
    address = await asyncio.to_thread(process.start)
    caller = recording()
    try:
        interceptors = caller.telemetry.aio_client_interceptors(address)
        async with AsyncLiaisonClient(address, interceptors=interceptors) as client:
            await client.submit(person("TEST-CENTRE:otlp-1"))
        [client_span] = caller.spans.get_finished_spans()
        assert client_span.context is not None
        trace_id = client_span.context.trace_id.to_bytes(16, "big")

        def traced() -> bool:
            names = {span.name for _, span in receiver.spans() if span.trace_id == trace_id}
            return {SUBMIT, "liaison.validate", "liaison.store.write"} <= names

        await _until(traced, "the Submit trace")
        await _until(lambda: "liaison.records.ingested" in receiver.metric_names(), "metrics")
    finally:
        caller.telemetry.shutdown()
        exit_code = await asyncio.to_thread(process.terminate)
    assert exit_code == 0

    spans = [(resource, span) for resource, span in receiver.spans() if span.trace_id == trace_id]
    resource, server = next((r, s) for r, s in spans if s.name == SUBMIT)
    assert resource["service.name"] == "liaison-gateway"
    assert resource["liaison.centre.id"] == "TEST-CENTRE"
    assert server.parent_span_id == client_span.context.span_id.to_bytes(8, "big")
    attributes = {a.key: a.value for a in server.attributes}
    assert attributes["rpc.method"].string_value == "Submit"
    assert attributes["rpc.grpc.status_code"].int_value == 0
    assert {"rpc.server.call.duration", "liaison.store.commit.duration"} <= receiver.metric_names()

    # Log lines are JSON with the trace fields; the startup line stays as the tools parse it.
    logs = [json.loads(line) for line in process.output if line.startswith("{")]
    assert any(line["message"].startswith("gateway started") for line in logs)
    assert all({"trace_id", "span_id"} <= line.keys() for line in logs)
    assert any("listening on" in line and not line.startswith("{") for line in process.output)
    # The pipeline asked for is the one that ran (the fast one falls back only with a warning).
    assert not [line for line in logs if line["level"] == "WARNING"]
