"""``submit_many`` and ``submit_streams``: any number of records, split over SubmitStream calls.

Against a real gateway that takes 10 records per call, and against a scripted one that counts
the calls and the records each carried.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from gateway.client import AsyncLiaisonClient, LiaisonClient, StreamLimitError
from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import make_config
from tests.gateway.client.scripted import Context, scripted_gateway
from tests.support.factories import person

LIMIT = 10


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    return make_config(tmp_path, max_records_per_stream=LIMIT)


def people(count: int, invalid: int | None = None) -> list[record_pb2.Record]:
    records = [person(f"P-{i}", family=f"FAMILY{i}") for i in range(count)]
    if invalid is not None:
        records[invalid].person.birth_date.month = 13
    return records


async def test_async_submit_many_splits_over_calls_and_numbers_results_by_input_position(
    gateway: Gateway,
) -> None:
    async def stream() -> AsyncIterator[record_pb2.Record]:
        for record in people(25, invalid=17):
            yield record

    async with AsyncLiaisonClient(gateway.address) as client:
        response = await client.submit_many(stream(), batch_size=4, records_per_stream=LIMIT)
        calls = [
            (call.received, [result.index for result in call.results])
            async for call in client.submit_streams(
                people(25, invalid=17), records_per_stream=LIMIT
            )
        ]

    counts = (response.received, response.stored, response.duplicates, response.rejected)
    assert counts == (25, 24, 0, 1)
    assert [result.index for result in response.results] == list(range(25))
    assert response.results[17].HasField("error")
    assert response.results[18].ack.record_id == "P-18"
    assert calls == [
        (10, list(range(10))),
        (10, list(range(10, 20))),
        (5, list(range(20, 25))),
    ]
    assert await gateway.store.last_sequence() == 24


async def test_sync_submit_many_splits_over_calls(gateway: Gateway) -> None:
    def scenario() -> tuple[exchange_pb2.SubmitStreamResponse, list[int]]:
        with LiaisonClient(gateway.address) as client:
            response = client.submit_many(iter(people(20)), records_per_stream=LIMIT)
            again = [
                call.duplicates
                for call in client.submit_streams(people(20), records_per_stream=LIMIT)
            ]
            return response, again

    response, again = await asyncio.to_thread(scenario)
    assert (response.received, response.stored, response.rejected) == (20, 20, 0)
    assert [result.ack.record_id for result in response.results] == [f"P-{i}" for i in range(20)]
    # Exactly two full calls: no empty third one.
    assert again == [10, 10]


async def test_more_records_per_call_than_the_gateway_takes_is_a_stream_limit_error(
    gateway: Gateway,
) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        with pytest.raises(StreamLimitError) as caught:
            await client.submit_many(people(15), batch_size=5, records_per_stream=LIMIT + 5)
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.max_records == LIMIT

    def blocking() -> None:
        with LiaisonClient(gateway.address) as client:
            client.submit_many(people(15), batch_size=5)

    with pytest.raises(StreamLimitError) as again:
        await asyncio.to_thread(blocking)
    assert again.value.max_records == LIMIT


def counting_handler(calls: list[list[int]]) -> grpc.RpcMethodHandler[Any, Any]:
    """A SubmitStream that notes the size of each message of each call."""

    async def submit_stream(requests: AsyncIterator[Any], context: Context) -> Any:
        sizes: list[int] = []
        async for request in requests:
            sizes.append(len(request.records))
        calls.append(sizes)
        return exchange_pb2.SubmitStreamResponse(
            received=sum(sizes),
            results=[exchange_pb2.SubmitResult(index=i) for i in range(sum(sizes))],
        )

    return grpc.stream_unary_rpc_method_handler(
        submit_stream,
        request_deserializer=exchange_pb2.SubmitStreamRequest.FromString,
        response_serializer=exchange_pb2.SubmitStreamResponse.SerializeToString,
    )


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, [[]]),  # one call even without records: the gateway still answers (or refuses)
        (3, [[2, 1]]),
        (6, [[2, 2, 1], [1]]),
        (10, [[2, 2, 1], [2, 2, 1]]),
        (11, [[2, 2, 1], [2, 2, 1], [1]]),
    ],
)
async def test_calls_carry_at_most_records_per_stream(
    count: int, expected: list[list[int]]
) -> None:
    calls: list[list[int]] = []
    async with scripted_gateway({"SubmitStream": counting_handler(calls)}) as address:
        async with AsyncLiaisonClient(address) as client:
            response = await client.submit_many(people(count), batch_size=2, records_per_stream=5)
        assert calls == expected
        assert [result.index for result in response.results] == list(range(count))

        calls.clear()

        def blocking() -> int:
            with LiaisonClient(address) as client:
                return client.submit_many(iter(people(count)), 2, records_per_stream=5).received

        assert await asyncio.to_thread(blocking) == count
        assert calls == expected


async def test_a_record_that_fails_to_read_between_calls_is_raised() -> None:
    calls: list[list[int]] = []

    def failing() -> Iterator[record_pb2.Record]:
        yield from people(4)
        raise ValueError("line 5: not a record")

    async with (
        scripted_gateway({"SubmitStream": counting_handler(calls)}) as address,
        AsyncLiaisonClient(address) as client,
    ):
        with pytest.raises(ValueError, match="line 5"):
            await client.submit_many(failing(), batch_size=2, records_per_stream=4)
    assert calls == [[2, 2]]  # the first call completed before the input failed


async def test_bad_sizes_are_refused_before_anything_is_sent() -> None:
    async with AsyncLiaisonClient("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match="records_per_stream"):
            await client.submit_many(people(1), records_per_stream=0)
        with pytest.raises(ValueError, match="batch_size"):
            await client.submit_many(people(1), batch_size=0)
    with LiaisonClient("127.0.0.1:1") as blocking, pytest.raises(ValueError, match="records_per"):
        blocking.submit_many(people(1), records_per_stream=0)
