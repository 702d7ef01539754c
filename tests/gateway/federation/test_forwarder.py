"""The forwarder with a real store, feed and outbox (on both backends), and in-process peer
links: routing, a peer down and back, dead letters and replay, restart from the durable cursor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path

import pytest

from gateway.audit.log import AuditLog, iter_stored, verify_file
from gateway.federation.forwarder import Forwarder, PeerUnavailableError
from gateway.federation.outbox import Backoff
from gateway.federation.routing import RoutingRule, h2_permission
from gateway.security.gate import RecordGate
from gateway.security.visibility import NeedToKnow
from gateway.store import SqliteRecordStore
from gateway.store.feed import CommitFeed
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2, federation_pb2, record_pb2
from tests.support.factories import person
from tests.support.outboxes import OutboxMaker
from tests.support.polling import until
from tests.support.signing import centre_key

I2C, LYON, SINGAPORE = "WCO-I2C", "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
S = federation_pb2


def _bare(record_id: str) -> str:
    """A record id without the i2c's namespace (the tests name records by their local part)."""
    return record_id.removeprefix(f"{I2C}:")


class FakePeer:
    """Acknowledges like a receiving gateway: dedup by (id, version); can be down or refuse."""

    def __init__(self) -> None:
        self.down = False
        self.refuse: set[str] = set()
        self.stored: dict[tuple[str, int], bytes] = {}
        self.calls = 0
        self.traces: list[str] = []

    async def deliver(
        self, records: Sequence[federation_pb2.ForwardedRecord]
    ) -> Sequence[federation_pb2.DeliveryResult]:
        self.calls += 1
        if self.down:
            raise PeerUnavailableError("UNAVAILABLE: connection refused")
        results = []
        for item in records:
            record = record_pb2.Record()
            record.CopyFrom(item.record)
            record.record_id = _bare(record.record_id)
            self.traces.append(item.trace_context.get("traceparent", ""))
            if record.record_id in self.refuse:
                results.append(S.DeliveryResult(error=exchange_pb2.RecordError(code=3)))
                continue
            key = (record.record_id, record.version)
            duplicate = key in self.stored
            self.stored[key] = record.SerializeToString()
            ack = exchange_pb2.SubmitAck(
                record_id=record.record_id, version=record.version, duplicate=duplicate
            )
            results.append(S.DeliveryResult(ack=ack))
        return results


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    key = centre_key(tmp_path, I2C)
    opened = SqliteRecordStore(tmp_path / "i2c.db", synchronous="normal", signing_key=key.source)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def _submit(store: SqliteRecordStore, *records: record_pb2.Record) -> None:
    await store.write([prepare_record(r, I2C) for r in records])


def _person(
    record_id: str, *, code: int = record_pb2.HANDLING_CODE_H0, releasable: tuple[str, ...] = ()
) -> record_pb2.Record:
    # Minted in the i2c's namespace: peers accept only ids minted by the originating centre.
    record = person(f"{I2C}:{record_id}")
    record.handling.code = code  # type: ignore[assignment]
    record.handling.releasable_to[:] = releasable
    return record


class Harness:
    def __init__(
        self, store: SqliteRecordStore, tmp_path: Path, outboxes: OutboxMaker, **backoff: float
    ) -> None:
        self.store = store
        self.tmp_path = tmp_path
        self.outboxes = outboxes
        self.backoff = Backoff(**{"initial_seconds": 0.02, "max_seconds": 0.05, **backoff})  # type: ignore[arg-type]
        self.peers = {LYON: FakePeer(), SINGAPORE: FakePeer()}
        self.rules = [RoutingRule(peers=(LYON, SINGAPORE), name="all")]

    async def start(self) -> Forwarder:
        self.feed = CommitFeed(self.store)
        await self.feed.start()
        self.outbox = await self.outboxes.open(self.backoff, seed=3)
        self.audit = AuditLog(self.tmp_path / "audit.db")
        await self.audit.open()
        self.forwarder = Forwarder(
            centre_id=I2C,
            gate=RecordGate(self.store, NeedToKnow(I2C, h2_permission(self.rules))),
            feed=self.feed,
            outbox=self.outbox,
            rules=self.rules,
            peers=self.peers,
            audit=self.audit,
            trace_context_of=lambda v: f"00-{v.sequence:032x}-{1:016x}-01",
        )
        await self.forwarder.start()
        return self.forwarder

    async def stop(self) -> None:
        await self.forwarder.stop()
        self.feed.close()
        await self.outbox.close()
        await self.audit.close()


async def test_committed_records_reach_the_peers_the_rules_and_handling_allow(
    store: SqliteRecordStore, tmp_path: Path, outbox_maker: OutboxMaker
) -> None:
    harness = Harness(store, tmp_path, outbox_maker)
    await harness.start()
    await _submit(
        store,
        _person("open"),
        _person("lyon-only", releasable=(LYON,)),
        _person("h2", code=record_pb2.HANDLING_CODE_H2),
    )
    lyon, singapore = harness.peers[LYON], harness.peers[SINGAPORE]
    await until(lambda: len(lyon.stored) == 2 and len(singapore.stored) == 1)
    assert {k[0] for k in lyon.stored} == {"open", "lyon-only"}
    assert {k[0] for k in singapore.stored} == {"open"}
    forwarded = record_pb2.Record.FromString(lyon.stored[("open", 1)])
    assert forwarded.version == 1
    assert forwarded.provenance.originating_centre == I2C
    assert all(t.startswith("00-") for t in lyon.traces)
    withheld = await harness.outbox.statuses(states=[S.DELIVERY_STATE_WITHHELD])
    assert sorted((_bare(s.record_id), s.peer) for s in withheld) == [
        ("h2", LYON),
        ("h2", SINGAPORE),
        ("lyon-only", SINGAPORE),
    ]

    async def acknowledged() -> bool:
        # The peers stored the records before the sender recorded their acks: a stop in
        # between leaves the deliveries to be made again (no "forward" entry yet), as designed.
        return len(await harness.outbox.statuses(states=[S.DELIVERY_STATE_DELIVERED])) == 3

    await until(acknowledged)
    await harness.stop()
    entries = list(iter_stored(tmp_path / "audit.db"))
    assert any('"action":"forward"' in e for e in entries)
    assert sum('"action":"deny"' in e for e in entries) == 3
    assert verify_file(tmp_path / "audit.db").ok


async def test_a_peer_down_for_a_while_gets_everything_once_back(
    store: SqliteRecordStore, tmp_path: Path, outbox_maker: OutboxMaker
) -> None:
    harness = Harness(store, tmp_path, outbox_maker, max_attempts=1000)
    lyon = harness.peers[LYON]
    lyon.down = True
    await harness.start()
    await _submit(store, *(_person(f"p{i}") for i in range(20)))
    await until(lambda: lyon.calls >= 3)  # retried while down
    failed = await harness.outbox.statuses(peer=LYON, states=[S.DELIVERY_STATE_FAILED])
    assert failed
    assert all(s.last_error.startswith("UNAVAILABLE") for s in failed)
    lyon.down = False
    await until(lambda: len(lyon.stored) == 20)

    async def all_delivered() -> bool:
        # The peer stores a batch before the sender records its acks.
        rows = await harness.outbox.statuses(peer=LYON, states=[S.DELIVERY_STATE_DELIVERED])
        return len(rows) == 20

    await until(all_delivered)
    delivered = await harness.outbox.statuses(peer=LYON, states=[S.DELIVERY_STATE_DELIVERED])
    assert all(s.receiver_ack.record_id == _bare(s.record_id) for s in delivered)
    await harness.stop()


async def test_an_unreachable_peer_does_not_use_up_the_attempt_limit(
    store: SqliteRecordStore, tmp_path: Path, outbox_maker: OutboxMaker
) -> None:
    harness = Harness(store, tmp_path, outbox_maker, max_attempts=2)
    harness.rules = [RoutingRule(peers=(LYON,))]
    lyon = harness.peers[LYON]
    lyon.down = True
    await harness.start()
    await _submit(store, _person("waiting"))
    await until(lambda: lyon.calls >= 5)

    async def attempted_five_times() -> bool:
        # The peer counts a call before the sender records its failure.
        (status,) = await harness.outbox.statuses(peer=LYON)
        return status.attempts >= 5

    await until(attempted_five_times)
    (status,) = await harness.outbox.statuses(peer=LYON)
    assert status.state == S.DELIVERY_STATE_FAILED
    lyon.down = False
    await until(lambda: ("waiting", 1) in lyon.stored)
    await harness.stop()


async def test_refusals_dead_letter_at_once_age_dead_letters_the_unreachable_and_replay(
    store: SqliteRecordStore, tmp_path: Path, outbox_maker: OutboxMaker
) -> None:
    harness = Harness(store, tmp_path, outbox_maker, max_age_seconds=0.2)
    harness.rules = [RoutingRule(peers=(LYON,))]
    lyon = harness.peers[LYON]
    lyon.refuse = {"refused"}
    forwarder = await harness.start()
    outbox = harness.outbox

    async def dead() -> list[str]:
        rows = await outbox.statuses(states=[S.DELIVERY_STATE_DEAD_LETTERED])
        return sorted(_bare(s.record_id) for s in rows)

    await _submit(store, _person("refused"))
    await until(lambda: lyon.calls >= 1)
    await until(lambda: _equals(dead(), ["refused"]))
    (refused,) = await outbox.statuses(states=[S.DELIVERY_STATE_DEAD_LETTERED])
    assert refused.attempts == 1  # refused by the peer itself: dead at once, not retried
    lyon.down = True
    await _submit(store, _person("a"))
    await until(lambda: _equals(dead(), ["a", "refused"]))
    (aged,) = await outbox.statuses(record_id=f"{I2C}:a")
    assert "max_age_seconds" in aged.last_error
    lyon.down = False
    await outbox.replay(LYON, [f"{I2C}:a"], now=time.time())
    forwarder.wake(LYON)
    await until(lambda: ("a", 1) in lyon.stored)
    assert await dead() == ["refused"]
    await harness.stop()


async def _equals(value: Awaitable[list[str]], expected: list[str]) -> bool:
    return await value == expected


async def test_a_restart_resumes_from_the_durable_cursor_without_duplicates(
    store: SqliteRecordStore, tmp_path: Path, outbox_maker: OutboxMaker
) -> None:
    harness = Harness(store, tmp_path, outbox_maker)
    await harness.start()
    await _submit(store, *(_person(f"first-{i}") for i in range(5)))
    lyon = harness.peers[LYON]
    await until(lambda: len(lyon.stored) == 5)
    await harness.stop()
    await _submit(store, *(_person(f"later-{i}") for i in range(5)))  # while stopped
    calls_before = dict(lyon.stored)
    await harness.start()
    await until(lambda: len(lyon.stored) == 10)
    await asyncio.sleep(0.1)
    assert all(lyon.stored[k] == v for k, v in calls_before.items())
    assert len(lyon.stored) == 10
    assert harness.forwarder.routed_through == 10
    await harness.stop()
