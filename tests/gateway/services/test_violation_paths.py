"""One format for field-violation paths, whichever RPC carried the record (decision 0022).

The same invalid person (born on 30 February) is refused by Submit, SubmitStream, Ingest, Export
of an inline record and Screen; every one names the field ``person.birth_date.day``, the path from
the record that docs/contract.md documents. Refusals that cover several records say which one in
the description, never in the path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio

from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, screening_pb2, translation_pb2
from tests.support.factories import person
from tests.support.rpc import ExchangeStub, ScreeningStub, TranslationStub, violations_of
from tests.support.translation_adapters import lines, lines_registry, serving

PATH = "person.birth_date.day"
WHY = "is past the end of its month"


@pytest.fixture
async def gateway(gateway_config: CentreConfig) -> AsyncIterator[Gateway]:
    """A gateway serving the test ``lines`` adapter (one person per line)."""
    async with serving(gateway_config, lines_registry()) as started:
        yield started


async def refused(call: object) -> dict[str, str]:
    """The field violations of a call that must be refused with INVALID_ARGUMENT."""
    with pytest.raises(aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return violations_of(raised.value)


async def test_submit_names_the_path_from_the_record(exchange: ExchangeStub) -> None:
    invalid = person("P-1", birth=(1975, 2, 30))
    found = await refused(exchange.Submit(exchange_pb2.SubmitRequest(record=invalid)))
    assert found == {PATH: WHY}


async def test_submit_without_a_record_names_the_request_field(exchange: ExchangeStub) -> None:
    assert await refused(exchange.Submit(exchange_pb2.SubmitRequest())) == {"record": "is required"}


async def test_submit_stream_names_the_same_path(exchange: ExchangeStub) -> None:
    batch = exchange_pb2.SubmitStreamRequest(
        records=[person("P-1"), person("P-2", birth=(1975, 2, 30))]
    )

    async def requests() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield batch

    response = await exchange.SubmitStream(requests())
    [failed] = [result for result in response.results if result.HasField("error")]
    assert failed.index == 1
    assert {v.field: v.description for v in failed.error.field_violations} == {PATH: WHY}


async def test_ingest_names_the_same_path_and_the_decoded_record(
    channel: aio.Channel,
) -> None:
    translation = TranslationStub(channel)
    payload = lines("DOE;JANE;1975-03-12", "ROE;RICHARD;1975-02-30")
    request = translation_pb2.IngestRequest(adapter="lines", payload=payload)
    assert await refused(translation.Ingest(request)) == {PATH: f"{WHY} (decoded record #1)"}


async def test_export_names_the_same_path_and_the_inline_record(channel: aio.Channel) -> None:
    translation = TranslationStub(channel)
    request = translation_pb2.ExportRequest(
        adapter="lines", records=[person("P-1"), person("P-2", birth=(1975, 2, 30))]
    )
    assert await refused(translation.Export(request)) == {PATH: f"{WHY} (records[1])"}


async def test_screen_names_the_same_path_and_the_subject(channel: aio.Channel) -> None:
    screening = ScreeningStub(channel)
    request = screening_pb2.ScreenRequest(subjects=[person("S-1", birth=(1975, 2, 30))])
    assert await refused(screening.Screen(request)) == {PATH: f"{WHY} (subjects[0])"}
