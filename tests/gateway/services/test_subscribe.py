"""Subscribe: replay from a cursor, then live commits; a reconnect misses and repeats nothing."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.support.factories import person, store_replica, travel_document
from tests.support.rpc import ExchangeStub as Stub

pytestmark = pytest.mark.both_backends  # every test on SQLite and on PostgreSQL


async def submit_people(exchange: Stub, start: int, count: int) -> None:
    for i in range(start, start + count):
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person(f"P-{i}")))


Call = aio.UnaryStreamCall[exchange_pb2.SubscribeRequest, exchange_pb2.SubscribeResponse]


async def take(call: Call, count: int) -> tuple[list[exchange_pb2.RecordEvent], list[int]]:
    """Read until ``count`` record events arrived; also return the caught-up sequences seen."""
    events: list[exchange_pb2.RecordEvent] = []
    caught_up: list[int] = []
    while len(events) < count:
        response = await call.read()
        assert isinstance(response, exchange_pb2.SubscribeResponse), "the stream ended early"
        if response.HasField("caught_up"):
            caught_up.append(response.caught_up.sequence)
        else:
            events.append(response.record_event)
    return events, caught_up


async def test_replays_from_a_sequence_then_follows_new_commits(exchange: Stub) -> None:
    await submit_people(exchange, 0, 3)
    call = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
    events, _ = await take(call, 3)
    assert [e.metadata.sequence for e in events] == [1, 2, 3]
    assert [e.record.record_id for e in events] == ["P-0", "P-1", "P-2"]
    assert all(e.record.version == 1 for e in events)
    marker = await call.read()
    assert isinstance(marker, exchange_pb2.SubscribeResponse)
    assert marker.caught_up.sequence == 3
    await submit_people(exchange, 3, 2)
    events, caught_up = await take(call, 2)
    assert [e.metadata.sequence for e in events] == [4, 5]
    assert caught_up == []
    call.cancel()


async def test_without_a_cursor_only_new_commits_arrive(exchange: Stub) -> None:
    await submit_people(exchange, 0, 2)
    call = exchange.Subscribe(exchange_pb2.SubscribeRequest())
    marker = await call.read()
    assert isinstance(marker, exchange_pb2.SubscribeResponse)
    assert marker.caught_up.sequence == 2
    await submit_people(exchange, 2, 1)
    events, _ = await take(call, 1)
    assert events[0].record.record_id == "P-2"
    call.cancel()


async def test_reconnecting_with_the_last_sequence_misses_nothing_and_repeats_nothing(
    exchange: Stub,
) -> None:
    await submit_people(exchange, 0, 5)
    first = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
    events, _ = await take(first, 3)
    first.cancel()
    last_seen = events[-1].metadata.sequence
    await submit_people(exchange, 5, 5)  # committed while the subscriber is away

    second = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=last_seen))
    resumed, _ = await take(second, 7)
    second.cancel()
    sequences = [e.metadata.sequence for e in events] + [e.metadata.sequence for e in resumed]
    assert sequences == list(range(1, 11))


async def test_subscribing_while_commits_race_in_sees_each_exactly_once(exchange: Stub) -> None:
    writer = asyncio.create_task(submit_people(exchange, 0, 150))
    await asyncio.sleep(0.05)  # subscribe in the middle of the writes
    call = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
    events, caught_up = await take(call, 150)
    await writer
    call.cancel()
    assert [e.metadata.sequence for e in events] == list(range(1, 151))
    assert len(caught_up) == 1


async def test_filters_by_kind_and_centre(exchange: Stub, gateway: Gateway) -> None:
    call = exchange.Subscribe(
        exchange_pb2.SubscribeRequest(
            after_sequence=0,
            kinds=[record_pb2.RECORD_KIND_PERSON],
            originating_centres=["INTERPOL-CCC-LYON"],
        )
    )
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-LOCAL")))
    document = travel_document("INTERPOL-CCC-LYON:D-LYON")
    document.provenance.originating_centre = "INTERPOL-CCC-LYON"
    await store_replica(gateway, document)
    await store_replica(gateway, person("INTERPOL-CCC-LYON:P-LYON", centre="INTERPOL-CCC-LYON"))
    events, _ = await take(call, 1)
    call.cancel()
    assert [e.record.record_id for e in events] == ["INTERPOL-CCC-LYON:P-LYON"]


async def test_every_version_is_delivered(exchange: Stub) -> None:
    call = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="A")))
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="A")))  # duplicate
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1", given="B")))
    events, _ = await take(call, 2)
    call.cancel()
    assert [(e.record.version, e.record.person.names[0].given) for e in events] == [
        (1, "A"),
        (2, "B"),
    ]


async def test_the_deadline_ends_a_subscription(exchange: Stub) -> None:
    call = exchange.Subscribe(exchange_pb2.SubscribeRequest(), timeout=0.3)
    with pytest.raises(aio.AioRpcError) as caught:
        async for _ in call:
            pass
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    "request_",
    [
        exchange_pb2.SubscribeRequest(kinds=[record_pb2.RecordKind.ValueType(99)]),
        exchange_pb2.SubscribeRequest(originating_centres=["not a centre"]),
    ],
)
async def test_invalid_subscriptions_are_refused(
    exchange: Stub, request_: exchange_pb2.SubscribeRequest
) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        async for _ in exchange.Subscribe(request_):
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_batched_responses_carry_what_is_ready_in_order_and_the_same_records(
    gateway: Gateway, exchange: Stub
) -> None:
    await submit_people(exchange, 0, 7)
    batched = exchange.Subscribe(
        exchange_pb2.SubscribeRequest(after_sequence=0, max_events_per_response=3)
    )
    single = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
    sizes: list[int] = []
    events: list[exchange_pb2.RecordEvent] = []
    while sum(sizes) < 7:
        response = await batched.read()
        assert isinstance(response, exchange_pb2.SubscribeResponse)
        assert response.HasField("record_events"), "a batched subscription gets batches"
        sizes.append(len(response.record_events.events))
        events.extend(response.record_events.events)
    assert sizes == [3, 3, 1], "the backlog is cut into batches of at most the size asked"
    reference, _ = await take(single, 7)
    assert events == reference, "a batch holds exactly the events sent one by one"
    marker = await batched.read()
    assert isinstance(marker, exchange_pb2.SubscribeResponse)
    assert marker.caught_up.sequence == 7
    # Live: one commit is sent at once, never held back to fill a batch.
    await submit_people(exchange, 7, 1)
    response = await asyncio.wait_for(batched.read(), 5)
    assert isinstance(response, exchange_pb2.SubscribeResponse)
    assert [e.record.record_id for e in response.record_events.events] == ["P-7"]
    batched.cancel()
    single.cancel()
    for _ in range(100):
        if gateway.feed.subscribers == 0:
            break
        await asyncio.sleep(0.01)
    assert gateway.feed.subscribers == 0, "cancelled subscriptions end at once"


async def test_a_huge_batch_request_is_capped(exchange: Stub) -> None:
    from gateway.services.exchange import MAX_EVENTS_PER_RESPONSE

    await submit_people(exchange, 0, 3)
    call = exchange.Subscribe(
        exchange_pb2.SubscribeRequest(after_sequence=0, max_events_per_response=2**32 - 1)
    )
    response = await call.read()
    assert isinstance(response, exchange_pb2.SubscribeResponse)
    assert len(response.record_events.events) == 3 <= MAX_EVENTS_PER_RESPONSE
    call.cancel()
