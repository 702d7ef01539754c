"""Red team: the store refuses the screening desk's hit records for a while (a full disk, a
read-only file: here a real SQLite error raised by a trigger on hit inserts only), while
travellers keep being committed.

HELD when written: no hit is lost - the desk keeps the batch it could not store and stores it
once writes succeed again, without a restart; the Screening service says NOT_SERVING on the
health service while the desk cannot write, and SERVING again after; every traveller is
screened exactly once.
"""

from __future__ import annotations

from pathlib import Path

from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.server import Gateway
from gateway.services.screening import SERVICE_NAME
from liaison.v1 import exchange_pb2, screening_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.faults.filesystems import failing_inserts
from tests.support.polling import until
from tests.support.rpc import ExchangeStub, ScreeningStub
from tests.support.screening_records import red_notice, screened, traveller


async def _status(opened: aio.Channel) -> int:
    answer = await health_pb2_grpc.HealthStub(opened).Check(
        health_pb2.HealthCheckRequest(service=SERVICE_NAME)
    )
    status: int = answer.status
    return status


async def test_hits_refused_by_the_store_are_stored_once_it_writes_again(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as opened:
            exchange = ExchangeStub(opened)
            await exchange.Submit(
                exchange_pb2.SubmitRequest(record=red_notice(f"{TEST_CENTRE}:notice:1"))
            )
            await screened(gateway)
            travellers = [f"{TEST_CENTRE}:pax:{i}" for i in range(6)]
            with failing_inserts(config.storage.path, "versions", "NEW.kind = 'screening_hit'"):
                for record_id in travellers[:3]:
                    await exchange.Submit(exchange_pb2.SubmitRequest(record=traveller(record_id)))

                async def not_serving() -> bool:
                    return bool(await _status(opened) == health_pb2.HealthCheckResponse.NOT_SERVING)

                await until(not_serving)
                for record_id in travellers[3:]:
                    await exchange.Submit(exchange_pb2.SubmitRequest(record=traveller(record_id)))
                assert gateway.screening.hits_stored == 0

            async def serving() -> bool:
                return bool(await _status(opened) == health_pb2.HealthCheckResponse.SERVING)

            await until(serving)
            await screened(gateway)
            listed = await ScreeningStub(opened).ListHits(screening_pb2.ListHitsRequest())
        subjects = [hit.screening_hit.subject_record_id for hit in listed.hits]
        assert sorted(subjects) == sorted(travellers)
    finally:
        await gateway.stop(grace=0)
