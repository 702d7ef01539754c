"""Preparing SubmitStream messages: the same result on the event loop and in a worker process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import grpc
import pytest

from gateway.errors import InvalidArgumentError
from gateway.services.statuses import status_code_of
from gateway.store.preparation import Refused, prepare_message, write_item
from gateway.store.preparation_pool import MessagePreparer, PreparationFailedError
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2, record_pb2
from tests.support.factories import person, travel_document

CENTRE = "TEST-CENTRE"


def message(*records: record_pb2.Record) -> bytes:
    return exchange_pb2.SubmitStreamRequest(records=records).SerializeToString()


def mixed() -> list[record_pb2.Record]:
    invalid = person("P-2")
    invalid.person.birth_date.month = 13
    return [person("P-1", family="Müller"), invalid, travel_document("D-1")]


def test_each_record_becomes_its_write_item_or_its_error() -> None:
    records = mixed()
    for record in records:
        # A given receipt time is kept, so that both preparations stamp the same blob.
        record.provenance.received_at.seconds = 1_700_000_000
    entries = prepare_message(message(*records), CENTRE)
    assert len(entries) == 3
    first, second, third = entries
    assert not isinstance(first, Refused)
    assert write_item(first) == prepare_record(records[0], CENTRE)
    assert isinstance(second, Refused)
    assert second.record_id == records[1].record_id
    error = exchange_pb2.RecordError.FromString(second.error)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert [v.field for v in error.field_violations] == ["person.birth_date.month"]
    assert not isinstance(third, Refused)
    assert write_item(third) == prepare_record(records[2], CENTRE)


def test_an_empty_message_has_no_entries() -> None:
    assert prepare_message(b"", CENTRE) == []


def test_bytes_that_are_not_a_message_are_refused_without_echoing_them() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        prepare_message(b"\xff\xff\xff\x0f secret", CENTRE)
    assert caught.value.message == (
        "the request is not a valid liaison.v1.SubmitStreamRequest message"
    )
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(("workers", "inline_below_bytes"), [(0, 0), (1, 1 << 30), (1, 0)])
async def test_inline_and_worker_preparation_agree(workers: int, inline_below_bytes: int) -> None:
    preparer = MessagePreparer(CENTRE, workers, inline_below_bytes=inline_below_bytes)
    try:
        data = message(*mixed())
        entries = await preparer.prepare(data)
        in_worker = workers > 0 and inline_below_bytes == 0
        assert bool(preparer.worker_pids()) == in_worker
    finally:
        await preparer.close()
    # The received_at stamp differs (taken at preparation), nothing else.
    expected = prepare_message(data, CENTRE)
    assert [_unstamped(entry) for entry in entries] == [_unstamped(e) for e in expected]


def _unstamped(entry: object) -> object:
    if isinstance(entry, Refused):
        return entry
    assert isinstance(entry, tuple)
    record = record_pb2.Record.FromString(entry[2])
    record.provenance.ClearField("received_at")
    # Field 12 is the receipt time itself (seconds, nanos); the retention dates follow it.
    return (*entry[:2], record, *entry[3:12], *entry[13:])


async def test_a_malformed_message_fails_its_future_in_the_worker_too() -> None:
    preparer = MessagePreparer(CENTRE, 1, inline_below_bytes=0)
    try:
        with pytest.raises(InvalidArgumentError):
            await preparer.prepare(b"\xff\xff\xff\x0f")
        # The worker is unharmed.
        assert len(await preparer.prepare(message(person("P-1")))) == 1
    finally:
        await preparer.close()


async def test_a_worker_dying_with_a_message_fails_it_and_a_fresh_one_takes_the_next() -> None:
    preparer = MessagePreparer(CENTRE, 1, inline_below_bytes=0)
    try:
        await preparer.prepare(message(person("P-1")))
        [pid] = preparer.worker_pids()
        idle = _cpu_ticks(pid)
        busy = preparer.prepare(message(*(person(f"B-{i}") for i in range(20_000))))
        for _ in range(3000):
            if _cpu_ticks(pid) >= idle + 5:  # it has started on the message
                break
            await asyncio.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(PreparationFailedError) as caught:
            await asyncio.wait_for(busy, 30)
        assert status_code_of(caught.value) == grpc.StatusCode.UNAVAILABLE
        assert len(await asyncio.wait_for(preparer.prepare(message(person("P-3"))), 30)) == 1
        assert preparer.worker_pids() not in ([], [pid])
    finally:
        await preparer.close()


async def test_a_worker_that_died_between_messages_is_replaced_silently() -> None:
    preparer = MessagePreparer(CENTRE, 1, inline_below_bytes=0)
    try:
        await preparer.prepare(message(person("P-1")))
        [pid] = preparer.worker_pids()
        os.kill(pid, signal.SIGKILL)
        for _ in range(1000):
            if not _alive(pid):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the pool notices the death
        # Nothing was lost, so nothing fails: the next message goes to a fresh worker.
        assert len(await asyncio.wait_for(preparer.prepare(message(person("P-2"))), 30)) == 1
    finally:
        await preparer.close()


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def test_close_ends_the_workers_and_is_idempotent() -> None:
    preparer = MessagePreparer(CENTRE, 1, inline_below_bytes=0)
    await preparer.prepare(message(person("P-1")))
    [pid] = preparer.worker_pids()
    await preparer.close()
    await preparer.close()
    assert preparer.worker_pids() == []
    assert not _alive(pid)
    # After close, messages are still prepared, on the event loop.
    assert len(await preparer.prepare(message(person("P-2")))) == 1
    assert preparer.worker_pids() == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(("workers", "inline"), [(-1, 0), (1, -1)])
def test_negative_settings_are_refused(workers: int, inline: int) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        MessagePreparer(CENTRE, workers, inline_below_bytes=inline)


async def test_a_message_given_up_on_is_dropped_quietly(caplog: pytest.LogCaptureFixture) -> None:
    preparer = MessagePreparer(CENTRE, 1, inline_below_bytes=0)
    try:
        await preparer.prepare(message(person("P-1")))
        abandoned = preparer.prepare(message(*(person(f"A-{i}") for i in range(5_000))))
        abandoned.cancel()  # as a cancelled stream does
        # The worker takes messages in order: once this one is back, the abandoned one is too.
        assert len(await preparer.prepare(message(person("P-2")))) == 1
    finally:
        await preparer.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
