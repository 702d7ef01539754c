"""Request/reply threads at one gateway (issue 15): delivered, read, answered and overdue at the
addressed centre; sent and answered at the requesting one; a reply to an unknown thread refused.
The other centre's records arrive as replicas (as Federation.Deliver stores them)."""

from __future__ import annotations

import grpc
import pytest

from gateway.lifecycle.threads import ThreadBook
from gateway.server import Gateway
from liaison.rules.lifecycle import parse_period
from liaison.v1 import exchange_pb2, record_pb2, thread_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import Clock, micros, refusal, submit
from tests.support.factories import store_replica
from tests.support.rpc import ExchangeStub

LYON = "INTERPOL-CCC-LYON"
DELIVERED = exchange_pb2.THREAD_STATE_DELIVERED
READ = exchange_pb2.THREAD_STATE_READ
ANSWERED = exchange_pb2.THREAD_STATE_ANSWERED
SENT = exchange_pb2.THREAD_STATE_SENT


@pytest.fixture
async def clock(gateway: Gateway) -> Clock:
    moved = Clock(gateway.clock())
    gateway.clock = moved
    return moved


def request(
    record_id: str, thread_id: str, origin: str, to: str, *, urgent: bool = False
) -> record_pb2.Record:
    record = record_pb2.Record(record_id=record_id)
    if origin != TEST_CENTRE:
        record.provenance.originating_centre = origin
    record.request.thread_id = thread_id
    record.request.subject = "traveller on AF123"
    record.request.body = "Is this the subject of your notice?"
    record.request.urgency = thread_pb2.URGENCY_URGENT if urgent else thread_pb2.URGENCY_NORMAL
    record.handling.releasable_to.append(to)
    return record


def reply(record_id: str, thread_id: str, origin: str = "") -> record_pb2.Record:
    record = record_pb2.Record(record_id=record_id)
    if origin:
        record.provenance.originating_centre = origin
    record.reply.thread_id = thread_id
    record.reply.body = "Yes: same person."
    return record


async def threads(exchange: ExchangeStub, open_only: bool = False) -> list[exchange_pb2.Thread]:
    response = await exchange.ListThreads(exchange_pb2.ListThreadsRequest(open_only=open_only))
    return list(response.threads)


async def test_the_addressed_centre_sees_delivered_read_answered(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    await store_replica(gateway, request(f"{LYON}:rfi:1", f"{LYON}:t1", LYON, TEST_CENTRE))
    [thread] = await threads(exchange)
    assert (thread.thread_id, thread.state, thread.requesting_centre) == (
        f"{LYON}:t1",
        DELIVERED,
        LYON,
    )
    assert thread.addressed_centre == TEST_CENTRE
    assert micros(thread.reply_deadline) == micros(thread.sent_at) + parse_period("7d")

    await exchange.Get(exchange_pb2.GetRequest(record_id=f"{LYON}:rfi:1"))
    [thread] = await threads(exchange)
    assert (thread.state, micros(thread.read_at)) == (READ, clock.now_us)

    await submit(exchange, reply(f"{TEST_CENTRE}:answer:1", f"{LYON}:t1"))
    [thread] = await threads(exchange)
    assert thread.state == ANSWERED
    assert list(thread.reply_record_ids) == [f"{TEST_CENTRE}:answer:1"]
    assert await threads(exchange, open_only=True) == []


async def test_a_reply_to_an_unknown_thread_is_refused(exchange: ExchangeStub) -> None:
    error = await refusal(submit(exchange, reply(f"{TEST_CENTRE}:answer:2", "NOWHERE:t9")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "NOWHERE:t9" in (error.details() or "")


async def test_a_reply_its_requester_may_not_read_is_refused_and_answers_nothing(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    await store_replica(gateway, request(f"{LYON}:rfi:r1", f"{LYON}:t-r1", LYON, TEST_CENTRE))
    kept_from_lyon = reply(f"{TEST_CENTRE}:answer:r1", f"{LYON}:t-r1")
    kept_from_lyon.handling.releasable_to.append("WCO-I2C")
    restricted = reply(f"{TEST_CENTRE}:answer:r2", f"{LYON}:t-r1")
    restricted.handling.code = record_pb2.HANDLING_CODE_H3
    for unreadable in (kept_from_lyon, restricted):
        error = await refusal(submit(exchange, unreadable))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"requester {LYON} may not read it" in (error.details() or "")
        [thread] = await threads(exchange)
        assert (thread.state, list(thread.reply_record_ids)) == (DELIVERED, [])
    readable = reply(f"{TEST_CENTRE}:answer:r3", f"{LYON}:t-r1")
    readable.handling.releasable_to.append(LYON)
    await submit(exchange, readable)
    [thread] = await threads(exchange)
    assert (thread.state, list(thread.reply_record_ids)) == (ANSWERED, [readable.record_id])


async def test_the_requester_sees_sent_then_answered(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    thread_id = f"{TEST_CENTRE}:t2"
    await submit(
        exchange, request(f"{TEST_CENTRE}:rfi:2", thread_id, TEST_CENTRE, LYON, urgent=True)
    )
    [thread] = await threads(exchange)
    assert (thread.state, thread.addressed_centre, thread.urgency) == (
        SENT,
        LYON,
        thread_pb2.URGENCY_URGENT,
    )
    assert micros(thread.reply_deadline) == micros(thread.sent_at) + parse_period("8h")
    # Lyon cannot be answered for here: only a reply from Lyon answers Lyon's part.
    error = await refusal(submit(exchange, reply(f"{TEST_CENTRE}:answer:3", thread_id)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    await store_replica(gateway, reply(f"{LYON}:answer:1", thread_id, LYON))
    [thread] = await threads(exchange)
    assert (thread.state, list(thread.reply_record_ids)) == (ANSWERED, [f"{LYON}:answer:1"])


async def test_an_unanswered_request_is_flagged_overdue_at_both_ends_once(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await store_replica(
        gateway, request(f"{LYON}:rfi:3", f"{LYON}:t3", LYON, TEST_CENTRE, urgent=True)
    )
    await submit(exchange, request(f"{TEST_CENTRE}:rfi:4", f"{TEST_CENTRE}:t4", TEST_CENTRE, LYON))
    assert (await gateway.keeper.sweep()).overdue_threads == ()
    clock.advance("9h")  # past the urgent deadline, not the normal one
    caplog.set_level("WARNING", logger="gateway.lifecycle.threads")
    assert (await gateway.keeper.sweep()).overdue_threads == (f"{LYON}:t3",)
    assert [r for r in caplog.records if getattr(r, "liaison.event", "") == "thread.overdue"]
    assert (await gateway.keeper.sweep()).overdue_threads == (), "alerted once"
    clock.advance("7d")
    assert (await gateway.keeper.sweep()).overdue_threads == (f"{TEST_CENTRE}:t4",)
    assert {t.thread_id: t.overdue for t in await threads(exchange)} == {
        f"{LYON}:t3": True,
        f"{TEST_CENTRE}:t4": True,
    }
    assert gateway.keeper.threads is not None
    assert gateway.keeper.threads.overdue_count() == 2


async def test_the_book_is_rebuilt_from_the_store(gateway: Gateway, exchange: ExchangeStub) -> None:
    await store_replica(gateway, request(f"{LYON}:rfi:5", f"{LYON}:t5", LYON, TEST_CENTRE))
    await submit(exchange, reply(f"{TEST_CENTRE}:answer:5", f"{LYON}:t5"))
    rebuilt = ThreadBook(gateway.store, TEST_CENTRE, gateway.config.lifecycle, gateway.clock)
    await rebuilt.open()
    try:
        [entry] = rebuilt.entries()
        assert (entry.thread_id, entry.state) == (f"{LYON}:t5", ANSWERED)
    finally:
        rebuilt.close()
