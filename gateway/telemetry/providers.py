"""The process's telemetry: tracer and meter providers, exporters, and what hands them out.

Nothing is installed globally: the :class:`Telemetry` object is built at the entry point and
passed to the server (its interceptor and services) and to clients (their interceptors). With
export off, :meth:`Telemetry.disabled` gives no interceptor at all and no-op instruments, so a
gateway without telemetry pays nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import Meter, MeterProvider, NoOpMeterProvider
from opentelemetry.propagate import get_global_textmap
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter
from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter, MetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer

from gateway.telemetry import attributes as attr
from gateway.telemetry.client import (
    ClientTelemetry,
    aio_client_interceptors,
    client_interceptors,
)
from gateway.telemetry.metrics import GatewayMetrics, Recorder
from gateway.telemetry.names import SCOPE
from gateway.telemetry.pipeline import Pipeline, load_pipeline
from gateway.telemetry.privacy import AllowlistSpanExporter, metric_views
from gateway.telemetry.sampling import build_sampler
from gateway.telemetry.server import ServerTelemetryInterceptor
from gateway.telemetry.settings import DEFAULT_SAMPLER, TelemetrySettings

__all__ = ["SHUTDOWN_SECONDS", "Telemetry"]

SHUTDOWN_SECONDS = 1.0
"""Default time :meth:`Telemetry.shutdown` allows the last export before dropping it."""

_ABANDON_SECONDS = 0.2
"""After the exporters are stopped, how long the flush gets to notice and return."""

_log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("liaison-gateway")
    except metadata.PackageNotFoundError:
        return "unknown"


class Telemetry:
    """Tracer, meter and interceptors of one process.

    Args:
        tracer_provider: Where spans go; ``None``: no spans.
        meter_provider: Where measurements go; ``None``: no metrics.
        propagator: How trace context travels in metadata; the configured global propagator
            (W3C trace context and baggage unless ``OTEL_PROPAGATORS`` says otherwise).
        shutdown: Called by :meth:`shutdown` (flushes the providers this object created).
        abandon: Called by :meth:`shutdown` when ``shutdown`` has not returned in time: stops
            the exporters' retries and closes their connections, so that what is still
            pending is dropped instead of holding the process.
        recorder: How the gateway's counts and latencies reach ``meter_provider``; by default
            the SDK's own instruments.
        pipeline: The name of the pipeline that built the providers (for operators and tests).
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        *,
        propagator: TextMapPropagator | None = None,
        shutdown: Callable[[], None] | None = None,
        abandon: Callable[[], None] | None = None,
        recorder: Recorder | None = None,
        pipeline: str = "",
    ) -> None:
        version = _version()
        self.tracer_provider = tracer_provider
        """The provider spans are recorded with (``None`` when tracing is off)."""
        self.tracing = tracer_provider is not None
        """Whether spans are recorded."""
        self.metering = meter_provider is not None
        """Whether metrics are recorded."""
        self.pipeline = pipeline
        """``fast`` or ``sdk``: the pipeline that built the providers (empty when they were
        given, or when nothing is recorded)."""
        self.tracer: Tracer = (
            tracer_provider.get_tracer(SCOPE, version)
            if tracer_provider is not None
            else trace.NoOpTracer()
        )
        """The tracer of Liaison's spans (a no-op one when tracing is off)."""
        self.meter: Meter = (meter_provider or NoOpMeterProvider()).get_meter(SCOPE, version)
        self.metrics = GatewayMetrics(self.meter, recorder if self.metering else None)
        """The gateway's instruments (no-op ones when metrics are off)."""
        self.propagator = propagator if propagator is not None else get_global_textmap()
        self._shutdown = shutdown
        self._abandon = abandon

    @property
    def enabled(self) -> bool:
        """Whether anything is recorded at all."""
        return self.tracing or self.metering

    @classmethod
    def disabled(cls) -> Telemetry:
        """No spans, no metrics, no interceptors."""
        return cls()

    @classmethod
    def from_settings(cls, settings: TelemetrySettings, centre_id: str) -> Telemetry:
        """Build providers and exporters as ``settings`` say, for the gateway of ``centre_id``."""
        if not settings.enabled:
            return cls.disabled()
        pipeline = load_pipeline(settings.pipeline)
        span_exporter: SpanExporter | None = None
        if settings.traces_exporter == "otlp":
            span_exporter = pipeline.otlp_span_exporter(settings.endpoint)
        elif settings.traces_exporter == "console":
            span_exporter = ConsoleSpanExporter()
        metric_exporter: MetricExporter | None = None
        if settings.metrics_exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter,
            )

            metric_exporter = OTLPMetricExporter(endpoint=settings.endpoint)
        elif settings.metrics_exporter == "console":
            metric_exporter = ConsoleMetricExporter()
        reader = (
            pipeline.metric_reader(metric_exporter, settings.metrics_interval_seconds * 1000)
            if metric_exporter is not None
            else None
        )
        return cls._build(
            pipeline,
            centre_id,
            span_exporter=span_exporter,
            metric_reader=reader,
            sampler=settings.sampler,
            sampling_ratio=settings.sampling_ratio,
            service_name=settings.service_name,
            batch=True,
            exporters=[e for e in (span_exporter, metric_exporter) if e is not None],
        )

    @classmethod
    def create(
        cls,
        centre_id: str,
        *,
        span_exporter: SpanExporter | None = None,
        metric_reader: MetricReader | None = None,
        sampler: str = DEFAULT_SAMPLER,
        sampling_ratio: float = 1.0,
        service_name: str = "liaison-gateway",
        batch: bool = True,
        pipeline: str = "fast",
    ) -> Telemetry:
        """Providers for ``centre_id`` exporting through ``span_exporter`` and ``metric_reader``.

        Every span passes the privacy allowlist before the exporter sees it, and every metric
        keeps only allowlisted attributes.

        Args:
            centre_id: Recorded in the resource as ``liaison.centre.id``.
            span_exporter: Where spans go; ``None``: no tracing.
            metric_reader: What collects metrics; ``None``: no metrics. With the fast
                pipeline, a :class:`~gateway.telemetry.fast.FlushingMetricReader` (what
                :meth:`from_settings` builds) also lets RPC latencies be recorded off the
                event loop; any other reader gets them as they happen.
            sampler: One of :data:`~gateway.telemetry.settings.SAMPLERS`.
            sampling_ratio: The ratio of the ``traceidratio`` samplers.
            service_name: The resource's ``service.name``.
            batch: Export spans in batches from a background thread (``False``: as each ends,
                for tests).
            pipeline: ``fast`` or ``sdk`` (see :mod:`gateway.telemetry.pipeline`).

        Raises:
            ValueError: an unknown sampler or pipeline, or a ratio outside [0, 1].
        """
        return cls._build(
            load_pipeline(pipeline),
            centre_id,
            span_exporter=span_exporter,
            metric_reader=metric_reader,
            sampler=sampler,
            sampling_ratio=sampling_ratio,
            service_name=service_name,
            batch=batch,
        )

    @classmethod
    def _build(
        cls,
        pipeline: Pipeline,
        centre_id: str,
        *,
        span_exporter: SpanExporter | None,
        metric_reader: MetricReader | None,
        sampler: str,
        sampling_ratio: float,
        service_name: str,
        batch: bool,
        exporters: Sequence[SpanExporter | MetricExporter] = (),
    ) -> Telemetry:
        chosen_sampler = build_sampler(sampler, sampling_ratio)
        resource = Resource.create(
            {SERVICE_NAME: service_name, SERVICE_VERSION: _version(), attr.CENTRE_ID: centre_id}
        )
        tracer_provider: TracerProvider | None = None
        if span_exporter is not None:
            tracer_provider = pipeline.tracer_provider(resource, chosen_sampler)
            guarded = AllowlistSpanExporter(span_exporter)
            processor: SpanProcessor = (
                BatchSpanProcessor(guarded) if batch else SimpleSpanProcessor(guarded)
            )
            tracer_provider.add_span_processor(processor)
        meter_provider: SdkMeterProvider | None = None
        if metric_reader is not None:
            # Exemplars off unless OTEL_METRICS_EXEMPLAR_FILTER asks for them: the SDK's default
            # (trace-based) looks up the current span on every measurement and, under a sampled
            # span, fills a reservoir - about a third of a histogram record's cost - for data
            # Liaison's operators do not use (traces carry the per-call detail).
            exemplars: dict[str, Any] = (
                {}
                if os.environ.get("OTEL_METRICS_EXEMPLAR_FILTER")
                else {"exemplar_filter": AlwaysOffExemplarFilter()}
            )
            meter_provider = SdkMeterProvider(
                metric_readers=[metric_reader],
                resource=resource,
                views=metric_views(),
                **exemplars,
            )

        def shutdown() -> None:
            if tracer_provider is not None:
                tracer_provider.shutdown()
            if meter_provider is not None:
                meter_provider.shutdown()

        def abandon() -> None:
            for exporter in exporters:
                exporter.shutdown()

        return cls(
            tracer_provider,
            meter_provider,
            shutdown=shutdown,
            abandon=abandon,
            recorder=pipeline.recorder(metric_reader),
            pipeline=pipeline.name,
        )

    def server_interceptors(
        self, server_address: str = "", server_port: int = 0
    ) -> list[ServerTelemetryInterceptor]:
        """The interceptors a server needs: none when nothing is recorded."""
        if not self.enabled:
            return []
        return [
            ServerTelemetryInterceptor(
                tracer=self.tracer if self.tracing else None,
                metrics=self.metrics if self.metering else None,
                propagator=self.propagator,
                server_address=server_address,
                server_port=server_port,
            )
        ]

    def _client(self, target: str) -> ClientTelemetry:
        return ClientTelemetry(
            tracer=self.tracer if self.tracing else None,
            metrics=self.metrics if self.metering else None,
            propagator=self.propagator,
            target=target,
        )

    def aio_client_interceptors(self, target: str = "") -> list[Any]:
        """Interceptors for a grpc.aio channel to ``target`` (``AsyncLiaisonClient``)."""
        return aio_client_interceptors(self._client(target)) if self.enabled else []

    def client_interceptors(self, target: str = "") -> list[Any]:
        """Interceptors for a blocking channel to ``target`` (``LiaisonClient``)."""
        return list(client_interceptors(self._client(target))) if self.enabled else []

    def shutdown(self, timeout: float | None = SHUTDOWN_SECONDS) -> bool:
        """Export what is pending and stop the exporters (once; later calls do nothing).

        The SDK's exporters retry an unreachable collector for many seconds, which would hold a
        stopping process well past its grace. With a ``timeout``, the flush runs in a thread of
        its own; if it has not finished by then, the exporters are stopped (their retries end,
        their connections close), what was pending is dropped, and one warning says so.

        Args:
            timeout: Seconds this call may take; ``None``: as long as the exporters take.

        Returns:
            Whether everything pending was handed to the exporters in time.
        """
        shutdown, self._shutdown = self._shutdown, None
        if shutdown is None:
            return True
        if timeout is None:
            shutdown()
            return True
        done = threading.Event()

        def flush() -> None:
            try:
                shutdown()
            except Exception:
                _log.exception("telemetry shutdown failed")
            finally:
                done.set()

        threading.Thread(target=flush, name="liaison-telemetry-shutdown", daemon=True).start()
        # The moment given to the abandoned flush is part of the timeout: the caller's budget
        # (the rest of the grace, at a stop) is for the whole call.
        if done.wait(max(timeout - _ABANDON_SECONDS, 0.0)):
            return True
        if self._abandon is not None:
            try:
                self._abandon()
            except Exception:
                _log.exception("stopping the telemetry exporters failed")
        # The exporters end their retries at once; a moment for the flush to notice.
        done.wait(_ABANDON_SECONDS)
        _log.warning(
            "telemetry: the collector did not take the last spans and metrics within %.1f s; "
            "they were dropped so that shutdown stays within its grace",
            timeout,
        )
        return False
