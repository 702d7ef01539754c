"""Submit with automatic screening on a populated index (the ``screened`` scenario).

Issue 14's goal: with screening on, Submit stays at least half the raw echo's calls/s. The
gateway under test screens every committed person and travel document (the default
``[screening] screen_on_commit``); before it is measured its index is seeded with
``SEED_ENTRIES`` list entries (half red notices, half stolen passports, drawn from the
screening bench's population, so that travellers find candidates to score and a few hits are
written) through SubmitStream. The ``submit`` scenario's gateway has screening off, which keeps
its figure comparable with the rounds before screening existed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bench.load import open_channel
from bench.records import BENCH_CENTRE
from bench.screening.speed import list_records
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    notice_pb2,
    record_pb2,
    travel_document_pb2,
)

__all__ = ["SEED_ENTRIES", "seed_entries"]

SEED_ENTRIES = 20_000
_BATCH = 500


def _as_own(payload: bytes, n: int) -> record_pb2.Record:
    """A list record re-homed in the bench centre (a gateway publishes only its own records)."""
    record = record_pb2.Record.FromString(payload)
    record.record_id = f"{BENCH_CENTRE}:entry:{n:08d}"
    record.version = 0
    record.provenance.originating_centre = ""
    # The speed bench's records carry only what the index reads; a stored record is complete.
    if record.HasField("notice"):
        record.notice.notice_type = notice_pb2.NOTICE_TYPE_RED
    else:
        record.travel_document.document_type = travel_document_pb2.DOCUMENT_TYPE_PASSPORT
    return record


async def seed_entries(address: str, count: int = SEED_ENTRIES) -> None:
    """Store ``count`` list entries at the gateway at ``address`` and wait for the commits.

    Raises:
        RuntimeError: a seed record was refused (the bench would measure the wrong thing).
    """
    records = [_as_own(payload, n) for n, payload in enumerate(list_records(count))]
    async with open_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)
        stub = exchange_pb2_grpc.RecordExchangeStub(channel)

        async def messages() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
            for start in range(0, len(records), _BATCH):
                yield exchange_pb2.SubmitStreamRequest(records=records[start : start + _BATCH])

        response = await stub.SubmitStream(messages())
        refused = [r for r in response.results if r.HasField("error")]
        if refused:
            raise RuntimeError(f"{len(refused)} seed entries refused: {refused[0].error.message}")
