"""Deferred latencies reach the SDK before every collection the flushing reader starts: on its
schedule, on force_flush and on shutdown, whatever the SDK does inside ``collect``."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)

from gateway.telemetry import Telemetry
from gateway.telemetry.fast import FlushingMetricReader
from gateway.telemetry.fast import metrics as fast_metrics
from gateway.telemetry.fast.metrics import DeferredHistogram
from tests.conftest import TEST_CENTRE
from tests.gateway.telemetry.metric_points import CollectedMetrics, points


class _Exports(MetricExporter):
    """Every export, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.exported: list[MetricsData] = []
        self.shut = False

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.exported.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.shut = True

    def counts(self, name: str) -> list[int]:
        """The histogram ``name``'s count in each export that has it."""
        return [
            point.count
            for data in self.exported
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
            if isinstance(point, HistogramDataPoint)
        ]


def _fast(reader: Any) -> Telemetry:
    return Telemetry.create(TEST_CENTRE, metric_reader=reader, pipeline="fast")


def test_a_hook_runs_before_the_collection_it_precedes() -> None:
    """What a hook records is in the export of the very collection that ran it."""
    exports = _Exports()
    reader = FlushingMetricReader(exports, export_interval_millis=math.inf)
    provider = MeterProvider(metric_readers=[reader])
    histogram = provider.get_meter("test").create_histogram("test.flushed")
    reader.before_collect(lambda: histogram.record(1.0))
    try:
        reader.force_flush()
        assert exports.counts("test.flushed") == [1]
        reader.force_flush()
        assert exports.counts("test.flushed") == [1, 2]  # cumulative
    finally:
        provider.shutdown()
    # Shutting down collected once more, hook first, then shut the exporter down.
    assert exports.counts("test.flushed") == [1, 2, 3]
    assert exports.shut


def test_the_schedule_collects_deferred_latencies_without_being_asked() -> None:
    exports = _Exports()
    telemetry = _fast(FlushingMetricReader(exports, export_interval_millis=20))
    try:
        telemetry.metrics.rpc_server_duration.record(0.01)
        deadline = time.monotonic() + 10
        while not exports.counts("rpc.server.call.duration") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exports.counts("rpc.server.call.duration")[:1] == [1]
    finally:
        telemetry.shutdown()


def test_shutdown_exports_what_was_measured_after_the_last_collection() -> None:
    exports = _Exports()
    telemetry = _fast(FlushingMetricReader(exports, export_interval_millis=math.inf))
    for _ in range(5):
        telemetry.metrics.rpc_client_duration.record(0.01)
    assert exports.exported == []  # deferred: nothing has reached the SDK yet
    telemetry.shutdown()
    assert exports.counts("rpc.client.call.duration") == [5]


def test_a_failing_hook_does_not_stop_the_collection(caplog: pytest.LogCaptureFixture) -> None:
    exports = _Exports()
    reader = FlushingMetricReader(exports, export_interval_millis=math.inf)
    provider = MeterProvider(metric_readers=[reader])
    histogram = provider.get_meter("test").create_histogram("test.flushed")

    def broken() -> None:
        raise RuntimeError("hook broke")

    reader.before_collect(broken)
    reader.before_collect(lambda: histogram.record(1.0))
    try:
        reader.force_flush()
    finally:
        provider.shutdown()
    assert exports.counts("test.flushed")[:1] == [1]
    assert "a metric hook failed" in caplog.text


def test_latencies_are_deferred_only_for_a_flushing_reader() -> None:
    """With a reader that would not hand them over in time, latencies are recorded at once."""
    reader = InMemoryMetricReader()
    telemetry = _fast(reader)
    try:
        assert not isinstance(telemetry.metrics.rpc_client_duration, DeferredHistogram)
        telemetry.metrics.rpc_client_duration.record(0.002)
        [(_, point)] = points(reader, "rpc.client.call.duration")
        assert point.count == 1
    finally:
        telemetry.shutdown()
    flushing = CollectedMetrics("fast")
    telemetry = _fast(flushing.reader)
    try:
        assert isinstance(telemetry.metrics.rpc_client_duration, DeferredHistogram)
    finally:
        telemetry.shutdown()


def test_with_metrics_off_nothing_waits_for_a_collection() -> None:
    metrics = Telemetry.disabled().metrics
    assert not isinstance(metrics.rpc_client_duration, DeferredHistogram)
    assert not isinstance(metrics.rpc_server_duration, DeferredHistogram)


def test_a_full_deferred_histogram_records_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing collecting for a long time, the pending deque stays bounded: past the bound
    measurements go to the SDK directly, and none is lost or counted twice."""
    monkeypatch.setattr(fast_metrics, "_MAX_PENDING", 2)
    monkeypatch.setattr(fast_metrics, "_FLUSH_SLICE", 1)  # the yielding path too
    collected = CollectedMetrics("fast")
    telemetry = _fast(collected.reader)
    try:
        for value in (0.001, 0.002, 0.003, 0.004):
            telemetry.metrics.rpc_client_duration.record(value)
        [(_, point)] = points(collected, "rpc.client.call.duration")
        assert (point.count, round(point.sum, 6)) == (4, 0.01)
    finally:
        telemetry.shutdown()


def test_concurrent_flushes_hand_over_each_value_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A force_flush can run while the schedule flushes: each value still reaches the SDK once."""
    monkeypatch.setattr(fast_metrics, "_FLUSH_SLICE", 1)  # yield often: interleave the threads
    collected = CollectedMetrics("fast")
    telemetry = _fast(collected.reader)
    histogram = telemetry.metrics.rpc_server_duration
    assert isinstance(histogram, DeferredHistogram)
    try:
        for _ in range(5000):
            histogram.record(0.001)
        flushers = [threading.Thread(target=histogram.flush) for _ in range(4)]
        for flusher in flushers:
            flusher.start()
        for flusher in flushers:
            flusher.join()
        [(_, point)] = points(collected, "rpc.server.call.duration")
        assert point.count == 5000
    finally:
        telemetry.shutdown()


@pytest.mark.parametrize("interval", [0, -5.0])
def test_an_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(ValueError, match="export_interval_millis must be above 0"):
        FlushingMetricReader(_Exports(), export_interval_millis=interval)
