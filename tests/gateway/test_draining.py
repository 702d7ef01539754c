"""A stop's calls: those still running when the grace runs out, and those arriving during it,
are answered UNAVAILABLE (which clients retry) - never CANCELLED - on gRPC and over HTTP; a call
that completes within the grace keeps its answer."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.config import HttpConfig
from gateway.draining import STOPPING_MESSAGE
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.conftest import make_config
from tests.support.factories import person
from tests.support.polling import until
from tests.support.rpc import ExchangeStub

GRACE_SECONDS = 0.6


class Hold:
    """Makes a coroutine method of an object wait until released, counting who waits."""

    def __init__(self) -> None:
        self.waiting = 0
        self.released = asyncio.Event()

    def on(self, owner: object, name: str) -> None:
        original = getattr(owner, name)

        async def held(*args: Any, **kwargs: Any) -> Any:
            self.waiting += 1
            await self.released.wait()
            return await original(*args, **kwargs)

        setattr(owner, name, held)


@pytest.fixture
def hold(gateway: Gateway) -> Iterator[Hold]:
    """Every write of the gateway's store waits until ``hold.released`` is set."""
    held = Hold()
    held.on(gateway.store, "write")
    held.on(gateway.store, "prepare_and_write")
    yield held
    held.released.set()


async def _stopped_while_running(gateway: Gateway, call: asyncio.Task[Any], hold: Hold) -> None:
    await until(lambda: hold.waiting >= 1)
    await gateway.stop(grace=GRACE_SECONDS)


async def test_a_submit_still_running_at_the_end_of_the_grace_is_unavailable_not_cancelled(
    gateway: Gateway, exchange: ExchangeStub, hold: Hold
) -> None:
    call = asyncio.ensure_future(
        exchange.Submit(exchange_pb2.SubmitRequest(record=person("held-1")))
    )
    await _stopped_while_running(gateway, call, hold)
    with pytest.raises(aio.AioRpcError) as ended:
        await call
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    assert ended.value.details() == STOPPING_MESSAGE


async def test_a_client_stream_still_open_at_the_end_of_the_grace_is_unavailable(
    gateway: Gateway, exchange: ExchangeStub, hold: Hold
) -> None:
    never = asyncio.Event()

    async def requests() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield exchange_pb2.SubmitStreamRequest(records=[person("streamed-1")])
        await never.wait()  # the client never ends its stream

    call = asyncio.ensure_future(exchange.SubmitStream(requests()))
    await _stopped_while_running(gateway, call, hold)
    with pytest.raises(aio.AioRpcError) as ended:
        await call
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    assert ended.value.details() == STOPPING_MESSAGE


async def test_a_server_stream_still_running_at_the_end_of_the_grace_is_unavailable(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    hold = Hold()
    hold.on(gateway.gate, "search")
    try:

        async def search() -> None:
            async for _ in exchange.Search(exchange_pb2.SearchRequest(document_number="L898902C3")):
                pass

        call = asyncio.ensure_future(search())
        await _stopped_while_running(gateway, call, hold)
        with pytest.raises(aio.AioRpcError) as ended:
            await call
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        assert ended.value.details() == STOPPING_MESSAGE
    finally:
        hold.released.set()


async def test_a_submit_that_commits_within_the_grace_keeps_its_acknowledgement(
    gateway: Gateway, exchange: ExchangeStub, hold: Hold
) -> None:
    call = asyncio.ensure_future(
        exchange.Submit(exchange_pb2.SubmitRequest(record=person("held-2")))
    )
    await until(lambda: hold.waiting >= 1)
    stopping = asyncio.ensure_future(gateway.stop(grace=30))
    await asyncio.sleep(0.05)  # the stop has begun: new calls are refused, this one runs on
    assert not stopping.done()
    hold.released.set()
    answer = await call
    assert answer.ack.record_id == "held-2"
    assert answer.ack.version == 1
    await stopping  # and the stop then ends without waiting out the 30 s grace


async def test_calls_arriving_during_a_stop_are_unavailable_and_health_says_not_serving(
    gateway: Gateway,
    channel: aio.Channel,
    exchange: ExchangeStub,
    hold: Hold,
) -> None:
    held = asyncio.ensure_future(
        exchange.Submit(exchange_pb2.SubmitRequest(record=person("held-3")))
    )
    await until(lambda: hold.waiting >= 1)
    stopping = asyncio.ensure_future(gateway.stop(grace=30))
    await asyncio.sleep(0.05)
    with pytest.raises(aio.AioRpcError) as refused:
        await exchange.Get(exchange_pb2.GetRequest(record_id="held-3"))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert refused.value.details() == STOPPING_MESSAGE
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING
    hold.released.set()
    await held
    await stopping


async def test_an_http_call_still_running_at_the_end_of_the_grace_is_503_unavailable(
    tmp_path: Path,
) -> None:
    config = dataclasses.replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))
    gateway = Gateway(config)
    await gateway.start()
    hold = Hold()
    hold.on(gateway.store, "write")
    hold.on(gateway.store, "prepare_and_write")
    try:
        async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}", timeout=20) as http:
            body = json_format.MessageToDict(exchange_pb2.SubmitRequest(record=person("held-4")))
            call = asyncio.ensure_future(http.post("/liaison.v1.RecordExchange/Submit", json=body))
            await _stopped_while_running(gateway, call, hold)
            answer = await call
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "unavailable"
        assert answer.json()["message"] == STOPPING_MESSAGE
    finally:
        hold.released.set()
        await gateway.stop(grace=0)


async def test_a_health_watcher_does_not_hold_the_stop_and_ends_unavailable(
    gateway: Gateway, channel: aio.Channel
) -> None:
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
    first = await watch.read()
    assert first.status == health_pb2.HealthCheckResponse.SERVING

    async def rest() -> list[int]:
        seen = []
        # read() answers grpc.aio.EOF (not a response) at the stream's end.
        while isinstance(update := await watch.read(), health_pb2.HealthCheckResponse):
            seen.append(update.status)
        return seen

    updates = asyncio.ensure_future(rest())
    # Nothing else runs: the stop ends now, not after its 30 s grace (it hung before).
    await gateway.stop(grace=30)
    with pytest.raises(aio.AioRpcError) as ended:
        await updates
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    assert ended.value.details() == STOPPING_MESSAGE
