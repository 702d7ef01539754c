"""The client library's Translation methods, blocking and asyncio, against a real gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc import aio

from gateway.client import (
    AsyncLiaisonClient,
    ClientError,
    InvalidRecordError,
    LiaisonClient,
    RecordNotFoundError,
    VersionConflictError,
    channel_options,
)
from gateway.config import CentreConfig
from gateway.server import Gateway
from gateway.services.translation import SERVICE_NAME
from liaison.v1 import record_pb2, translation_pb2
from tests.support.factories import person
from tests.support.translation_adapters import lines, lines_registry, serving

PEOPLE = lines("DOE;JANE;1975-03-12", "ROE;RICHARD;1980-11")


@pytest.fixture
async def gateway(gateway_config: CentreConfig) -> AsyncIterator[Gateway]:
    """A gateway serving the test adapters."""
    async with serving(gateway_config, lines_registry()) as started:
        yield started


async def test_async_translation_methods(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        adapters = await client.list_adapters()
        translated = await client.translate("lines", PEOPLE, source_reference="a.lines")
        handling = record_pb2.Handling(code=record_pb2.HANDLING_CODE_H1)
        ingested = await client.ingest("lines", PEOPLE, handling=handling)
        again = await client.ingest("lines", PEOPLE)
        exported = await client.export(
            "lines",
            record_refs=[
                ingested.acks[1].record_id,
                translation_pb2.RecordRef(record_id=ingested.acks[0].record_id, version=1),
            ],
            records=[person("P-9", "POE", "EDGAR")],
        )
        stored = await client.get(ingested.acks[0].record_id)

    assert [a.name for a in adapters] == ["lines", "lines-broken", "lines-read-only"]
    assert translated.records[0].provenance.source_reference == "a.lines"
    assert [ack.version for ack in ingested.acks] == [1, 1]
    assert stored.record.handling == handling
    assert again.duplicate
    assert exported.payload == lines(
        "ROE;RICHARD;1980-11", "DOE;JANE;1975-03-12", "POE;EDGAR;1975-03-12"
    )
    assert exported.media_type == "text/x-liaison-lines"


async def test_async_translation_errors_map_to_the_client_errors(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        with pytest.raises(InvalidRecordError) as unknown:
            await client.translate("nope", PEOPLE)
        with pytest.raises(InvalidRecordError) as refused:
            await client.ingest("lines", lines("NOT A PERSON"))
        partial = await client.ingest("lines", lines("NOT A PERSON"), accept_partial=True)
        with pytest.raises(RecordNotFoundError):
            await client.export("lines", record_refs=["P-404"])
        with pytest.raises(ClientError) as cannot:
            await client.export("lines-read-only", records=[person("P-1")])

    assert [field for field, _ in unknown.value.field_violations] == ["adapter"]
    assert refused.value.field_violations == [
        (
            "line 1, column 1, byte 0",
            "LINES_FIELD_COUNT: expected 3 fields separated by ';', found 1",
        )
    ]
    assert (list(partial.acks), [d.code for d in partial.diagnostics]) == (
        [],
        ["LINES_FIELD_COUNT"],
    )
    # An adapter that cannot encode is no version conflict.
    assert cannot.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert not isinstance(cannot.value, VersionConflictError)


async def test_sync_translation_methods(gateway: Gateway) -> None:
    def scenario() -> None:
        with LiaisonClient(gateway.address) as client:
            assert len(client.list_adapters()) == 3
            assert len(client.translate("lines", PEOPLE).records) == 2
            ingested = client.ingest("lines", PEOPLE, source_reference="b.lines")
            assert [ack.sequence for ack in ingested.acks] == [1, 2]
            exported = client.export("lines", record_refs=[ack.record_id for ack in ingested.acks])
            assert exported.payload == PEOPLE
            with pytest.raises(InvalidRecordError):
                client.ingest("lines", b"")
            with pytest.raises(RecordNotFoundError):
                client.export("lines", record_refs=[translation_pb2.RecordRef(record_id="P-404")])
            with pytest.raises(ClientError) as cannot:
                client.export("lines-read-only", records=[person("P-1")])
            assert not isinstance(cannot.value, VersionConflictError)

    await asyncio.to_thread(scenario)


async def test_ingest_is_retried_when_the_gateway_is_unavailable() -> None:
    attempts = 0

    async def ingest(request: translation_pb2.IngestRequest, context: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts <= 2:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        return translation_pb2.IngestResponse(payload_sha256=b"x" * 32)

    handler = grpc.unary_unary_rpc_method_handler(
        ingest,
        request_deserializer=translation_pb2.IngestRequest.FromString,
        response_serializer=translation_pb2.IngestResponse.SerializeToString,
    )
    server = aio.server()
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(SERVICE_NAME, {"Ingest": handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with AsyncLiaisonClient(f"127.0.0.1:{port}") as client:
            response = await client.ingest("lines", PEOPLE)
    finally:
        await server.stop(0)

    assert attempts == 3
    assert response.payload_sha256 == b"x" * 32


def test_the_retry_policy_covers_the_translation_service() -> None:
    config = json.loads(dict(channel_options())["grpc.service_config"])
    names = [name for method in config["methodConfig"] for name in method["name"]]
    assert {"service": SERVICE_NAME} in names
