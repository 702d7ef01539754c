"""The adapter step: a span with the adapter's figures, diagnostics as events, and counters."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind

from adapters.diagnostics import Diagnostic, Location, Severity
from gateway.telemetry import adapter_span
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import ADAPTER_DECODE_SPAN, ADAPTER_ENCODE_SPAN
from tests.gateway.telemetry.conftest import Recorded
from tests.gateway.telemetry.metric_points import points
from tests.gateway.telemetry.spans import one


class _Adapter:
    name = "icao-mrz"
    version = "1.2.0"


_DIAGNOSTICS = [
    Diagnostic(Severity.ERROR, "MRZ_CHECK_DIGIT", "check digit of the number", Location(2, 10)),
    Diagnostic(Severity.WARNING, "MRZ_FILLER", "filler", Location(segment_index=1)),
    Diagnostic(Severity.WARNING, "MRZ_FILLER", "filler", Location(byte_offset=40)),
]


def test_decode_under_a_server_span(recorded: Recorded) -> None:
    tracer = recorded.telemetry.tracer
    with (
        tracer.start_as_current_span("/liaison.v1.Translation/Translate", kind=SpanKind.SERVER),
        adapter_span(recorded.telemetry, _Adapter, "decode", 90) as step,
    ):
        step.result(2, _DIAGNOSTICS)

    spans = recorded.spans.get_finished_spans()
    decode = one(spans, ADAPTER_DECODE_SPAN)
    server = one(spans, "/liaison.v1.Translation/Translate")
    assert decode.parent is not None
    assert server.context is not None
    assert decode.parent.span_id == server.context.span_id
    assert dict(decode.attributes or {}) == {
        attr.ADAPTER_NAME: "icao-mrz",
        attr.ADAPTER_VERSION: "1.2.0",
        attr.ADAPTER_OPERATION: "decode",
        attr.PAYLOAD_SIZE: 90,
        attr.RECORDS_COUNT: 2,
        attr.DIAGNOSTICS_ERROR: 1,
        attr.DIAGNOSTICS_WARNING: 2,
        attr.DIAGNOSTICS_INFO: 0,
    }
    assert [(e.name, dict(e.attributes or {})) for e in decode.events] == [
        (
            attr.DIAGNOSTIC_EVENT,
            {
                attr.DIAGNOSTIC_CODE: "MRZ_CHECK_DIGIT",
                attr.DIAGNOSTIC_SEVERITY: "error",
                attr.LOCATION_LINE: 2,
                attr.LOCATION_COLUMN: 10,
            },
        ),
        (
            attr.DIAGNOSTIC_EVENT,
            {
                attr.DIAGNOSTIC_CODE: "MRZ_FILLER",
                attr.DIAGNOSTIC_SEVERITY: "warning",
                attr.LOCATION_SEGMENT_INDEX: 1,
            },
        ),
        (
            attr.DIAGNOSTIC_EVENT,
            {
                attr.DIAGNOSTIC_CODE: "MRZ_FILLER",
                attr.DIAGNOSTIC_SEVERITY: "warning",
                attr.LOCATION_BYTE_OFFSET: 40,
            },
        ),
    ]
    translated = {
        (a[attr.ADAPTER_NAME], a[attr.ADAPTER_OPERATION]): p.value
        for a, p in points(recorded.metrics, "liaison.records.translated")
    }
    assert translated == {("icao-mrz", "decode"): 2}
    diagnostics = {
        (a[attr.DIAGNOSTIC_CODE], a[attr.DIAGNOSTIC_SEVERITY]): p.value
        for a, p in points(recorded.metrics, "liaison.diagnostics")
    }
    assert diagnostics == {("MRZ_CHECK_DIGIT", "error"): 1, ("MRZ_FILLER", "warning"): 2}


def test_encode_records_the_payload_produced(recorded: Recorded) -> None:
    with (
        recorded.telemetry.tracer.start_as_current_span("/liaison.v1.Translation/Export"),
        adapter_span(recorded.telemetry, _Adapter, "encode") as step,
    ):
        step.result(3, payload_size=270)
    encode = one(recorded.spans.get_finished_spans(), ADAPTER_ENCODE_SPAN)
    assert (encode.attributes or {})[attr.PAYLOAD_SIZE] == 270
    assert (encode.attributes or {})[attr.RECORDS_COUNT] == 3


def test_without_a_recording_parent_only_metrics_are_kept(recorded: Recorded) -> None:
    with adapter_span(recorded.telemetry, _Adapter, "decode", 10) as step:
        step.result(1, _DIAGNOSTICS[:1])
    assert recorded.spans.get_finished_spans() == ()
    assert [p.value for _, p in points(recorded.metrics, "liaison.diagnostics")] == [1]


def test_a_failing_adapter_marks_the_span(recorded: Recorded) -> None:
    with (
        recorded.telemetry.tracer.start_as_current_span("/liaison.v1.Translation/Translate"),
        pytest.raises(RuntimeError),
        adapter_span(recorded.telemetry, _Adapter, "decode", 1),
    ):
        raise RuntimeError("the adapter broke on ERIKSSON")
    decode = one(recorded.spans.get_finished_spans(), ADAPTER_DECODE_SPAN)
    assert [(e.name, dict(e.attributes or {})) for e in decode.events] == [
        ("exception", {"exception.type": "RuntimeError"})
    ]


def test_unknown_operation_is_refused(recorded: Recorded) -> None:
    with pytest.raises(ValueError, match="decode"):
        adapter_span(recorded.telemetry, _Adapter, "translate")
