"""Nothing acknowledged is lost: acks survive a SIGKILL of the gateway process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from grpc import aio

from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.support.factories import person
from tests.support.processes import GatewayProcess

pytestmark = pytest.mark.slow


async def test_acknowledged_records_survive_sigkill(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path / "durable.db")
    address = gateway.start()
    acked: dict[str, exchange_pb2.SubmitAck] = {}
    try:
        async with aio.insecure_channel(address) as channel:
            stub = exchange_pb2_grpc.RecordExchangeStub(channel)
            enough = asyncio.Event()

            async def submit(i: int) -> None:
                try:
                    response = await stub.Submit(
                        exchange_pb2.SubmitRequest(record=person(f"K-{i:04d}")), timeout=20
                    )
                except aio.AioRpcError:
                    return  # in flight when the process died: never acknowledged
                acked[response.ack.record_id] = response.ack
                if len(acked) >= 300:
                    enough.set()

            tasks = [asyncio.create_task(submit(i)) for i in range(1500)]
            await asyncio.wait_for(enough.wait(), timeout=60)
            gateway.kill()  # while submits are still in flight
            await asyncio.gather(*tasks)
    finally:
        gateway.kill()
    assert len(acked) >= 300

    restarted = GatewayProcess(tmp_path / "durable.db")
    address = restarted.start()
    try:
        async with aio.insecure_channel(address) as channel:
            stub = exchange_pb2_grpc.RecordExchangeStub(channel)
            for record_id, ack in acked.items():
                stored = await stub.Get(exchange_pb2.GetRequest(record_id=record_id))
                assert stored.record.version == ack.version
                assert stored.metadata.sequence == ack.sequence
                assert stored.metadata.content_sha256 == ack.content_sha256
    finally:
        assert restarted.terminate() == 0
