"""No personal data leaves through telemetry: spans, events, attributes, resources, metrics, logs.

Records carrying distinctive personal values go through every call shape, an adapter step with
diagnostics that quote them, and a deliberately careless span (attributes, an exception, a status
description and a span name made of them). Everything exported is then searched for the values.
A raw exporter beside the guarded one proves that the values did reach the tracer.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from adapters.diagnostics import Diagnostic, Location, Severity
from gateway.client import AsyncLiaisonClient, InvalidRecordError
from gateway.server import Gateway
from gateway.telemetry import JsonLogFormatter, adapter_span
from gateway.telemetry.privacy import REDACTED_SPAN_NAME
from liaison.v1 import exchange_pb2
from tests.gateway.telemetry.conftest import Recorded
from tests.support.factories import person, travel_document

FAMILY = "ZORBLAXIAN"
GIVEN = "QUIXANDRA"
DOCUMENT = "ZX0987654"
BIRTH = (1911, 11, 11)
PERSONAL = (FAMILY, GIVEN, DOCUMENT, "1911-11-11", "19111111", "11.11.1911")


class _Adapter:
    name = "privacy-test"
    version = "1.0.0"


@pytest.fixture
def raw_spans(recorded: Recorded) -> InMemorySpanExporter:
    """Every span as recorded, before the allowlist (the test's control)."""
    raw = InMemorySpanExporter()
    provider = recorded.telemetry.tracer_provider
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(raw))
    return raw


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The root logger's records as the gateway writes them (JSON lines), during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _leaks(text: str) -> list[str]:
    return [value for value in PERSONAL if value.lower() in text.lower()]


async def _exercise(gateway: Gateway, recorded: Recorded) -> None:
    interceptors = recorded.telemetry.aio_client_interceptors(gateway.address)
    async with AsyncLiaisonClient(gateway.address, interceptors=interceptors) as client:
        await client.submit(person("TEST-CENTRE:p-1", family=FAMILY, given=GIVEN, birth=BIRTH))
        await client.submit(
            travel_document("TEST-CENTRE:p-2", number=DOCUMENT, family=FAMILY, birth=BIRTH)
        )
        bad = person("TEST-CENTRE:p-3", family=FAMILY, given=GIVEN, birth=(1911, 13, 11))
        with pytest.raises(InvalidRecordError):
            await client.submit(bad)
        await client.submit_many(
            [person("TEST-CENTRE:p-4", family=FAMILY, given=GIVEN, birth=BIRTH), bad], batch_size=1
        )
        await client.get("TEST-CENTRE:p-1")
        hits = [
            hit
            async for hit in client.search_all(exchange_pb2.SearchRequest(document_number=DOCUMENT))
        ]
        assert len(hits) == 1
        events = client.subscribe(after_sequence=0)
        async for event in events:
            if event.HasField("caught_up"):
                break
        await events.aclose()

    tracer = recorded.telemetry.tracer
    with tracer.start_as_current_span("/liaison.v1.Translation/Translate", kind=SpanKind.SERVER):
        with adapter_span(recorded.telemetry, _Adapter, "decode", 1234) as step:
            step.result(
                1,
                [
                    Diagnostic(
                        Severity.ERROR,
                        "NAME_UNREADABLE",
                        f"the name {FAMILY} {GIVEN} born 1911-11-11 is unreadable",
                        Location(line=3, column=7, json_pointer="/names/0/family"),
                        ("TEST-CENTRE:p-1",),
                    ),
                    Diagnostic(Severity.WARNING, "DOCUMENT_EXPIRED", f"document {DOCUMENT}"),
                ],
            )
        # A careless change: personal values put straight onto a span, its events and status.
        with tracer.start_as_current_span(f"lookup {FAMILY}") as careless:
            careless.set_attribute("person.family_name", FAMILY)
            careless.set_attribute("liaison.records.count", 1)
            careless.add_event("match", {"given": GIVEN})
            careless.record_exception(ValueError(f"no document {DOCUMENT}"))
            careless.set_status(Status(StatusCode.ERROR, f"{FAMILY} not found"))
    try:
        raise ValueError(f"holder {FAMILY} born 1911-11-11")
    except ValueError:
        logging.getLogger("gateway.test").exception("lookup failed")


async def test_no_personal_value_is_exported(
    gateway: Gateway,
    recorded: Recorded,
    raw_spans: InMemorySpanExporter,
    json_logs: io.StringIO,
) -> None:
    await _exercise(gateway, recorded)
    recorded.telemetry.tracer_provider.force_flush()  # type: ignore[union-attr]

    raw = "\n".join(span.to_json() for span in raw_spans.get_finished_spans())
    assert set(_leaks(raw)) >= {FAMILY, GIVEN, DOCUMENT}, "the test must feed the values"

    spans = recorded.spans.get_finished_spans()
    assert len(spans) >= 20
    exported = "\n".join(span.to_json() for span in spans)
    assert _leaks(exported) == []
    metrics = recorded.metrics.get_metrics_data()
    assert metrics is not None
    assert _leaks(metrics.to_json()) == []
    logs = json_logs.getvalue()
    assert "lookup failed" in logs
    assert _leaks(logs) == []

    # What the allowlist kept is still useful: codes, locations, counts, a renamed span.
    assert "NAME_UNREADABLE" in exported
    assert "/names/0/family" in exported
    names = {span.name for span in spans}
    assert REDACTED_SPAN_NAME in names
    careless = next(span for span in spans if span.name == REDACTED_SPAN_NAME)
    assert dict(careless.attributes or {}) == {"liaison.records.count": 1}
    assert [(e.name, dict(e.attributes or {})) for e in careless.events] == [
        ("exception", {"exception.type": "ValueError"})
    ]
    assert careless.status.status_code is StatusCode.ERROR
    assert careless.status.description is None


async def test_refusal_statuses_do_not_reach_spans(gateway: Gateway, recorded: Recorded) -> None:
    # A refused record's status message names the record id; its values are never in it, and
    # the span keeps the code alone.
    interceptors = recorded.telemetry.aio_client_interceptors(gateway.address)
    async with AsyncLiaisonClient(gateway.address, interceptors=interceptors) as client:
        with pytest.raises(InvalidRecordError) as refused:
            await client.submit(person("TEST-CENTRE:p-5", family=FAMILY, birth=(1911, 13, 11)))
    assert refused.value.code is grpc.StatusCode.INVALID_ARGUMENT
    for span in recorded.spans.get_finished_spans():
        assert span.status.description is None
