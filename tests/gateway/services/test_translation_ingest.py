"""Ingest over real gRPC: atomic, idempotent by payload hash, refusing or skipping what is wrong.

The adapters are the test ones of ``tests.support.translation_adapters`` (one person per line).
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc import aio

from adapters import DecodeResult
from gateway.config import CentreConfig
from gateway.server import Gateway
from gateway.services.ingest_policy import RECORD_INVALID
from liaison.v1 import exchange_pb2, record_pb2, translation_pb2
from tests.conftest import TEST_CENTRE
from tests.support.rpc import ExchangeStub, TranslationStub, error_info_of, violations_of
from tests.support.translation_adapters import (
    LinesAdapter,
    SlowAdapter,
    lines,
    lines_registry,
    serving,
)

PEOPLE = lines("DOE;JANE;1975-03-12", "ROE;RICHARD;1980-11", "POE;EDGAR;1809-01-19")


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


async def ingest(
    stub: TranslationStub, payload: bytes, **fields: Any
) -> translation_pb2.IngestResponse:
    fields.setdefault("adapter", "lines")
    return await stub.Ingest(translation_pb2.IngestRequest(payload=payload, **fields))


async def get(exchange: ExchangeStub, record_id: str) -> record_pb2.Record:
    return (await exchange.Get(exchange_pb2.GetRequest(record_id=record_id))).record


async def test_ingest_stores_every_record_and_acknowledges_in_decode_order(
    translation: TranslationStub, exchange: ExchangeStub
) -> None:
    decoded = await translation.Translate(
        translation_pb2.TranslateRequest(adapter="lines", payload=PEOPLE)
    )

    response = await ingest(translation, PEOPLE, source_reference="people.lines")

    assert not response.duplicate
    assert response.payload_sha256 == hashlib.sha256(PEOPLE).digest()
    assert [(a.record_id, a.version, a.sequence, a.duplicate) for a in response.acks] == [
        (record.record_id, 1, sequence, False)
        for sequence, record in enumerate(decoded.records, start=1)
    ]
    assert list(response.skipped_record_ids) == []
    stored = await get(exchange, response.acks[1].record_id)
    assert (stored.person.names[0].family, stored.person.birth_date.month) == ("ROE", 11)
    assert stored.provenance.adapter_name == "lines"
    assert stored.provenance.source_reference == "people.lines"
    assert stored.provenance.payload_sha256 == response.payload_sha256
    assert stored.provenance.originating_centre == TEST_CENTRE
    assert stored.provenance.received_at.seconds > 0


async def test_the_request_handling_goes_to_records_without_their_own(
    translation: TranslationStub, exchange: ExchangeStub
) -> None:
    handling = record_pb2.Handling(
        code=record_pb2.HANDLING_CODE_H2, releasable_to=["WCO-I2C"], purpose="test"
    )

    response = await ingest(translation, PEOPLE, handling=handling)

    for ack in response.acks:
        assert (await get(exchange, ack.record_id)).handling == handling


async def test_an_invalid_handling_is_refused(translation: TranslationStub) -> None:
    handling = record_pb2.Handling(releasable_to=["lyon"])

    with pytest.raises(aio.AioRpcError) as raised:
        await ingest(translation, PEOPLE, handling=handling)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations_of(raised.value) == {
        "handling.releasable_to[0]": "must be a centre id like WCO-I2C"
    }


async def test_ingesting_a_payload_again_returns_the_same_acks_marked_duplicate(
    translation: TranslationStub, gateway: Gateway
) -> None:
    first = await ingest(translation, PEOPLE)
    again = await ingest(translation, PEOPLE, source_reference="another name")

    assert again.duplicate
    assert all(ack.duplicate for ack in again.acks)
    for ack in again.acks:
        ack.duplicate = False
    assert list(again.acks) == list(first.acks)
    assert await gateway.store.last_sequence() == 3


async def test_the_same_payload_through_another_adapter_is_another_ingestion(
    translation: TranslationStub,
) -> None:
    await ingest(translation, PEOPLE)

    other = await ingest(translation, PEOPLE, adapter="lines-read-only")

    # Provenance names the adapter, so these records are new versions of the same ids.
    assert not other.duplicate
    assert [ack.version for ack in other.acks] == [2, 2, 2]
    assert [ack.duplicate for ack in other.acks] == [False, False, False]


async def test_a_payload_with_an_error_is_refused_whole(
    translation: TranslationStub, gateway: Gateway
) -> None:
    payload = lines("DOE;JANE;1975-03-12", "NOT A PERSON", "ROE;RICHARD;1980-13")

    with pytest.raises(aio.AioRpcError) as raised:
        await ingest(translation, payload)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == (
        "the payload has 2 error diagnostic(s); nothing was stored "
        "(accept_partial stores the records no error concerns)"
    )
    assert violations_of(raised.value) == {
        "line 2, column 1, byte 20": (
            "LINES_FIELD_COUNT: expected 3 fields separated by ';', found 1"
        ),
        "line 3, column 13": "LINES_DATE: the date must be YYYY, YYYY-MM or YYYY-MM-DD with a "
        "month 1 to 12",
    }
    assert await gateway.store.last_sequence() == 0


async def test_a_decoded_record_the_gateway_refuses_fails_the_payload(
    translation: TranslationStub, gateway: Gateway
) -> None:
    # The test adapter does not check the calendar; the gateway's validation does.
    payload = lines("DOE;JANE;1975-03-12", "ROE;RICHARD;1975-02-30")

    with pytest.raises(aio.AioRpcError) as raised:
        await ingest(translation, payload)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "1 decoded record(s) failing validation" in (raised.value.details() or "")
    assert violations_of(raised.value) == {
        "person.birth_date.day": "is past the end of its month (decoded record #1)"
    }
    assert await gateway.store.last_sequence() == 0


async def test_accept_partial_stores_the_clean_records_and_names_the_others(
    translation: TranslationStub, exchange: ExchangeStub
) -> None:
    payload = lines(
        "DOE;JANE;1975-03-12",
        "NOT A PERSON",
        "ROE;RICHARD;1980-13",
        "POE;EDGAR;1809-02-30",
        "ROE;RITA;1981-01-01",
    )
    decoded = (
        await translation.Translate(
            translation_pb2.TranslateRequest(adapter="lines", payload=payload)
        )
    ).records
    doe, bad_date, invalid_day, rita = (record.record_id for record in decoded)

    response = await ingest(translation, payload, accept_partial=True)

    assert [ack.record_id for ack in response.acks] == [doe, rita]
    assert list(response.skipped_record_ids) == [bad_date, invalid_day]
    codes = [(d.code, list(d.record_ids)) for d in response.diagnostics]
    assert codes == [
        ("LINES_FIELD_COUNT", []),
        ("LINES_DATE", [bad_date]),
        (RECORD_INVALID, [invalid_day]),
    ]
    assert response.diagnostics[2].message == (
        "decoded record #2 fails the gateway's validation in person.birth_date.day"
    )
    assert (await get(exchange, rita)).person.names[0].given == "RITA"
    with pytest.raises(aio.AioRpcError) as missing:
        await get(exchange, bad_date)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    again = await ingest(translation, payload, accept_partial=True)
    assert again.duplicate
    assert list(again.skipped_record_ids) == [bad_date, invalid_day]
    # The error policy is applied on every call, before the payload is looked up.
    with pytest.raises(aio.AioRpcError) as strict:
        await ingest(translation, payload)
    assert strict.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_refusal_lists_a_bounded_number_of_errors(translation: TranslationStub) -> None:
    payload = lines(*[f"BAD LINE {i}" for i in range(40)])

    with pytest.raises(aio.AioRpcError) as raised:
        await ingest(translation, payload)

    violations = violations_of(raised.value)
    assert len(violations) == 17
    assert violations["payload"] == "24 more; Translate the payload to see them all"
    assert "40 error diagnostic(s)" in (raised.value.details() or "")


async def test_a_failed_store_transaction_leaves_nothing(
    translation: TranslationStub, gateway: Gateway, gateway_config: CentreConfig
) -> None:
    # A trigger in the database file fails the transaction inside SQLite, late (after the
    # versions and heads rows), wherever the gateway's writer runs.
    database = sqlite3.connect(gateway_config.storage.path)
    database.execute(
        "CREATE TRIGGER fail_name_keys BEFORE INSERT ON name_keys "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    database.close()

    with pytest.raises(aio.AioRpcError) as raised:
        await ingest(translation, PEOPLE)

    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert raised.value.details() == "the store could not commit; nothing was stored, retry"
    assert await gateway.store.last_sequence() == 0

    # Nothing of the payload was remembered either: the retry stores it, as new.
    database = sqlite3.connect(gateway_config.storage.path)
    database.execute("DROP TRIGGER fail_name_keys")
    database.close()
    retried = await ingest(translation, PEOPLE)
    assert not retried.duplicate
    assert [ack.sequence for ack in retried.acks] == [1, 2, 3]


async def test_a_deadline_passed_while_decoding_stores_nothing(
    translation: TranslationStub, slow: SlowAdapter, gateway: Gateway
) -> None:
    call = asyncio.ensure_future(
        translation.Ingest(
            translation_pb2.IngestRequest(adapter="lines-slow", payload=PEOPLE), timeout=2.0
        )
    )
    # The deadline must pass while decoding, not before (a loaded machine is slow to start).
    assert await asyncio.to_thread(slow.started.wait, 10)
    with pytest.raises(aio.AioRpcError) as raised:
        await call
    # The gateway's deadline counts from when it received the call, a little after the client's:
    # let it pass too, so the decode ends after the deadline on both sides (the client's error
    # alone does not say the gateway has seen its own deadline yet).
    await asyncio.sleep(max(0.0, slow.started_at + 2.0 - time.monotonic()))
    slow.release.set()
    assert await asyncio.to_thread(slow.finished.wait, 10)
    # Once more round the loop, in case the cancelled call still had anything to do.
    await translation.ListAdapters(translation_pb2.ListAdaptersRequest())

    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await gateway.store.last_sequence() == 0


async def test_subscribers_receive_ingested_records(
    translation: TranslationStub, exchange: ExchangeStub
) -> None:
    call = exchange.Subscribe(exchange_pb2.SubscribeRequest())
    marker = await call.read()
    assert isinstance(marker, exchange_pb2.SubscribeResponse)
    assert marker.HasField("caught_up")

    response = await ingest(translation, PEOPLE)
    events = []
    for _ in response.acks:
        event = await call.read()
        assert isinstance(event, exchange_pb2.SubscribeResponse)
        events.append(event.record_event)
    call.cancel()

    assert [(e.record.record_id, e.metadata.sequence) for e in events] == [
        (ack.record_id, ack.sequence) for ack in response.acks
    ]
    assert events[0].record.provenance.adapter_name == "lines"


async def test_ingest_refuses_what_translate_refuses(translation: TranslationStub) -> None:
    with pytest.raises(aio.AioRpcError) as unknown:
        await ingest(translation, PEOPLE, adapter="nope")
    with pytest.raises(aio.AioRpcError) as empty:
        await ingest(translation, b"")

    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "adapter" in violations_of(unknown.value)
    assert violations_of(empty.value) == {"payload": "must not be empty"}


async def test_ingesting_a_withdrawn_record_again_is_refused_whole(
    translation: TranslationStub, exchange: ExchangeStub
) -> None:
    first = await ingest(translation, PEOPLE)
    withdrawn = first.acks[1].record_id
    await exchange.Withdraw(
        exchange_pb2.WithdrawRequest(
            record_id=withdrawn, reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
        )
    )
    # The same lines in another payload: the same ids (derived from each line), a new payload.
    changed = lines(
        "DOE;JANE;1975-03-12", "ROE;RICHARD;1980-11", "POE;EDGAR;1809-01-19", "NEW;ONE;1990-01-01"
    )
    with pytest.raises(aio.AioRpcError) as refused:
        await ingest(translation, changed)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert withdrawn in (refused.value.details() or "")
    assert (await get(exchange, withdrawn)).WhichOneof("body") == "withdrawal"


class _ClaimsAnotherOrigin(LinesAdapter):
    """Decodes the lines format, naming another centre as the records' originating centre."""

    name = "claims-origin"

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        result = super().decode(payload, source_reference=source_reference)
        for record in result.records:
            record.provenance.originating_centre = "BE-I2C"
        return result


@pytest.mark.parametrize("accept_partial", [False, True])
async def test_a_payload_speaking_for_another_centre_is_permission_denied_whole(
    gateway_config: CentreConfig, accept_partial: bool
) -> None:
    async with (
        serving(gateway_config, lines_registry(_ClaimsAnotherOrigin())) as gateway,
        aio.insecure_channel(gateway.address) as channel,
    ):
        with pytest.raises(aio.AioRpcError) as raised:
            await ingest(
                TranslationStub(channel),
                PEOPLE,
                adapter="claims-origin",
                accept_partial=accept_partial,
            )
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "only its originating centre BE-I2C publishes" in (raised.value.details() or "")
        assert error_info_of(raised.value) == (
            "FOREIGN_RECORD",
            "liaison",
            {"field": "provenance.originating_centre", "originatingCentre": "BE-I2C"},
        )
        assert await gateway.store.last_sequence() == 0
