"""SubmitStream: thousands of records in batches, invalid ones reported and skipped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio

from gateway.config import CentreConfig
from gateway.server import Gateway
from gateway.store.preparation_pool import MessagePreparer
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import make_config
from tests.support.factories import person, set_path
from tests.support.rpc import ExchangeStub as Stub

pytestmark = pytest.mark.both_backends  # every test on SQLite and on PostgreSQL

INVALID = {17: "record_id", 2500: "person.sex", 4999: "person.birth_date.month"}


def record_number(index: int) -> record_pb2.Record:
    record = person(f"S-{index:05d}", family=f"FAMILY{index % 97}")
    if index in INVALID:
        if index == 17:
            record.record_id = "not valid!"
        elif index == 2500:
            set_path(record, "person.sex", 99)
        else:
            record.person.birth_date.month = 14
    return record


PREPARATION = {"on the loop": 0, "in a worker": 1}


def preparer(config: CentreConfig, where: str) -> MessagePreparer:
    """Every message, however small, prepared where the test says."""
    return MessagePreparer(config.centre_id, PREPARATION[where], inline_below_bytes=0)


@pytest.fixture(params=sorted(PREPARATION))
async def gateway(
    request: pytest.FixtureRequest, gateway_config: CentreConfig
) -> AsyncIterator[Gateway]:
    """The conftest gateway, once preparing stream messages on the loop, once in a worker."""
    server = Gateway(gateway_config, preparer=preparer(gateway_config, request.param))
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


async def batches(count: int, size: int) -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
    for start in range(0, count, size):
        yield exchange_pb2.SubmitStreamRequest(
            records=[record_number(i) for i in range(start, min(count, start + size))]
        )


@pytest.mark.slow
async def test_five_thousand_records_with_invalid_ones_in_the_middle(
    exchange: Stub, gateway: Gateway
) -> None:
    response = await exchange.SubmitStream(batches(5000, 250))
    assert (response.received, response.stored, response.duplicates, response.rejected) == (
        5000,
        4997,
        0,
        3,
    )
    assert [result.index for result in response.results] == list(range(5000))
    sequences = []
    for result in response.results:
        if result.index in INVALID:
            assert result.WhichOneof("outcome") == "error"
            assert result.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
            assert [v.field for v in result.error.field_violations] == [INVALID[result.index]]
        else:
            assert result.WhichOneof("outcome") == "ack"
            assert result.ack.record_id == f"S-{result.index:05d}"
            assert (result.ack.version, result.ack.duplicate) == (1, False)
            sequences.append(result.ack.sequence)
    assert sequences == list(range(1, 4998)), "stored in stream order, one sequence each"
    assert await gateway.store.last_sequence() == 4997
    stored = await exchange.Get(exchange_pb2.GetRequest(record_id="S-04998"))
    assert stored.record.person.names[0].family == "FAMILY51"


async def test_resending_a_stream_reports_duplicates(exchange: Stub) -> None:
    await exchange.SubmitStream(batches(40, 16))
    again = await exchange.SubmitStream(batches(40, 16))
    # Record 17 is invalid both times; every other one is a duplicate the second time.
    assert (again.stored, again.duplicates, again.rejected) == (0, 39, 1)
    assert all(result.ack.duplicate for result in again.results if result.index != 17)


async def test_an_empty_stream_is_fine(exchange: Stub) -> None:
    async def nothing() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        return
        yield  # an async generator that yields nothing

    response = await exchange.SubmitStream(nothing())
    assert (response.received, len(response.results)) == (0, 0)


@pytest.mark.parametrize("where", sorted(PREPARATION))
async def test_a_stream_over_the_record_limit_is_refused(tmp_path: object, where: str) -> None:
    config: CentreConfig = make_config(tmp_path, max_records_per_stream=100)  # type: ignore[arg-type]
    server = Gateway(config, preparer=preparer(config, where))
    await server.start()
    try:
        async with aio.insecure_channel(server.address) as channel:
            with pytest.raises(aio.AioRpcError) as caught:
                await Stub(channel).SubmitStream(batches(150, 60))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "at most 100 records" in (caught.value.details() or "")
    finally:
        await server.stop(grace=0)


async def test_a_stream_cancelled_midway_keeps_what_was_committed(
    exchange: Stub, gateway: Gateway
) -> None:
    sent = asyncio.Event()

    async def then_hang() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        async for message in batches(300, 100):
            yield message
        sent.set()
        await asyncio.Event().wait()  # never ends the stream: the client cancels instead

    call = exchange.SubmitStream(then_hang())
    await asyncio.wait_for(sent.wait(), 10)
    # Give the gateway time to commit the three batches it has received, then cancel.
    for _ in range(100):
        if await gateway.store.last_sequence() >= 299:
            break
        await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await gateway.store.last_sequence() == 299  # 300 records, one invalid (index 17)
    # The gateway is unharmed: the same records resubmitted are duplicates.
    again = await exchange.SubmitStream(batches(300, 100))
    assert (again.stored, again.duplicates, again.rejected) == (0, 299, 1)
