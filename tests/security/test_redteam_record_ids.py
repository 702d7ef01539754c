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
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    federation_pb2,
    record_pb2,
    translation_pb2,
    translation_pb2_grpc,
)
from tests.adapters.icao_mrz.support import TD1, TD3
from tests.factories import person
from tests.rpc import TranslationStub
from tests.security.support import I2C, LYON, SINGAPORE, Pki, channel, tls_gateway
from tests.security.test_origin_authority import deliver, signed

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
    """The records Lyon's own gateway makes of ``payload`` (the same adapter, so the same ids),
    as Lyon's signed version 1."""
    decoded = await translation.Translate(
        translation_pb2.TranslateRequest(adapter="icao-mrz", payload=payload)
    )
    assert len(decoded.records) == 2
    return [signed(record, 1, pki.keys[LYON]) for record in decoded.records]


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
    """WRONG: ``Federation.Deliver`` is an oracle about records the calling peer may not see.
    Lyon delivers a version of its own, signed with its own key, under an id it guesses (or
    computes from a passport it holds). For an id that no record has, the version is stored
    (an ack); for an id of an i2c record releasable only to Singapore - which Lyon may not see,
    and which Get answers NOT_FOUND like an absent one - the answer is PERMISSION_DENIED "record
    <id> originates at WCO-I2C": existence and origin of the hidden record.

    RIGHT: a hidden record is absent to Lyon on this door too - the same answer (Lyon's version
    stored as Lyon's) whether or not another centre's record uses that id.
    """
    hidden = person("i2c-subject-7")
    hidden.handling.releasable_to.append(SINGAPORE)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=hidden))
    results = await deliver(
        gateway,
        pki,
        signed(person("i2c-subject-7"), 1, pki.keys[LYON]),
        signed(person("i2c-subject-8"), 1, pki.keys[LYON]),
    )
    over_hidden, over_absent = (_shape(result) for result in results)
    assert over_absent == ("ack", 0, "")
    assert over_hidden == over_absent


def _shape(result: federation_pb2.DeliveryResult) -> tuple[str, int, str]:
    """What a delivery result tells the sender, with the record's own id taken out."""
    if result.HasField("ack"):
        return ("ack", 0, "")
    message = result.error.message.replace("i2c-subject-7", "<id>").replace("i2c-subject-8", "<id>")
    return ("error", result.error.code, message)
