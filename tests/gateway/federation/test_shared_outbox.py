"""Two replicas of one centre forwarding through one PostgreSQL outbox: every record reaches the
peer exactly once, and a replica killed mid-delivery is taken over by the other without loss
or duplicate (issue 16). The replicas follow one store's feed; each has its own forwarder,
outbox connection pool and link to the peer, as two gateway processes would."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from gateway.federation.forwarder import Forwarder
from gateway.federation.outbox import Backoff, Outbox
from gateway.federation.routing import RoutingRule, h2_permission
from gateway.security.gate import RecordGate
from gateway.security.visibility import NeedToKnow
from gateway.store import SqliteRecordStore
from gateway.store.feed import CommitFeed
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2, federation_pb2
from tests.support.factories import person
from tests.support.outboxes import OutboxMaker
from tests.support.polling import until
from tests.support.signing import centre_key

I2C, LYON = "WCO-I2C", "INTERPOL-CCC-LYON"
S = federation_pb2
RULES = [RoutingRule(peers=(LYON,), name="all")]


@pytest.fixture
def outbox_backend() -> str:
    """Sharing is what PostgreSQL adds: these tests run on it alone."""
    return "postgresql"


class Receiver:
    """The peer: counts every record it is sent (by id and version) and every one it stores."""

    def __init__(self) -> None:
        self.sent: Counter[tuple[str, int]] = Counter()
        self.stored: set[tuple[str, int]] = set()


class ReplicaLink:
    """One replica's link to the peer; ``hang`` makes its next calls block (a replica stuck in
    a call when it is killed)."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.hang = False
        self.hanging = asyncio.Event()
        self.calls = 0

    async def deliver(
        self, records: Sequence[federation_pb2.ForwardedRecord]
    ) -> Sequence[federation_pb2.DeliveryResult]:
        if self.hang:
            self.hanging.set()
            await asyncio.Event().wait()  # until the replica is killed
        self.calls += 1
        results = []
        for item in records:
            key = (item.record.record_id, item.record.version)
            self.receiver.sent[key] += 1
            duplicate = key in self.receiver.stored
            self.receiver.stored.add(key)
            ack = exchange_pb2.SubmitAck(record_id=key[0], version=key[1], duplicate=duplicate)
            results.append(S.DeliveryResult(ack=ack))
        await asyncio.sleep(0)  # another replica may run meanwhile
        return results


class Replica:
    def __init__(self, store: SqliteRecordStore, outbox: Outbox, link: ReplicaLink) -> None:
        self.feed = CommitFeed(store)
        self.outbox = outbox
        self.link = link
        self.forwarder = Forwarder(
            centre_id=I2C,
            gate=RecordGate(store, NeedToKnow(I2C, h2_permission(RULES))),
            feed=self.feed,
            outbox=outbox,
            rules=RULES,
            peers={LYON: link},
        )

    async def start(self) -> None:
        await self.feed.start()
        await self.outbox.open()
        await self.forwarder.start()

    async def kill(self) -> None:
        """Stop every task where it is, releasing nothing: its leases stay until they run out."""
        await self.forwarder.stop()
        self.feed.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    key = centre_key(tmp_path, I2C)
    opened = SqliteRecordStore(tmp_path / "i2c.db", synchronous="normal", signing_key=key.source)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def _commit(store: SqliteRecordStore, names: Sequence[str]) -> set[tuple[str, int]]:
    await store.write([prepare_record(person(f"{I2C}:{name}"), I2C) for name in names])
    return {(f"{I2C}:{name}", 1) for name in names}


async def _delivered(outbox: Outbox) -> int:
    return (await outbox.counts()).get(S.DELIVERY_STATE_DELIVERED, 0)


async def test_two_replicas_deliver_each_record_exactly_once(
    store: SqliteRecordStore, outbox_maker: OutboxMaker
) -> None:
    receiver = Receiver()
    backoff = Backoff(initial_seconds=0.02, max_seconds=0.05)
    replicas = [Replica(store, outbox_maker.new(backoff), ReplicaLink(receiver)) for _ in range(2)]
    for replica in replicas:
        await replica.start()
    expected: set[tuple[str, int]] = set()
    for wave in range(6):  # commits keep coming while both replicas send
        expected |= await _commit(store, [f"w{wave}-{i}" for i in range(100)])
    await until(lambda: receiver.stored == expected, within=30)
    await until(lambda: _equals(_delivered(replicas[0].outbox), len(expected)), within=30)
    for replica in replicas:
        await replica.forwarder.stop()
        replica.feed.close()
    assert set(receiver.sent) == expected
    assert max(receiver.sent.values()) == 1, "a record was sent twice"
    assert sum(r.link.calls for r in replicas) >= 1


async def test_a_replica_killed_mid_delivery_is_taken_over_without_loss_or_duplicate(
    store: SqliteRecordStore, outbox_maker: OutboxMaker
) -> None:
    receiver = Receiver()
    backoff = Backoff(initial_seconds=0.02, max_seconds=0.05)
    doomed_link = ReplicaLink(receiver)
    doomed_link.hang = True
    doomed = Replica(store, outbox_maker.new(backoff, lease_seconds=1.0), doomed_link)
    await doomed.start()
    expected = await _commit(store, [f"r{i}" for i in range(50)])
    await doomed_link.hanging.wait()  # it holds the deliveries, in a call that never returns
    await doomed.kill()

    survivor = Replica(store, outbox_maker.new(backoff, lease_seconds=1.0), ReplicaLink(receiver))
    await survivor.start()
    expected |= await _commit(store, [f"s{i}" for i in range(50)])
    await until(lambda: receiver.stored == expected, within=30)
    await until(lambda: _equals(_delivered(survivor.outbox), len(expected)), within=30)
    await survivor.forwarder.stop()
    survivor.feed.close()
    assert doomed_link.calls == 0  # nothing reached the peer from the killed replica
    assert set(receiver.sent) == expected
    assert max(receiver.sent.values()) == 1, "a record was sent twice"


async def _equals(value: asyncio.Future[int] | object, expected: int) -> bool:
    assert asyncio.iscoroutine(value)
    return bool(await value == expected)
