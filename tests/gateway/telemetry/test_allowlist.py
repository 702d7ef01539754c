"""The allowlist itself: what :func:`redact_span` and the metric view keep and drop."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext

from gateway.telemetry import Telemetry, redact_span
from gateway.telemetry import attributes as attr
from gateway.telemetry.privacy import REDACTED_SPAN_NAME
from tests.gateway.telemetry.metric_points import CollectedMetrics, points


def _record(build: object) -> list[object]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert callable(build)
    build(provider.get_tracer("test"))
    return list(exporter.get_finished_spans())


def test_a_clean_span_passes_unchanged() -> None:
    def build(tracer: trace.Tracer) -> None:
        with tracer.start_as_current_span("liaison.validate", attributes={attr.RECORDS_COUNT: 2}):
            pass

    [span] = _record(build)
    assert redact_span(span) is span  # type: ignore[arg-type]


def test_names_links_and_long_values() -> None:
    other = SpanContext(1, 2, is_remote=True)

    def build(tracer: trace.Tracer) -> None:
        for name in ("/liaison.v1.RecordExchange/Submit", "/bad path/Submit", "DOE, JANE"):
            with tracer.start_as_current_span(
                name,
                attributes={attr.ADAPTER_NAME: "/" + "a" * 500, "free.text": "x"},
                links=[Link(other, {attr.RECORDS_COUNT: 1, "note": "JANE"})],
            ):
                pass

    spans = [redact_span(span) for span in _record(build)]  # type: ignore[arg-type]
    assert [span.name for span in spans] == [
        "/liaison.v1.RecordExchange/Submit",
        REDACTED_SPAN_NAME,
        REDACTED_SPAN_NAME,
    ]
    for span in spans:
        assert list(span.attributes or {}) == [attr.ADAPTER_NAME]
        assert len(str((span.attributes or {})[attr.ADAPTER_NAME])) == 256
        assert [dict(link.attributes or {}) for link in span.links] == [{attr.RECORDS_COUNT: 1}]


def test_metric_attributes_outside_the_allowlist_are_dropped(pipeline: str) -> None:
    reader = CollectedMetrics(pipeline)
    telemetry = Telemetry.create("TEST", metric_reader=reader.reader, pipeline=pipeline)
    try:
        telemetry.metrics.rpc_client_duration.record(
            0.01, {attr.RPC_METHOD: "Submit", "person.family_name": "DOE"}
        )
        assert [a for a, _ in points(reader, "rpc.client.call.duration")] == [
            {attr.RPC_METHOD: "Submit"}
        ]
    finally:
        telemetry.shutdown()


def test_counter_values_outside_their_patterns_are_counted_as_other(pipeline: str) -> None:
    reader = CollectedMetrics(pipeline)
    telemetry = Telemetry.create("TEST", metric_reader=reader.reader, pipeline=pipeline)
    try:
        telemetry.metrics.ingested(1, "DOE JANE 1975")
        telemetry.metrics.diagnostic("lines", "name was DOE", "error")
        [(ingested, _)] = points(reader, "liaison.records.ingested")
        [(diagnostic, _)] = points(reader, "liaison.diagnostics")
    finally:
        telemetry.shutdown()
    assert ingested[attr.ORIGINATING_CENTRE] == "other"
    assert diagnostic[attr.DIAGNOSTIC_CODE] == "other"


def test_counters_keep_a_bounded_number_of_series(pipeline: str) -> None:
    reader = CollectedMetrics(pipeline)
    telemetry = Telemetry.create("TEST", metric_reader=reader.reader, pipeline=pipeline)
    try:
        for n in range(1100):
            telemetry.metrics.ingested(1, f"CENTRE-{n}")
        series = points(reader, "liaison.records.ingested")
    finally:
        telemetry.shutdown()
    assert len(series) == 1001
    overflow = [p.value for a, p in series if a[attr.ORIGINATING_CENTRE] == "other"]
    assert overflow == [100]
