"""The ``fast`` telemetry pipeline: what it builds in place of the stock SDK's pieces."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from gateway.telemetry.fast.metrics import FastRecorder
from gateway.telemetry.fast.otlp import LiaisonOTLPSpanExporter
from gateway.telemetry.fast.reader import FlushingMetricReader
from gateway.telemetry.fast.tracer import LiaisonTracerProvider
from gateway.telemetry.metrics import Recorder

__all__ = ["FastPipeline"]


class FastPipeline:
    """Liaison's tracer provider, OTLP span encoder, flushing metric reader and instruments."""

    name = "fast"

    def tracer_provider(self, resource: Resource, sampler: Sampler) -> TracerProvider:
        """The SDK's provider making lighter spans (:class:`LiaisonTracerProvider`)."""
        return LiaisonTracerProvider(resource=resource, sampler=sampler)

    def otlp_span_exporter(self, endpoint: str | None) -> SpanExporter:
        """The OTLP/gRPC exporter with Liaison's encoder (:class:`LiaisonOTLPSpanExporter`)."""
        return LiaisonOTLPSpanExporter(endpoint=endpoint)

    def metric_reader(self, exporter: MetricExporter, interval_millis: float) -> MetricReader:
        """A periodic reader flushing deferred latencies first (:class:`FlushingMetricReader`)."""
        return FlushingMetricReader(exporter, export_interval_millis=interval_millis)

    def recorder(self, reader: MetricReader | None) -> Recorder:
        """In-process tallies, and latencies deferred to ``reader``'s collections."""
        return FastRecorder(reader)
