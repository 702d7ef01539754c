"""A Submit's record stored the same wherever it is prepared: where the store writes
(``prepare_and_write``, ``[storage] preparation = "writer"``) or on the event loop (``inline``)."""

from __future__ import annotations

import asyncio

from gateway.store import PreparationRefused, PreparedWrite, RecordStore, StoredVersion
from liaison.v1 import exchange_pb2, record_pb2
from tests.gateway.store.conformance.conftest import Preparation, submit
from tests.support.factories import person


def submission(record: record_pb2.Record) -> bytes:
    """A serialized ``SubmitRequest`` carrying ``record``, as gRPC receives it."""
    return exchange_pb2.SubmitRequest(record=record).SerializeToString()


async def test_a_record_is_prepared_and_written(
    store: RecordStore, preparation: Preparation
) -> None:
    record = person("LOCAL-CENTRE:p1")

    outcome = await submit(store, preparation, submission(record), "LOCAL-CENTRE")

    assert isinstance(outcome, StoredVersion)
    assert (outcome.record_id, outcome.version, outcome.duplicate) == ("LOCAL-CENTRE:p1", 1, False)
    stored = await store.get("LOCAL-CENTRE:p1")
    assert stored is not None
    kept = record_pb2.Record.FromString(stored.blob)
    assert kept.provenance.originating_centre == "LOCAL-CENTRE"  # stamped
    assert kept.provenance.HasField("received_at")
    # The same record again, prepared again: recognised as a duplicate.
    again = await submit(store, preparation, submission(record), "LOCAL-CENTRE")
    assert isinstance(again, StoredVersion)
    assert (again.sequence, again.duplicate) == (outcome.sequence, True)


async def test_refused_records_are_answered_and_nothing_is_written(
    store: RecordStore, preparation: Preparation
) -> None:
    bad = person("LOCAL:bad", birth=(1975, 13, 1))

    refused, accepted, garbled, empty = await asyncio.gather(
        submit(store, preparation, submission(bad), "LOCAL"),
        submit(store, preparation, submission(person("LOCAL:good")), "LOCAL"),
        submit(store, preparation, b"\xff\xff not a record", "LOCAL"),
        submit(store, preparation, b"", "LOCAL"),
    )

    assert isinstance(refused, PreparationRefused)
    assert refused.message == "record LOCAL:bad is invalid: 1 field violation(s)"
    assert [field for field, _ in refused.violations] == ["person.birth_date.month"]
    assert isinstance(accepted, StoredVersion)
    assert isinstance(garbled, PreparationRefused)
    assert garbled.message == "the request is not a valid liaison.v1.SubmitRequest message"
    assert isinstance(empty, PreparationRefused)
    assert empty.message == "a record is required"
    assert empty.violations == (("", "is required"),)
    assert [r.record_id for r in await store.read_since(0, 10)] == ["LOCAL:good"]


async def test_preparation_in_the_store_is_timed(store: RecordStore) -> None:
    accepted = await store.prepare_and_write(submission(person("LOCAL:p1")), "LOCAL")
    refused = await store.prepare_and_write(b"", "LOCAL")

    for result in (accepted, refused):
        assert isinstance(result, PreparedWrite | PreparationRefused)
        started, ended = result.prepared_ns
        assert 0 < started <= ended
