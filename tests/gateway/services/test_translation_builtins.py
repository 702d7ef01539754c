"""The four built-in adapters through the Translation service over real gRPC, and ``--to``.

The gateway runs with the installed adapters (the entry-point registry, as in production). Each
built-in is exercised on one clean golden sample of its own test suite
(``tests/adapters/<pkg>/samples/``): Translate answers exactly what the adapter decodes
in-process, Ingest stores every record, and Export of the stored records decodes back to them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from grpc import aio

from adapters import get_adapter
from adapters.jsonform import dumps, result_from_dict
from gateway.cli import main
from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.rules.intake import namespace_records
from liaison.v1 import exchange_pb2, record_pb2, translation_pb2
from tests.conftest import TEST_CENTRE
from tests.support.rpc import ExchangeStub, TranslationStub

SAMPLES = Path(__file__).resolve().parents[2] / "adapters"

CLEAN_SAMPLES = {
    "icao-mrz": SAMPLES / "icao_mrz" / "samples" / "td3_specimen.mrz",
    "paxlst": SAMPLES / "paxlst" / "samples" / "passenger-list-d05b.edi",
    "interpol-notice": SAMPLES / "interpol_notice" / "samples" / "red-detail.json",
    "ansi-nist": SAMPLES / "ansi_nist" / "samples" / "ebts_type1_type2.an2",
}


@pytest.fixture
async def gateway(gateway_config: CentreConfig) -> AsyncIterator[Gateway]:
    """A gateway with the installed adapters (the default registry)."""
    started = Gateway(gateway_config)
    await started.start()
    try:
        yield started
    finally:
        await started.stop(grace=0)


@pytest.fixture
def translation(channel: aio.Channel) -> TranslationStub:
    return TranslationStub(channel)


def body(record: record_pb2.Record) -> tuple[str, bytes]:
    """A record's id and body, without its envelope (provenance, version, handling)."""
    kind = record.WhichOneof("body")
    assert kind is not None
    return record.record_id, getattr(record, kind).SerializeToString(deterministic=True)


async def test_the_built_ins_are_served(translation: TranslationStub) -> None:
    response = await translation.ListAdapters(translation_pb2.ListAdaptersRequest())

    served = {info.name: info for info in response.adapters}
    for name in CLEAN_SAMPLES:
        assert (served[name].can_decode, served[name].can_encode) == (True, True)
        assert served[name].file_extensions


@pytest.mark.parametrize("adapter", sorted(CLEAN_SAMPLES))
async def test_translate_answers_what_the_adapter_decodes(
    translation: TranslationStub, adapter: str
) -> None:
    sample = CLEAN_SAMPLES[adapter]
    payload = sample.read_bytes()

    response = await translation.Translate(
        translation_pb2.TranslateRequest(
            adapter=adapter, payload=payload, source_reference=sample.name
        )
    )

    local = get_adapter(adapter).decode(payload, source_reference=sample.name)
    namespace_records(local.records, TEST_CENTRE)  # the gateway mints ids in its namespace
    assert list(response.records) == list(local.records)
    assert [d.code for d in response.diagnostics] == [d.code for d in local.diagnostics]
    assert response.records, "a clean sample decodes to records"


@pytest.mark.parametrize("adapter", sorted(CLEAN_SAMPLES))
async def test_ingest_then_export_round_trips(
    translation: TranslationStub, exchange: ExchangeStub, adapter: str
) -> None:
    payload = CLEAN_SAMPLES[adapter].read_bytes()
    decoded = get_adapter(adapter).decode(payload)
    assert not decoded.has_errors
    namespace_records(decoded.records, TEST_CENTRE)  # the gateway mints ids in its namespace

    ingested = await translation.Ingest(
        translation_pb2.IngestRequest(adapter=adapter, payload=payload)
    )
    again = await translation.Ingest(
        translation_pb2.IngestRequest(adapter=adapter, payload=payload)
    )
    stored = [
        (await exchange.Get(exchange_pb2.GetRequest(record_id=ack.record_id))).record
        for ack in ingested.acks
    ]
    exported = await translation.Export(
        translation_pb2.ExportRequest(
            adapter=adapter,
            record_refs=[
                translation_pb2.RecordRef(record_id=ack.record_id) for ack in ingested.acks
            ],
        )
    )

    assert [ack.record_id for ack in ingested.acks] == [r.record_id for r in decoded.records]
    assert again.duplicate
    assert [body(r) for r in stored] == [body(r) for r in decoded.records]
    # The adapter's first media type; a format without a registered one is plain bytes.
    media_types = get_adapter(adapter).media_types
    assert exported.media_type == (media_types[0] if media_types else "application/octet-stream")
    read_back = get_adapter(adapter).decode(exported.payload)
    assert not read_back.has_errors
    namespace_records(read_back.records, TEST_CENTRE)
    assert [body(r) for r in read_back.records] == [body(r) for r in decoded.records]


def test_translate_converts_passport_data_of_a_manifest_into_mrzs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = CLEAN_SAMPLES["paxlst"]
    output = tmp_path / "travellers.mrz"

    code = main(
        [
            "translate",
            "--format",
            "paxlst",
            "--to",
            "icao-mrz",
            "--output",
            str(output),
            str(manifest),
        ]
    )
    capsys.readouterr()

    assert code == 0
    documents = [
        r.travel_document.document_number
        for r in get_adapter("paxlst").decode(manifest.read_bytes()).records
        if r.HasField("travel_document")
    ]
    converted = get_adapter("icao-mrz").decode(output.read_bytes())
    assert not converted.has_errors
    assert sorted(
        r.travel_document.document_number
        for r in converted.records
        if r.HasField("travel_document")
    ) == sorted(documents)


def test_translate_prints_the_golden_json_of_a_sample(capsys: pytest.CaptureFixture[str]) -> None:
    sample = CLEAN_SAMPLES["icao-mrz"]
    expected = sample.with_suffix(".expected.json")

    code = main(["translate", "--format", "icao-mrz", str(sample)])
    out, _ = capsys.readouterr()

    assert code == 0
    assert out == expected.read_text(encoding="utf-8")
    assert out == dumps(result_from_dict(json.loads(out)))
