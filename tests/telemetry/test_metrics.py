"""Metrics read through an in-memory reader show exactly the calls and records of the test."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.client import AsyncLiaisonClient
from gateway.server import Gateway
from gateway.telemetry import Telemetry
from gateway.telemetry import attributes as attr
from gateway.telemetry import metrics as telemetry_metrics
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.factories import person
from tests.rpc import ExchangeStub
from tests.telemetry.conftest import Recorded
from tests.telemetry.metric_points import points

SERVICE = "liaison.v1.RecordExchange"


@pytest.mark.parametrize("sampling_ratio", [0.0, 1.0])
async def test_counts_and_latencies_of_submits(
    gateway: Gateway, exchange: ExchangeStub, recorded: Recorded
) -> None:
    # Metrics do not depend on sampling: the same counts with no trace recorded.
    for record_id in ("TEST-CENTRE:m-1", "TEST-CENTRE:m-2", "TEST-CENTRE:m-1"):
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person(record_id)))
    with pytest.raises(grpc.aio.AioRpcError):
        await exchange.Submit(exchange_pb2.SubmitRequest(record=record_pb2.Record(record_id="X")))

    reader = recorded.metrics
    ingested = {
        a[attr.ORIGINATING_CENTRE]: p.value for a, p in points(reader, "liaison.records.ingested")
    }
    assert ingested == {TEST_CENTRE: 2}
    assert [(a, p.value) for a, p in points(reader, "liaison.records.rejected")] == [
        (
            {
                attr.ADAPTER_NAME: "liaison.v1",
                attr.ORIGINATING_CENTRE: TEST_CENTRE,
                attr.REJECTION_REASON: "invalid",
            },
            1,
        )
    ]
    # The server records a call's latency after its status has gone out: a refused call's record
    # may land just after the client has seen the refusal.
    for _ in range(200):
        durations = {
            a[attr.RPC_GRPC_STATUS_CODE]: p.count
            for a, p in points(reader, "rpc.server.call.duration")
            if a[attr.RPC_METHOD] == "Submit"
        }
        if durations.get(3):
            break
        await asyncio.sleep(0.01)
    assert durations == {0: 3, 3: 1}
    [(attributes, _)] = [
        (a, p)
        for a, p in points(reader, "rpc.server.call.duration")
        if a[attr.RPC_METHOD] == "Submit"
    ][:1]
    assert attributes[attr.RPC_SYSTEM] == "grpc"
    assert attributes[attr.RPC_SERVICE] == SERVICE
    # One measurement per transaction: the three stored records took between one and three.
    [(_, commits)] = points(reader, "liaison.store.commit.duration")
    assert 1 <= commits.count <= 3
    assert commits.sum > 0


async def test_version_conflicts_are_rejections(
    gateway: Gateway, exchange: ExchangeStub, recorded: Recorded
) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("TEST-CENTRE:m-conflict")))
    stale = person("TEST-CENTRE:m-conflict", family="CHANGED")
    stale.version = 7
    with pytest.raises(grpc.aio.AioRpcError):
        await exchange.Submit(exchange_pb2.SubmitRequest(record=stale))

    reasons = {
        a[attr.REJECTION_REASON]: p.value
        for a, p in points(recorded.metrics, "liaison.records.rejected")
    }
    assert reasons == {"conflict": 1}


async def test_subscribers_and_their_lag(gateway: Gateway, recorded: Recorded) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        for n in range(3):
            await client.submit(person(f"TEST-CENTRE:m-sub-{n}"))
        events = client.subscribe(after_sequence=0)
        async for event in events:
            if event.HasField("caught_up"):
                break
        [(_, active)] = points(recorded.metrics, "liaison.subscriptions.active")
        assert active.value == 1
        await events.aclose()
    for _ in range(100):
        [(_, active)] = points(recorded.metrics, "liaison.subscriptions.active")
        if active.value == 0:
            break
        await asyncio.sleep(0.01)
    assert active.value == 0
    [(_, lag)] = points(recorded.metrics, "liaison.subscription.lag")
    assert (lag.count, lag.max) == (1, 3)


@pytest.mark.parametrize(("variable", "exemplars"), [(None, 0), ("trace_based", 1)])
def test_exemplars_are_off_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch, variable: str | None, exemplars: int
) -> None:
    """Exemplars cost a third of each histogram record; the SDK's own variable turns them on."""
    if variable is None:
        monkeypatch.delenv("OTEL_METRICS_EXEMPLAR_FILTER", raising=False)
    else:
        monkeypatch.setenv("OTEL_METRICS_EXEMPLAR_FILTER", variable)
    reader = InMemoryMetricReader()
    telemetry = Telemetry.create(
        TEST_CENTRE, span_exporter=InMemorySpanExporter(), metric_reader=reader, batch=False
    )
    try:
        histogram = telemetry.meter.create_histogram("test.exemplars")
        with telemetry.tracer.start_as_current_span("sampled"):
            histogram.record(0.002)
        [(_, point)] = points(reader, "test.exemplars")
        assert len(point.exemplars) == exemplars
    finally:
        telemetry.shutdown()


def test_deferred_histograms_reach_the_export_they_belong_to() -> None:
    """Latency histograms are recorded on the event loop as a deque append and handed to the SDK
    when the reader collects: every value is in the next collection, none twice, and the
    flushing instrument itself exports nothing."""
    reader = InMemoryMetricReader()
    telemetry = Telemetry.create(TEST_CENTRE, metric_reader=reader)
    try:
        for value in (0.001, 0.002, 0.003):
            telemetry.metrics.rpc_client_duration.record(value)
        [(_, first)] = points(reader, "rpc.client.call.duration")
        assert (first.count, round(first.sum, 6)) == (3, 0.006)
        telemetry.metrics.rpc_client_duration.record(0.004)
        [(_, second)] = points(reader, "rpc.client.call.duration")
        assert (second.count, round(second.sum, 6)) == (4, 0.01)  # cumulative: 3 + 1
        assert points(reader, "liaison.telemetry.flush") == []
    finally:
        telemetry.shutdown()


def test_a_full_deferred_histogram_records_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing collecting for a long time, the pending deque stays bounded: past the bound
    measurements go to the SDK directly, and none is lost or counted twice."""
    monkeypatch.setattr(telemetry_metrics, "_MAX_PENDING", 2)
    monkeypatch.setattr(telemetry_metrics, "_FLUSH_SLICE", 1)  # the yielding path too
    reader = InMemoryMetricReader()
    telemetry = Telemetry.create(TEST_CENTRE, metric_reader=reader)
    try:
        for value in (0.001, 0.002, 0.003, 0.004):
            telemetry.metrics.rpc_client_duration.record(value)
        [(_, point)] = points(reader, "rpc.client.call.duration")
        assert (point.count, round(point.sum, 6)) == (4, 0.01)
    finally:
        telemetry.shutdown()


def test_with_metrics_off_nothing_waits_for_a_collection() -> None:
    """A gateway without metrics has no-op instruments that nothing ever collects: latency
    values must not pile up waiting for one."""
    metrics = Telemetry.disabled().metrics
    for _ in range(10):
        metrics.rpc_client_duration.record(0.001)
        metrics.rpc_server_duration.record(0.001)
    assert len(metrics.rpc_client_duration._pending) == 0
    assert len(metrics.rpc_server_duration._pending) == 0
