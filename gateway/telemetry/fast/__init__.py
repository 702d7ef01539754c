"""The fast telemetry pipeline: Liaison's own tracer, OTLP span encoder and deferred metrics.

Nothing here is a stable API, and this package is the only place in Liaison that may use private
OpenTelemetry names (each is listed and checked in :mod:`~gateway.telemetry.fast.internals`).
The rest of the gateway reaches it through :func:`gateway.telemetry.pipeline.load_pipeline`
only, selected by ``[telemetry] pipeline = "fast"`` (the default); ``pipeline = "sdk"`` uses the
stock SDK instead (:mod:`gateway.telemetry.stock`), and nothing imports this package then.

- :class:`~gateway.telemetry.fast.tracer.LiaisonTracerProvider`: the SDK's provider with lighter
  span objects;
- :class:`~gateway.telemetry.fast.otlp.LiaisonOTLPSpanExporter`: the OTLP exporter with a
  wire-format span encoder (:func:`~gateway.telemetry.fast.otlp.encode_spans`);
- :class:`~gateway.telemetry.fast.metrics.FastRecorder`: counters tallied in-process, RPC
  latencies deferred and flushed by
  :class:`~gateway.telemetry.fast.reader.FlushingMetricReader` before each collection.

Why each exists and what it saves: ``docs/decisions/0010-telemetry-interceptors.md``.
"""

from __future__ import annotations

from gateway.telemetry.fast.internals import problems
from gateway.telemetry.fast.metrics import FastRecorder
from gateway.telemetry.fast.otlp import LiaisonOTLPSpanExporter, encode_spans
from gateway.telemetry.fast.pipeline import FastPipeline
from gateway.telemetry.fast.reader import FlushingMetricReader
from gateway.telemetry.fast.tracer import LiaisonTracerProvider

__all__ = [
    "FastPipeline",
    "FastRecorder",
    "FlushingMetricReader",
    "LiaisonOTLPSpanExporter",
    "LiaisonTracerProvider",
    "encode_spans",
    "problems",
]
