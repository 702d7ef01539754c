"""Red team: record ids are one namespace for every origin, and the adapters' ids are computable.

The built-in adapters derive a record's id from its source (the icao-mrz adapter hashes the MRZ
lines), so the same passport read at two centres gets the same id at both - and anyone holding
the passport can compute it. The store keeps one record per id, whatever its origin. Attacked
through a real mutual-TLS gateway (the i2c), with Lyon's own centre certificate and signing key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.rules.intake import namespace_records
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    federation_pb2,
    record_pb2,
    translation_pb2,
    translation_pb2_grpc,
)
from tests.adapters.icao_mrz.support import TD1, TD3
from tests.gateway.security.test_origin_authority import deliver, signed
from tests.support.factories import person
from tests.support.mtls import I2C, LYON, SINGAPORE, Pki, channel, tls_gateway
from tests.support.rpc import TranslationStub

OPERATOR = "operator"
GRANTS = (Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),)


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS, peers=(LYON, SINGAPORE)) as started:
        yield started


def _mrz(lines: tuple[str, ...]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def _as_lyon_publishes_it(
    translation: TranslationStub, payload: bytes, pki: Pki
) -> list[record_pb2.Record]:
    """The records Lyon's own gateway makes of ``payload`` (the same adapter, so the same ids,
    minted in Lyon's namespace as Lyon's gateway mints them), as Lyon's signed version 1."""
    decoded = await translation.Translate(
        translation_pb2.TranslateRequest(adapter="icao-mrz", payload=payload)
    )
    assert len(decoded.records) == 2
    records = list(decoded.records)
    for record in records:
        record.record_id = record.record_id.removeprefix(f"{I2C}:")
        for link in record.links:
            link.target_record_id = link.target_record_id.removeprefix(f"{I2C}:")
    namespace_records(records, LYON)
    return [signed(record, 1, pki.keys[LYON]) for record in records]


async def test_a_passport_another_centre_published_does_not_block_ours(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: a passport that Lyon read and published first (or that Lyon published on purpose
    to squat the ids, which are a hash of the MRZ anyone holding the passport can compute) can
    never be ingested here: the i2c's whole Ingest is refused with PERMISSION_DENIED ("record
    icao-mrz:person:... originates at INTERPOL-CCC-LYON ... nothing of the payload was stored").
    The other way round, a passport the i2c ingested first makes every version Lyon publishes of
    its own reading refused at the i2c (dead-lettered at Lyon). A peer can thus block this
    centre's ingestion of chosen documents, and two honest centres that see one traveller block
    each other.

    RIGHT: a record's identity includes its originating centre (or the ids a centre mints are its
    own): the i2c's Ingest stores its records as the i2c's, readable by the ack's ids, and Lyon's
    versions of the same passport are stored as Lyon's.
    """
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        translation = translation_pb2_grpc.TranslationStub(operator)
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        # Lyon first: its versions of the specimen passport arrive before the i2c reads it.
        lyon_first = await _as_lyon_publishes_it(translation, _mrz(TD3), pki)
        results = await deliver(gateway, pki, *lyon_first)
        assert all(result.HasField("ack") for result in results)
        ingested = await translation.Ingest(
            translation_pb2.IngestRequest(adapter="icao-mrz", payload=_mrz(TD3))
        )
        assert len(ingested.acks) == 2
        for ack in ingested.acks:
            got = await exchange.Get(exchange_pb2.GetRequest(record_id=ack.record_id))
            assert got.record.provenance.originating_centre == I2C
        # The i2c first: Lyon's own reading of the same passport arrives afterwards.
        await translation.Ingest(
            translation_pb2.IngestRequest(adapter="icao-mrz", payload=_mrz(TD1))
        )
        lyon_second = await _as_lyon_publishes_it(translation, _mrz(TD1), pki)
    refused = [r.error.message for r in await deliver(gateway, pki, *lyon_second) if r.error.code]
    assert refused == []


async def test_deliver_does_not_tell_a_peer_which_hidden_ids_exist(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG (found by the red team): ``Federation.Deliver`` was an oracle about records the
    calling peer may not see. Lyon delivered a version of its own, signed with its own key,
    under an id it guessed: for an id no record had, the version was stored; for the id of an
    i2c record releasable only to Singapore the answer was PERMISSION_DENIED "record <id>
    originates at WCO-I2C": existence and origin of the hidden record.

    RIGHT: ids are minted in the originating centre's namespace. Lyon's versions carry Lyon's
    ids, which no i2c record can hold, and are stored whatever the i2c holds; a version under an
    id of the i2c's namespace is refused the same way whether or not the i2c holds that id.
    """
    hidden = person(f"{I2C}:subject-7")
    hidden.handling.releasable_to.append(SINGAPORE)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=hidden))
    own = await deliver(
        gateway,
        pki,
        signed(person(f"{LYON}:subject-7"), 1, pki.keys[LYON]),
        signed(person(f"{LYON}:subject-8"), 1, pki.keys[LYON]),
    )
    assert [_shape(result) for result in own] == [("ack", 0, "")] * 2
    over_hidden, over_absent = (
        _shape(result)
        for result in await deliver(
            gateway,
            pki,
            signed(person(f"{I2C}:subject-7"), 1, pki.keys[LYON], origin=LYON),
            signed(person(f"{I2C}:subject-8"), 1, pki.keys[LYON], origin=LYON),
        )
    )
    assert over_hidden[0] == "error"
    assert over_hidden == over_absent


def _shape(result: federation_pb2.DeliveryResult) -> tuple[str, int, str]:
    """What a delivery result tells the sender, with the record's own id taken out."""
    if result.HasField("ack"):
        return ("ack", 0, "")
    message = result.error.message.replace("subject-7", "<id>").replace("subject-8", "<id>")
    return ("error", result.error.code, message)
