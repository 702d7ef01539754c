"""At most N streaming calls at once per caller: the next is RESOURCE_EXHAUSTED, clearly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.conftest import make_config
from tests.support.rpc import ExchangeStub


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Gateway]:
    gateway = Gateway(make_config(tmp_path, max_streams_per_caller=2))
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop(grace=0)


async def _open(stub: ExchangeStub) -> Any:
    call = stub.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
    first = await call.read()  # the caught-up marker: the stream is open and counted
    assert isinstance(first, exchange_pb2.SubscribeResponse)
    assert first.HasField("caught_up")
    return call


async def test_a_caller_over_its_stream_limit_is_refused_until_one_ends(limited: Gateway) -> None:
    async with aio.insecure_channel(limited.address) as channel:
        stub: ExchangeStub = exchange_pb2_grpc.RecordExchangeStub(channel)
        first, second = await _open(stub), await _open(stub)
        with pytest.raises(aio.AioRpcError) as refused:
            await _open(stub)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert refused.value.details() == (
            "at most 2 streaming calls at once per caller; wait for one to end"
        )
        # Unary calls are not counted.
        with pytest.raises(aio.AioRpcError) as missing:
            await stub.Get(exchange_pb2.GetRequest(record_id="absent"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        first.cancel()
        second.cancel()
        for _ in range(100):  # the server notices the cancellations asynchronously
            try:
                third = await _open(stub)
            except aio.AioRpcError:
                await asyncio.sleep(0.02)
                continue
            third.cancel()
            break
        else:
            pytest.fail("the limit was not released when the streams ended")
