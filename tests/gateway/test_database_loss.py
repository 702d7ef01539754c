"""A gateway on PostgreSQL whose database goes away under load: health, callers, nothing lost.

The database is really cut while Submits are in flight (new connections refused, every backend
terminated with ``pg_terminate_backend``). The gateway must turn NOT_SERVING, answer its
callers UNAVAILABLE (never an internal error or a hang), turn SERVING again by itself once the
database is back, and every record it acknowledged - before, during or after - must be there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.conftest import make_config
from tests.support.polling import until
from tests.support.postgresql import cut_database, postgresql_storage, scratch_database
from tests.support.rpc import ExchangeStub
from tests.support.submit_load import SubmitLoad

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def own_database(postgresql_database: str) -> Iterator[tuple[str, str]]:
    with scratch_database(postgresql_database) as database:
        yield database


@pytest.fixture
async def gateway(tmp_path: Path, own_database: tuple[str, str]) -> AsyncIterator[Gateway]:
    config = make_config(tmp_path)
    config = replace(config, storage=postgresql_storage(own_database[1], config.storage))
    server = Gateway(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


async def _status(health: health_pb2_grpc.HealthStub) -> int:
    response = await health.Check(health_pb2.HealthCheckRequest(service=""))
    return int(response.status)


@pytest.mark.timeout(120)
async def test_database_cut_under_load_unavailable_then_serving_again_nothing_lost(
    gateway: Gateway, own_database: tuple[str, str]
) -> None:
    name, _ = own_database
    async with aio.insecure_channel(gateway.address) as channel:
        exchange = ExchangeStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        load = SubmitLoad([exchange], prefix="CUT", in_flight=16)
        stop = asyncio.Event()
        running = asyncio.ensure_future(load.run(stop))
        try:
            await until(lambda: load.acknowledged >= 50, within=60)
            acknowledged_before = dict(load.acks)

            cut_database(name, allow=False)
            try:
                await until(lambda: _status_is(health, NOT_SERVING), within=30)
                # Callers are told to go elsewhere or retry, not that the gateway broke.
                await until(lambda: load.failures[grpc.StatusCode.UNAVAILABLE] > 0, within=30)
                acknowledged_while_cut = load.acknowledged
            finally:
                cut_database(name, allow=True)

            await until(lambda: _status_is(health, SERVING), within=30)
            await until(lambda: load.acknowledged >= acknowledged_while_cut + 50, within=60)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=60)

        assert set(load.failures) == {grpc.StatusCode.UNAVAILABLE}, load.failures
        assert acknowledged_before.items() <= load.acks.items()
        # Every acknowledgement holds: the record is there, at that version, with that content.
        for record_id, ack in load.acks.items():
            got = await exchange.Get(exchange_pb2.GetRequest(record_id=record_id))
            assert (got.record.version, got.metadata.sequence) == (ack.version, ack.sequence)
            assert got.metadata.content_sha256 == ack.content_sha256
        # Sequences stay dense: what failed stored nothing half-way.
        sequences = sorted(ack.sequence for ack in load.acks.values())
        assert sequences == list(range(1, len(sequences) + 1))
        # Sent again, each comes back a duplicate with the acknowledgement it had.
        for again in await load.send_again():
            assert again.duplicate
            again.duplicate = False
            assert again == load.acks[again.record_id]


async def _status_is(health: health_pb2_grpc.HealthStub, wanted: int) -> bool:
    return await _status(health) == wanted
