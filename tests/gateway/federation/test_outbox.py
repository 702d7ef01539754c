"""The outbox, on both backends: atomic routing with its cursor, due deliveries, backoff, dead
letters, replay, and state that survives reopening."""

from __future__ import annotations

import random

import pytest

from gateway.federation.outbox import Backoff, Delivery, Outbox
from gateway.federation.routing import RouteDecision
from liaison.v1 import exchange_pb2, federation_pb2
from tests.support.outboxes import OutboxMaker

LYON, SINGAPORE = "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
S = federation_pb2


def _delivery(peer: str, n: int, allowed: bool = True) -> Delivery:
    reason = "matched all" if allowed else "handling: not releasable to this centre"
    return Delivery(RouteDecision(peer, allowed, reason), f"r{n}", 1, n, "00-trace-span-01")


async def _outbox(maker: OutboxMaker, **backoff: float) -> Outbox:
    return await maker.open(Backoff(**backoff), seed=7)  # type: ignore[arg-type]


async def test_routing_is_recorded_with_its_cursor_and_is_idempotent(
    outbox_maker: OutboxMaker,
) -> None:
    outbox = await _outbox(outbox_maker)
    batch = [_delivery(LYON, 1), _delivery(SINGAPORE, 1, allowed=False), _delivery(LYON, 2)]
    assert await outbox.record_routing(batch, 2, now=100.0) == 2
    assert await outbox.routed_through() == 2
    # Routing the same records again (after a crash before the cursor moved) adds nothing.
    assert await outbox.record_routing(batch, 2, now=101.0) == 0
    assert await outbox.counts() == {S.DELIVERY_STATE_QUEUED: 2, S.DELIVERY_STATE_WITHHELD: 1}
    (withheld,) = await outbox.statuses(peer=SINGAPORE)
    assert withheld.state == S.DELIVERY_STATE_WITHHELD
    assert withheld.reason == "handling: not releasable to this centre"
    # The cursor never moves back.
    await outbox.record_routing([], 1, now=102.0)
    assert await outbox.routed_through() == 2
    await outbox.close()


async def test_due_deliveries_come_in_commit_order_and_delivery_keeps_the_ack(
    outbox_maker: OutboxMaker,
) -> None:
    outbox = await _outbox(outbox_maker)
    await outbox.record_routing([_delivery(LYON, n) for n in (3, 1, 2)], 3, now=10.0)
    due = await outbox.due(LYON, now=10.0, limit=2)
    assert [d.record_id for d in due] == ["r1", "r2"]
    assert due[0].trace_context == "00-trace-span-01"
    ack = exchange_pb2.SubmitAck(record_id="r1", version=1, sequence=77)
    await outbox.delivered(LYON, [(due[0], ack)], now=11.0)
    (status,) = await outbox.statuses(record_id="r1")
    assert status.state == S.DELIVERY_STATE_DELIVERED
    assert status.receiver_ack == ack
    assert status.attempts == 1
    assert not status.HasField("next_attempt_at")
    assert [d.record_id for d in await outbox.due(LYON, now=11.0, limit=10)] == ["r2", "r3"]
    await outbox.close()


async def test_failures_back_off_then_dead_letter_after_the_attempt_limit(
    outbox_maker: OutboxMaker,
) -> None:
    outbox = await _outbox(outbox_maker, max_attempts=3, initial_seconds=1.0, max_seconds=4.0)
    await outbox.record_routing([_delivery(LYON, 1)], 1, now=0.0)
    now = 0.0
    for attempt in (1, 2):
        (pending,) = await outbox.due(LYON, now=now, limit=10)
        assert pending.attempts == attempt - 1
        assert await outbox.failed(LYON, [(pending, "UNAVAILABLE: peer down")], now=now) == []
        (status,) = await outbox.statuses(record_id="r1")
        assert status.state == S.DELIVERY_STATE_FAILED
        assert status.last_error == "UNAVAILABLE: peer down"
        due_at = await outbox.next_due_at(LYON)
        assert due_at is not None
        assert now <= due_at <= now + 4.0
        now = due_at
    (pending,) = await outbox.due(LYON, now=now, limit=10)
    dead = await outbox.failed(LYON, [(pending, "UNAVAILABLE: peer down")], now=now)
    assert [d.record_id for d in dead] == ["r1"]
    assert await outbox.due(LYON, now=now + 1e6, limit=10) == []
    assert await outbox.next_due_at(LYON) is None
    (status,) = await outbox.statuses(states=[S.DELIVERY_STATE_DEAD_LETTERED])
    assert status.attempts == 3
    await outbox.close()


async def test_age_and_permanent_refusals_dead_letter_at_once(outbox_maker: OutboxMaker) -> None:
    outbox = await _outbox(outbox_maker, max_age_seconds=60.0)
    await outbox.record_routing([_delivery(LYON, 1), _delivery(LYON, 2)], 2, now=0.0)
    first, second = await outbox.due(LYON, now=0.0, limit=10)
    assert await outbox.failed(LYON, [(first, "UNAVAILABLE")], now=61.0) == [first]
    refused = await outbox.failed(LYON, [(second, "INVALID_ARGUMENT")], now=1.0, permanent=True)
    assert refused == [second]
    await outbox.close()


async def test_replay_requeues_dead_letters_and_state_survives_reopening(
    outbox_maker: OutboxMaker,
) -> None:
    outbox = await _outbox(outbox_maker, max_attempts=1)
    await outbox.record_routing([_delivery(LYON, 1), _delivery(SINGAPORE, 2)], 2, now=0.0)
    for peer in (LYON, SINGAPORE):
        (pending,) = await outbox.due(peer, now=0.0, limit=10)
        await outbox.failed(peer, [(pending, "UNAVAILABLE")], now=0.0)
    await outbox.close()

    reopened = await outbox_maker.open()
    assert await reopened.counts() == {S.DELIVERY_STATE_DEAD_LETTERED: 2}
    requeued = await reopened.replay(LYON, [], now=5.0)
    assert [(s.peer, s.record_id, s.state, s.attempts) for s in requeued] == [
        (LYON, "r1", S.DELIVERY_STATE_QUEUED, 0)
    ]
    assert [d.record_id for d in await reopened.due(LYON, now=5.0, limit=10)] == ["r1"]
    assert await reopened.replay("", ["r2"], now=6.0) != []
    assert await reopened.replay("", ["nothing"], now=6.0) == []
    assert await reopened.counts() == {S.DELIVERY_STATE_QUEUED: 2}
    await reopened.close()


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    backoff = Backoff(initial_seconds=1.0, max_seconds=8.0)
    rng = random.Random(1)
    for attempts, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)]:
        delays = [backoff.delay(attempts, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spans the range


async def test_a_closed_outbox_refuses_work(outbox_maker: OutboxMaker) -> None:
    outbox = await _outbox(outbox_maker)
    await outbox.close()
    with pytest.raises(RuntimeError, match="not open"):
        await outbox.routed_through()
