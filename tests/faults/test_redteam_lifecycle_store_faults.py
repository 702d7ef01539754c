"""Red team of issue 15: a store that cannot write during a withdrawal or an expiry sweep - a
real SQLite error from a trigger in the database file (``tests/faults/filesystems.py``) - gives
a clear UNAVAILABLE and writes nothing half: no tombstone, the record still served, the withdrawal
succeeding once the store writes again."""

from __future__ import annotations

import grpc
import pytest

from gateway.server import Gateway
from gateway.store.base import StoreError
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.faults.filesystems import failing_inserts
from tests.gateway.services.test_lifecycle import Clock, refusal, submit
from tests.support.factories import person
from tests.support.rpc import ExchangeStub


@pytest.fixture
async def clock(gateway: Gateway) -> Clock:
    moved = Clock(gateway.clock())
    gateway.clock = moved
    return moved


def _withdraw(record_id: str) -> exchange_pb2.WithdrawRequest:
    return exchange_pb2.WithdrawRequest(
        record_id=record_id, reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
    )


async def test_a_withdrawal_the_store_cannot_write_is_unavailable_and_leaves_nothing_half(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    record_id = f"{TEST_CENTRE}:sf1"
    await submit(exchange, person(record_id))
    database = gateway.config.storage.path
    start = clock.now_us
    with failing_inserts(database, "versions"):
        error = await refusal(exchange.Withdraw(_withdraw(record_id)))
        assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
        assert "retry" in (error.details() or "")
        clock.advance("6y")
        with pytest.raises(StoreError):
            await gateway.keeper.sweep()
        clock.now_us = start
    stored = await gateway.store.get(record_id)
    assert stored is not None
    assert (stored.version, stored.kind) == (1, "person")
    served = await exchange.Get(exchange_pb2.GetRequest(record_id=record_id))
    assert served.record.HasField("person")
    withdrawn = await exchange.Withdraw(_withdraw(record_id))
    assert (withdrawn.ack.version, withdrawn.ack.duplicate) == (2, False)
