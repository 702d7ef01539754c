"""Liaison's lighter tracer records what the SDK's tracer records, through the same pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from gateway.telemetry.fast.otlp import encode_spans
from gateway.telemetry.fast.tracer import MAX_ATTRIBUTES, LiaisonSpan, LiaisonTracerProvider

REMOTE = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1))
RESOURCE = Resource.create({"service.name": "test"})


def _pipeline(
    provider_type: type[TracerProvider], ratio: float = 1.0
) -> tuple[TracerProvider, trace.Tracer, InMemorySpanExporter]:
    provider = provider_type(resource=RESOURCE, sampler=ParentBased(TraceIdRatioBased(ratio)))
    exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return provider, provider.get_tracer("liaison.gateway", "1.2.3"), exported


def _story(tracer: trace.Tracer) -> None:
    """Everything a span can go through, done the same way with either tracer."""
    remote = trace.set_span_in_context(NonRecordingSpan(REMOTE))
    root = tracer.start_span(
        "/liaison.v1.RecordExchange/Submit",
        context=remote,
        kind=SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "texts": ["a", "b"], "mixed": ["a", 1]},
        links=[Link(REMOTE, {"link.n": 1})],
    )
    root.set_attribute("network.peer.port", 40000)
    root.set_attributes({"flag": True, "real": 1.5, "nested": {"no": "maps"}})
    root.add_event("liaison.diagnostic", {"liaison.diagnostic.code": "X"})
    with trace.use_span(root, end_on_exit=False):
        with tracer.start_as_current_span("liaison.validate") as validate:
            validate.set_status(StatusCode.ERROR, "refused")
        try:
            with tracer.start_span("liaison.store.write") as write:
                raise ValueError("disk said no")
        except ValueError:
            pass
        ok = tracer.start_span("liaison.ok")
        ok.set_status(Status(StatusCode.OK))
        ok.set_status(Status(StatusCode.ERROR, "too late: OK is final"))
        ok.set_status(StatusCode.UNSET)
        ok.update_name("liaison.renamed")
        ok.add_link(REMOTE, {"link.n": 2})
        ok.end()
    root.end()
    del write


def _shape(span: ReadableSpan) -> dict[str, Any]:
    """What a span says, without its random ids and clock readings."""
    return {
        "name": span.name,
        "kind": span.kind,
        "parent": None
        if span.parent is None
        else (span.parent.span_id if span.parent.is_remote else "local"),
        "attributes": dict(span.attributes or {}),
        "dropped_attributes": span.dropped_attributes,
        "events": [
            (
                event.name,
                {k: v for k, v in (event.attributes or {}).items() if k != "exception.stacktrace"},
            )
            for event in span.events
        ],
        "links": [(link.context, dict(link.attributes or {})) for link in span.links],
        "status": (span.status.status_code, span.status.description),
        "resource": span.resource.attributes,
        "scope": (span.instrumentation_scope.name, span.instrumentation_scope.version)
        if span.instrumentation_scope
        else None,
        "sampled": span.context.trace_flags.sampled,
        "random": span.context.trace_flags.random_trace_id,
    }


def test_it_records_what_the_sdk_records() -> None:
    _, sdk_tracer, sdk_spans = _pipeline(TracerProvider)
    _, our_tracer, our_spans = _pipeline(LiaisonTracerProvider)
    _story(sdk_tracer)
    _story(our_tracer)
    ours = our_spans.get_finished_spans()
    theirs = sdk_spans.get_finished_spans()
    assert [_shape(span) for span in ours] == [_shape(span) for span in theirs]
    assert len(ours) == 4
    [error] = ours[1].events
    assert "ValueError: disk said no" in str((error.attributes or {})["exception.stacktrace"])


def test_spans_of_one_call_share_its_trace_and_nest() -> None:
    _, tracer, exported = _pipeline(LiaisonTracerProvider)
    with tracer.start_as_current_span("root") as root:
        assert isinstance(root, LiaisonSpan)
        child = tracer.start_span("child")
        child.end()
    child_span, root_span = exported.get_finished_spans()
    assert child_span.context.trace_id == root_span.context.trace_id
    assert child_span.parent == root_span.context
    assert root_span.parent is None
    assert root_span.start_time <= child_span.start_time <= child_span.end_time  # type: ignore[operator]
    assert child_span.end_time <= root_span.end_time  # type: ignore[operator]


def test_an_unsampled_call_has_ids_and_records_nothing() -> None:
    _, tracer, exported = _pipeline(LiaisonTracerProvider, ratio=0.0)
    with tracer.start_as_current_span("root") as root:
        assert not root.is_recording()
        context = root.get_span_context()
        assert context.is_valid
        assert not context.trace_flags.sampled
        child = tracer.start_span("child")
        assert not child.is_recording()
        assert child.get_span_context().trace_id == context.trace_id
        child.end()
    assert exported.get_finished_spans() == ()


def test_an_ended_span_is_exported_once_and_changes_no_more() -> None:
    _, tracer, exported = _pipeline(LiaisonTracerProvider)
    span = tracer.start_span("once")
    span.end()
    assert not span.is_recording()
    span.set_attribute("late", 1)
    span.set_attributes({"later": 2})
    span.add_event("late")
    span.set_status(StatusCode.ERROR)
    span.update_name("renamed")
    span.add_link(REMOTE)
    span.end()
    [only] = exported.get_finished_spans()
    assert only.name == "once"
    assert dict(only.attributes or {}) == {}
    assert only.events == ()
    assert only.links == ()
    assert only.status.status_code is StatusCode.UNSET


def test_attributes_beyond_the_limit_are_counted_as_dropped() -> None:
    _, tracer, exported = _pipeline(LiaisonTracerProvider)
    span = tracer.start_span("many", attributes={f"a{n}": n for n in range(MAX_ATTRIBUTES)})
    span.set_attribute("a0", -1)  # replacing a kept key is not a drop
    span.set_attributes({"b1": 1, "b2": 2})
    span.end()
    [only] = exported.get_finished_spans()
    assert len(only.attributes or {}) == MAX_ATTRIBUTES
    assert (only.attributes or {})["a0"] == -1
    assert only.dropped_attributes == 2
    # The encoder reports the drop to the collector.
    assert b"\x50\x02" in encode_spans([only])


@pytest.mark.parametrize(
    "value",
    ["text", 7, True, 1.5, ["a", "b"], (1, None, 3), ["a", 1], {"a": 1}, b"bytes", object()],
)
def test_attribute_values_follow_the_sdk_rules(value: object) -> None:
    kept = []
    for provider_type in (TracerProvider, LiaisonTracerProvider):
        _, tracer, exported = _pipeline(provider_type)
        span = tracer.start_span("values", attributes={"initial": value})  # type: ignore[dict-item]
        span.set_attribute("value", value)  # type: ignore[arg-type]
        span.end()
        [only] = exported.get_finished_spans()
        kept.append(dict(only.attributes or {}))
    theirs, ours = kept
    assert ours == theirs


def test_record_exception_can_be_turned_off() -> None:
    _, tracer, exported = _pipeline(LiaisonTracerProvider)
    quiet = tracer.start_span("quiet", record_exception=False, set_status_on_exception=False)
    with pytest.raises(KeyError), quiet:
        raise KeyError("x")
    [only] = exported.get_finished_spans()
    assert only.events == ()
    assert only.status.status_code is StatusCode.UNSET


def test_a_processor_added_later_sees_later_spans() -> None:
    provider, tracer, first = _pipeline(LiaisonTracerProvider)
    tracer.start_span("before").end()
    second = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(second))
    tracer.start_span("after").end()
    assert [span.name for span in first.get_finished_spans()] == ["before", "after"]
    assert [span.name for span in second.get_finished_spans()] == ["after"]


@pytest.mark.parametrize(
    "start",
    [
        lambda tracer: tracer.start_span("plain"),
        lambda tracer: tracer.start_span("kinded", kind=SpanKind.CLIENT, start_time=5),
    ],
)
def test_spans_start_on_processors_too(start: Callable[[trace.Tracer], trace.Span]) -> None:
    provider, tracer, _ = _pipeline(LiaisonTracerProvider)
    started: list[str] = []

    class Watching(SimpleSpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            started.append(span.name)

    provider.add_span_processor(Watching(InMemorySpanExporter()))
    span = start(tracer)
    span.end()
    assert len(started) == 1
