"""The two telemetry pipelines, and how the one a centre asked for is loaded.

A pipeline builds the pieces that record and encode telemetry: the tracer provider, the OTLP span
exporter, the periodic metric reader, and how counts and latencies reach the SDK. ``sdk``
(:class:`~gateway.telemetry.stock.SdkPipeline`) uses the stock OpenTelemetry SDK and exporter
through public API only; ``fast`` (:mod:`gateway.telemetry.fast`, the default) replaces them with
Liaison's optimized ones. What the gateway records - spans, names, attributes, metrics, sampling,
the privacy allowlist - is the same with either.

The fast package is imported only when asked for, and checked first
(:func:`gateway.telemetry.fast.internals.problems`): when the installed OpenTelemetry no longer
has what it relies on, the gateway runs on the stock pipeline and logs a warning saying so,
rather than fail to start or lose spans after an upgrade.
"""

from __future__ import annotations

import logging
from typing import Protocol

from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from gateway.telemetry.metrics import Recorder
from gateway.telemetry.settings import PIPELINES
from gateway.telemetry.stock import SdkPipeline

__all__ = ["Pipeline", "load_pipeline"]

logger = logging.getLogger(__name__)


class Pipeline(Protocol):
    """What a telemetry pipeline builds."""

    @property
    def name(self) -> str:
        """``fast`` or ``sdk``."""

    def tracer_provider(self, resource: Resource, sampler: Sampler) -> TracerProvider:
        """An SDK tracer provider (processors are added by the caller)."""

    def otlp_span_exporter(self, endpoint: str | None) -> SpanExporter:
        """The OTLP/gRPC span exporter; ``None`` reads ``OTEL_EXPORTER_OTLP_*``."""

    def metric_reader(self, exporter: MetricExporter, interval_millis: float) -> MetricReader:
        """A reader collecting every ``interval_millis`` and exporting to ``exporter``."""

    def recorder(self, reader: MetricReader | None) -> Recorder:
        """How counts and latencies reach the SDK, for a meter provider read by ``reader``."""


def load_pipeline(name: str) -> Pipeline:
    """The pipeline called ``name``; ``fast`` falls back to ``sdk`` (with a warning) when the
    installed OpenTelemetry no longer has what the fast pipeline relies on.

    Raises:
        ValueError: ``name`` is not one of ``fast`` and ``sdk``.
    """
    if name == "sdk":
        return SdkPipeline()
    if name == "fast":
        return _fast_or_stock()
    raise ValueError(f"unknown telemetry pipeline {name!r}; known: {', '.join(PIPELINES)}")


def _fast_or_stock() -> Pipeline:
    try:
        from gateway.telemetry import fast
    except Exception as error:
        # Whatever an upgrade breaks at import (a moved module, a renamed class, a changed base
        # class) must not stop the gateway: the stock pipeline needs none of it.
        found = [f"the fast pipeline does not import ({type(error).__name__}: {error})"]
    else:
        found = fast.problems()
        if not found:
            return fast.FastPipeline()
    logger.warning(
        "telemetry: the installed OpenTelemetry does not have what the fast pipeline relies on "
        '(%s); using the stock SDK pipeline. Set [telemetry] pipeline = "sdk" to choose it '
        "explicitly, or adapt gateway/telemetry/fast (docs/decisions/0010).",
        "; ".join(found),
    )
    return SdkPipeline()
