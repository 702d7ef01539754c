"""Liaison's OTLP span encoder produces what the official encoder does."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as official
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from gateway.telemetry.fast.otlp import LiaisonOTLPSpanExporter, encode_spans
from gateway.telemetry.fast.tracer import LiaisonTracerProvider


def _spans(provider_type: type[TracerProvider] = TracerProvider) -> tuple[ReadableSpan, ...]:
    exporter = InMemorySpanExporter()
    provider = provider_type(resource=Resource.create({"service.name": "test", "n": 3}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    first = provider.get_tracer("liaison.gateway", "0.1.0", schema_url="https://schema/1")
    second = provider.get_tracer("other")
    remote = SpanContext(
        0xABC,
        0xDEF,
        is_remote=True,
        trace_flags=TraceFlags(1),
        trace_state=TraceState([("k", "v")]),
    )
    values: dict[str, object] = {
        "text": "grpc",
        "unicode": "Ελλάδα",
        "integer": 50051,
        "negative": -7,
        "real": 1.5,
        "flag": True,
        "texts": ("a", "b"),
        "integers": (1, -2, 3),
        "empty": "",
    }
    for n in range(6):
        parent = trace.set_span_in_context(trace.NonRecordingSpan(remote)) if n % 2 else None
        links = [Link(remote, {"link.n": n})] if n % 3 == 0 else None
        span = first.start_span(
            f"/liaison.v1.RecordExchange/M{n}",
            context=parent,
            kind=list(SpanKind)[n % 5],
            attributes=values,  # type: ignore[arg-type]
            links=links,
        )
        span.add_event("liaison.diagnostic", {"liaison.diagnostic.code": "X", "n": n})
        span.add_event("bare")
        if n % 2:
            span.set_status(Status(StatusCode.ERROR, "described"))
        elif n % 3:
            span.set_status(Status(StatusCode.OK))
        child = second.start_span("liaison.validate", context=trace.set_span_in_context(span))
        child.end()
        span.end()
    return exporter.get_finished_spans()


@pytest.mark.parametrize("provider_type", [TracerProvider, LiaisonTracerProvider])
def test_same_request_as_the_official_encoder(provider_type: type[TracerProvider]) -> None:
    spans = _spans(provider_type)
    ours = ExportTraceServiceRequest.FromString(encode_spans(spans))
    assert ours == official(spans)
    # Twice: the second run comes from the caches.
    assert ExportTraceServiceRequest.FromString(encode_spans(spans)) == official(spans)


def test_no_spans_is_an_empty_request() -> None:
    assert encode_spans(()) == b""


def test_the_exporter_translates_with_it() -> None:
    spans = _spans()
    exporter = LiaisonOTLPSpanExporter(endpoint="http://127.0.0.1:1")
    try:
        assert exporter._translate_data(spans) == official(spans)
    finally:
        exporter.shutdown()
