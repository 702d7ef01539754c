"""The ``sdk`` telemetry pipeline: the stock OpenTelemetry SDK and OTLP exporter, public API only.

The way back when an OpenTelemetry upgrade breaks the fast pipeline (``[telemetry] pipeline =
"sdk"``), and the reference the fast one is measured and tested against. Spans, metrics, names,
attributes, sampling and the privacy allowlist are the same; only the cost differs
(``bench/README.md``, telemetry scenario).
"""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from gateway.telemetry.metrics import Recorder, SdkRecorder

__all__ = ["SdkPipeline"]


class SdkPipeline:
    """Builds the SDK's own tracer provider, OTLP span exporter, metric reader and instruments."""

    name = "sdk"

    def tracer_provider(self, resource: Resource, sampler: Sampler) -> TracerProvider:
        """The SDK's ``TracerProvider``."""
        return TracerProvider(resource=resource, sampler=sampler)

    def otlp_span_exporter(self, endpoint: str | None) -> SpanExporter:
        """The SDK's ``OTLPSpanExporter`` (gRPC); ``None`` reads ``OTEL_EXPORTER_OTLP_*``."""
        # Imported here: only a gateway exporting over OTLP pays for loading the exporter.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint)

    def metric_reader(self, exporter: MetricExporter, interval_millis: float) -> MetricReader:
        """The SDK's ``PeriodicExportingMetricReader``."""
        return PeriodicExportingMetricReader(exporter, export_interval_millis=interval_millis)

    def recorder(self, reader: MetricReader | None) -> Recorder:
        """The SDK's instruments, recording every measurement as it happens."""
        return SdkRecorder()
