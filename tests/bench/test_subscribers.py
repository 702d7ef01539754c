"""The subscribers scenario's pieces: how the subscriber process counts what it receives, and
the process itself against a real gateway (every stream counts every record, once)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from grpc import aio

from bench.records import BENCH_CENTRE, RecordEncoder, new_run_tag
from bench.subscriber_process import StreamTally, count_events
from bench.subscribers import open_subscribers, summarize_subscribers
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.conftest import make_config


def _event(sequence: int) -> exchange_pb2.RecordEvent:
    event = exchange_pb2.RecordEvent()
    event.record.record_id = f"R{sequence}"
    event.metadata.sequence = sequence
    return event


def test_a_batch_counts_its_events_and_a_repeat_is_reported() -> None:
    stream = StreamTally()
    caught_up = exchange_pb2.SubscribeResponse(caught_up=exchange_pb2.CaughtUp(sequence=4))
    count_events(caught_up.SerializeToString(), stream)
    assert stream.caught_up
    assert stream.events == 0
    batch = exchange_pb2.SubscribeResponse(
        record_events=exchange_pb2.RecordEvents(events=[_event(5), _event(6), _event(7)])
    )
    count_events(batch.SerializeToString(), stream)
    single = exchange_pb2.SubscribeResponse(record_event=_event(8))
    count_events(single.SerializeToString(), stream)
    assert (stream.events, stream.last_sequence, stream.backwards) == (4, 8, 0)
    # The same version again: counted, and reported as going backwards.
    count_events(single.SerializeToString(), stream)
    assert (stream.events, stream.backwards) == (5, 1)


def test_an_unknown_response_is_refused() -> None:
    with pytest.raises(ValueError, match="starting with byte"):
        count_events(b"\x22\x00", StreamTally())
    with pytest.raises(ValueError, match="empty"):
        count_events(b"", StreamTally())


async def test_the_subscriber_process_receives_every_record_once(tmp_path: Path) -> None:
    gateway = Gateway(replace(make_config(tmp_path), centre_id=BENCH_CENTRE))
    await gateway.start()
    try:
        encoder = RecordEncoder(new_run_tag())
        async with open_subscribers(gateway.address, "reading-matching", count=3) as process:
            async with aio.insecure_channel(gateway.address) as channel:
                submit = channel.unary_unary(
                    "/liaison.v1.RecordExchange/Submit",
                    request_serializer=None,
                    response_deserializer=None,
                )
                for n in range(12):
                    await submit(encoder.entry(n))
            received = await process.collect(12)
        assert received.events == [12, 12, 12]
        assert received.backwards == 0
        assert received.failures == []
        assert received.delivered_share(12) == 1.0
    finally:
        await gateway.stop(grace=0)


def test_the_summary_judges_each_backend_against_its_own_baseline() -> None:
    def run(backend: str, variant: str, calls: float) -> dict[str, object]:
        return {
            "scenario": "subscribers",
            "round": 1,
            "backend": backend,
            "variant": variant,
            "calls_per_s": calls,
            "p99_ms": 10.0,
            "server_cpu_us_per_call": 100.0,
            "client_cpu_share": 0.5,
            "subscriber_cpu_share": 0.2,
            "delivered_share": 1.0,
            "errors": {},
        }

    runs = [
        run("sqlite", "none", 1000.0),
        run("sqlite", "reading-matching", 400.0),
        run("postgresql", "none", 500.0),
        run("postgresql", "reading-matching", 400.0),
    ]
    verdicts = {
        row.scenario: (row.ratio, row.verdict)
        for row in summarize_subscribers(runs)
        if row.metric == "calls/s"
    }
    assert verdicts == {
        "subscribers sqlite 200 reading-matching": (0.4, "MISS"),
        "subscribers postgresql 200 reading-matching": (0.8, "PASS"),
    }


def test_a_truncated_batch_is_refused() -> None:
    batch = exchange_pb2.SubscribeResponse(
        record_events=exchange_pb2.RecordEvents(events=[_event(5), _event(6)])
    ).SerializeToString()
    with pytest.raises(ValueError, match="length"):
        count_events(batch[:-1], StreamTally())
