"""Submit with automatic screening on a populated index (the ``screened`` scenario).

Issue 14's goal: with screening on, Submit stays at least half the raw echo's calls/s. The
gateway under test screens every committed person and travel document (the default
``[screening] screen_on_commit``); before it is measured its index is seeded with
``SEED_ENTRIES`` list entries (half red notices, half stolen passports, drawn from the
screening bench's population, so that travellers find candidates to score and a few hits are
written) through SubmitStream. The ``submit`` scenario's gateway has screening off, which keeps
its figure comparable with the rounds before screening existed.

Half the seed is stolen passports, which the gateway screens too (travel documents are screened
on commit): :func:`screening_caught_up` waits until that backlog is screened before Submit is
measured, and measures, after it, how long the gateway takes to screen what was submitted - a
gateway that merely put screening off would show it there.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import AsyncIterator

from bench.load import open_channel
from bench.records import BENCH_CENTRE
from bench.screening.speed import list_records
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    notice_pb2,
    record_pb2,
    screening_hit_pb2,
    screening_pb2,
    screening_pb2_grpc,
    travel_document_pb2,
)

__all__ = ["SEED_ENTRIES", "screening_caught_up", "seed_entries"]

SEED_ENTRIES = 20_000
_BATCH = 500
_POLL_S = 0.05
_sentinels = itertools.count(1)


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


@functools.cache
def _first_seeded() -> record_pb2.Record:
    # The population depends on how many records are drawn: the first of the seed's own draw.
    return _as_own(list_records(SEED_ENTRIES)[0], 0)


def _sentinel() -> record_pb2.Record:
    """A traveller who is exactly the first seeded notice's subject (a sure HIT), new each time."""
    notice = _first_seeded()
    record = record_pb2.Record(record_id=f"{BENCH_CENTRE}:sentinel:{next(_sentinels):06d}")
    record.person.CopyFrom(notice.notice.subject)
    record.handling.CopyFrom(notice.handling)
    return record


async def screening_caught_up(address: str, timeout_s: float = 600.0) -> float:
    """Submit a sentinel traveller and wait for its hit; the seconds it took.

    The gateway screens commits in commit order, so once the sentinel's hit is stored, every
    record committed before it has been screened.

    Raises:
        RuntimeError: no hit within ``timeout_s``.
    """
    sentinel = _sentinel()
    async with open_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)
        exchange = exchange_pb2_grpc.RecordExchangeStub(channel)
        screening = screening_pb2_grpc.ScreeningStub(channel)
        started = time.perf_counter()
        await exchange.Submit(exchange_pb2.SubmitRequest(record=sentinel))
        wanted = screening_pb2.ListHitsRequest(
            bands=[screening_hit_pb2.SCREENING_BAND_HIT], page_size=20
        )
        while time.perf_counter() - started < timeout_s:
            page = await screening.ListHits(wanted)
            # Newest first: the sentinel's hit is among the first once it is stored.
            if any(h.screening_hit.subject_record_id == sentinel.record_id for h in page.hits):
                return time.perf_counter() - started
            await asyncio.sleep(_POLL_S)
    raise RuntimeError(f"the sentinel {sentinel.record_id} was not screened in {timeout_s:.0f} s")
