"""Only the originating centre speaks for its records: signed versions, verified by receivers.

Findings of issue 10 reproduced through a real mutual-TLS gateway (the i2c), each attack first:

* a peer (Lyon) delivering a record that claims another centre's origin, or a forged newer
  version of the i2c's own record, or a relayed version it altered or renumbered;
* a client acting for another centre, or claiming another origin, publishing through Submit,
  SubmitStream or Ingest - and Submit's answers as an oracle about records it may not see;
* version numbers beyond a signed 64-bit integer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.security.policy import Grant
from gateway.server import Gateway
from gateway.signing import load_key_ring
from liaison.rules.intake import prepare_replica
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    federation_pb2,
    federation_pb2_grpc,
    record_pb2,
    translation_pb2,
    translation_pb2_grpc,
)
from tests.support.factories import person, store_replica
from tests.support.mtls import I2C, LYON, SINGAPORE, Pki, audit_entries, channel, tls_gateway
from tests.support.rpc import error_info_of
from tests.support.signing import CentreKey

OPERATOR = "operator"
PARTNER = "lyon-partner"
GRANTS = (
    Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),
    Grant(
        (f"urn:liaison:client:{PARTNER}",),
        ("liaison.v1.RecordExchange/*", "liaison.v1.Translation/*"),
        acts_for=LYON,
    ),
)


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS, peers=(LYON, SINGAPORE)) as started:
        yield started


def signed(
    record: record_pb2.Record, version: int, key: CentreKey, origin: str | None = None
) -> record_pb2.Record:
    """``record`` as version ``version`` of ``origin`` (default: the key's centre), signed with
    ``key`` - whoever that key belongs to."""
    record.provenance.originating_centre = origin or key.centre
    record.provenance.received_at.seconds = 1_800_000_000
    record.version = version
    content = content_hash(record)
    signature = record_pb2.RecordSignature()
    signature.ParseFromString(
        key.signer().sign_version(
            record.record_id,
            version,
            content,
            (record.provenance.received_at.seconds, record.provenance.received_at.nanos),
            divmod(time.time_ns(), 1_000_000_000),
        )
    )
    record.provenance.signature.CopyFrom(signature)
    return record


def content_hash(record: record_pb2.Record) -> bytes:
    """The content hash as the contract defines it (record.proto, ``RecordSignature``): the
    deterministic serialization without version, receipt time, signature and retention dates -
    computed here independently of the gateway's code."""
    probe = record_pb2.Record()
    probe.CopyFrom(record)
    probe.version = 0
    probe.ClearField("review_due")
    probe.ClearField("expires_at")
    probe.provenance.ClearField("received_at")
    probe.provenance.ClearField("signature")
    return hashlib.sha256(probe.SerializeToString(deterministic=True)).digest()


async def deliver(
    gateway: Gateway, pki: Pki, *records: record_pb2.Record
) -> list[federation_pb2.DeliveryResult]:
    """``Federation.Deliver`` as Lyon, with Lyon's own centre certificate."""
    async with channel(gateway, pki, pki.lyon) as lyon:
        response = await federation_pb2_grpc.FederationStub(lyon).Deliver(
            federation_pb2.DeliverRequest(
                records=[federation_pb2.ForwardedRecord(record=r) for r in records]
            )
        )
    return list(response.results)


async def head(gateway: Gateway, record_id: str) -> tuple[int, str] | None:
    stored = await gateway.store.get(record_id)
    return None if stored is None else (stored.version, stored.originating_centre)


async def test_a_peer_cannot_deliver_records_of_another_origin(gateway: Gateway, pki: Pki) -> None:
    unsigned = person(f"{SINGAPORE}:claim-1")
    unsigned.provenance.originating_centre = SINGAPORE
    unsigned.version = 1
    # Signed, but by Lyon, for a record claiming Singapore's origin.
    lyon_signed = signed(person(f"{SINGAPORE}:claim-2"), 1, pki.keys[LYON], origin=SINGAPORE)
    # Signed by Lyon, claiming Lyon's origin, under an id of Singapore's namespace.
    squatted = signed(person(f"{SINGAPORE}:claim-3"), 1, pki.keys[LYON])
    results = await deliver(gateway, pki, unsigned, lyon_signed, squatted)
    assert [r.error.code for r in results] == [
        grpc.StatusCode.PERMISSION_DENIED.value[0],
        grpc.StatusCode.PERMISSION_DENIED.value[0],
        grpc.StatusCode.INVALID_ARGUMENT.value[0],
    ]
    assert "not signed" in results[0].error.message
    assert "not a key of INTERPOL-IGCI-SINGAPORE" in results[1].error.message
    for number in (1, 2, 3):
        assert await head(gateway, f"{SINGAPORE}:claim-{number}") is None


async def test_a_peer_cannot_forge_a_newer_version_of_our_record(
    gateway: Gateway, pki: Pki
) -> None:
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person(f"{I2C}:1", family="TRUE")))
    forged = signed(person(f"{I2C}:1", family="FORGED"), 99, pki.keys[LYON], origin=I2C)
    [result] = await deliver(gateway, pki, forged)
    assert result.error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert await head(gateway, f"{I2C}:1") == (1, I2C)


async def test_a_relay_passes_signed_versions_on_but_cannot_alter_or_renumber_them(
    gateway: Gateway, pki: Pki
) -> None:
    genuine = signed(person(f"{SINGAPORE}:1", family="GENUINE"), 1, pki.keys[SINGAPORE])
    altered = record_pb2.Record()
    altered.CopyFrom(signed(person(f"{SINGAPORE}:2", family="GENUINE"), 1, pki.keys[SINGAPORE]))
    altered.person.names[0].family = "ALTERED"
    renumbered = signed(person(f"{SINGAPORE}:3"), 1, pki.keys[SINGAPORE])
    retimed = signed(person(f"{SINGAPORE}:4"), 1, pki.keys[SINGAPORE])
    retimed.provenance.received_at.seconds += 3600
    renumbered.version = 7
    relayed, changed, moved, moved_in_time = await deliver(
        gateway, pki, genuine, altered, renumbered, retimed
    )
    assert relayed.ack.version == 1
    assert changed.error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert "does not verify" in changed.error.message
    assert moved.error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert moved_in_time.error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert await head(gateway, f"{SINGAPORE}:1") == (1, SINGAPORE)
    for number in (2, 3, 4):
        assert await head(gateway, f"{SINGAPORE}:{number}") is None
    # The relayed version keeps the origin's signature: it verifies end to end.
    stored = await gateway.store.get(f"{SINGAPORE}:1")
    assert stored is not None
    message = stored.to_message()
    ring = load_key_ring({SINGAPORE: [pki.keys[SINGAPORE].spec]})
    probe = record_pb2.Record()
    probe.CopyFrom(message)
    item = prepare_replica(probe)
    ring.verify_version(
        record_id=f"{SINGAPORE}:1",
        originating_centre=SINGAPORE,
        version=1,
        content_sha256=item.content_sha256,
        received_at=item.received_at,
        signature=item.signature,
    )


async def test_versions_beyond_a_signed_64_bit_integer_are_invalid(
    gateway: Gateway, pki: Pki
) -> None:
    huge = signed(person(f"{SINGAPORE}:huge"), 2**63, pki.keys[SINGAPORE])
    [result] = await deliver(gateway, pki, huge)
    assert result.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        stale = person("i2c-huge")
        stale.version = 2**64 - 1
        with pytest.raises(aio.AioRpcError) as refused:
            await exchange.Submit(exchange_pb2.SubmitRequest(record=stale))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(aio.AioRpcError) as absent:
            await exchange.Get(exchange_pb2.GetRequest(record_id="i2c-huge", version=2**64 - 1))
        assert absent.value.code() == grpc.StatusCode.NOT_FOUND


async def test_our_versions_are_signed_by_us(gateway: Gateway, pki: Pki) -> None:
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("i2c-2", family="ONE")))
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("i2c-2", family="TWO")))
        got = (await exchange.Get(exchange_pb2.GetRequest(record_id="i2c-2"))).record
    assert got.version == 2
    assert got.provenance.signature.key_id == pki.keys[I2C].spec.key_id
    ring = load_key_ring({I2C: [pki.keys[I2C].spec]})
    # Verified by anyone holding the i2c's public key, from the answer alone.
    stamp = got.provenance.received_at
    ring.verify_version(
        record_id="i2c-2",
        originating_centre=I2C,
        version=2,
        content_sha256=content_hash(got),
        received_at=(stamp.seconds, stamp.nanos),
        signature=got.provenance.signature.SerializeToString(),
    )


async def test_a_client_acting_for_another_centre_cannot_publish_here(
    gateway: Gateway, pki: Pki
) -> None:
    await store_replica(gateway, person(f"{LYON}:1", centre=LYON))
    hidden = person("i2c-hidden")
    hidden.handling.releasable_to.append(SINGAPORE)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        await exchange_pb2_grpc.RecordExchangeStub(operator).Submit(
            exchange_pb2.SubmitRequest(record=hidden)
        )
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)
        answers = []
        for record_id, version in (("i2c-hidden", 42), ("absent-id", 42), (f"{LYON}:1", 0)):
            probe = person(record_id)
            probe.version = version
            with pytest.raises(aio.AioRpcError) as refused:
                await exchange.Submit(exchange_pb2.SubmitRequest(record=probe))
            answers.append((refused.value.code(), refused.value.details()))
        with pytest.raises(aio.AioRpcError) as streamed:
            await exchange.SubmitStream(
                iter([exchange_pb2.SubmitStreamRequest(records=[person("lyon-2")])])
            )
        ingest = translation_pb2_grpc.TranslationStub(partner)
        with pytest.raises(aio.AioRpcError) as ingested:
            await ingest.Ingest(translation_pb2.IngestRequest(adapter="paxlst", payload=b"UNA"))
    # The same refusal whether the record exists (hidden or not) or not: no oracle.
    assert {code for code, _ in answers} == {grpc.StatusCode.PERMISSION_DENIED}
    assert len({details for _, details in answers}) == 1
    assert streamed.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert ingested.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await head(gateway, "absent-id") is None


async def test_a_local_client_publishes_only_this_centres_records(
    gateway: Gateway, pki: Pki
) -> None:
    """Speaking for another centre's record - claiming its origin, or a new version of a record
    in its namespace (one held here as a forwarded copy) - is a permission problem:
    PERMISSION_DENIED naming the originating centre and the field, on Submit and per record in
    SubmitStream (the other records are stored), audited as a refusal."""
    lyons = f"{LYON}:3"
    await store_replica(gateway, person(lyons, family="ORIGINAL", centre=LYON))
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        with pytest.raises(aio.AioRpcError) as claimed:
            await exchange.Submit(exchange_pb2.SubmitRequest(record=person("x", centre=SINGAPORE)))
        assert claimed.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert f"only its originating centre {SINGAPORE} publishes" in (
            claimed.value.details() or ""
        )
        assert error_info_of(claimed.value) == (
            "FOREIGN_RECORD",
            "liaison",
            {"field": "provenance.originating_centre", "originatingCentre": SINGAPORE},
        )
        # A new version of Lyon's record, as this centre's own: its id is in Lyon's namespace,
        # refused; Lyon's version stays. A correction (with the version it saw) alike.
        correction = person(lyons, family="OVERWRITTEN")
        for attempt in (person(lyons, family="OVERWRITTEN"), correction):
            with pytest.raises(aio.AioRpcError) as taken:
                await exchange.Submit(exchange_pb2.SubmitRequest(record=attempt))
            assert taken.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert f"record {lyons} is {LYON}'s (record_id)" in (taken.value.details() or "")
            assert error_info_of(taken.value) == (
                "FOREIGN_RECORD",
                "liaison",
                {"field": "record_id", "originatingCentre": LYON},
            )
            correction.version = 1
        stream = await exchange.SubmitStream(
            iter([exchange_pb2.SubmitStreamRequest(records=[person(lyons), person("ok-1")])])
        )
    first, second = stream.results
    assert first.error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert [v.field for v in first.error.field_violations] == ["record_id"]
    assert LYON in first.error.message
    assert second.HasField("ack")
    assert await head(gateway, lyons) == (1, LYON)
    audited = [
        (entry["action"], entry["outcome"])
        for entry in audit_entries(gateway)
        if lyons in entry["record_ids"]
    ]
    assert audited.count(("submit", "permission-denied")) == 2
    assert ("submit", "ok") not in audited


def _tombstone(record_id: str, origin: str) -> record_pb2.Record:
    """A withdrawal of version 1 of ``record_id`` as a client would forge it."""
    tombstone = record_pb2.Record(record_id=record_id)
    tombstone.provenance.originating_centre = origin
    tombstone.withdrawal.reason = record_pb2.WITHDRAWAL_REASON_CANCELLED
    tombstone.withdrawal.withdrawn_kind = record_pb2.RECORD_KIND_PERSON
    tombstone.withdrawal.withdrawn_version = 1
    tombstone.withdrawal.withdrawn_at.seconds = 1_800_000_000
    return tombstone


async def test_another_centres_client_cannot_withdraw_or_correct_our_record_on_any_path(
    gateway: Gateway, pki: Pki
) -> None:
    """Issue 15's bad input: Lyon's client, at the i2c, tries to end or rewrite the i2c's record
    - Withdraw, and a tombstone or a newer version through Submit, SubmitStream and Ingest.
    Each is PERMISSION_DENIED, nothing is stored, and the i2c's version 1 is still served."""
    owned = f"{I2C}:owned-1"
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        await exchange_pb2_grpc.RecordExchangeStub(operator).Submit(
            exchange_pb2.SubmitRequest(record=person(owned, family="TRUE"))
        )
    correction = person(owned, family="REWRITTEN")
    correction.version = 2
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)
        codes = []
        with pytest.raises(aio.AioRpcError) as withdrawn:
            await exchange.Withdraw(
                exchange_pb2.WithdrawRequest(
                    record_id=owned, reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
                )
            )
        codes.append(withdrawn.value.code())
        for forged in (_tombstone(owned, I2C), _tombstone(owned, LYON), correction):
            with pytest.raises(aio.AioRpcError) as submitted:
                await exchange.Submit(exchange_pb2.SubmitRequest(record=forged))
            codes.append(submitted.value.code())
        with pytest.raises(aio.AioRpcError) as streamed:
            await exchange.SubmitStream(
                iter(
                    [exchange_pb2.SubmitStreamRequest(records=[_tombstone(owned, I2C), correction])]
                )
            )
        codes.append(streamed.value.code())
        with pytest.raises(aio.AioRpcError) as ingested:
            await translation_pb2_grpc.TranslationStub(partner).Ingest(
                translation_pb2.IngestRequest(adapter="paxlst", payload=b"UNA")
            )
        codes.append(ingested.value.code())
    assert codes == [grpc.StatusCode.PERMISSION_DENIED] * 6
    assert await head(gateway, owned) == (1, I2C)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        got = await exchange_pb2_grpc.RecordExchangeStub(operator).Get(
            exchange_pb2.GetRequest(record_id=owned)
        )
    assert got.record.person.names[0].family == "TRUE"


async def test_withdrawing_an_unknown_record_is_not_found_and_tells_no_hidden_id(
    gateway: Gateway, pki: Pki
) -> None:
    """Withdraw answers NOT_FOUND for a record the caller may not see - none stored under the
    id, or one hidden from it by handling - and PERMISSION_DENIED only for a record it may see
    that originates elsewhere: another centre's client learns nothing of hidden ids."""
    hidden = person(f"{I2C}:hidden-from-lyon")
    hidden.handling.releasable_to.append(SINGAPORE)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=hidden))
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person(f"{I2C}:shared")))
        with pytest.raises(aio.AioRpcError) as unknown:
            await exchange.Withdraw(_withdrawal(f"{I2C}:never-stored"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    answers = {}
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)
        for name in ("never-stored", "hidden-from-lyon", "shared"):
            with pytest.raises(aio.AioRpcError) as refused:
                await exchange.Withdraw(_withdrawal(f"{I2C}:{name}"))
            answers[name] = refused.value.code()
    assert answers == {
        "never-stored": grpc.StatusCode.NOT_FOUND,
        "hidden-from-lyon": grpc.StatusCode.NOT_FOUND,
        "shared": grpc.StatusCode.PERMISSION_DENIED,
    }
    for name in ("hidden-from-lyon", "shared"):
        assert await head(gateway, f"{I2C}:{name}") == (1, I2C)


def _withdrawal(record_id: str) -> exchange_pb2.WithdrawRequest:
    return exchange_pb2.WithdrawRequest(
        record_id=record_id, reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
    )
