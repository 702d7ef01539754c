"""Red team of issue 15: reply deadlines at their extremes - year 1, the epoch, year 9999 - are
flagged overdue exactly when they have passed, by the gateway's injected clock; a withdrawn
request is overdue nowhere."""

from __future__ import annotations

import grpc
import pytest

from gateway.lifecycle.threads import ThreadBook
from gateway.server import Gateway
from liaison.rules.lifecycle import tombstone_of
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import Clock, refusal, submit
from tests.gateway.services.test_threads import LYON, reply, request
from tests.support.factories import store_replica
from tests.support.rpc import ExchangeStub

YEAR_1 = -62_135_596_800
EPOCH_PLUS_1 = 1
YEAR_9999 = 253_402_300_799


@pytest.fixture
async def clock(gateway: Gateway) -> Clock:
    moved = Clock(gateway.clock())
    gateway.clock = moved
    return moved


async def overdue(exchange: ExchangeStub) -> dict[str, bool]:
    listed = await exchange.ListThreads(exchange_pb2.ListThreadsRequest())
    return {thread.thread_id: thread.overdue for thread in listed.threads}


async def test_a_deadline_long_past_is_overdue_at_once_and_year_9999_is_not(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    for name, seconds in (("y1", YEAR_1), ("epoch", EPOCH_PLUS_1), ("y9999", YEAR_9999)):
        asked = request(f"{LYON}:rfi:{name}", f"{LYON}:t-{name}", LYON, TEST_CENTRE)
        asked.request.reply_deadline.seconds = seconds
        await store_replica(gateway, asked)
    assert await overdue(exchange) == {
        f"{LYON}:t-y1": True,
        f"{LYON}:t-epoch": True,
        f"{LYON}:t-y9999": False,
    }
    report = await gateway.keeper.sweep()
    assert sorted(report.overdue_threads) == [f"{LYON}:t-epoch", f"{LYON}:t-y1"]


async def test_a_withdrawn_request_closes_its_thread_as_a_restart_would(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    # Lyon withdraws its question; its tombstone arrives. The thread must not go on being
    # alerted overdue at both ends, nor accept an answer - as after a restart, when the book
    # is rebuilt without the withdrawn request.
    asked = request(f"{LYON}:rfi:wd", f"{LYON}:t-wd", LYON, TEST_CENTRE, urgent=True)
    await store_replica(gateway, asked)
    ours = request(f"{TEST_CENTRE}:rfi:wd", f"{TEST_CENTRE}:t-wd", TEST_CENTRE, LYON)
    await submit(exchange, ours)
    stored = await gateway.store.get(f"{LYON}:rfi:wd")
    assert stored is not None
    now = clock.now_us
    tombstone = tombstone_of(stored.to_message(), record_pb2.WITHDRAWAL_REASON_CANCELLED, "", now)
    await store_replica(gateway, tombstone, version=2)
    await exchange.Withdraw(
        exchange_pb2.WithdrawRequest(
            record_id=f"{TEST_CENTRE}:rfi:wd", reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
        )
    )
    clock.advance("8d")
    assert await overdue(exchange) == {}
    assert (await gateway.keeper.sweep()).overdue_threads == ()
    error = await refusal(submit(exchange, reply(f"{TEST_CENTRE}:answer:wd", f"{LYON}:t-wd")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    rebuilt = ThreadBook(gateway.store, TEST_CENTRE, gateway.config.lifecycle, gateway.clock)
    await rebuilt.open()
    try:
        assert rebuilt.entries() == []
    finally:
        rebuilt.close()
