"""Bytes that are not the request message are INVALID_ARGUMENT, in every call shape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.support.factories import person

CORRUPT = b"\xff\xff\xff\x0f not a protobuf message"


async def test_unary(channel: aio.Channel, gateway: Gateway) -> None:
    submit = channel.unary_unary("/liaison.v1.RecordExchange/Submit", bytes, bytes)
    with pytest.raises(aio.AioRpcError) as caught:
        await submit(CORRUPT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "the request is not a valid liaison.v1.SubmitRequest message"
    assert await gateway.store.last_sequence() == 0


async def test_server_streaming(channel: aio.Channel) -> None:
    search = channel.unary_stream("/liaison.v1.RecordExchange/Search", bytes, bytes)
    with pytest.raises(aio.AioRpcError) as caught:
        async for _ in search(CORRUPT):
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "liaison.v1.SearchRequest" in (caught.value.details() or "")


async def test_client_streaming_stores_what_came_before(
    channel: aio.Channel, gateway: Gateway
) -> None:
    submit_stream = channel.stream_unary("/liaison.v1.RecordExchange/SubmitStream", bytes, bytes)

    async def messages() -> AsyncIterator[bytes]:
        yield exchange_pb2.SubmitStreamRequest(records=[person("P-1")]).SerializeToString()
        yield CORRUPT

    with pytest.raises(aio.AioRpcError) as caught:
        await submit_stream(messages())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "liaison.v1.SubmitStreamRequest" in (caught.value.details() or "")
    # The first batch's write was queued before the refusal and commits regardless; the refusal
    # may reach the client before that commit does.
    for _ in range(100):
        if await gateway.store.last_sequence() == 1:
            break
        await asyncio.sleep(0.02)
    assert await gateway.store.last_sequence() == 1
