"""Thread receipts (issue 15): the addressed centre writes each state change (delivered, read,
answered) as the next version of its receipt of the request, which keeps the read time across a
restart and tells the requester; the requester takes every state from the receipts. A reply to an
unknown thread is refused on every write path; every state change is audited."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from adapters.base import DecodeResult
from gateway.audit.log import iter_stored, verify_file
from gateway.config import CentreConfig
from gateway.federation.routing import thread_addressees
from gateway.federation.settings import FederationSettings
from gateway.lifecycle.receipts import receipt_id
from gateway.lifecycle.threads import ThreadBook
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2, translation_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import Clock, micros, refusal, submit
from tests.gateway.services.test_threads import LYON, reply, request, threads
from tests.support.factories import person, store_replica
from tests.support.polling import until
from tests.support.rpc import ExchangeStub, TranslationStub, violations_of
from tests.support.translation_adapters import LinesAdapter, lines_registry, serving

DELIVERED = exchange_pb2.THREAD_STATE_DELIVERED
READ = exchange_pb2.THREAD_STATE_READ
ANSWERED = exchange_pb2.THREAD_STATE_ANSWERED
SENT = exchange_pb2.THREAD_STATE_SENT


class ReplyLinesAdapter(LinesAdapter):
    """One reply per line: ``THREAD_ID;BODY`` (a legacy system answering through Ingest)."""

    name = "lines-replies"

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        out = self.builder(payload, source_reference)
        for number, line in enumerate(payload.decode().splitlines(), start=1):
            thread_id, body = line.split(";")
            record = out.new_record(f"{TEST_CENTRE}:ingested-reply:{number}")
            record.reply.thread_id = thread_id
            record.reply.body = body
        return out.result()


@pytest.fixture
async def gateway(gateway_config: CentreConfig, tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway with an audit log, serving the reply adapter too."""
    settings = FederationSettings(audit_path=tmp_path / "audit.db")
    config = dataclasses.replace(gateway_config, federation=settings)
    async with serving(config, lines_registry(ReplyLinesAdapter())) as started:
        yield started


@pytest.fixture
async def clock(gateway: Gateway) -> Clock:
    moved = Clock(gateway.clock())
    gateway.clock = moved
    return moved


async def receipt(exchange: ExchangeStub, request_id: str) -> record_pb2.Record | None:
    try:
        response = await exchange.Get(
            exchange_pb2.GetRequest(record_id=receipt_id(TEST_CENTRE, request_id))
        )
    except aio.AioRpcError:
        return None
    return response.record


async def test_each_state_here_is_the_next_version_of_a_receipt_for_the_requester(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    request_id = f"{LYON}:rfi:r1"
    await store_replica(gateway, request(request_id, f"{LYON}:t-r1", LYON, TEST_CENTRE))

    async def at_version(version: int) -> bool:
        found = await receipt(exchange, request_id)
        return found is not None and found.version == version

    await until(lambda: at_version(1))
    first = await receipt(exchange, request_id)
    assert first is not None
    assert first.receipt.requesting_centre == LYON
    assert list(first.handling.releasable_to) == [LYON]
    assert first.receipt.HasField("delivered_at")
    assert not first.receipt.HasField("read_at")

    await exchange.Get(exchange_pb2.GetRequest(record_id=request_id))
    # The read time is stored before the request is served: no waiting.
    second = await receipt(exchange, request_id)
    assert second is not None
    assert second.version == 2
    assert micros(second.receipt.read_at) == clock.now_us
    await exchange.Get(exchange_pb2.GetRequest(record_id=request_id))  # read again: no change
    await submit(exchange, reply(f"{TEST_CENTRE}:answer:r1", f"{LYON}:t-r1"))
    await until(lambda: at_version(3))
    third = await receipt(exchange, request_id)
    assert third is not None
    assert list(third.receipt.reply_record_ids) == [f"{TEST_CENTRE}:answer:r1"]
    assert thread_addressees(third) == (LYON,), "receipts go back to the requester"


async def test_the_read_time_survives_a_restart(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    request_id = f"{LYON}:rfi:r2"
    await store_replica(gateway, request(request_id, f"{LYON}:t-r2", LYON, TEST_CENTRE))
    await exchange.Get(exchange_pb2.GetRequest(record_id=request_id))
    rebuilt = ThreadBook(gateway.store, TEST_CENTRE, gateway.config.lifecycle, Clock(0))
    await rebuilt.open()
    try:
        [entry] = rebuilt.entries()
        assert (entry.state, entry.read_at_us) == (READ, clock.now_us)
    finally:
        rebuilt.close()


async def test_the_requester_sees_every_state_the_addressed_centre_reports(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    thread_id = f"{TEST_CENTRE}:t-r3"
    request_id = f"{TEST_CENTRE}:rfi:r3"
    await submit(exchange, request(request_id, thread_id, TEST_CENTRE, LYON, urgent=True))
    [thread] = await threads(exchange)
    assert thread.state == SENT

    def lyon_receipt(delivered: int, read: int = 0) -> record_pb2.Record:
        record = record_pb2.Record(record_id=receipt_id(LYON, request_id))
        record.provenance.originating_centre = LYON
        record.handling.releasable_to.append(TEST_CENTRE)
        body = record.receipt
        body.thread_id, body.request_record_id, body.requesting_centre = (
            thread_id,
            request_id,
            TEST_CENTRE,
        )
        body.delivered_at.seconds = delivered
        if read:
            body.read_at.seconds = read
        return record

    await store_replica(gateway, lyon_receipt(1_900_000_000))
    [thread] = await threads(exchange)
    assert (thread.state, thread.delivered_at.seconds) == (DELIVERED, 1_900_000_000)
    await store_replica(gateway, lyon_receipt(1_900_000_000, 1_900_000_060), version=2)
    [thread] = await threads(exchange)
    assert (thread.state, thread.read_at.seconds) == (READ, 1_900_000_060)
    # Subscribe carries each receipt: the requester's clients see the change as it arrives.
    subscription = exchange.Subscribe(
        exchange_pb2.SubscribeRequest(after_sequence=0, kinds=[record_pb2.RECORD_KIND_RECEIPT])
    )
    seen: list[record_pb2.Record] = []
    async for response in subscription:
        if response.HasField("caught_up"):
            break
        events = (
            [response.record_event]
            if response.HasField("record_event")
            else list(response.record_events.events)
        )
        seen += [event.record for event in events]
    subscription.cancel()
    assert [(r.record_id, r.version) for r in seen] == [
        (receipt_id(LYON, request_id), 1),
        (receipt_id(LYON, request_id), 2),
    ]


async def test_a_client_cannot_write_a_receipt(exchange: ExchangeStub) -> None:
    forged = record_pb2.Record(record_id=f"{TEST_CENTRE}:receipt:x")
    forged.receipt.thread_id = "WCO-I2C:t"
    forged.receipt.request_record_id = "WCO-I2C:rfi"
    forged.receipt.requesting_centre = "WCO-I2C"
    forged.receipt.delivered_at.seconds = 1
    error = await refusal(submit(exchange, forged))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "receipt" in violations_of(error)


async def test_a_reply_to_an_unknown_thread_is_refused_in_a_stream_the_others_stored(
    exchange: ExchangeStub,
) -> None:
    batch = exchange_pb2.SubmitStreamRequest(
        records=[
            person(f"{TEST_CENTRE}:before"),
            reply(f"{TEST_CENTRE}:answer:s1", "NOWHERE:t1"),
            person(f"{TEST_CENTRE}:after"),
        ]
    )

    async def one() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield batch

    response = await exchange.SubmitStream(one())
    codes = [r.error.code if r.HasField("error") else 0 for r in response.results]
    assert codes == [0, grpc.StatusCode.FAILED_PRECONDITION.value[0], 0]
    assert "NOWHERE:t1" in response.results[1].error.message
    assert response.rejected == 1


async def test_a_reply_its_requester_may_not_read_is_refused_in_a_stream(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    await store_replica(gateway, request(f"{LYON}:rfi:s2", f"{LYON}:t-s2", LYON, TEST_CENTRE))
    restricted = reply(f"{TEST_CENTRE}:answer:s2", f"{LYON}:t-s2")
    restricted.handling.releasable_to.append("WCO-I2C")
    batch = exchange_pb2.SubmitStreamRequest(records=[restricted, person(f"{TEST_CENTRE}:s2")])

    async def one() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield batch

    response = await exchange.SubmitStream(one())
    codes = [r.error.code if r.HasField("error") else 0 for r in response.results]
    assert codes == [grpc.StatusCode.FAILED_PRECONDITION.value[0], 0]
    assert f"requester {LYON} may not read it" in response.results[0].error.message
    error = await refusal(exchange.Get(exchange_pb2.GetRequest(record_id=restricted.record_id)))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_an_ingest_carrying_a_reply_to_an_unknown_thread_stores_nothing(
    gateway: Gateway, exchange: ExchangeStub, channel: aio.Channel
) -> None:
    translation = TranslationStub(channel)
    await store_replica(gateway, request(f"{LYON}:rfi:i1", f"{LYON}:t-i1", LYON, TEST_CENTRE))
    payload = f"{LYON}:t-i1;known\nNOWHERE:t2;unknown\n".encode()
    with pytest.raises(aio.AioRpcError) as refused:
        await translation.Ingest(
            translation_pb2.IngestRequest(adapter="lines-replies", payload=payload)
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "NOWHERE:t2" in (refused.value.details() or "")
    error = await refusal(
        exchange.Get(exchange_pb2.GetRequest(record_id=f"{TEST_CENTRE}:ingested-reply:1"))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND, "refused whole"
    answered = await translation.Ingest(
        translation_pb2.IngestRequest(adapter="lines-replies", payload=f"{LYON}:t-i1;ok\n".encode())
    )
    assert len(answered.acks) == 1


async def test_every_state_change_and_overdue_alert_is_audited_at_both_ends(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock, tmp_path: Path
) -> None:
    await store_replica(
        gateway, request(f"{LYON}:rfi:a1", f"{LYON}:t-a1", LYON, TEST_CENTRE, urgent=True)
    )
    await exchange.Get(exchange_pb2.GetRequest(record_id=f"{LYON}:rfi:a1"))
    await submit(exchange, reply(f"{TEST_CENTRE}:answer:a1", f"{LYON}:t-a1"))
    await submit(
        exchange, request(f"{TEST_CENTRE}:rfi:a2", f"{TEST_CENTRE}:t-a2", TEST_CENTRE, LYON)
    )
    clock.advance("8d")
    await gateway.keeper.sweep()
    await gateway.keeper.threads.flush()  # type: ignore[union-attr]
    await gateway.stop(grace=0)
    entries = [json.loads(text) for text in iter_stored(tmp_path / "audit.db")]
    states = [
        (e["detail"]["thread_id"], e["detail"]["state"])
        for e in entries
        if e["action"] == "thread-state"
    ]
    assert states == [
        (f"{LYON}:t-a1", "DELIVERED"),
        (f"{LYON}:t-a1", "READ"),
        (f"{LYON}:t-a1", "ANSWERED"),
        (f"{TEST_CENTRE}:t-a2", "SENT"),
    ]
    overdue = [e["detail"]["thread_id"] for e in entries if e["action"] == "thread-overdue"]
    assert overdue == [f"{TEST_CENTRE}:t-a2"]
    assert verify_file(tmp_path / "audit.db").ok


def test_thread_records_are_addressed_by_their_thread() -> None:
    asked = request("WCO-I2C:rfi:9", "WCO-I2C:t9", "WCO-I2C", LYON)
    asked.handling.releasable_to.append("INTERPOL-IGCI-SINGAPORE")
    assert thread_addressees(asked) == (LYON, "INTERPOL-IGCI-SINGAPORE")
    assert thread_addressees(reply(f"{LYON}:answer:9", "WCO-I2C:t9")) == ("WCO-I2C",)
    assert thread_addressees(person("WCO-I2C:p")) == ()


def test_a_long_request_id_gets_a_digest_receipt_id() -> None:
    long_id = "WCO-I2C:" + "r" * 110
    assert receipt_id(LYON, "WCO-I2C:rfi:1") == f"{LYON}:receipt:WCO-I2C:rfi:1"
    digest = receipt_id(LYON, long_id)
    assert digest.startswith(f"{LYON}:receipt:")
    assert len(digest) <= 128
