"""Metrics collected in memory show exactly the calls and records of the test, on both pipelines."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.client import AsyncLiaisonClient
from gateway.server import Gateway
from gateway.telemetry import Telemetry
from gateway.telemetry import attributes as attr
from gateway.telemetry.metrics import DURATION_BOUNDARIES
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.telemetry.conftest import Recorded
from tests.gateway.telemetry.metric_points import CollectedMetrics, points
from tests.support.factories import person
from tests.support.rpc import ExchangeStub

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
    monkeypatch: pytest.MonkeyPatch, pipeline: str, variable: str | None, exemplars: int
) -> None:
    """Exemplars cost a third of each histogram record; the SDK's own variable turns them on."""
    if variable is None:
        monkeypatch.delenv("OTEL_METRICS_EXEMPLAR_FILTER", raising=False)
    else:
        monkeypatch.setenv("OTEL_METRICS_EXEMPLAR_FILTER", variable)
    metrics = CollectedMetrics(pipeline)
    telemetry = Telemetry.create(
        TEST_CENTRE,
        span_exporter=InMemorySpanExporter(),
        metric_reader=metrics.reader,
        batch=False,
        pipeline=pipeline,
    )
    try:
        histogram = telemetry.meter.create_histogram("test.exemplars")
        with telemetry.tracer.start_as_current_span("sampled"):
            histogram.record(0.002)
        [(_, point)] = points(metrics, "test.exemplars")
        assert len(point.exemplars) == exemplars
    finally:
        telemetry.shutdown()


def test_latencies_are_in_the_collection_that_follows_them(pipeline: str) -> None:
    """Whichever pipeline records them, every latency is in the next collection, none twice."""
    metrics = CollectedMetrics(pipeline)
    telemetry = Telemetry.create(TEST_CENTRE, metric_reader=metrics.reader, pipeline=pipeline)
    try:
        for value in (0.001, 0.002, 0.003):
            telemetry.metrics.rpc_client_duration.record(value)
        [(_, first)] = points(metrics, "rpc.client.call.duration")
        assert (first.count, round(first.sum, 6)) == (3, 0.006)
        telemetry.metrics.rpc_server_duration.record(0.004)
        telemetry.metrics.rpc_client_duration.record(0.004)
        [(_, second)] = points(metrics, "rpc.client.call.duration")
        assert (second.count, round(second.sum, 6)) == (4, 0.01)  # cumulative: 3 + 1
        [(_, served)] = points(metrics, "rpc.server.call.duration")
        assert served.count == 1
    finally:
        telemetry.shutdown()


def test_durations_fall_into_buckets_a_percentile_can_be_read_from(pipeline: str) -> None:
    """Seconds, bucketed for seconds: a 3 ms call and a 300 ms call land in different buckets
    (with the SDK's default boundaries, meant for milliseconds, both were in the first)."""
    metrics = CollectedMetrics(pipeline)
    telemetry = Telemetry.create(TEST_CENTRE, metric_reader=metrics.reader, pipeline=pipeline)
    try:
        telemetry.metrics.rpc_server_duration.record(0.003)
        telemetry.metrics.rpc_server_duration.record(0.3)
        telemetry.metrics.store_committed(0.0007)
        for name in ("rpc.server.call.duration", "liaison.store.commit.duration"):
            [(_, point)] = points(metrics, name)
            assert tuple(point.explicit_bounds) == DURATION_BOUNDARIES
        [(_, served)] = points(metrics, "rpc.server.call.duration")
        filled = [i for i, count in enumerate(served.bucket_counts) if count]
        assert filled == [
            DURATION_BOUNDARIES.index(0.005),  # (0.0025, 0.005]
            DURATION_BOUNDARIES.index(0.5),  # (0.25, 0.5]
        ]
        [(_, committed)] = points(metrics, "liaison.store.commit.duration")
        assert committed.bucket_counts[DURATION_BOUNDARIES.index(0.001)] == 1
    finally:
        telemetry.shutdown()


def test_the_metrics_are_the_same_on_both_pipelines() -> None:
    """Names, kinds, units and attributes of every metric, whichever pipeline records them."""

    def shapes(pipeline: str) -> dict[str, tuple[str, str, bool | None, list[dict[str, Any]]]]:
        metrics = CollectedMetrics(pipeline)
        telemetry = Telemetry.create(TEST_CENTRE, metric_reader=metrics.reader, pipeline=pipeline)
        try:
            recorded = telemetry.metrics
            recorded.rpc_server_duration.record(0.01, {attr.RPC_METHOD: "Submit"})
            recorded.rpc_client_duration.record(0.01, {attr.RPC_METHOD: "Submit"})
            recorded.ingested(2, TEST_CENTRE)
            recorded.rejected(1, "invalid", TEST_CENTRE)
            recorded.translated(3, "paxlst", "decode")
            recorded.diagnostic("paxlst", "PAXLST_DATE", "error")
            recorded.store_committed(0.002)
            recorded.subscription_lag(4)
            recorded.task_restarted("delivery:INTERPOL-CCC-LYON")
            recorded.observe_subscribers(lambda: 1)
            data = metrics.get_metrics_data()
        finally:
            telemetry.shutdown()
        assert data is not None
        return {
            metric.name: (
                type(metric.data).__name__,
                metric.unit or "",
                getattr(metric.data, "is_monotonic", None),
                [dict(point.attributes or {}) for point in metric.data.data_points],
            )
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }

    fast, sdk = shapes("fast"), shapes("sdk")
    assert fast == sdk
    assert len(fast) == 10


def test_restarts_of_background_tasks_are_counted_by_task_with_bounded_names(
    pipeline: str,
) -> None:
    metrics = CollectedMetrics(pipeline)
    telemetry = Telemetry.create(TEST_CENTRE, metric_reader=metrics.reader, pipeline=pipeline)
    try:
        telemetry.metrics.task_restarted("delivery:INTERPOL-CCC-LYON")
        telemetry.metrics.task_restarted("delivery:INTERPOL-CCC-LYON")
        telemetry.metrics.task_restarted("federation:audit")
        telemetry.metrics.task_restarted("Jane Doe <jane@example.org>")
        counted = {
            str(attributes[attr.TASK_NAME]): point.value
            for attributes, point in points(metrics, "liaison.tasks.restarted")
        }
        assert counted == {"delivery:INTERPOL-CCC-LYON": 2, "federation:audit": 1, "other": 1}
    finally:
        telemetry.shutdown()
