"""Subscriptions resume after the gateway goes away (UNAVAILABLE), from the last sequence seen.

A scripted Subscribe ends each call as the test says and records the requests it got; the last
test kills a real gateway process and starts it again on the same port and store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from gateway.client import (
    AsyncLiaisonClient,
    ClientError,
    GatewayUnavailableError,
    LiaisonClient,
)
from gateway.client._resume import Resumption
from liaison.v1 import exchange_pb2, record_pb2
from tests.gateway.client.scripted import Context, scripted_gateway
from tests.support.factories import person
from tests.support.processes import GatewayProcess

# One scripted call: the sequence numbers to deliver (0: a caught-up marker at the last one),
# then how it ends (None: the stream stays open).
Script = tuple[list[int], grpc.StatusCode | None]


def event(sequence: int) -> exchange_pb2.SubscribeResponse:
    response = exchange_pb2.SubscribeResponse()
    response.record_event.record.record_id = f"P-{sequence}"
    response.record_event.metadata.sequence = sequence
    return response


def caught_up(sequence: int) -> exchange_pb2.SubscribeResponse:
    return exchange_pb2.SubscribeResponse(caught_up=exchange_pb2.CaughtUp(sequence=sequence))


@contextlib.asynccontextmanager
async def scripted_subscribe(
    scripts: list[Script], requests: list[exchange_pb2.SubscribeRequest]
) -> AsyncIterator[str]:
    """A gateway whose n-th Subscribe call follows ``scripts[n]`` (the last one repeats)."""

    async def subscribe(request: exchange_pb2.SubscribeRequest, context: Context) -> Any:
        requests.append(request)
        sequences, ending = scripts[min(len(requests), len(scripts)) - 1]
        last = request.after_sequence if request.HasField("after_sequence") else 0
        for sequence in sequences:
            if sequence == 0:
                yield caught_up(last)
            else:
                last = sequence
                yield event(sequence)
        if ending is None:
            await asyncio.Event().wait()
        else:
            await context.abort(ending, "the gateway is shutting down")

    handler = grpc.unary_stream_rpc_method_handler(
        subscribe,
        request_deserializer=exchange_pb2.SubscribeRequest.FromString,
        response_serializer=exchange_pb2.SubscribeResponse.SerializeToString,
    )
    async with scripted_gateway({"Subscribe": handler}) as address:
        yield address


def summary(response: exchange_pb2.SubscribeResponse) -> str:
    if response.HasField("caught_up"):
        return f"caught up {response.caught_up.sequence}"
    return response.record_event.record.record_id


def resumed_after(requests: list[exchange_pb2.SubscribeRequest]) -> list[int | None]:
    return [r.after_sequence if r.HasField("after_sequence") else None for r in requests]


GOES_AWAY: list[Script] = [
    ([1, 2, 0], grpc.StatusCode.UNAVAILABLE),
    ([3], grpc.StatusCode.UNAVAILABLE),
    ([0, 4], None),
]


async def test_async_subscribe_resumes_after_the_last_sequence_seen() -> None:
    requests: list[exchange_pb2.SubscribeRequest] = []
    async with (
        scripted_subscribe(GOES_AWAY, requests) as address,
        AsyncLiaisonClient(address) as client,
    ):
        events = client.subscribe(
            after_sequence=0, kinds=[record_pb2.RECORD_KIND_PERSON], originating_centres=["X"]
        )
        seen = [summary(await anext(events)) for _ in range(6)]
        await events.aclose()
    assert seen == ["P-1", "P-2", "caught up 2", "P-3", "caught up 3", "P-4"]
    assert resumed_after(requests) == [0, 2, 3]
    # The criteria stay those of the subscription.
    criteria = [(list(r.kinds), list(r.originating_centres)) for r in requests]
    assert criteria == [([record_pb2.RECORD_KIND_PERSON], ["X"])] * 3


async def test_sync_subscribe_resumes_after_the_last_sequence_seen() -> None:
    requests: list[exchange_pb2.SubscribeRequest] = []

    def follow(address: str) -> list[str]:
        with LiaisonClient(address) as client:
            events = client.subscribe(after_sequence=0)
            seen = [summary(next(events)) for _ in range(6)]
            events.close()
            return seen

    async with scripted_subscribe(GOES_AWAY, requests) as address:
        seen = await asyncio.to_thread(follow, address)
    assert seen == ["P-1", "P-2", "caught up 2", "P-3", "caught up 3", "P-4"]
    assert resumed_after(requests) == [0, 2, 3]


async def test_a_subscription_from_now_on_resumes_after_its_caught_up_marker() -> None:
    requests: list[exchange_pb2.SubscribeRequest] = []
    scripts: list[Script] = [([0], grpc.StatusCode.UNAVAILABLE), ([5], None)]
    async with (
        scripted_subscribe(scripts, requests) as address,
        AsyncLiaisonClient(address) as client,
    ):
        events = client.subscribe()
        seen = [summary(await anext(events)) for _ in range(2)]
        await events.aclose()
    assert seen == ["caught up 0", "P-5"]
    assert resumed_after(requests) == [None, 0]


async def test_other_failures_end_the_subscription() -> None:
    requests: list[exchange_pb2.SubscribeRequest] = []
    scripts: list[Script] = [([1], grpc.StatusCode.PERMISSION_DENIED)]
    async with (
        scripted_subscribe(scripts, requests) as address,
        AsyncLiaisonClient(address) as client,
    ):
        with pytest.raises(ClientError) as caught:
            async for _ in client.subscribe(after_sequence=0):
                pass
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert len(requests) == 1


async def test_resumption_gives_up_after_the_attempts_in_a_row() -> None:
    requests: list[exchange_pb2.SubscribeRequest] = []
    # Every call ends before delivering anything: nothing resets the count.
    scripts: list[Script] = [([], grpc.StatusCode.UNAVAILABLE)]
    async with (
        scripted_subscribe(scripts, requests) as address,
        AsyncLiaisonClient(address) as client,
    ):
        with pytest.raises(GatewayUnavailableError):
            async for _ in client.subscribe(after_sequence=7, resume_attempts=1):
                pass
        # gRPC retries a call that failed before any response (5 attempts), then the client
        # resumes once: two calls of five attempts.
        assert len(requests) == 10
        assert set(resumed_after(requests)) == {7}

        requests.clear()
        with pytest.raises(GatewayUnavailableError):
            async for _ in client.subscribe(resume_attempts=0):
                pass
        assert len(requests) == 5


async def test_delivering_events_resets_the_attempts() -> None:
    requests: list[exchange_pb2.SubscribeRequest] = []
    scripts: list[Script] = [([n], grpc.StatusCode.UNAVAILABLE) for n in range(1, 5)]
    scripts.append(([5], None))
    async with (
        scripted_subscribe(scripts, requests) as address,
        AsyncLiaisonClient(address) as client,
    ):
        events = client.subscribe(after_sequence=0, resume_attempts=1)
        seen = [summary(await anext(events)) for _ in range(5)]
        await events.aclose()
    assert seen == ["P-1", "P-2", "P-3", "P-4", "P-5"]


def test_resumption_respects_the_subscription_deadline() -> None:
    now = [100.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    unavailable = grpc.RpcError()
    unavailable.code = lambda: grpc.StatusCode.UNAVAILABLE  # type: ignore[method-assign]
    resumption = Resumption(exchange_pb2.SubscribeRequest(), 5, timeout=1.0, clock=clock)
    assert resumption.timeout() == 1.0
    assert resumption.delay(unavailable) == 0.1
    now[0] = 100.7
    assert resumption.timeout() == pytest.approx(0.3)
    assert resumption.delay(unavailable) == 0.2
    now[0] = 100.9
    assert resumption.delay(unavailable) is None  # 0.4 s of waiting would pass the deadline
    with pytest.raises(ValueError, match="resume_attempts"):
        Resumption(exchange_pb2.SubscribeRequest(), -1, None)


@contextlib.contextmanager
def gateway_process(db_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(db_path)
    try:
        yield process
    finally:
        process.kill()


@pytest.mark.slow
async def test_subscribe_survives_a_gateway_restart(tmp_path: Path) -> None:
    with gateway_process(tmp_path / "centre.db") as first:
        address = await asyncio.to_thread(first.start)
        async with AsyncLiaisonClient(address) as client:
            await client.submit(person("P-1"))
            events = client.subscribe(after_sequence=0)
            assert summary(await anext(events)) == "P-1"
            assert summary(await anext(events)) == "caught up 1"

            await asyncio.to_thread(first.kill)  # as in a crash: the stream breaks
            with gateway_process(tmp_path / "centre.db") as second:
                second.serve_args[1] = address  # --listen: the same port
                await asyncio.to_thread(second.start)
                async with AsyncLiaisonClient(address) as writer:
                    await writer.submit(person("P-2"))
                following = [summary(await anext(events)) for _ in range(2)]
                await events.aclose()
    assert following == ["P-2", "caught up 2"] or following == ["caught up 1", "P-2"]
