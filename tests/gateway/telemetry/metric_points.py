"""Reading metrics in tests: a pipeline's own reader collecting into memory, and data points."""

from __future__ import annotations

import math
from typing import Any, Protocol

from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
)

from gateway.telemetry.pipeline import load_pipeline

__all__ = ["CollectedMetrics", "MetricsSource", "points"]


class _LatestMetrics(MetricExporter):
    """Keeps the last export."""

    def __init__(self) -> None:
        super().__init__()
        self.latest: MetricsData | None = None

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.latest = metrics_data
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


class CollectedMetrics:
    """The metric reader ``pipeline`` builds for a gateway (the one ``liaison serve`` uses),
    collecting only when :meth:`get_metrics_data` asks, into memory."""

    def __init__(self, pipeline: str) -> None:
        """A reader of the pipeline called ``pipeline``."""
        self._exporter = _LatestMetrics()
        self.reader: MetricReader = load_pipeline(pipeline).metric_reader(
            self._exporter, interval_millis=math.inf
        )
        """The reader to give to ``Telemetry.create``."""

    def get_metrics_data(self) -> MetricsData | None:
        """Collect now, as the reader's schedule would; what was collected."""
        self._exporter.latest = None
        self.reader.force_flush()
        return self._exporter.latest


class MetricsSource(Protocol):
    """Collects on demand: :class:`CollectedMetrics`, or the SDK's ``InMemoryMetricReader``."""

    def get_metrics_data(self) -> MetricsData | None:
        """Collect now."""


def points(source: MetricsSource, name: str) -> list[tuple[dict[str, Any], Any]]:
    """``(attributes, data point)`` of every point of the metric ``name`` collected now."""
    data = source.get_metrics_data()
    found: list[tuple[dict[str, Any], Any]] = []
    if data is None:
        return found
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found += [(dict(p.attributes or {}), p) for p in metric.data.data_points]
    return found
