"""Red team of issue 15: records the gateway writes for itself are not a client's to withdraw or
extend.

A screening hit is written by the screening desk and decided with ``Screening.Decide`` (a
client cannot submit one: it could forge an analyst's NO_MATCH and silence an alert); a thread
receipt is written by the thread book (a client cannot submit one: it could fake a read or an
answer). Both originate at this centre, so ``Withdraw`` took them from any client allowed to
withdraw: withdrawing the hit on one's own traveller silenced the alert everywhere it went
without a decision, and withdrawing a receipt stopped the requester from seeing the thread's
states.
"""

from __future__ import annotations

import grpc
from google.protobuf.duration_pb2 import Duration

from gateway.lifecycle.receipts import receipt_id
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import refusal, submit
from tests.gateway.services.test_screening_service import red_notice, settled, traveller
from tests.gateway.services.test_threads import LYON, request
from tests.support.factories import person, store_replica
from tests.support.rpc import ExchangeStub


async def _refused_everywhere(gateway: Gateway, exchange: ExchangeStub, record_id: str) -> None:
    before = await gateway.store.get(record_id)
    assert before is not None
    error = await refusal(
        exchange.Withdraw(
            exchange_pb2.WithdrawRequest(
                record_id=record_id, reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
            )
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
    error = await refusal(
        exchange.ExtendRetention(
            exchange_pb2.ExtendRetentionRequest(
                record_id=record_id, extend_by=Duration(seconds=365 * 86400)
            )
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
    after = await gateway.store.get(record_id)
    assert after is not None
    assert (after.version, after.kind, after.expires_at_us) == (
        before.version,
        before.kind,
        before.expires_at_us,
    )


async def test_a_client_cannot_withdraw_or_extend_a_screening_hit(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    await submit(exchange, red_notice(f"{TEST_CENTRE}:notice:o1", "IVANOV", "SERGEI", (1971, 5, 4)))
    await settled(gateway)
    await submit(exchange, traveller(f"{TEST_CENTRE}:pax:o1", "IVANOFF", "SERGEY"))
    await settled(gateway)
    [hit] = [s for s in await gateway.store.read_since(0, 100) if s.kind == "screening_hit"]
    await _refused_everywhere(gateway, exchange, hit.record_id)


async def test_a_client_cannot_withdraw_or_extend_a_thread_receipt(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    await store_replica(gateway, request(f"{LYON}:rfi:o2", f"{LYON}:t-o2", LYON, TEST_CENTRE))
    assert gateway.keeper.threads is not None
    await gateway.keeper.threads.flush()
    await _refused_everywhere(gateway, exchange, receipt_id(TEST_CENTRE, f"{LYON}:rfi:o2"))


async def test_a_client_cannot_overwrite_a_hit_or_a_receipt_with_a_record_of_another_kind(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    # Submit refuses a hit or receipt body from a client; a person under the hit's or the
    # receipt's id would be their next version all the same - the alert gone from ListHits,
    # the requester sent a person instead of the thread's states.
    await submit(exchange, red_notice(f"{TEST_CENTRE}:notice:o3", "PETROV", "ALEXEI", (1971, 5, 4)))
    await settled(gateway)
    await submit(exchange, traveller(f"{TEST_CENTRE}:pax:o3", "PETROV", "ALEKSEI"))
    await settled(gateway)
    [hit] = [s for s in await gateway.store.read_since(0, 100) if s.kind == "screening_hit"]
    await store_replica(gateway, request(f"{LYON}:rfi:o3", f"{LYON}:t-o3", LYON, TEST_CENTRE))
    assert gateway.keeper.threads is not None
    await gateway.keeper.threads.flush()
    for record_id in (hit.record_id, receipt_id(TEST_CENTRE, f"{LYON}:rfi:o3")):
        before = await gateway.store.get(record_id)
        assert before is not None
        error = await refusal(submit(exchange, person(record_id)))
        assert error.code() in (
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.INVALID_ARGUMENT,
        ), error.details()
        after = await gateway.store.get(record_id)
        assert after is not None
        assert (after.version, after.kind) == (before.version, before.kind)
