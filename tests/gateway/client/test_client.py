"""The client library against a real gateway, and against scripted servers for retries and errors.

Blocking-client scenarios run in a worker thread: the gateway serves on this test's event loop,
which a blocking call on the loop's own thread would starve.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from gateway.cli.jsonio import RecordFileError, iter_records, record_to_json
from gateway.client import (
    SERVICE_NAME,
    AsyncLiaisonClient,
    ClientError,
    GatewayUnavailableError,
    InvalidRecordError,
    LiaisonClient,
    RecordNotFoundError,
    VersionConflictError,
    channel_options,
)
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.gateway.client.scripted import Context, scripted_gateway
from tests.support.factories import person, travel_document


def invalid_person(record_id: str) -> record_pb2.Record:
    record = person(record_id)
    record.person.birth_date.month = 13
    return record


def submit_handler(behaviour: Any) -> grpc.RpcMethodHandler[Any, Any]:
    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=exchange_pb2.SubmitRequest.FromString,
        response_serializer=exchange_pb2.SubmitResponse.SerializeToString,
    )


def ack_for(request: exchange_pb2.SubmitRequest) -> exchange_pb2.SubmitResponse:
    return exchange_pb2.SubmitResponse(
        ack=exchange_pb2.SubmitAck(record_id=request.record.record_id, version=1, sequence=1)
    )


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield reserved.getsockname()[1]


# --- against the real gateway -------------------------------------------------------------------


async def test_async_submit_duplicate_get(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        ack = await client.submit(person("P-1"))
        assert (ack.record_id, ack.version, ack.duplicate) == ("P-1", 1, False)
        again = await client.submit(person("P-1"))
        assert (again.version, again.sequence, again.duplicate) == (1, ack.sequence, True)
        changed = await client.submit(person("P-1", given="JOAN"))
        assert (changed.version, changed.duplicate) == (2, False)

        latest = await client.get("P-1")
        assert (latest.record.version, latest.record.person.names[0].given) == (2, "JOAN")
        assert latest.metadata.latest_version == 2
        first = await client.get("P-1", version=1)
        assert first.record.person.names[0].given == "JANE"


async def test_async_errors(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        with pytest.raises(RecordNotFoundError) as absent:
            await client.get("P-404")
        assert absent.value.code == grpc.StatusCode.NOT_FOUND
        assert "P-404" in absent.value.message

        with pytest.raises(InvalidRecordError) as invalid:
            await client.submit(invalid_person("P-2"))
        assert invalid.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert [field for field, _ in invalid.value.field_violations] == ["person.birth_date.month"]
        assert all(description for _, description in invalid.value.field_violations)

        await client.submit(person("P-3"))
        await client.submit(person("P-3", given="JOAN"))
        stale = person("P-3", given="JUNE")
        stale.version = 1
        with pytest.raises(VersionConflictError) as conflict:
            await client.submit(stale)
        assert conflict.value.code == grpc.StatusCode.ABORTED


async def test_async_submit_many_in_batches(gateway: Gateway) -> None:
    records = [person(f"P-{i}", family=f"FAMILY{i}") for i in range(10)]
    records[4] = invalid_person("P-4")

    async def stream() -> AsyncIterator[record_pb2.Record]:
        for record in records:
            yield record

    async with AsyncLiaisonClient(gateway.address) as client:
        response = await client.submit_many(stream(), batch_size=3)
        assert (response.received, response.stored, response.duplicates, response.rejected) == (
            10,
            9,
            0,
            1,
        )
        assert [result.index for result in response.results] == list(range(10))
        rejected = response.results[4].error
        assert [v.field for v in rejected.field_violations] == ["person.birth_date.month"]

        again = await client.submit_many(records, batch_size=4)  # a plain iterable too
        assert (again.stored, again.duplicates, again.rejected) == (0, 9, 1)


async def test_async_submit_many_raises_what_the_records_raise(gateway: Gateway) -> None:
    data = (record_to_json(person("P-1")) + "\n{not json\n").encode()
    async with AsyncLiaisonClient(gateway.address) as client:
        with pytest.raises(RecordFileError) as caught:
            await client.submit_many(iter_records(data), batch_size=1)
        assert caught.value.line == 2


async def test_async_search_all_follows_cursors(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        for i in range(5):
            await client.submit(person(f"P-{i}", family="MARTIN"))
        await client.submit(person("P-OTHER", family="DUPONT"))
        request = exchange_pb2.SearchRequest(family_name="martin", page_size=2)

        page = [response async for response in client.search(request)]
        assert [r.hit.record.record_id for r in page if r.HasField("hit")] == ["P-0", "P-1"]
        assert page[-1].page_end.has_more

        hits = [hit async for hit in client.search_all(request)]
        assert [hit.record.record_id for hit in hits] == [f"P-{i}" for i in range(5)]
        # Resuming from a hit's cursor continues right after it.
        resumed = exchange_pb2.SearchRequest(family_name="martin", cursor=hits[2].cursor)
        rest = [hit.record.record_id async for hit in client.search_all(resumed)]
        assert rest == ["P-3", "P-4"]


async def test_async_subscribe(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        await client.submit(person("P-1"))
        await client.submit(travel_document("D-1"))
        events = client.subscribe(after_sequence=0, kinds=[record_pb2.RECORD_KIND_PERSON])
        first = await anext(events)
        assert first.record_event.record.record_id == "P-1"
        caught_up = await anext(events)
        # The last version delivered: commits the stream did not deliver are not counted.
        assert caught_up.caught_up.sequence == 1

        await client.submit(travel_document("D-2"))
        await client.submit(person("P-2"))
        live = await asyncio.wait_for(anext(events), timeout=10)
        assert live.record_event.record.record_id == "P-2"
        assert live.record_event.metadata.sequence == 4
        await events.aclose()


async def test_async_health(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        assert await client.health() == "SERVING"
        assert await client.health(SERVICE_NAME) == "SERVING"
        assert await client.health("no.such.Service") == "SERVICE_UNKNOWN"


async def test_sync_client(gateway: Gateway) -> None:
    def scenario() -> None:
        with LiaisonClient(gateway.address) as client:
            ack = client.submit(person("P-1"))
            assert (ack.version, ack.duplicate) == (1, False)
            assert client.submit(person("P-1")).duplicate
            assert client.get("P-1").record.person.names[0].family == "DOE"
            with pytest.raises(RecordNotFoundError):
                client.get("P-1", version=2)
            with pytest.raises(InvalidRecordError) as invalid:
                client.submit(invalid_person("P-2"))
            assert [f for f, _ in invalid.value.field_violations] == ["person.birth_date.month"]

            records = [person(f"M-{i}", family="MARTIN") for i in range(5)]
            response = client.submit_many(iter(records), batch_size=2)
            assert (response.received, response.stored, response.rejected) == (5, 5, 0)

            request = exchange_pb2.SearchRequest(family_name="MARTIN", page_size=2)
            hits = [hit.record.record_id for hit in client.search_all(request)]
            assert hits == [f"M-{i}" for i in range(5)]

            events = client.subscribe(after_sequence=0)
            seen = []
            for event in events:
                if event.HasField("caught_up"):
                    break
                seen.append(event.record_event.record.record_id)
            events.close()  # cancels the call; must not hang
            assert seen == ["P-1", *(f"M-{i}" for i in range(5))]

            assert client.health() == "SERVING"

    await asyncio.to_thread(scenario)


async def test_sync_submit_many_raises_what_the_records_raise(gateway: Gateway) -> None:
    data = (record_to_json(person("P-1")) + "\n" + '{"recordId": "P-2", "colour": 1}\n').encode()

    def scenario() -> None:
        with LiaisonClient(gateway.address) as client, pytest.raises(RecordFileError) as caught:
            client.submit_many(iter_records(data))
        assert str(caught.value) == 'line 2: unknown field "colour"'

    await asyncio.to_thread(scenario)


# --- retries, deadlines and error mapping, against scripted servers ---------------------------


async def test_unavailable_is_retried_until_it_succeeds() -> None:
    attempts = 0

    async def submit(request: exchange_pb2.SubmitRequest, context: Context) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts <= 2:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        return ack_for(request)

    async with scripted_gateway({"Submit": submit_handler(submit)}) as address:
        async with AsyncLiaisonClient(address) as client:
            ack = await client.submit(person("P-1"))
        assert (ack.record_id, attempts) == ("P-1", 3)

        attempts = 0

        def blocking() -> str:
            with LiaisonClient(address) as client:
                return client.submit(person("P-2")).record_id

        assert (await asyncio.to_thread(blocking), attempts) == ("P-2", 3)


async def test_unavailable_gives_up_after_five_attempts() -> None:
    attempts = 0

    async def submit(request: exchange_pb2.SubmitRequest, context: Context) -> Any:
        nonlocal attempts
        attempts += 1
        await context.abort(grpc.StatusCode.UNAVAILABLE, "down for maintenance")

    async with (
        scripted_gateway({"Submit": submit_handler(submit)}) as address,
        AsyncLiaisonClient(address) as client,
    ):
        with pytest.raises(GatewayUnavailableError) as caught:
            await client.submit(person("P-1"))
    assert (caught.value.code, caught.value.message) == (
        grpc.StatusCode.UNAVAILABLE,
        "down for maintenance",
    )
    assert attempts == 5


async def test_rich_status_details_become_field_violations() -> None:
    attempts = 0
    bad_request = error_details_pb2.BadRequest()
    bad_request.field_violations.add(field="record_id", description="must not be empty")
    bad_request.field_violations.add(field="body", description="exactly one body")
    detail = any_pb2.Any()
    detail.Pack(bad_request)
    status = status_pb2.Status(
        code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="invalid record", details=[detail]
    )

    async def submit(request: exchange_pb2.SubmitRequest, context: Context) -> Any:
        nonlocal attempts
        attempts += 1
        await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]

    async with (
        scripted_gateway({"Submit": submit_handler(submit)}) as address,
        AsyncLiaisonClient(address) as client,
    ):
        with pytest.raises(InvalidRecordError) as caught:
            await client.submit(record_pb2.Record())
    assert caught.value.field_violations == [
        ("record_id", "must not be empty"),
        ("body", "exactly one body"),
    ]
    assert str(caught.value) == "invalid record (INVALID_ARGUMENT)"
    assert attempts == 1  # only UNAVAILABLE is retried


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (grpc.StatusCode.NOT_FOUND, RecordNotFoundError),
        (grpc.StatusCode.ABORTED, VersionConflictError),
        (grpc.StatusCode.FAILED_PRECONDITION, VersionConflictError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, GatewayUnavailableError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, ClientError),
        (grpc.StatusCode.PERMISSION_DENIED, ClientError),
    ],
)
async def test_status_codes_map_to_error_classes(
    code: grpc.StatusCode, error_class: type[ClientError]
) -> None:
    async def submit(request: exchange_pb2.SubmitRequest, context: Context) -> Any:
        await context.abort(code, "refused\nfor a reason")

    async with (
        scripted_gateway({"Submit": submit_handler(submit)}) as address,
        AsyncLiaisonClient(address) as client,
    ):
        with pytest.raises(ClientError) as caught:
            await client.submit(person("P-1"))
    assert type(caught.value) is error_class
    assert (caught.value.code, caught.value.message) == (code, "refused for a reason")
    assert caught.value.field_violations == []


async def test_timeouts_default_per_client_and_can_be_given_per_call() -> None:
    async def get(request: exchange_pb2.GetRequest, context: Context) -> Any:
        await asyncio.sleep(0.5)
        return exchange_pb2.GetResponse(record=record_pb2.Record(record_id=request.record_id))

    handler = grpc.unary_unary_rpc_method_handler(
        get,
        request_deserializer=exchange_pb2.GetRequest.FromString,
        response_serializer=exchange_pb2.GetResponse.SerializeToString,
    )
    async with (
        scripted_gateway({"Get": handler}) as address,
        AsyncLiaisonClient(address, timeout=0.1) as client,
    ):
        with pytest.raises(GatewayUnavailableError) as caught:
            await client.get("P-1")
        assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        # A per-call timeout may be longer than the client's default, not only shorter.
        assert (await client.get("P-1", timeout=5)).record.record_id == "P-1"


async def test_submit_many_sends_several_records_per_message() -> None:
    batches: list[int] = []
    sizes: list[int] = []

    async def submit_stream(requests: AsyncIterator[Any], context: Context) -> Any:
        async for request in requests:
            batches.append(len(request.records))
            sizes.append(request.ByteSize())
        return exchange_pb2.SubmitStreamResponse(received=sum(batches))

    handler = grpc.stream_unary_rpc_method_handler(
        submit_stream,
        request_deserializer=exchange_pb2.SubmitStreamRequest.FromString,
        response_serializer=exchange_pb2.SubmitStreamResponse.SerializeToString,
    )
    async with (
        scripted_gateway({"SubmitStream": handler}) as address,
        AsyncLiaisonClient(address) as client,
    ):
        response = await client.submit_many([person(f"P-{i}") for i in range(7)], batch_size=3)
        assert (response.received, batches) == (7, [3, 3, 1])

        # Large records also close a batch by size, keeping messages far from the limit.
        batches.clear()
        large = [person(f"L-{i}") for i in range(5)]
        for record in large:
            record.handling.purpose = "x" * 400_000
        await client.submit_many(large)
        assert batches == [2, 2, 1]
        assert max(sizes) < 1024 * 1024

        with pytest.raises(ValueError, match="batch_size"):
            await client.submit_many([], batch_size=0)


async def test_search_all_stops_on_a_cursor_that_does_not_move() -> None:
    async def search(request: exchange_pb2.SearchRequest, context: Context) -> Any:
        yield exchange_pb2.SearchResponse(
            page_end=exchange_pb2.SearchPageEnd(next_cursor="same", has_more=True)
        )

    handler = grpc.unary_stream_rpc_method_handler(
        search,
        request_deserializer=exchange_pb2.SearchRequest.FromString,
        response_serializer=exchange_pb2.SearchResponse.SerializeToString,
    )
    async with (
        scripted_gateway({"Search": handler}) as address,
        AsyncLiaisonClient(address) as client,
    ):
        with pytest.raises(ClientError, match="without a new cursor"):
            async for _ in client.search_all(exchange_pb2.SearchRequest(family_name="X")):
                pass


async def test_unreachable_gateway() -> None:
    with closed_port() as port:
        async with AsyncLiaisonClient(f"127.0.0.1:{port}", timeout=5) as client:
            with pytest.raises(GatewayUnavailableError) as caught:
                await client.health()
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE

        def blocking() -> None:
            with LiaisonClient(f"127.0.0.1:{port}", timeout=5) as client:
                client.get("P-1")

        with pytest.raises(GatewayUnavailableError):
            await asyncio.to_thread(blocking)


def test_channel_options_carry_the_retry_policy_and_let_callers_override() -> None:
    options = dict(channel_options(1024, [("grpc.max_receive_message_length", 2048)]))
    assert options["grpc.max_send_message_length"] == 1024
    assert options["grpc.max_receive_message_length"] == 2048
    assert options["grpc.enable_retries"] == 1
    assert f'"service": "{SERVICE_NAME}"' in options["grpc.service_config"]
    assert '"retryableStatusCodes": ["UNAVAILABLE"]' in options["grpc.service_config"]
