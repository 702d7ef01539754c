"""Translate, Ingest and Export: the adapter span under the RPC span, with its diagnostics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from grpc import aio
from opentelemetry.sdk.trace import ReadableSpan

from gateway.config import CentreConfig
from gateway.server import Gateway
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import ADAPTER_DECODE_SPAN, ADAPTER_ENCODE_SPAN, STORE_WRITE_SPAN
from liaison.v1 import translation_pb2
from tests.gateway.telemetry.conftest import Recorded
from tests.gateway.telemetry.metric_points import points
from tests.gateway.telemetry.spans import one
from tests.support.rpc import TranslationStub
from tests.support.translation_adapters import lines, lines_registry

SERVICE = "liaison.v1.Translation"
PAYLOAD = lines("PLUMTREE;JANE;1975-03-12", "ROWANBERRY;;1980-13")


@pytest.fixture
async def gateway(gateway_config: CentreConfig, recorded: Recorded) -> AsyncIterator[Gateway]:
    """A gateway with the test adapters, recording into ``recorded``."""
    server = Gateway(gateway_config, telemetry=recorded.telemetry, registry=lines_registry())
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


@pytest.fixture
def translation(channel: aio.Channel) -> TranslationStub:
    """A Translation stub on the channel to ``gateway``."""
    return TranslationStub(channel)


def _child_of(span: ReadableSpan, parent: ReadableSpan) -> bool:
    return (
        span.parent is not None
        and parent.context is not None
        and span.parent.span_id == parent.context.span_id
    )


async def test_translate_has_the_decode_span(
    translation: TranslationStub, recorded: Recorded
) -> None:
    response = await translation.Translate(
        translation_pb2.TranslateRequest(adapter="lines", payload=PAYLOAD)
    )
    assert len(response.records) == 2

    spans = recorded.spans.get_finished_spans()
    server = one(spans, f"/{SERVICE}/Translate")
    decode = one(spans, ADAPTER_DECODE_SPAN)
    assert _child_of(decode, server)
    assert dict(decode.attributes or {}) == {
        attr.ADAPTER_NAME: "lines",
        attr.ADAPTER_VERSION: "1.0.0",
        attr.ADAPTER_OPERATION: "decode",
        attr.PAYLOAD_SIZE: len(PAYLOAD),
        attr.RECORDS_COUNT: 2,
        attr.DIAGNOSTICS_ERROR: 1,
        attr.DIAGNOSTICS_WARNING: 1,
        attr.DIAGNOSTICS_INFO: 0,
    }
    assert [(e.attributes or {})[attr.DIAGNOSTIC_CODE] for e in decode.events] == [
        "LINES_NO_GIVEN_NAME",
        "LINES_DATE",
    ]
    assert dict(decode.events[1].attributes or {}) == {
        attr.DIAGNOSTIC_CODE: "LINES_DATE",
        attr.DIAGNOSTIC_SEVERITY: "error",
        attr.LOCATION_LINE: 2,
        attr.LOCATION_COLUMN: 13,
    }
    exported = "\n".join(span.to_json() for span in spans)
    assert "PLUMTREE" not in exported
    assert "ROWANBERRY" not in exported


async def test_ingest_decodes_then_stores(translation: TranslationStub, recorded: Recorded) -> None:
    response = await translation.Ingest(
        translation_pb2.IngestRequest(adapter="lines", payload=PAYLOAD, accept_partial=True)
    )
    assert len(response.acks) == 1

    spans = recorded.spans.get_finished_spans()
    server = one(spans, f"/{SERVICE}/Ingest")
    decode, store = one(spans, ADAPTER_DECODE_SPAN), one(spans, STORE_WRITE_SPAN)
    assert _child_of(decode, server)
    assert _child_of(store, server)
    assert (store.attributes or {})[attr.RECORDS_STORED] == 1
    ingested = {
        a[attr.ADAPTER_NAME]: p.value
        for a, p in points(recorded.metrics, "liaison.records.ingested")
    }
    assert ingested == {"lines": 1}
    rejected = {
        a[attr.REJECTION_REASON]: p.value
        for a, p in points(recorded.metrics, "liaison.records.rejected")
    }
    assert rejected == {"diagnostics": 1}


async def test_export_has_the_encode_span(translation: TranslationStub, recorded: Recorded) -> None:
    decoded = await translation.Translate(
        translation_pb2.TranslateRequest(adapter="lines", payload=lines("DOE;JANE;1975"))
    )
    recorded.spans.clear()
    response = await translation.Export(
        translation_pb2.ExportRequest(adapter="lines", records=decoded.records)
    )

    spans = recorded.spans.get_finished_spans()
    encode = one(spans, ADAPTER_ENCODE_SPAN)
    assert _child_of(encode, one(spans, f"/{SERVICE}/Export"))
    assert (encode.attributes or {})[attr.PAYLOAD_SIZE] == len(response.payload)
    assert (encode.attributes or {})[attr.RECORDS_COUNT] == 1
