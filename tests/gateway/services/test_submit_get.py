"""Submit, duplicates, versions and Get against a real gateway on loopback."""

from __future__ import annotations

import grpc
import pytest
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import common_pb2, exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.support.factories import person, set_path, travel_document
from tests.support.rpc import ExchangeStub as Stub
from tests.support.rpc import error_info_of, violations_of

pytestmark = pytest.mark.both_backends  # every test on SQLite and on PostgreSQL


async def test_submit_acknowledges_version_one(exchange: Stub) -> None:
    response = await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1")))
    ack = response.ack
    assert (ack.record_id, ack.version, ack.sequence, ack.duplicate) == ("P-1", 1, 1, False)
    assert len(ack.content_sha256) == 32
    assert ack.committed_at.seconds > 1_700_000_000


async def test_identical_resubmission_returns_the_same_ack_marked_duplicate(exchange: Stub) -> None:
    first = (await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1")))).ack
    again = (await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1")))).ack
    assert again.duplicate
    again.duplicate = False
    assert again == first


async def test_changed_content_is_a_new_version_and_history_is_kept(exchange: Stub) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="JANE")))
    second = (
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="JOAN")))
    ).ack
    assert (second.version, second.sequence, second.duplicate) == (2, 2, False)

    latest = await exchange.Get(exchange_pb2.GetRequest(record_id="P-1"))
    assert latest.record.version == 2
    assert latest.record.person.names[0].given == "JOAN"
    assert latest.metadata.latest_version == 2
    assert latest.metadata.sequence == 2

    first = await exchange.Get(exchange_pb2.GetRequest(record_id="P-1", version=1))
    assert first.record.version == 1
    assert first.record.person.names[0].given == "JANE"
    assert first.metadata.latest_version == 2


async def test_resubmitting_an_older_content_is_a_duplicate_of_that_version(exchange: Stub) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="JANE")))
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="JOAN")))
    late_retry = (
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="JANE")))
    ).ack
    assert (late_retry.version, late_retry.duplicate) == (1, True)
    latest = await exchange.Get(exchange_pb2.GetRequest(record_id="P-1"))
    assert latest.record.person.names[0].given == "JOAN"


async def test_a_record_read_back_and_resubmitted_unchanged_is_a_duplicate(exchange: Stub) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1")))
    stored = (await exchange.Get(exchange_pb2.GetRequest(record_id="P-1"))).record
    assert stored.provenance.received_at.seconds > 0  # stamped by the gateway
    ack = (await exchange.Submit(exchange_pb2.SubmitRequest(record=stored))).ack
    assert (ack.version, ack.duplicate) == (1, True)


async def test_gateway_stamps_its_centre_and_refuses_another(exchange: Stub) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1")))
    own = (await exchange.Get(exchange_pb2.GetRequest(record_id="P-1"))).record
    assert own.provenance.originating_centre == TEST_CENTRE
    named = person("P-3", centre=TEST_CENTRE)
    await exchange.Submit(exchange_pb2.SubmitRequest(record=named))
    # Another centre's records arrive by federation, signed by that centre; never by Submit.
    with pytest.raises(aio.AioRpcError) as refused:
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-2", centre="WCO-I2C")))
    # Speaking for another centre is a permission problem, not a malformed record.
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info_of(refused.value) == (
        "FOREIGN_RECORD",
        "liaison",
        {"field": "provenance.originating_centre", "originatingCentre": "WCO-I2C"},
    )


async def test_expected_version_guards_against_lost_updates(exchange: Stub) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="A")))
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="B")))
    stale = person("P-1", given="C")
    stale.version = 1
    with pytest.raises(aio.AioRpcError) as caught:
        await exchange.Submit(exchange_pb2.SubmitRequest(record=stale))
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert "version 2" in (caught.value.details() or "")

    fresh = person("P-1", given="C")
    fresh.version = 2
    ack = (await exchange.Submit(exchange_pb2.SubmitRequest(record=fresh))).ack
    assert ack.version == 3


async def test_get_of_an_absent_record_or_version_is_not_found(exchange: Stub) -> None:
    with pytest.raises(aio.AioRpcError) as absent:
        await exchange.Get(exchange_pb2.GetRequest(record_id="NOPE"))
    assert absent.value.code() == grpc.StatusCode.NOT_FOUND
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1")))
    with pytest.raises(aio.AioRpcError) as no_version:
        await exchange.Get(exchange_pb2.GetRequest(record_id="P-1", version=2))
    assert no_version.value.code() == grpc.StatusCode.NOT_FOUND
    assert "version 2" in (no_version.value.details() or "")


async def test_get_with_a_malformed_id_is_invalid(exchange: Stub) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await exchange.Get(exchange_pb2.GetRequest(record_id="bad id/"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(caught.value)) == {"record_id"}


@pytest.mark.parametrize(
    ("changes", "expected_fields"),
    [
        ({"record_id": None}, {"record_id"}),
        ({"record_id": "has space"}, {"record_id"}),
        ({"record_id": "-leading"}, {"record_id"}),
        ({"record_id": "x" * 129}, {"record_id"}),
        ({"person": None}, {"body"}),
        ({"person.sex": 9}, {"person.sex"}),
        ({"person.names": None, "person.birth_date": None}, {"person.names"}),
        (
            {"person.birth_date.month": 2, "person.birth_date.day": 31},
            {"person.birth_date.day"},
        ),
        ({"person.birth_date.month": 13}, {"person.birth_date.month"}),
        (
            {"person.sex": 9, "person.birth_date.month": 13},
            {"person.sex", "person.birth_date.month"},
        ),
        ({"handling.code": 99}, {"handling.code"}),
    ],
)
async def test_invalid_records_are_refused_with_field_violations(
    exchange: Stub, gateway: Gateway, changes: dict[str, object], expected_fields: set[str]
) -> None:
    record = person("P-1")
    for path, value in changes.items():
        set_path(record, path, value)
    with pytest.raises(aio.AioRpcError) as caught:
        await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(caught.value)) == expected_fields
    assert await gateway.store.last_sequence() == 0, "nothing may be stored"


async def test_invalid_links_nationalities_and_handling_are_named(exchange: Stub) -> None:
    record = person("P-1")
    record.person.nationalities[0].code = "ZZZ"
    record.links.add(target_record_id="P-9")
    record.links.add(type=record_pb2.LINK_TYPE_HOLDER, target_record_id="no way")
    record.handling.releasable_to.append("lyon")
    with pytest.raises(aio.AioRpcError) as caught:
        await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
    assert set(violations_of(caught.value)) == {
        "person.nationalities[0].code",
        "links[0].type",
        "links[1].target_record_id",
        "handling.releasable_to[0]",
    }


async def test_every_violation_is_reported_at_once(exchange: Stub) -> None:
    record = travel_document("D-1")
    record.travel_document.ClearField("document_number")
    set_path(record, "travel_document.holder_sex", 42)
    record.travel_document.expiry_date.month = 0
    record.travel_document.expiry_date.day = 3
    record.travel_document.issuing_state.Clear()
    record.travel_document.issuing_state.code = "FRA"
    record.travel_document.issuing_state.system = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
    with pytest.raises(aio.AioRpcError) as caught:
        await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
    assert set(violations_of(caught.value)) == {
        "travel_document.document_number",
        "travel_document.holder_sex",
        "travel_document.expiry_date.day",
        "travel_document.issuing_state.system",
    }


async def test_submit_without_a_record_is_invalid(exchange: Stub) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await exchange.Submit(exchange_pb2.SubmitRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(caught.value)) == {"record"}


async def test_oversize_messages_are_refused_and_nothing_is_stored(
    tmp_path: object, gateway: Gateway
) -> None:
    limit = gateway.config.limits.max_message_bytes
    record = person("P-BIG")
    record.person.occupation = "x" * (limit + 1)
    async with aio.insecure_channel(gateway.address) as channel:
        with pytest.raises(aio.AioRpcError) as caught:
            await Stub(channel).Submit(exchange_pb2.SubmitRequest(record=record))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in (caught.value.details() or "")
    assert await gateway.store.last_sequence() == 0
