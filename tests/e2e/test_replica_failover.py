"""Failover: two replicas (``liaison serve`` processes) on one PostgreSQL database, one SIGKILLed
during Submit at 64 in flight, cycle after cycle.

The client sends to both replicas, as a client listing several addresses does, and retries a
failed call on the other one (Submit is idempotent). After every cycle the killed replica is
started again. At the end: every acknowledged record is on both replicas as acknowledged (0 lost),
no sequence was given twice, and every record sent again comes back a duplicate with the
acknowledgement it had - including those whose first call died with the replica after their
commit.

``LIAISON_FAILOVER_CYCLES`` sets the number of kills (default 2 to keep ``make test`` fast; the
issue asks for 10: ``LIAISON_FAILOVER_CYCLES=10``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from devkit.replicas import ReplicaProcess, write_replica
from liaison.v1 import exchange_pb2
from tests.support.polling import until
from tests.support.postgresql import unique_schema
from tests.support.rpc import ExchangeStub
from tests.support.submit_load import SubmitLoad

CYCLES = int(os.environ.get("LIAISON_FAILOVER_CYCLES", "2"))
IN_FLIGHT = 64
PER_PHASE = 150
"""Acknowledgements to wait for before a kill, and again after it (the survivor alone)."""

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150 + 90 * CYCLES)]


@pytest.fixture
def replicas(postgresql_database: str, tmp_path: Path) -> Iterator[list[ReplicaProcess]]:
    schema = unique_schema("failover")
    started = [
        ReplicaProcess(
            f"replica-{n}",
            write_replica(
                tmp_path / f"replica-{n}", "TEST-CENTRE", dsn=postgresql_database, schema=schema
            ),
        )
        for n in (1, 2)
    ]
    try:
        # One after the other: the first creates the schema (both would be safe - migrations
        # take an advisory lock - but the start is quicker without the wait).
        for replica in started:
            replica.start(timeout=90)
        yield started
    finally:
        for replica in started:
            replica.kill()


class Replicas:
    """One channel and stub per replica; a restarted replica gets a fresh channel."""

    def __init__(self, processes: list[ReplicaProcess]) -> None:
        self.processes = processes
        self.channels = [aio.insecure_channel(p.address) for p in processes]
        self.stubs = [ExchangeStub(channel) for channel in self.channels]

    async def restart(self, index: int) -> None:
        await asyncio.to_thread(self.processes[index].start, 90)
        # The dead replica's channel stays open until the end: closing it would cancel a call
        # being retried on it (CancelledError), not fail it.
        self.channels.append(aio.insecure_channel(self.processes[index].address))
        self.stubs[index] = ExchangeStub(self.channels[-1])

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close(None)


async def _more_acknowledged(load: SubmitLoad) -> None:
    goal = load.acknowledged + PER_PHASE
    await until(lambda: load.acknowledged >= goal, within=90)


async def test_sigkill_of_a_replica_under_submit_loses_nothing_acknowledged(
    replicas: list[ReplicaProcess],
) -> None:
    pair = Replicas(replicas)
    # The load reads ``pair.stubs`` at each attempt, so restarted replicas join it again.
    load = SubmitLoad(pair.stubs, prefix="FO", in_flight=IN_FLIGHT)
    stop = asyncio.Event()
    running = asyncio.ensure_future(load.run(stop))
    kills = 0
    try:
        for cycle in range(CYCLES):
            victim = cycle % 2
            await _more_acknowledged(load)
            replicas[victim].kill()  # SIGKILL: Submits are in flight on it
            kills += 1
            await _more_acknowledged(load)
            await pair.restart(victim)
        await _more_acknowledged(load)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=120)

    try:
        assert kills == CYCLES
        # Calls in flight on the killed replica failed; nothing else did.
        assert load.failures, "no call was in flight when a replica was killed"
        assert set(load.failures) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
        acks = load.acks
        sequences = [ack.sequence for ack in acks.values()]
        assert len(set(sequences)) == len(sequences)
        # 0 acknowledged lost: each is on both replicas, as acknowledged.
        for stub in pair.stubs:
            for record_id, ack in acks.items():
                got = await stub.Get(exchange_pb2.GetRequest(record_id=record_id))
                assert (got.record.version, got.metadata.sequence) == (ack.version, ack.sequence)
                assert got.metadata.content_sha256 == ack.content_sha256
        # Retried Submits are duplicates with the same acknowledgement, on either replica.
        again = await load.send_again()
        for ack in again:
            assert ack.duplicate
            original = acks[ack.record_id]
            ack.duplicate = False
            assert ack == original
        lost_answers = sum(1 for ack in load.retried.values() if ack.duplicate)
        print(
            f"{CYCLES} kills, {len(acks)} acknowledged, 0 lost; {sum(load.failures.values())} "
            f"failed calls retried, {lost_answers} of them had committed (answered duplicate)"
        )
    finally:
        await pair.close()
