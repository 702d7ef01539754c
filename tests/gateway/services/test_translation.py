"""The Translation service over real gRPC: ListAdapters, Translate and Export, with their errors.

Ingest is in ``test_translation_ingest.py``. The adapters are the test ones of
``tests.support.translation_adapters`` (a small line format), so these tests do not depend on the
built-in formats; ``test_translation_builtins.py`` runs the built-ins through the same calls.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from adapters import Severity
from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2, translation_pb2
from tests.conftest import make_config
from tests.support.factories import person, travel_document
from tests.support.rpc import ExchangeStub, TranslationStub, violations_of
from tests.support.translation_adapters import SlowAdapter, lines, lines_registry, serving

PEOPLE = lines("DOE;JANE;1975-03-12", "ROE;RICHARD;1980-11")
ERROR = translation_pb2.DIAGNOSTIC_SEVERITY_ERROR


@pytest.fixture
def slow() -> SlowAdapter:
    return SlowAdapter()


@pytest.fixture
async def gateway(gateway_config: CentreConfig, slow: SlowAdapter) -> AsyncIterator[Gateway]:
    """A gateway serving the test adapters."""
    async with serving(gateway_config, lines_registry(slow)) as started:
        yield started


@pytest.fixture
def translation(channel: aio.Channel) -> TranslationStub:
    return TranslationStub(channel)


async def translate(
    stub: TranslationStub, payload: bytes, adapter: str = "lines", reference: str = ""
) -> translation_pb2.TranslateResponse:
    return await stub.Translate(
        translation_pb2.TranslateRequest(
            adapter=adapter, payload=payload, source_reference=reference
        )
    )


# --- ListAdapters ----------------------------------------------------------------------------


async def test_list_adapters_describes_each_one(translation: TranslationStub) -> None:
    response = await translation.ListAdapters(translation_pb2.ListAdaptersRequest())

    assert [a.name for a in response.adapters] == [
        "lines",
        "lines-broken",
        "lines-read-only",
        "lines-slow",
    ]
    lines_info, _, read_only, _ = response.adapters
    assert lines_info == translation_pb2.AdapterInfo(
        name="lines",
        version="1.0.0",
        description="Test format: one person per line, FAMILY;GIVEN;DATE",
        media_types=["text/x-liaison-lines"],
        file_extensions=["lines"],
        can_decode=True,
        can_encode=True,
    )
    assert (read_only.can_decode, read_only.can_encode) == (True, False)


# --- Translate -------------------------------------------------------------------------------


async def test_translate_returns_records_with_provenance_and_stores_nothing(
    translation: TranslationStub, gateway: Gateway
) -> None:
    response = await translate(translation, PEOPLE, reference="people.lines")

    assert list(response.diagnostics) == []
    first, second = response.records
    assert (first.person.names[0].family, first.person.names[0].given) == ("DOE", "JANE")
    birth = second.person.birth_date
    assert (birth.year, birth.month, birth.day) == (1980, 11, 0)
    provenance = first.provenance
    assert (provenance.adapter_name, provenance.adapter_version) == ("lines", "1.0.0")
    assert provenance.source_reference == "people.lines"
    assert provenance.payload_sha256 == hashlib.sha256(PEOPLE).digest()
    assert await gateway.store.last_sequence() == 0


async def test_translate_reports_diagnostics_with_locations_and_records(
    translation: TranslationStub,
) -> None:
    payload = lines("DOE;;1975-03-12", "NOT A PERSON", "ROE;RICHARD;1980-13-01")

    response = await translate(translation, payload)

    no_given, field_count, bad_date = response.diagnostics
    assert (no_given.code, no_given.severity) == (
        "LINES_NO_GIVEN_NAME",
        translation_pb2.DIAGNOSTIC_SEVERITY_WARNING,
    )
    assert list(no_given.record_ids) == [response.records[0].record_id]
    assert (field_count.code, field_count.severity, field_count.location.line) == (
        "LINES_FIELD_COUNT",
        ERROR,
        2,
    )
    assert field_count.location.byte_offset == len(b"DOE;;1975-03-12\n")
    assert list(field_count.record_ids) == []
    assert (bad_date.code, bad_date.location.line, bad_date.location.column) == (
        "LINES_DATE",
        3,
        13,
    )
    # The tainted record is returned (Translate hides nothing), named by its error.
    assert list(bad_date.record_ids) == [response.records[1].record_id]
    assert len(response.records) == 2


@pytest.mark.parametrize(
    ("adapter", "message"),
    [
        ("", "an adapter name is required"),
        ("paxlst-v9", "unknown adapter 'paxlst-v9'"),
        ("<script>" * 10, "unknown adapter (not an adapter name)"),
    ],
)
async def test_an_unknown_adapter_is_refused_listing_the_known_ones(
    translation: TranslationStub, adapter: str, message: str
) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await translate(translation, PEOPLE, adapter=adapter)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == message
    [(field, description)] = violations_of(raised.value).items()
    assert field == "adapter"
    assert description.endswith("known adapters: lines, lines-broken, lines-read-only, lines-slow")


async def test_an_empty_payload_is_refused(translation: TranslationStub) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await translate(translation, b"")

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations_of(raised.value) == {"payload": "must not be empty"}


async def test_an_overlong_source_reference_is_refused(translation: TranslationStub) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await translate(translation, PEOPLE, reference="x" * 257)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations_of(raised.value) == {"source_reference": "must be at most 256 characters"}


async def test_a_payload_over_the_limit_is_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_payload_bytes=len(PEOPLE) - 1)
    async with (
        serving(config, lines_registry()) as gateway,
        aio.insecure_channel(gateway.address) as channel,
    ):
        stub = TranslationStub(channel)
        with pytest.raises(aio.AioRpcError) as raised:
            await translate(stub, PEOPLE)
        cut = PEOPLE[: len(PEOPLE) - 1]
        accepted = await translate(stub, cut)

    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert raised.value.details() == (
        f"the payload is {len(PEOPLE)} bytes; this gateway decodes at most {len(cut)} bytes per "
        "call ([limits] max_payload_bytes)"
    )
    assert len(accepted.records) == 2


async def test_an_adapter_that_raises_is_an_internal_error_without_the_payload(
    translation: TranslationStub, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await translate(translation, lines("DOE;JANE;1975-03-12"), adapter="lines-broken")

    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert "'lines-broken' failed on this payload" in (raised.value.details() or "")
    assert "DOE" not in (raised.value.details() or "")
    logged = [r.getMessage() for r in caplog.records if r.name == "gateway.services.translation"]
    assert len(logged) == 1
    assert logged[0].startswith("adapter lines-broken raised while decoding: ValueError at")
    assert all("DOE" not in r.getMessage() for r in caplog.records)


async def test_decoding_does_not_stall_other_calls(
    translation: TranslationStub, channel: aio.Channel, slow: SlowAdapter
) -> None:
    pending = asyncio.ensure_future(translate(translation, PEOPLE, adapter="lines-slow"))
    assert await asyncio.to_thread(slow.started.wait, 10)

    # While the adapter works, the gateway keeps answering, on both services.
    listed = await translation.ListAdapters(translation_pb2.ListAdaptersRequest(), timeout=5)
    submitted = await ExchangeStub(channel).Submit(
        exchange_pb2.SubmitRequest(record=person("P-1")), timeout=5
    )
    assert not pending.done()
    slow.release.set()
    response = await pending

    assert len(listed.adapters) == 4
    assert submitted.ack.version == 1
    assert len(response.records) == 2


async def test_a_decode_past_the_deadline_ends_the_call_on_time(
    translation: TranslationStub, slow: SlowAdapter
) -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(aio.AioRpcError) as raised:
        await translation.Translate(
            translation_pb2.TranslateRequest(adapter="lines-slow", payload=PEOPLE), timeout=0.3
        )
    elapsed = asyncio.get_running_loop().time() - started
    slow.release.set()

    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert elapsed < 5


# --- Export ----------------------------------------------------------------------------------


async def submit(channel: aio.Channel, *records: record_pb2.Record) -> None:
    stub = ExchangeStub(channel)
    for record in records:
        await stub.Submit(exchange_pb2.SubmitRequest(record=record))


async def test_export_encodes_stored_and_inline_records(
    translation: TranslationStub, channel: aio.Channel
) -> None:
    await submit(channel, person("P-1", "DOE", "JANE"), person("P-1", "DOE", "JOAN"))
    inline = person("P-9", "ROE", "RICHARD", (1980, 11, 0))
    inline.person.ClearField("nationalities")

    response = await translation.Export(
        translation_pb2.ExportRequest(
            adapter="lines",
            record_refs=[
                translation_pb2.RecordRef(record_id="P-1"),
                translation_pb2.RecordRef(record_id="P-1", version=1),
            ],
            records=[inline],
        )
    )

    assert response.payload == lines(
        "DOE;JOAN;1975-03-12", "DOE;JANE;1975-03-12", "ROE;RICHARD;1980-11"
    )
    assert response.media_type == "text/x-liaison-lines"
    # What the format cannot carry is reported, per record.
    assert [(d.code, d.severity, list(d.record_ids)) for d in response.diagnostics] == [
        ("LINES_FIELD_DROPPED", translation_pb2.DIAGNOSTIC_SEVERITY_INFO, ["P-1"]),
        ("LINES_FIELD_DROPPED", translation_pb2.DIAGNOSTIC_SEVERITY_INFO, ["P-1"]),
    ]
    # And the payload reads back as the same people.
    again = await translate(translation, response.payload)
    assert [(r.person.names[0].given, r.person.birth_date.month) for r in again.records] == [
        ("JOAN", 3),
        ("JANE", 3),
        ("RICHARD", 11),
    ]


async def test_export_reports_records_the_format_cannot_carry(
    translation: TranslationStub,
) -> None:
    response = await translation.Export(
        translation_pb2.ExportRequest(adapter="lines", records=[travel_document("D-1")])
    )

    assert response.payload == b""
    [diagnostic] = response.diagnostics
    assert (diagnostic.code, list(diagnostic.record_ids)) == ("LINES_NOT_A_PERSON", ["D-1"])
    assert Severity(diagnostic.severity) is Severity.WARNING


async def test_export_of_a_missing_record_is_not_found(
    translation: TranslationStub, channel: aio.Channel
) -> None:
    await submit(channel, person("P-1"))
    refs = [
        translation_pb2.RecordRef(record_id="P-1"),
        translation_pb2.RecordRef(record_id="P-1", version=2),
    ]

    with pytest.raises(aio.AioRpcError) as raised:
        await translation.Export(translation_pb2.ExportRequest(adapter="lines", record_refs=refs))
    with pytest.raises(aio.AioRpcError) as absent:
        await translation.Export(
            translation_pb2.ExportRequest(
                adapter="lines", record_refs=[translation_pb2.RecordRef(record_id="P-404")]
            )
        )

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == "version 2 of record P-1 not found"
    assert absent.value.details() == "record P-404 not found"


async def test_export_refuses_bad_refs_and_invalid_records(translation: TranslationStub) -> None:
    invalid = person("P-2")
    invalid.person.birth_date.month = 13

    with pytest.raises(aio.AioRpcError) as raised:
        await translation.Export(
            translation_pb2.ExportRequest(
                adapter="lines",
                record_refs=[translation_pb2.RecordRef(record_id="not a valid id!")],
                records=[person("P-1"), invalid],
            )
        )

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations_of(raised.value) == {
        "record_refs[0].record_id": "must be a valid record id",
        "person.birth_date.month": "must be 1 to 12, or 0 when unknown (records[1])",
    }


async def test_export_of_nothing_is_refused(translation: TranslationStub) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await translation.Export(translation_pb2.ExportRequest(adapter="lines"))

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations_of(raised.value) == {"record_refs": "give record_refs or records"}


async def test_export_through_a_decode_only_adapter_is_a_failed_precondition(
    translation: TranslationStub,
) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await translation.Export(
            translation_pb2.ExportRequest(adapter="lines-read-only", records=[person("P-1")])
        )

    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert raised.value.details() == (
        "adapter 'lines-read-only' cannot encode, only decode; adapters that can encode: "
        "lines, lines-broken, lines-slow"
    )


async def test_export_through_an_adapter_that_raises_is_internal(
    translation: TranslationStub,
) -> None:
    with pytest.raises(aio.AioRpcError) as raised:
        await translation.Export(
            translation_pb2.ExportRequest(adapter="lines-broken", records=[person("P-1")])
        )

    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert "DOE" not in (raised.value.details() or "")


async def test_export_over_the_record_limit_is_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_export_records=2)
    request = translation_pb2.ExportRequest(
        adapter="lines",
        record_refs=[translation_pb2.RecordRef(record_id="P-1")],
        records=[person("P-2"), person("P-3")],
    )
    async with (
        serving(config, lines_registry()) as gateway,
        aio.insecure_channel(gateway.address) as channel,
    ):
        with pytest.raises(aio.AioRpcError) as raised:
            await TranslationStub(channel).Export(request)

    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most 2 records" in (raised.value.details() or "")
